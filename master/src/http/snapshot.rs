//! An immutable, consistent copy of what the state endpoints render
//! (`/master/state`, `/state-summary`, `/frameworks`, `/slaves`,
//! `/tasks`), taken inside the master and rendered outside it.
//!
//! Taking it must be cheap, since the master does nothing else meanwhile:
//! tasks, the bulk of a large cluster's state, are shared (`Arc<Task>`)
//! rather than copied, and the master's handlers change a task with
//! `Arc::make_mut`, which copies it only while a snapshot still holds it
//! (copy-on-write). Frameworks, agents and offers are copied field by
//! field; they are few next to tasks. Everything costly (building the JSON
//! and serializing it) happens on the snapshot, off the master; see
//! `reads` for how requests share snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;

use mesos_common::Resources;
use mesos_proto::mesos::{ExecutorInfo, FrameworkInfo, MasterInfo, SlaveInfo, Task};
use serde_json::Value;

use crate::master::Master;
use crate::state::{Agent, Capabilities, Framework, State};

/// The master itself.
#[derive(Debug, Clone)]
pub struct MasterView {
    /// Its `MasterInfo`.
    pub info: MasterInfo,
    /// Unix seconds it started and was elected.
    pub start_time: f64,
    /// Unix seconds it was elected.
    pub elected_time: f64,
    /// `--cluster`.
    pub cluster: Option<String>,
    /// Its flags, as `/flags` renders them.
    pub flags: Value,
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
    /// Its parsed capabilities.
    pub capabilities: Capabilities,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its scheduler's UPID, when known.
    pub pid: Option<String>,
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
    /// Its terminal tasks.
    pub completed_tasks: Vec<Arc<Task>>,
    /// Its outstanding offers, by ID.
    pub offers: Vec<OfferView>,
    /// Its executors: agent ID and executor.
    pub executors: Vec<(String, ExecutorInfo)>,
}

/// An admitted agent.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// Its ID.
    pub id: String,
    /// What it registered with.
    pub info: SlaveInfo,
    /// Its UPID.
    pub pid: String,
    /// The port it listens on.
    pub port: i32,
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
    /// Frameworks with live tasks on it.
    pub framework_ids: Vec<String>,
}

/// Everything the state endpoints render, as of one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The master.
    pub master: MasterView,
    /// Live frameworks, by ID.
    pub frameworks: Vec<FrameworkView>,
    /// Removed frameworks, oldest first.
    pub completed_frameworks: Vec<FrameworkView>,
    /// Admitted agents, by ID.
    pub agents: Vec<AgentView>,
    /// Agents in the registry that have not reregistered, by ID.
    pub recovered_agents: Vec<(String, SlaveInfo)>,
}

impl Snapshot {
    /// Copies what the endpoints render out of `master`.
    pub fn take(master: &Master) -> Snapshot {
        let state = &master.state;
        let mut frameworks: Vec<FrameworkView> = state
            .frameworks
            .values()
            .map(|f| framework_view(f, state))
            .collect();
        frameworks.sort_by(|a, b| a.id.cmp(&b.id));
        let mut agents: Vec<AgentView> = state.agents.values().map(agent_view).collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        Snapshot {
            master: MasterView {
                info: master.info.clone(),
                start_time: master.start_time,
                elected_time: master.elected_time,
                cluster: master.flags.cluster.clone(),
                flags: master.flags.to_json()["flags"].clone(),
                unreachable_agents: state.unreachable_agents.len(),
            },
            frameworks,
            completed_frameworks: state
                .completed_frameworks
                .iter()
                .map(|f| framework_view(f, state))
                .collect(),
            agents,
            recovered_agents: state
                .recovered_agents
                .iter()
                .map(|(id, info)| (id.clone(), info.clone()))
                .collect(),
        }
    }
}

fn framework_view(f: &Framework, state: &State) -> FrameworkView {
    let mut offers: Vec<OfferView> = f
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
    offers.sort_by(|a, b| a.id.cmp(&b.id));
    FrameworkView {
        id: f.id.clone(),
        info: f.info.clone(),
        capabilities: f.capabilities,
        roles: f.roles.clone(),
        pid: f.pid().map(ToString::to_string),
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

fn agent_view(a: &Agent) -> AgentView {
    let mut framework_ids: Vec<String> = a.tasks.keys().cloned().collect();
    framework_ids.sort();
    AgentView {
        id: a.id.clone(),
        info: a.info.clone(),
        pid: a.pid.to_string(),
        port: a.info.port.unwrap_or(i32::from(a.pid.address().port())),
        registered_time: a.registered_time,
        reregistered_time: a.reregistered_time,
        total: a.total.clone(),
        used: a.used_total(),
        offered: a.offered.clone(),
        active: a.active,
        version: a.version.clone(),
        capabilities: a.capabilities.clone(),
        framework_ids,
    }
}

/// Tasks of every live framework by agent ID, for the summary's counts.
pub fn tasks_by_agent(snapshot: &Snapshot) -> BTreeMap<&str, Vec<&Task>> {
    let mut out: BTreeMap<&str, Vec<&Task>> = BTreeMap::new();
    for f in &snapshot.frameworks {
        for t in f.tasks.iter().chain(&f.completed_tasks) {
            out.entry(t.slave_id.value.as_str()).or_default().push(t);
        }
    }
    out
}
