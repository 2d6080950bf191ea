//! An immutable, consistent copy of what the state endpoints render
//! (`/master/state`, `/state-summary`, `/frameworks`, `/slaves`,
//! `/tasks`), taken inside the master and rendered outside it.
//!
//! Taking it must be cheap, since the master does nothing else meanwhile:
//! it copies references, not the state. Tasks, the bulk of a large
//! cluster's state, are shared (`Arc<Task>`): the master's handlers change
//! a task with `Arc::make_mut`, which copies it only while a snapshot still
//! holds it (copy-on-write). Completed frameworks never change, so each is
//! copied once and then shared by every later snapshot ([`Views`]).
//! Agents and live frameworks are copied field by field: only what their
//! JSON shows. Sorting, counting and all JSON happen on the snapshot, off
//! the master; see `reads` for how requests share snapshots.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use libprocess::UPID;
use mesos_common::Resources;
use mesos_proto::mesos::{Attribute, DomainInfo, ExecutorInfo, FrameworkInfo, MasterInfo, Task};

use crate::master::Master;
use crate::state::{Agent, AgentResources, Framework, State};

/// Tasks as a snapshot lists them. A framework's lists are shared from
/// one snapshot to the next while they hold the very same tasks, so an
/// unchanged framework costs a snapshot one reference per list and its
/// render one copy of bytes.
pub type TaskList = Arc<[Arc<Task>]>;

/// The master itself.
#[derive(Debug, Clone)]
pub struct MasterView {
    /// Its `MasterInfo`.
    pub info: MasterInfo,
    /// Unix seconds it started.
    pub start_time: f64,
    /// Unix seconds it was elected.
    pub elected_time: f64,
    /// `--cluster`.
    pub cluster: Option<String>,
    /// Its flags as the JSON object `/master/state` shows.
    pub flags: Bytes,
    /// How many agents are unreachable.
    pub unreachable_agents: usize,
}

/// An outstanding offer.
#[derive(Debug, Clone)]
pub struct OfferView {
    /// Its ID.
    pub id: String,
    /// The framework it went to.
    pub framework_id: String,
    /// The agent it is on.
    pub agent_id: String,
    /// What it offers.
    pub resources: Arc<Resources>,
    /// The role it is allocated to.
    pub role: String,
}

/// A framework, live or completed.
#[derive(Debug, Clone)]
pub struct FrameworkView {
    /// Its ID.
    pub id: String,
    /// What it registered with.
    pub info: FrameworkInfo,
    /// Whether it is `MULTI_ROLE` (shows `roles` rather than `role`).
    pub multi_role: bool,
    /// Its scheduler's UPID, when it has one (not for HTTP schedulers).
    pub pid: Option<UPID>,
    /// Whether it gets offers.
    pub active: bool,
    /// Whether its scheduler is connected.
    pub connected: bool,
    /// Whether it was recovered from an agent and has not reregistered.
    pub recovered: bool,
    /// Unix seconds of its registration.
    pub registered_time: f64,
    /// Unix seconds of its last reregistration.
    pub reregistered_time: Option<f64>,
    /// Unix seconds of its removal.
    pub unregistered_time: Option<f64>,
    /// What its tasks and executors use.
    pub used: Resources,
    /// What it is offered.
    pub offered: Resources,
    /// Its live tasks.
    pub tasks: TaskList,
    /// Its tasks lost with unreachable agents.
    pub unreachable_tasks: TaskList,
    /// Its terminal tasks, oldest first.
    pub completed_tasks: TaskList,
    /// Its outstanding offers, by ID.
    pub offers: Vec<OfferView>,
    /// Its executors: agent ID and executor.
    pub executors: Vec<(String, ExecutorInfo)>,
}

impl FrameworkView {
    /// Every task it lists: live, unreachable, completed.
    pub fn all_tasks(&self) -> impl Iterator<Item = &Arc<Task>> {
        self.tasks
            .iter()
            .chain(self.unreachable_tasks.iter())
            .chain(self.completed_tasks.iter())
    }
}

/// An admitted agent.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// Its ID.
    pub id: String,
    /// Its hostname.
    pub hostname: String,
    /// The port it listens on.
    pub port: i32,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Its fault domain.
    pub domain: Option<DomainInfo>,
    /// Its UPID.
    pub pid: UPID,
    /// Unix seconds of its registration.
    pub registered_time: f64,
    /// Unix seconds of its last reregistration.
    pub reregistered_time: Option<f64>,
    /// What it has, uses (by framework) and has on offer.
    pub resources: Arc<AgentResources>,
    /// What all frameworks use on it.
    pub used: Resources,
    /// Whether its resources are offered.
    pub active: bool,
    /// The Mesos version it reported.
    pub version: String,
    /// Its capabilities (`SlaveInfo.Capability.Type` values).
    pub capabilities: Vec<i32>,
}

/// An agent in the registry that has not reregistered since failover.
#[derive(Debug, Clone)]
pub struct RecoveredAgentView {
    /// Its ID.
    pub id: String,
    /// Its hostname.
    pub hostname: String,
    /// Its port.
    pub port: i32,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Its fault domain.
    pub domain: Option<DomainInfo>,
}

/// Everything the state endpoints render, as of one moment. Lists are in
/// the master's (hash) order; renderers sort what they show.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The master.
    pub master: MasterView,
    /// Live frameworks.
    pub frameworks: Vec<FrameworkView>,
    /// Removed frameworks, oldest first.
    pub completed_frameworks: Vec<Arc<FrameworkView>>,
    /// Admitted agents.
    pub agents: Vec<Arc<AgentView>>,
    /// Agents in the registry that have not reregistered.
    pub recovered_agents: Vec<RecoveredAgentView>,
}

/// Views the master keeps between snapshots: those of completed
/// frameworks (which never change), of agents (made again only when the
/// agent changed, so that an unchanged agent is also not rendered again),
/// live frameworks' task lists (made again only when a task changed),
/// and its flags' JSON (fixed at start).
#[derive(Default)]
pub struct Views {
    completed: HashMap<(String, u64), Arc<FrameworkView>>,
    lists: HashMap<String, TaskLists>,
    agents: HashMap<String, Arc<AgentView>, foldhash::fast::RandomState>,
    flags: Option<Bytes>,
}

impl Snapshot {
    /// Copies what the endpoints render out of `master`, reusing `views`.
    pub fn take(master: &Master, views: &mut Views) -> Snapshot {
        let state = &master.state;
        let flags = views
            .flags
            .get_or_insert_with(|| {
                let flags = master.flags.to_json();
                serde_json::to_vec(&flags["flags"])
                    .map(Bytes::from)
                    .unwrap_or_else(|_| Bytes::from_static(b"{}"))
            })
            .clone();
        Snapshot {
            master: MasterView {
                info: master.info.clone(),
                start_time: master.start_time,
                elected_time: master.elected_time,
                cluster: master.flags.cluster.clone(),
                flags,
                unreachable_agents: state.unreachable_agents.len(),
            },
            frameworks: views.live(state),
            completed_frameworks: views.completed(state),
            agents: views.agents(state),
            recovered_agents: state
                .recovered_agents
                .iter()
                .map(|(id, info)| RecoveredAgentView {
                    id: id.clone(),
                    hostname: info.hostname.clone(),
                    port: info.port.unwrap_or(5051),
                    attributes: info.attributes.clone(),
                    domain: info.domain.clone(),
                })
                .collect(),
        }
    }
}

impl Views {
    /// The views of `state`'s completed frameworks, oldest first, made
    /// once per framework.
    fn completed(&mut self, state: &State) -> Vec<Arc<FrameworkView>> {
        let key = |f: &Framework| (f.id.clone(), f.unregistered_time.unwrap_or(0.0).to_bits());
        let views: Vec<Arc<FrameworkView>> = state
            .completed_frameworks
            .iter()
            .map(|f| {
                self.completed
                    .entry(key(f))
                    .or_insert_with(|| {
                        Arc::new(framework_view(f, state, &mut TaskLists::default()))
                    })
                    .clone()
            })
            .collect();
        if self.completed.len() > views.len() {
            // Some were dropped past `--max_completed_frameworks`.
            let kept: std::collections::HashSet<_> =
                state.completed_frameworks.iter().map(key).collect();
            self.completed.retain(|k, _| kept.contains(k));
        }
        views
    }
}

impl Views {
    /// The views of `state`'s live frameworks, with the task lists of the
    /// last snapshot where they still hold.
    fn live(&mut self, state: &State) -> Vec<FrameworkView> {
        let views: Vec<FrameworkView> = state
            .frameworks
            .values()
            .map(|f| framework_view(f, state, self.lists.entry(f.id.clone()).or_default()))
            .collect();
        if self.lists.len() > views.len() {
            self.lists.retain(|id, _| state.frameworks.contains_key(id));
        }
        views
    }
}

/// A live framework's task lists in the last snapshot.
#[derive(Default)]
struct TaskLists {
    tasks: Option<TaskList>,
    unreachable: Option<TaskList>,
    completed: Option<TaskList>,
}

/// `last` if it lists exactly `tasks`, in the same order, else a new list
/// (kept in `last` for the next snapshot).
///
/// Comparing addresses is enough: `last` holds its tasks, so none of their
/// addresses can be reused, and the master changes a task only through
/// `Arc::make_mut`, which moves a task that a list holds. No reference is
/// taken when nothing changed, so an unchanged list costs a walk over
/// pointers rather than a count update on every task.
fn reuse<'a>(
    last: &mut Option<TaskList>,
    tasks: impl ExactSizeIterator<Item = &'a Arc<Task>> + Clone,
) -> TaskList {
    if let Some(list) = last {
        if list.len() == tasks.len()
            && list
                .iter()
                .zip(tasks.clone())
                .all(|(a, b)| Arc::ptr_eq(a, b))
        {
            return list.clone();
        }
    }
    let list: TaskList = tasks.cloned().collect();
    *last = Some(list.clone());
    list
}

impl Views {
    /// The views of `state`'s agents: the last one of an agent that has
    /// not changed since, else a new one.
    fn agents(&mut self, state: &State) -> Vec<Arc<AgentView>> {
        let views: Vec<Arc<AgentView>> = state
            .agents
            .values()
            .map(|agent| match self.agents.get_mut(&agent.id) {
                Some(view) if unchanged(agent, view) => view.clone(),
                Some(view) => {
                    *view = Arc::new(agent_view(agent));
                    view.clone()
                }
                None => {
                    let view = Arc::new(agent_view(agent));
                    self.agents.insert(agent.id.clone(), view.clone());
                    view
                }
            })
            .collect();
        if self.agents.len() > views.len() {
            self.agents.retain(|id, _| state.agents.contains_key(id));
        }
        views
    }
}

/// Whether `view` still shows `agent`. Its resources are the same when
/// they are at the same address (see [`AgentResources`]); they are what
/// changes most, and comparing them item by item for every agent would
/// cost a snapshot more than all the rest.
fn unchanged(agent: &Agent, view: &AgentView) -> bool {
    Arc::ptr_eq(&agent.resources, &view.resources)
        && agent.active == view.active
        && agent.pid == view.pid
        && agent.registered_time.to_bits() == view.registered_time.to_bits()
        && agent.reregistered_time.map(f64::to_bits) == view.reregistered_time.map(f64::to_bits)
        && agent.version == view.version
        && agent.capabilities == view.capabilities
        && agent.info.hostname == view.hostname
        && agent.info.attributes == view.attributes
        && agent.info.domain == view.domain
        && port(agent) == view.port
}

fn port(agent: &Agent) -> i32 {
    agent
        .info
        .port
        .unwrap_or(i32::from(agent.pid.address().port()))
}

fn framework_view(f: &Framework, state: &State, lists: &mut TaskLists) -> FrameworkView {
    let offers: Vec<OfferView> = f
        .offers
        .iter()
        .filter_map(|id| state.offers.get(id))
        .map(|o| OfferView {
            id: o.info.id.value.clone(),
            framework_id: o.framework_id.clone(),
            agent_id: o.agent_id.clone(),
            resources: o.resources.clone(),
            role: o.role.clone(),
        })
        .collect();
    FrameworkView {
        id: f.id.clone(),
        info: f.info.clone(),
        multi_role: f.capabilities.multi_role,
        pid: f.pid().cloned(),
        active: f.active,
        connected: f.connected,
        recovered: f.recovered,
        registered_time: f.registered_time,
        reregistered_time: f.reregistered_time,
        unregistered_time: f.unregistered_time,
        used: f.used.clone(),
        offered: f.offered.clone(),
        tasks: reuse(&mut lists.tasks, f.tasks.values()),
        unreachable_tasks: reuse(&mut lists.unreachable, f.unreachable_tasks.iter()),
        completed_tasks: reuse(&mut lists.completed, f.completed_tasks.iter()),
        offers,
        executors: f
            .executors
            .iter()
            .flat_map(|(agent, execs)| execs.values().map(|e| (agent.clone(), e.clone())))
            .collect(),
    }
}

fn agent_view(a: &Agent) -> AgentView {
    AgentView {
        id: a.id.clone(),
        hostname: a.info.hostname.clone(),
        port: port(a),
        attributes: a.info.attributes.clone(),
        domain: a.info.domain.clone(),
        pid: a.pid.clone(),
        registered_time: a.registered_time,
        reregistered_time: a.reregistered_time,
        resources: a.resources.clone(),
        used: a.used_total(),
        active: a.active,
        version: a.version.clone(),
        capabilities: a.capabilities.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, state: i32) -> Arc<Task> {
        let mut task = Task::default();
        task.task_id.value = id.into();
        task.state = state;
        Arc::new(task)
    }

    #[test]
    fn an_unchanged_task_list_is_shared_and_a_changed_one_is_made_again() {
        let mut tasks: HashMap<String, Arc<Task>> = (0..3)
            .map(|i| (i.to_string(), task(&i.to_string(), 1)))
            .collect();
        let mut last = None;
        let first = reuse(&mut last, tasks.values());
        let second = reuse(&mut last, tasks.values());
        assert!(Arc::ptr_eq(&first, &second), "nothing changed: one list");

        // The master changes a task as its handlers do.
        Arc::make_mut(tasks.get_mut("1").unwrap()).state = 2;
        let third = reuse(&mut last, tasks.values());
        assert!(!Arc::ptr_eq(&second, &third));
        let states: Vec<(String, i32)> = third
            .iter()
            .map(|t| (t.task_id.value.clone(), t.state))
            .collect();
        assert!(states.contains(&("1".to_string(), 2)));
        assert_eq!(states.len(), 3);
        // The earlier snapshots still show what they were taken with.
        assert!(first.iter().all(|t| t.state == 1));

        tasks.remove("0");
        let fourth = reuse(&mut last, tasks.values());
        assert_eq!(fourth.len(), 2);
        tasks.insert("9".into(), task("9", 1));
        let fifth = reuse(&mut last, tasks.values());
        assert_eq!(fifth.len(), 3);
        assert!(fifth.iter().any(|t| t.task_id.value == "9"));
    }
}

#[cfg(test)]
mod agent_view_tests {
    use std::collections::HashSet;

    use mesos_proto::mesos::SlaveInfo;

    use super::*;

    fn agent(id: &str) -> Agent {
        Agent {
            id: id.into(),
            info: SlaveInfo {
                hostname: "host".into(),
                ..Default::default()
            },
            pid: "slave(1)@127.0.0.1:5051".parse().unwrap(),
            version: "1.11.0".into(),
            capabilities: Vec::new(),
            registered_time: 1.0,
            reregistered_time: None,
            connected: true,
            active: true,
            resources: Arc::new(AgentResources {
                total: Resources::parse("cpus:4;mem:1024", "*").unwrap(),
                ..Default::default()
            }),
            tasks: HashMap::new(),
            offers: HashSet::new(),
            observer: None,
            resource_version_uuid: None,
        }
    }

    #[test]
    fn an_agent_view_is_made_again_only_when_the_agent_changed() {
        let mut state = State::default();
        state.insert_agent(agent("a1"));
        state.insert_agent(agent("a2"));
        let mut views = Views::default();
        let first = views.agents(&state);
        let second = views.agents(&state);
        for (a, b) in first.iter().zip(&second) {
            assert!(Arc::ptr_eq(a, b), "{} unchanged: the same view", a.id);
        }

        let used = Resources::parse("cpus:1;mem:128", "*").unwrap();
        let a1 = state.agents.get_mut("a1").unwrap();
        a1.resources_mut().used.insert("f1".into(), used.clone());
        let third = views.agents(&state);
        let view =
            |views: &[Arc<AgentView>], id: &str| views.iter().find(|v| v.id == id).unwrap().clone();
        assert_eq!(view(&third, "a1").used, used);
        assert!(
            view(&first, "a1").used.is_empty(),
            "the old snapshot keeps its view"
        );
        assert!(Arc::ptr_eq(&view(&second, "a2"), &view(&third, "a2")));

        state.agents.get_mut("a2").unwrap().active = false;
        assert!(!view(&views.agents(&state), "a2").active);
    }
}
