//! `/master/state` and `/master/state-summary`, rendered from a snapshot
//! (Mesos's `ReadOnlyHandler::state` and `stateSummary`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use libprocess::{Context, Reply, Request};
use mesos_proto::mesos::{Task, TaskState};

use super::cache::RenderCache;
use super::json::{self, ArrayWriter, ObjectWriter};
use super::model;
use super::reads::{self, Endpoint};
use super::snapshot::{AgentView, FrameworkView, Snapshot};
use crate::master::Master;

/// Help for `/master/state`.
pub const HELP: &str = "Information about state of master.";
/// Help for `/master/state-summary`.
pub const SUMMARY_HELP: &str = "Summary of agents, tasks, and registered frameworks in cluster.";

/// The capabilities this master announces.
const CAPABILITIES: [&str; 3] = ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"];

/// The build fields `/version` shows, rendered once.
fn build_members() -> &'static [u8] {
    static MEMBERS: OnceLock<Vec<u8>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        json::members(|o| {
            for (key, value) in super::version::build_info() {
                o.value(&key, &value);
            }
        })
    })
}

/// Agents by ID.
pub(crate) fn sorted_agents(snapshot: &Snapshot) -> Vec<&Arc<AgentView>> {
    let mut agents: Vec<&Arc<AgentView>> = snapshot.agents.iter().collect();
    agents.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    agents
}

/// Live frameworks by ID.
pub(crate) fn sorted_frameworks(snapshot: &Snapshot) -> Vec<&FrameworkView> {
    let mut frameworks: Vec<&FrameworkView> = snapshot.frameworks.iter().collect();
    frameworks.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    frameworks
}

/// The whole state as Mesos renders it.
pub fn render(out: &mut Vec<u8>, snapshot: &Snapshot, cache: &mut RenderCache) {
    let master = &snapshot.master;
    let pid = master.info.pid.as_deref().unwrap_or_default();
    json::object(out, |o| {
        o.members(build_members());
        o.f64("start_time", master.start_time);
        o.f64("elected_time", master.elected_time);
        o.str("id", &master.info.id);
        o.str("pid", pid);
        o.str(
            "hostname",
            master.info.hostname.as_deref().unwrap_or_default(),
        );
        o.array("capabilities", |a| {
            CAPABILITIES.iter().for_each(|c| a.str(c))
        });
        let active = snapshot.agents.iter().filter(|a| a.active).count();
        o.f64("activated_slaves", active as f64);
        o.f64(
            "deactivated_slaves",
            (snapshot.agents.len() - active) as f64,
        );
        o.f64("unreachable_slaves", master.unreachable_agents as f64);
        o.str("leader", pid);
        o.object("leader_info", |o| model::master_info(o, &master.info));
        if let Some(cluster) = &master.cluster {
            o.str("cluster", cluster);
        }
        o.raw("flags", &master.flags);
        o.array("slaves", |a| {
            for agent in sorted_agents(snapshot) {
                let members = cache.agents.get(agent, model::agent::members);
                a.object(|o| o.members(members));
            }
        });
        o.array("recovered_slaves", |a| recovered(a, snapshot, |_| true));
        o.array("frameworks", |a| {
            for f in sorted_frameworks(snapshot) {
                a.with(|out| model::framework::full(out, f, &mut cache.tasks));
            }
        });
        o.array("completed_frameworks", |a| {
            completed_frameworks(a, snapshot, cache, |_| true)
        });
        o.array("orphan_tasks", |_| {});
        o.array("unregistered_frameworks", |_| {});
    });
}

/// Completed frameworks `keep` selects, oldest first; each is rendered
/// once, since it never changes.
pub(crate) fn completed_frameworks(
    a: &mut ArrayWriter,
    snapshot: &Snapshot,
    cache: &mut RenderCache,
    keep: impl Fn(&FrameworkView) -> bool,
) {
    let RenderCache {
        tasks,
        completed_frameworks,
        ..
    } = cache;
    for f in snapshot.completed_frameworks.iter().filter(|f| keep(f)) {
        let json = completed_frameworks.get(f, |f| {
            let mut out = Vec::new();
            model::framework::full(&mut out, f, tasks);
            out
        });
        a.raw(json);
    }
}

/// Agents the registry remembers that have not reregistered yet, those
/// whose ID `keep` selects.
pub(crate) fn recovered(a: &mut ArrayWriter, snapshot: &Snapshot, keep: impl Fn(&str) -> bool) {
    let mut agents: Vec<_> = snapshot
        .recovered_agents
        .iter()
        .filter(|r| keep(&r.id))
        .collect();
    agents.sort_unstable_by(|x, y| x.id.cmp(&y.id));
    for agent in agents {
        a.object(|o| model::agent::recovered(o, agent));
    }
}

/// `GET /master/state`.
pub fn state(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::State, request)
}

/// The states the summary counts, with their names.
const COUNTED: [(TaskState, &str); 10] = [
    (TaskState::TaskStaging, "TASK_STAGING"),
    (TaskState::TaskStarting, "TASK_STARTING"),
    (TaskState::TaskRunning, "TASK_RUNNING"),
    (TaskState::TaskKilling, "TASK_KILLING"),
    (TaskState::TaskFinished, "TASK_FINISHED"),
    (TaskState::TaskKilled, "TASK_KILLED"),
    (TaskState::TaskFailed, "TASK_FAILED"),
    (TaskState::TaskLost, "TASK_LOST"),
    (TaskState::TaskError, "TASK_ERROR"),
    (TaskState::TaskUnreachable, "TASK_UNREACHABLE"),
];

/// How many tasks are in each counted state, and where they are.
#[derive(Default)]
struct Tally<'a> {
    counts: [u64; COUNTED.len()],
    /// Frameworks (for an agent) or agents (for a framework).
    peers: BTreeSet<&'a str>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, task: &Task, peer: &'a str) {
        if let Some(i) = COUNTED.iter().position(|(s, _)| *s as i32 == task.state) {
            self.counts[i] += 1;
        }
        self.peers.insert(peer);
    }

    fn write(&self, o: &mut ObjectWriter, peers_key: &str) {
        for ((_, name), n) in COUNTED.iter().zip(self.counts) {
            o.i64(name, n as i64);
        }
        o.array(peers_key, |a| self.peers.iter().for_each(|p| a.str(p)));
    }
}

/// The summary: agents and live frameworks with task counts, no tasks.
/// Counts and the agent/framework mapping cover live, unreachable and
/// completed tasks, as Mesos's do.
pub fn render_summary(out: &mut Vec<u8>, snapshot: &Snapshot, cache: &mut RenderCache) {
    let mut by_agent: HashMap<&str, Tally> = HashMap::new();
    let mut by_framework: HashMap<&str, Tally> = HashMap::new();
    for f in &snapshot.frameworks {
        let framework = by_framework.entry(f.id.as_str()).or_default();
        for task in f.all_tasks() {
            let agent = task.slave_id.value.as_str();
            framework.add(task, agent);
            by_agent.entry(agent).or_default().add(task, &f.id);
        }
    }
    let none = Tally::default();
    json::object(out, |o| {
        o.str(
            "hostname",
            snapshot.master.info.hostname.as_deref().unwrap_or_default(),
        );
        if let Some(cluster) = &snapshot.master.cluster {
            o.str("cluster", cluster);
        }
        o.array("slaves", |a| {
            for agent in sorted_agents(snapshot) {
                let members = cache.agents.get(agent, model::agent::members);
                a.object(|o| {
                    o.members(members);
                    by_agent
                        .get(agent.id.as_str())
                        .unwrap_or(&none)
                        .write(o, "framework_ids");
                });
            }
        });
        o.array("frameworks", |a| {
            for f in sorted_frameworks(snapshot) {
                a.object(|o| {
                    model::framework::summary(o, f);
                    by_framework
                        .get(f.id.as_str())
                        .unwrap_or(&none)
                        .write(o, "slave_ids");
                });
            }
        });
    });
}

/// `GET /master/state-summary`.
pub fn summary(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::StateSummary, request)
}
