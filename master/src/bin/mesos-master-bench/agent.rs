//! A simulated agent (`slave(N)`): speaks the agent side of the Mesos 1.11
//! protocol without running anything. It registers (retrying with
//! backoff until `SlaveRegisteredMessage`), answers pings, and for each
//! `RunTaskMessage` reports what a command executor whose task exits at
//! once would: TASK_RUNNING then TASK_FINISHED, one update in flight per
//! task, each resent until acknowledged, as the agent's status update
//! manager does. The first `keep_running` tasks an agent gets stay
//! RUNNING instead. When the link to the master breaks it waits to be
//! told a master was detected (as a ZooKeeper detector would tell it),
//! then reregisters with its frameworks and tasks.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use libprocess::{Context, Process, Timer, UPID};
use mesos_proto::internal::{
    archive, KillTaskMessage, PingSlaveMessage, PongSlaveMessage, RunTaskMessage,
    ShutdownFrameworkMessage, ShutdownMessage, SlaveRegisteredMessage, SlaveReregisteredMessage,
    StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::{FrameworkInfo, SlaveId, SlaveInfo, Task, TaskState};

use crate::tally::Tally;
use crate::wire;

/// First registration retry; doubles up to `MAX_BACKOFF`, as Mesos agents
/// back off (their factor is 1s; the first retry here is later so that a
/// master busy with thousands of registrations is not sent duplicates).
const REGISTRATION_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Mesos's status update retry: 10s, doubling up to 10mins.
const UPDATE_RETRY: Duration = Duration::from_secs(10);
const MAX_UPDATE_RETRY: Duration = Duration::from_secs(600);

/// What an agent does, shared by all simulated agents of a run.
pub struct AgentSettings {
    /// The master's UPID (`master@host:port`).
    pub master: UPID,
    /// The agent's resources.
    pub resources: wire::Scalars,
    /// Tasks kept RUNNING per agent; later tasks finish at once.
    pub keep_running: usize,
    /// Where events are counted.
    pub tally: Arc<Tally>,
}

/// Tasks and frameworks an agent starts with, to reregister with (the
/// shape of Mesos's `MasterFailover` and `MasterStateQuery` benchmarks).
pub struct Preloaded {
    /// The agent's ID.
    pub id: String,
    /// Frameworks with running tasks here.
    pub frameworks: Vec<FrameworkInfo>,
    /// Their tasks (RUNNING).
    pub tasks: Vec<Task>,
    /// Frameworks that finished here, with their finished tasks.
    pub completed: Vec<archive::Framework>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Spawned, not yet told to register.
    Idle,
    Registering,
    Registered,
    /// The link to the master broke; waiting for a master to be detected.
    Disconnected,
    Reregistering,
    /// The master told us to shut down.
    Shutdown,
}

/// One task as the agent tracks it.
struct TaskEntry {
    task: Task,
    /// Updates not yet acknowledged, oldest (the one in flight) first.
    stream: VecDeque<StatusUpdateMessage>,
    retry: Duration,
    timer: Option<Timer>,
}

/// A simulated agent.
pub struct SimAgent {
    settings: Arc<AgentSettings>,
    info: SlaveInfo,
    resource_version: Bytes,
    id: Option<String>,
    phase: Phase,
    /// Registration attempts made; a retry timer only acts if it is the
    /// latest attempt's.
    attempt: u64,
    backoff: Duration,
    frameworks: HashMap<String, FrameworkInfo>,
    /// (framework ID, task ID) → task.
    tasks: HashMap<(String, String), TaskEntry>,
    completed: Vec<archive::Framework>,
    kept: usize,
}

impl SimAgent {
    /// An agent that will register as new when told to.
    pub fn new(settings: Arc<AgentSettings>, hostname: &str, port: u16) -> SimAgent {
        let info = wire::slave_info(hostname, port, &settings.resources);
        SimAgent {
            settings,
            info,
            resource_version: wire::uuid_bytes(),
            id: None,
            phase: Phase::Idle,
            attempt: 0,
            backoff: REGISTRATION_BACKOFF,
            frameworks: HashMap::new(),
            tasks: HashMap::new(),
            completed: Vec::new(),
            kept: 0,
        }
    }

    /// An agent that already has an ID, frameworks and tasks: it will
    /// reregister with them when a master is detected.
    pub fn preloaded(
        settings: Arc<AgentSettings>,
        hostname: &str,
        port: u16,
        preloaded: Preloaded,
    ) -> SimAgent {
        let mut agent = SimAgent::new(settings, hostname, port);
        agent.info.id = Some(SlaveId {
            value: preloaded.id.clone(),
        });
        agent.id = Some(preloaded.id);
        agent.phase = Phase::Disconnected;
        for framework in preloaded.frameworks {
            if let Some(id) = &framework.id {
                agent.frameworks.insert(id.value.clone(), framework);
            }
        }
        for task in preloaded.tasks {
            let key = (task.framework_id.value.clone(), task.task_id.value.clone());
            agent.tasks.insert(
                key,
                TaskEntry {
                    task,
                    stream: VecDeque::new(),
                    retry: UPDATE_RETRY,
                    timer: None,
                },
            );
        }
        agent.completed = preloaded.completed;
        agent
    }

    /// Joins the cluster as a new agent.
    pub fn register(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Idle {
            return;
        }
        self.phase = Phase::Registering;
        ctx.link(&self.settings.master);
        self.attempt(ctx);
    }

    /// A (new) leading master was detected: register, or reregister if we
    /// have an ID.
    pub fn detected(&mut self, ctx: &mut Context<Self>) {
        match self.phase {
            Phase::Idle => self.register(ctx),
            Phase::Disconnected => {
                self.phase = Phase::Reregistering;
                self.backoff = REGISTRATION_BACKOFF;
                ctx.link(&self.settings.master);
                self.attempt(ctx);
            }
            _ => {}
        }
    }

    fn attempt(&mut self, ctx: &mut Context<Self>) {
        let master = self.settings.master.clone();
        match self.phase {
            Phase::Registering => {
                ctx.send(
                    &master,
                    &wire::register_slave(self.info.clone(), &self.resource_version),
                );
            }
            Phase::Reregistering => {
                let message = wire::reregister_slave(
                    self.info.clone(),
                    &self.resource_version,
                    self.frameworks.values().cloned().collect(),
                    self.tasks.values().map(|t| t.task.clone()).collect(),
                    self.completed.clone(),
                );
                ctx.send(&master, &message);
            }
            _ => return,
        }
        self.attempt += 1;
        let attempt = self.attempt;
        let backoff = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        ctx.delay(backoff, move |agent: &mut SimAgent, ctx| {
            if agent.attempt == attempt {
                agent.attempt(ctx);
            }
        });
    }

    fn registered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: SlaveRegisteredMessage,
    ) {
        if self.phase != Phase::Registering {
            return;
        }
        let id = message.slave_id.value;
        self.info.id = Some(SlaveId { value: id.clone() });
        self.id = Some(id.clone());
        self.phase = Phase::Registered;
        self.attempt += 1;
        self.settings.tally.bump(|t| &t.registered);
        ctx.send(from, &wire::update_slave(&id, &self.resource_version));
    }

    fn reregistered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        _message: SlaveReregisteredMessage,
    ) {
        if self.phase != Phase::Reregistering {
            return;
        }
        self.phase = Phase::Registered;
        self.attempt += 1;
        self.settings.tally.bump(|t| &t.reregistered);
        if let Some(id) = &self.id {
            ctx.send(from, &wire::update_slave(id, &self.resource_version));
        }
        // Unacknowledged updates go out again to the new master.
        let keys: Vec<_> = self
            .tasks
            .iter()
            .filter(|(_, t)| !t.stream.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.send_head(ctx, &key);
        }
    }

    fn run_task(&mut self, ctx: &mut Context<Self>, message: RunTaskMessage) {
        self.settings.tally.bump(|t| &t.run_tasks);
        let Some(agent_id) = self.id.clone() else {
            return;
        };
        let framework_id = message
            .framework
            .id
            .as_ref()
            .map(|f| f.value.clone())
            .unwrap_or_default();
        self.frameworks
            .entry(framework_id.clone())
            .or_insert_with(|| message.framework.clone());
        let key = (framework_id.clone(), message.task.task_id.value.clone());
        if self.tasks.contains_key(&key) {
            return;
        }
        let keep = self.kept < self.settings.keep_running;
        let pid = ctx.self_pid().to_string();
        let task_id = &message.task.task_id;
        let mut stream = VecDeque::new();
        let final_state = if keep {
            self.kept += 1;
            self.settings.tally.bump(|t| &t.kept_running);
            TaskState::TaskRunning
        } else {
            TaskState::TaskFinished
        };
        stream.push_back(wire::status_update(
            &pid,
            &agent_id,
            &framework_id,
            task_id,
            TaskState::TaskRunning,
            final_state,
        ));
        if !keep {
            stream.push_back(wire::status_update(
                &pid,
                &agent_id,
                &framework_id,
                task_id,
                TaskState::TaskFinished,
                TaskState::TaskFinished,
            ));
        }
        let mut task = wire::task_of(&message.task, &framework_id, final_state);
        task.statuses = stream
            .back()
            .map(|u| vec![u.update.status.clone()])
            .unwrap_or_default();
        self.tasks.insert(
            key.clone(),
            TaskEntry {
                task,
                stream,
                retry: UPDATE_RETRY,
                timer: None,
            },
        );
        self.send_head(ctx, &key);
    }

    /// Sends the oldest unacknowledged update of a task and arms its retry.
    fn send_head(&mut self, ctx: &mut Context<Self>, key: &(String, String)) {
        let connected = self.phase == Phase::Registered;
        let master = self.settings.master.clone();
        let Some(entry) = self.tasks.get_mut(key) else {
            return;
        };
        let Some(head) = entry.stream.front() else {
            return;
        };
        if connected {
            ctx.send(&master, head);
        }
        if let Some(timer) = entry.timer.take() {
            ctx.cancel(timer);
        }
        let uuid = head.update.uuid.clone();
        let retry = entry.retry;
        let key = key.clone();
        entry.timer = Some(ctx.delay(retry, move |agent: &mut SimAgent, ctx| {
            let Some(entry) = agent.tasks.get_mut(&key) else {
                return;
            };
            if entry.stream.front().map(|h| &h.update.uuid) != Some(&uuid) {
                return;
            }
            entry.timer = None;
            entry.retry = (entry.retry * 2).min(MAX_UPDATE_RETRY);
            agent.settings.tally.bump(|t| &t.update_retries);
            agent.send_head(ctx, &key);
        }));
    }

    fn acknowledged(
        &mut self,
        ctx: &mut Context<Self>,
        message: StatusUpdateAcknowledgementMessage,
    ) {
        let key = (message.framework_id.value, message.task_id.value);
        let Some(entry) = self.tasks.get_mut(&key) else {
            return;
        };
        let matches = entry
            .stream
            .front()
            .and_then(|h| h.update.uuid.as_ref())
            .is_some_and(|u| *u == message.uuid);
        if !matches {
            return;
        }
        entry.stream.pop_front();
        entry.retry = UPDATE_RETRY;
        if let Some(timer) = entry.timer.take() {
            ctx.cancel(timer);
        }
        if !entry.stream.is_empty() {
            self.send_head(ctx, &key);
        } else if entry.task.state != TaskState::TaskRunning as i32 {
            // Terminal and acknowledged: the executor is gone too.
            self.tasks.remove(&key);
        }
    }

    fn kill_task(&mut self, ctx: &mut Context<Self>, message: KillTaskMessage) {
        let Some(agent_id) = self.id.clone() else {
            return;
        };
        let key = (message.framework_id.value, message.task_id.value);
        let pid = ctx.self_pid().to_string();
        let Some(entry) = self.tasks.get_mut(&key) else {
            return;
        };
        if entry.task.state != TaskState::TaskRunning as i32 {
            return;
        }
        entry.task.state = TaskState::TaskKilled as i32;
        entry.stream.push_back(wire::status_update(
            &pid,
            &agent_id,
            &key.0,
            &entry.task.task_id,
            TaskState::TaskKilled,
            TaskState::TaskKilled,
        ));
        if entry.stream.len() == 1 {
            self.send_head(ctx, &key);
        }
    }

    fn shutdown_framework(&mut self, ctx: &mut Context<Self>, message: ShutdownFrameworkMessage) {
        let framework = message.framework_id.value;
        let timers: Vec<Timer> = self
            .tasks
            .iter_mut()
            .filter(|((f, _), _)| *f == framework)
            .filter_map(|(_, t)| t.timer.take())
            .collect();
        for timer in timers {
            ctx.cancel(timer);
        }
        self.tasks.retain(|(f, _), _| *f != framework);
        self.frameworks.remove(&framework);
    }
}

impl Process for SimAgent {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<SlaveRegisteredMessage, _>(|a, ctx, from, m| a.registered(ctx, from, m));
        ctx.install::<SlaveReregisteredMessage, _>(|a, ctx, from, m| a.reregistered(ctx, from, m));
        ctx.install::<PingSlaveMessage, _>(|_, ctx, from, _: PingSlaveMessage| {
            ctx.send(from, &PongSlaveMessage {});
        });
        ctx.install::<RunTaskMessage, _>(|a, ctx, _, m| a.run_task(ctx, m));
        ctx.install::<StatusUpdateAcknowledgementMessage, _>(|a, ctx, _, m| a.acknowledged(ctx, m));
        ctx.install::<KillTaskMessage, _>(|a, ctx, _, m| a.kill_task(ctx, m));
        ctx.install::<ShutdownFrameworkMessage, _>(|a, ctx, _, m| a.shutdown_framework(ctx, m));
        ctx.install::<ShutdownMessage, _>(|a, ctx, from, m: ShutdownMessage| {
            tracing::warn!(
                "{} told to shut down by {from}: {}",
                ctx.self_pid(),
                m.message.unwrap_or_default()
            );
            a.phase = Phase::Shutdown;
            a.attempt += 1;
            a.settings.tally.bump(|t| &t.shutdowns);
        });
    }

    fn exited(&mut self, _ctx: &mut Context<Self>, pid: &UPID) {
        if *pid != self.settings.master {
            return;
        }
        if matches!(self.phase, Phase::Registered | Phase::Reregistering) {
            self.phase = Phase::Disconnected;
            self.attempt += 1;
            self.settings.tally.bump(|t| &t.disconnected);
        }
    }

    fn unhandled(&mut self, _ctx: &mut Context<Self>, _message: libprocess::Message) {
        // Messages a real agent acts on but these cannot (checkpointed
        // resources, framework messages, ...) are ignored.
    }
}
