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
use crate::state::{Agent, Framework, State};

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
    pub tasks: Vec<Arc<Task>>,
    /// Its tasks lost with unreachable agents.
    pub unreachable_tasks: Vec<Arc<Task>>,
    /// Its terminal tasks, oldest first.
    pub completed_tasks: Vec<Arc<Task>>,
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
            .chain(&self.unreachable_tasks)
            .chain(&self.completed_tasks)
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
    /// Its total resources.
    pub total: Resources,
    /// What all frameworks use on it.
    pub used: Resources,
    /// What is offered of it.
    pub offered: Resources,
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
/// and its flags' JSON (fixed at start).
#[derive(Default)]
pub struct Views {
    completed: HashMap<(String, u64), Arc<FrameworkView>>,
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
            frameworks: state
                .frameworks
                .values()
                .map(|f| framework_view(f, state))
                .collect(),
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
                    .or_insert_with(|| Arc::new(framework_view(f, state)))
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
    /// The views of `state`'s agents: the last one of an agent that has
    /// not changed since, else a new one.
    fn agents(&mut self, state: &State) -> Vec<Arc<AgentView>> {
        let views: Vec<Arc<AgentView>> = state
            .agents
            .values()
            .map(|agent| {
                // Summed first: comparing and making a view both need it.
                let used = agent.used_total();
                match self.agents.get_mut(&agent.id) {
                    Some(view) if unchanged(agent, &used, view) => view.clone(),
                    Some(view) => {
                        *view = Arc::new(agent_view(agent, used));
                        view.clone()
                    }
                    None => {
                        let view = Arc::new(agent_view(agent, used));
                        self.agents.insert(agent.id.clone(), view.clone());
                        view
                    }
                }
            })
            .collect();
        if self.agents.len() > views.len() {
            self.agents.retain(|id, _| state.agents.contains_key(id));
        }
        views
    }
}

/// Whether `view` still shows `agent` (whose resources in use are
/// `used`). Resources compare item by item, so the same resources in
/// another order count as a change: a new view is made then, which is
/// never wrong.
fn unchanged(agent: &Agent, used: &Resources, view: &AgentView) -> bool {
    let same = |a: &Resources, b: &Resources| a.len() == b.len() && a.iter().eq(b.iter());
    agent.active == view.active
        && agent.pid == view.pid
        && agent.registered_time.to_bits() == view.registered_time.to_bits()
        && agent.reregistered_time.map(f64::to_bits) == view.reregistered_time.map(f64::to_bits)
        && agent.version == view.version
        && agent.capabilities == view.capabilities
        && agent.info.hostname == view.hostname
        && agent.info.attributes == view.attributes
        && agent.info.domain == view.domain
        && port(agent) == view.port
        && same(&agent.total, &view.total)
        && same(&agent.offered, &view.offered)
        && same(used, &view.used)
}

fn port(agent: &Agent) -> i32 {
    agent
        .info
        .port
        .unwrap_or(i32::from(agent.pid.address().port()))
}

fn framework_view(f: &Framework, state: &State) -> FrameworkView {
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
        tasks: f.tasks.values().cloned().collect(),
        unreachable_tasks: f.unreachable_tasks.iter().cloned().collect(),
        completed_tasks: f.completed_tasks.iter().cloned().collect(),
        offers,
        executors: f
            .executors
            .iter()
            .flat_map(|(agent, execs)| execs.values().map(|e| (agent.clone(), e.clone())))
            .collect(),
    }
}

fn agent_view(a: &Agent, used: Resources) -> AgentView {
    AgentView {
        id: a.id.clone(),
        hostname: a.info.hostname.clone(),
        port: port(a),
        attributes: a.info.attributes.clone(),
        domain: a.info.domain.clone(),
        pid: a.pid.clone(),
        registered_time: a.registered_time,
        reregistered_time: a.reregistered_time,
        total: a.total.clone(),
        used,
        offered: a.offered.clone(),
        active: a.active,
        version: a.version.clone(),
        capabilities: a.capabilities.clone(),
    }
}
