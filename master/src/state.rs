//! The master's model of the cluster: frameworks with their tasks, agents,
//! and outstanding offers. Plain data with small pure helpers; the master
//! process owns one `State` and is the only one to change it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use libprocess::{Pid, Timer, UPID};
use mesos_common::Resources;
use mesos_proto::mesos::framework_info::capability::Type as FrameworkCapability;
use mesos_proto::mesos::{FrameworkInfo, Offer as OfferInfo, SlaveInfo, Task, TaskState};

use crate::master::Master;
use crate::observer::SlaveObserver;
use crate::scheduler_api::{Connection, HttpConnection, SchedulerMessage};

/// The framework-facing IDs the master hands out: `<master>-0000`,
/// `<master>-S0`, `<master>-O0`, as Mesos numbers them.
#[derive(Debug, Clone)]
pub struct IdGenerator {
    master_id: String,
    next_framework: u64,
    next_agent: u64,
    next_offer: u64,
}

impl IdGenerator {
    /// IDs under master ID `master_id`.
    pub fn new(master_id: &str) -> IdGenerator {
        IdGenerator {
            master_id: master_id.to_string(),
            next_framework: 0,
            next_agent: 0,
            next_offer: 0,
        }
    }

    /// The next framework ID, `<master>-NNNN`.
    pub fn framework(&mut self) -> String {
        let n = self.next_framework;
        self.next_framework += 1;
        format!("{}-{:04}", self.master_id, n)
    }

    /// The next agent ID, `<master>-SN`.
    pub fn agent(&mut self) -> String {
        let n = self.next_agent;
        self.next_agent += 1;
        format!("{}-S{}", self.master_id, n)
    }

    /// The next offer ID, `<master>-ON`.
    pub fn offer(&mut self) -> String {
        let n = self.next_offer;
        self.next_offer += 1;
        format!("{}-O{}", self.master_id, n)
    }
}

/// What a framework declared it can handle.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    /// `PARTITION_AWARE`: gets TASK_UNREACHABLE/TASK_DROPPED, not TASK_LOST.
    pub partition_aware: bool,
    /// `MULTI_ROLE`: offers carry allocation info.
    pub multi_role: bool,
    /// `GPU_RESOURCES`: may be offered agents with GPUs.
    pub gpu_resources: bool,
    /// `REVOCABLE_RESOURCES`.
    pub revocable_resources: bool,
    /// `TASK_KILLING_STATE`.
    pub task_killing_state: bool,
    /// `RESERVATION_REFINEMENT`.
    pub reservation_refinement: bool,
}

impl Capabilities {
    /// The capabilities listed in `info`.
    pub fn of(info: &FrameworkInfo) -> Capabilities {
        let mut caps = Capabilities::default();
        for capability in &info.capabilities {
            match capability
                .r#type
                .and_then(|t| FrameworkCapability::try_from(t).ok())
            {
                Some(FrameworkCapability::PartitionAware) => caps.partition_aware = true,
                Some(FrameworkCapability::MultiRole) => caps.multi_role = true,
                Some(FrameworkCapability::GpuResources) => caps.gpu_resources = true,
                Some(FrameworkCapability::RevocableResources) => caps.revocable_resources = true,
                Some(FrameworkCapability::TaskKillingState) => caps.task_killing_state = true,
                Some(FrameworkCapability::ReservationRefinement) => {
                    caps.reservation_refinement = true
                }
                _ => {}
            }
        }
        caps
    }
}

/// The roles a framework is subscribed to: `roles` for MULTI_ROLE
/// frameworks, else its single `role` (default `*`).
pub fn framework_roles(info: &FrameworkInfo) -> Vec<String> {
    if Capabilities::of(info).multi_role {
        info.roles.clone()
    } else {
        vec![info.role.clone().unwrap_or_else(|| "*".to_string())]
    }
}

/// A framework the master knows.
#[derive(Debug)]
pub struct Framework {
    /// Its ID.
    pub id: String,
    /// What it registered with (its `id` filled in).
    pub info: FrameworkInfo,
    /// Parsed `info.capabilities`.
    pub capabilities: Capabilities,
    /// Its roles.
    pub roles: Vec<String>,
    /// How its scheduler is reached, while one is known: a UPID (libprocess
    /// driver) or an HTTP event stream. Change it with
    /// `State::set_framework_connection`, which keeps the UPID index.
    pub connection: Option<Connection>,
    /// Whether the scheduler is connected.
    pub connected: bool,
    /// Whether it gets offers (connected and not deactivated).
    pub active: bool,
    /// Whether it was recovered from an agent's report and has not
    /// reregistered yet.
    pub recovered: bool,
    /// Unix seconds of its first registration.
    pub registered_time: f64,
    /// Unix seconds of its last reregistration.
    pub reregistered_time: Option<f64>,
    /// Unix seconds of its removal.
    pub unregistered_time: Option<f64>,
    /// Its live tasks, by task ID. Shared with the endpoints' snapshots:
    /// change one with `Arc::make_mut`, which copies it only while a
    /// snapshot still holds it.
    pub tasks: HashMap<String, Arc<Task>>,
    /// Its terminal tasks, oldest first, at most
    /// `--max_completed_tasks_per_framework`.
    pub completed_tasks: VecDeque<Arc<Task>>,
    /// Tasks lost with an unreachable agent, oldest first.
    pub unreachable_tasks: VecDeque<Arc<Task>>,
    /// How many of `unreachable_tasks` have each task ID (checked on every
    /// launch; kept in step by `add_unreachable_task`).
    unreachable_task_ids: HashMap<String, u32>,
    /// Its outstanding offers.
    pub offers: HashSet<String>,
    /// The executors it runs, by agent ID and executor ID.
    pub executors: HashMap<String, HashMap<String, mesos_proto::mesos::ExecutorInfo>>,
    /// Resources its live tasks and executors use.
    pub used: Resources,
    /// Resources offered to it.
    pub offered: Resources,
    /// Roles it asked not to be offered.
    pub suppressed_roles: Vec<String>,
    /// The failover timer while its scheduler is away.
    pub failover_timer: Option<Timer>,
}

impl Framework {
    /// A framework newly registered with `info` (whose `id` is set).
    pub fn new(
        id: String,
        info: FrameworkInfo,
        connection: Option<Connection>,
        now: f64,
    ) -> Framework {
        Framework {
            capabilities: Capabilities::of(&info),
            roles: framework_roles(&info),
            id,
            info,
            connected: connection.is_some(),
            active: connection.is_some(),
            connection,
            recovered: false,
            registered_time: now,
            reregistered_time: None,
            unregistered_time: None,
            tasks: HashMap::new(),
            completed_tasks: VecDeque::new(),
            unreachable_tasks: VecDeque::new(),
            unreachable_task_ids: HashMap::new(),
            offers: HashSet::new(),
            executors: HashMap::new(),
            used: Resources::new(),
            offered: Resources::new(),
            suppressed_roles: Vec::new(),
            failover_timer: None,
        }
    }

    /// The UPID of a libprocess scheduler.
    pub fn pid(&self) -> Option<&UPID> {
        self.connection.as_ref().and_then(Connection::pid)
    }

    /// The event stream of an HTTP scheduler.
    pub fn http(&self) -> Option<&HttpConnection> {
        match &self.connection {
            Some(Connection::Http(http)) => Some(http),
            _ => None,
        }
    }

    /// Sends `message` to the scheduler: as a libprocess message to its
    /// UPID, or as the matching event on its HTTP stream. Dropped (and
    /// logged) when no scheduler is known.
    pub fn send<M: SchedulerMessage>(&self, ctx: &libprocess::Context<Master>, message: &M) {
        match &self.connection {
            Some(connection) => connection.send(ctx, message),
            None => tracing::warn!(
                "dropping {} for framework {}: no scheduler",
                M::full_name(),
                self.id
            ),
        }
    }

    /// Replaces the framework's info (a reregistration or an update).
    pub fn update_info(&mut self, info: FrameworkInfo) {
        self.capabilities = Capabilities::of(&info);
        self.roles = framework_roles(&info);
        self.info = info;
    }

    /// Keeps `task` among the completed ones, dropping the oldest past
    /// `limit`.
    pub fn add_completed_task(&mut self, task: Arc<Task>, limit: usize) {
        if limit == 0 {
            return;
        }
        while self.completed_tasks.len() >= limit {
            self.completed_tasks.pop_front();
        }
        self.completed_tasks.push_back(task);
    }

    /// Keeps `task` among the unreachable ones, dropping the oldest past
    /// `limit`.
    pub fn add_unreachable_task(&mut self, task: Arc<Task>, limit: usize) {
        if limit == 0 {
            return;
        }
        while self.unreachable_tasks.len() >= limit {
            if let Some(old) = self.unreachable_tasks.pop_front() {
                let id = &old.task_id.value;
                if let Some(n) = self.unreachable_task_ids.get_mut(id) {
                    *n -= 1;
                    if *n == 0 {
                        self.unreachable_task_ids.remove(id);
                    }
                }
            }
        }
        *self
            .unreachable_task_ids
            .entry(task.task_id.value.clone())
            .or_default() += 1;
        self.unreachable_tasks.push_back(task);
    }

    /// Whether `task_id` was lost with an unreachable agent.
    pub fn has_unreachable_task(&self, task_id: &str) -> bool {
        self.unreachable_task_ids.contains_key(task_id)
    }
}

/// An agent the master has admitted.
pub struct Agent {
    /// Its ID.
    pub id: String,
    /// What it registered with (its `id` filled in).
    pub info: SlaveInfo,
    /// Its UPID.
    pub pid: UPID,
    /// The Mesos version it reported.
    pub version: String,
    /// Its capabilities (`SlaveInfo.Capability.Type` values).
    pub capabilities: Vec<i32>,
    /// Unix seconds of its registration.
    pub registered_time: f64,
    /// Unix seconds of its last reregistration.
    pub reregistered_time: Option<f64>,
    /// Whether its socket is up.
    pub connected: bool,
    /// Whether its resources are offered.
    pub active: bool,
    /// What it has, uses and has on offer; change it through
    /// [`Agent::resources_mut`].
    pub resources: Arc<AgentResources>,
    /// Live task IDs per framework ID.
    pub tasks: HashMap<String, HashSet<String>>,
    /// Its outstanding offers.
    pub offers: HashSet<String>,
    /// The process that pings it.
    pub observer: Option<Pid<SlaveObserver>>,
    /// The version of its resources it last reported (sent back with
    /// launches so it can refuse stale ones).
    pub resource_version_uuid: Option<mesos_proto::mesos::Uuid>,
}

/// An agent's resources. Shared with the state endpoints' snapshots, and
/// changed only through `Arc::make_mut` (which copies them while a
/// snapshot holds them), so a snapshot tells an agent whose resources did
/// not change by their address alone.
#[derive(Debug, Clone, Default)]
pub struct AgentResources {
    /// Its total resources.
    pub total: Resources,
    /// Resources used by tasks and executors, per framework.
    pub used: HashMap<String, Resources>,
    /// Resources currently offered.
    pub offered: Resources,
}

impl AgentResources {
    /// The sum of resources used by all frameworks.
    pub fn used_total(&self) -> Resources {
        let mut total = Resources::new();
        for used in self.used.values() {
            total += used;
        }
        total
    }
}

impl Agent {
    /// Its resources, to change.
    pub fn resources_mut(&mut self) -> &mut AgentResources {
        Arc::make_mut(&mut self.resources)
    }

    /// The sum of resources used by all frameworks.
    pub fn used_total(&self) -> Resources {
        self.resources.used_total()
    }

    /// Takes `resources` off what `framework_id` uses here (its task or
    /// executor ended). Resources a snapshot shares are copied only when
    /// the framework uses something here.
    pub fn release(&mut self, framework_id: &str, resources: &Resources) {
        if self.resources.used.contains_key(framework_id) {
            if let Some(used) = self.resources_mut().used.get_mut(framework_id) {
                *used -= resources;
            }
        }
    }

    /// How many live tasks run on it.
    pub fn task_count(&self) -> usize {
        self.tasks.values().map(HashSet::len).sum()
    }
}

/// An outstanding offer.
#[derive(Debug)]
pub struct Offer {
    /// What the framework was sent.
    pub info: OfferInfo,
    /// The offered resources (allocated to `role`), as the allocator
    /// shared them.
    pub resources: Arc<Resources>,
    /// The role the resources are allocated to.
    pub role: String,
    /// The framework it went to.
    pub framework_id: String,
    /// The agent it is on.
    pub agent_id: String,
    /// Rescinds the offer after `--offer_timeout`.
    pub timer: Option<Timer>,
}

/// Everything the master knows about the cluster.
#[derive(Default)]
pub struct State {
    /// Registered (and recovered) frameworks by ID. Add and remove them
    /// with `insert_framework` / `remove_framework`, and move them with
    /// `set_framework_connection`, which keep `framework_pids` in step.
    pub frameworks: HashMap<String, Framework>,
    /// Framework IDs by scheduler UPID: every message from a scheduler
    /// looks its framework up.
    pub framework_pids: HashMap<UPID, String>,
    /// Frameworks that were removed, oldest first, at most
    /// `--max_completed_frameworks`.
    pub completed_frameworks: VecDeque<Framework>,
    /// Admitted agents by ID.
    pub agents: HashMap<String, Agent>,
    /// Agent IDs by UPID (kept in step with `agents` by `insert_agent`,
    /// `set_agent_pid` and `remove_agent`).
    pub agent_pids: HashMap<UPID, String>,
    /// Agents in the registry that have not reregistered since this master
    /// started, by ID.
    pub recovered_agents: BTreeMap<String, SlaveInfo>,
    /// Unreachable agents: ID to Unix seconds when marked.
    pub unreachable_agents: BTreeMap<String, f64>,
    /// Agents marked gone: ID to Unix seconds.
    pub gone_agents: BTreeMap<String, f64>,
    /// UPIDs of agents whose registration is being written to the
    /// registry; a retry meanwhile is ignored.
    pub registering: HashSet<UPID>,
    /// IDs of agents whose reregistration or removal is being written.
    pub reregistering: HashSet<String>,
    /// Outstanding offers by ID.
    pub offers: HashMap<String, Offer>,
}

impl State {
    /// The agent registered at `pid`.
    pub fn agent_by_pid(&self, pid: &UPID) -> Option<&Agent> {
        self.agent_pids.get(pid).and_then(|id| self.agents.get(id))
    }

    /// Adds `agent`, indexing its UPID.
    pub fn insert_agent(&mut self, agent: Agent) {
        self.agent_pids.insert(agent.pid.clone(), agent.id.clone());
        self.agents.insert(agent.id.clone(), agent);
    }

    /// Moves agent `id` to `pid`.
    pub fn set_agent_pid(&mut self, id: &str, pid: UPID) {
        if let Some(agent) = self.agents.get_mut(id) {
            self.agent_pids.remove(&agent.pid);
            self.agent_pids.insert(pid.clone(), id.to_string());
            agent.pid = pid;
        }
    }

    /// Removes agent `id` and its UPID index entry.
    pub fn remove_agent(&mut self, id: &str) -> Option<Agent> {
        let agent = self.agents.remove(id)?;
        if self.agent_pids.get(&agent.pid).map(String::as_str) == Some(id) {
            self.agent_pids.remove(&agent.pid);
        }
        Some(agent)
    }

    /// The framework whose scheduler is `pid`.
    pub fn framework_by_pid(&self, pid: &UPID) -> Option<&Framework> {
        self.framework_pids
            .get(pid)
            .and_then(|id| self.frameworks.get(id))
    }

    /// Adds `framework`, indexing its UPID.
    pub fn insert_framework(&mut self, framework: Framework) {
        if let Some(pid) = framework.pid() {
            self.framework_pids
                .insert(pid.clone(), framework.id.clone());
        }
        self.frameworks.insert(framework.id.clone(), framework);
    }

    /// Moves framework `id`'s scheduler to `connection` (None: it has
    /// gone); returns the one it replaces.
    pub fn set_framework_connection(
        &mut self,
        id: &str,
        connection: Option<Connection>,
    ) -> Option<Connection> {
        let framework = self.frameworks.get_mut(id)?;
        let old = std::mem::replace(&mut framework.connection, connection);
        if let Some(pid) = old.as_ref().and_then(Connection::pid) {
            if self.framework_pids.get(pid).map(String::as_str) == Some(id) {
                self.framework_pids.remove(pid);
            }
        }
        if let Some(pid) = framework.pid() {
            self.framework_pids.insert(pid.clone(), id.to_string());
        }
        old
    }

    /// Removes framework `id` and its UPID index entry.
    pub fn remove_framework(&mut self, id: &str) -> Option<Framework> {
        let framework = self.frameworks.remove(id)?;
        if let Some(pid) = framework.pid() {
            if self.framework_pids.get(pid).map(String::as_str) == Some(id) {
                self.framework_pids.remove(pid);
            }
        }
        Some(framework)
    }

    /// Whether a framework ID was removed.
    pub fn is_completed_framework(&self, id: &str) -> bool {
        self.completed_frameworks.iter().any(|f| f.id == id)
    }

    /// Every live task in the cluster.
    pub fn task_count(&self) -> usize {
        self.frameworks.values().map(|f| f.tasks.len()).sum()
    }
}

/// Whether `state` is terminal (the task will not change again).
pub fn is_terminal(state: i32) -> bool {
    matches!(
        TaskState::try_from(state),
        Ok(TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskError
            | TaskState::TaskLost
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator)
    )
}

/// Unix seconds now, as Mesos stamps registrations.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_mesos_format() {
        let mut ids = IdGenerator::new("m");
        assert_eq!(ids.framework(), "m-0000");
        assert_eq!(ids.framework(), "m-0001");
        assert_eq!(ids.agent(), "m-S0");
        assert_eq!(ids.offer(), "m-O0");
        assert_eq!(ids.offer(), "m-O1");
    }

    #[test]
    fn completed_tasks_are_bounded() {
        let mut framework = Framework::new("f".into(), FrameworkInfo::default(), None, 0.0);
        for i in 0..5 {
            let mut task = Task::default();
            task.task_id.value = i.to_string();
            framework.add_completed_task(Arc::new(task), 3);
        }
        let ids: Vec<_> = framework
            .completed_tasks
            .iter()
            .map(|t| t.task_id.value.clone())
            .collect();
        assert_eq!(ids, ["2", "3", "4"]);
    }

    #[test]
    fn single_role_framework_defaults_to_star() {
        assert_eq!(framework_roles(&FrameworkInfo::default()), ["*"]);
    }
}
