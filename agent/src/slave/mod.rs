//! The agent process (`slave(1)`): its state and its routing table.
//! Handlers live in one file per message family:
//!
//! - `registration`: registering with the master, pings, reconnection.
//! - `tasks`: `RunTaskMessage`, kills, framework shutdown.
//! - `launch`: starting an executor (sandbox, fetch, fork).
//! - `executors`: hearing from executors; shutdown; their end.
//! - `updates`: status updates, acknowledgements, retries.
//! - `recovery`: picking up checkpointed executors after a restart.
//! - `executor_api`: the v1 executor HTTP API (`/api/v1/executor`).
//! - `http`: `/state`, `/health`, `/flags`, `/monitor/statistics`.
//! - `types`: frameworks, executors and tasks as the agent tracks them.

pub mod executor_api;
mod executors;
mod http;
mod launch;
mod recovery;
mod registration;
mod tasks;
pub mod types;
mod updates;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libprocess::{Context, Pid, Process, Timer, UPID};
use mesos_common::Resources;
use mesos_proto::internal::{
    ExecutorToFrameworkMessage, FrameworkToExecutorMessage, KillTaskMessage, PingSlaveMessage,
    RegisterExecutorMessage, ReregisterExecutorMessage, RunTaskGroupMessage, RunTaskMessage,
    ShutdownExecutorMessage, ShutdownFrameworkMessage, ShutdownMessage, SlaveRegisteredMessage,
    SlaveReregisteredMessage, StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
    UpdateFrameworkMessage,
};
use mesos_proto::mesos::SlaveInfo;

use crate::files::Files;
use crate::flags::AgentFlags;
use crate::gc::GarbageCollector;
use crate::paths::Layout;
use crate::state::AgentState;
use crate::status_update_manager::StatusUpdateManager;
use types::Framework;

/// How often the agent resends due status updates and collects garbage.
const TICK: Duration = Duration::from_secs(1);

/// Frameworks kept for `/state` once they have nothing left here.
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// Where the agent stands with its master, as Mesos's `Slave::State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading checkpoints and waiting for executors to re-register.
    Recovering,
    /// Not (or no longer) registered; registration is being retried.
    Disconnected,
    /// Registered.
    Running,
    /// Shutting down.
    Terminating,
}

/// Counters the metrics read.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Status updates from executors that were accepted.
    pub valid_status_updates: u64,
    /// Status updates that were refused.
    pub invalid_status_updates: u64,
    /// Framework messages relayed.
    pub valid_framework_messages: u64,
    /// Framework messages refused.
    pub invalid_framework_messages: u64,
    /// Executors that ended.
    pub executors_terminated: u64,
    /// Containers that failed to launch.
    pub container_launch_errors: u64,
    /// Tasks that ended, by state name (`finished`, `failed`, ...).
    pub tasks_ended: BTreeMap<&'static str, u64>,
    /// Errors while recovering.
    pub recovery_errors: u64,
}

/// The agent.
pub struct Slave {
    pub(crate) flags: Arc<AgentFlags>,
    pub(crate) layout: Layout,
    pub(crate) info: SlaveInfo,
    pub(crate) total: Resources,
    pub(crate) master: UPID,
    pub(crate) phase: Phase,
    pub(crate) frameworks: BTreeMap<String, Framework>,
    pub(crate) completed_frameworks: VecDeque<Framework>,
    pub(crate) updates: StatusUpdateManager,
    pub(crate) gc: GarbageCollector,
    pub(crate) files: Option<Pid<Files>>,
    pub(crate) counters: Counters,
    pub(crate) start_time: f64,
    pub(crate) registration_timer: Option<Timer>,
    pub(crate) ping_timer: Option<Timer>,
    pub(crate) ping_timeout: Duration,
    pub(crate) master_hostname: Option<String>,
    pub(crate) last_disk_check: Option<Instant>,
    /// When each task's `RunTaskMessage` arrived, until it runs (for the
    /// `slave/task_launch_latency` timer).
    pub(crate) launch_started: BTreeMap<String, Instant>,
    /// What was read from the checkpoints, until `initialize` acts on it.
    recovered: Option<AgentState>,
}

impl Slave {
    /// An agent with checked flags, its total resources, its `SlaveInfo`
    /// (without an id), the files process serving sandboxes, and what was
    /// recovered from its checkpoints (already checked compatible).
    pub fn new(
        flags: AgentFlags,
        total: Resources,
        info: SlaveInfo,
        files: Option<Pid<Files>>,
        recovered: Option<AgentState>,
    ) -> Slave {
        Slave {
            layout: Layout::new(&flags.work_dir),
            master: flags.master.clone(),
            flags: Arc::new(flags),
            info,
            total,
            phase: Phase::Recovering,
            frameworks: BTreeMap::new(),
            completed_frameworks: VecDeque::new(),
            updates: StatusUpdateManager::new(),
            gc: GarbageCollector::default(),
            files,
            counters: Counters::default(),
            start_time: mesos_executor::now_secs(),
            registration_timer: None,
            ping_timer: None,
            ping_timeout: registration::DEFAULT_MASTER_PING_TIMEOUT,
            master_hostname: None,
            last_disk_check: None,
            launch_started: BTreeMap::new(),
            recovered,
        }
    }

    /// The agent id, once registered (or recovered).
    pub fn id(&self) -> String {
        self.info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default()
    }

    fn now(ctx: &Context<Self>) -> Instant {
        ctx.runtime().clock().now()
    }

    /// Periodic work: resend due updates, collect garbage, watch the disk.
    fn tick(&mut self, ctx: &mut Context<Self>) {
        let now = Slave::now(ctx);
        for update in self.updates.due(now) {
            self.forward(ctx, update);
        }
        let check_disk = self
            .last_disk_check
            .is_none_or(|at| now.saturating_duration_since(at) >= self.flags.disk_watch_interval);
        if check_disk {
            self.last_disk_check = Some(now);
            if let Some(usage) = crate::detect::disk_usage(&self.flags.work_dir) {
                let age = crate::gc::max_allowed_age(
                    self.flags.gc_delay,
                    self.flags.gc_disk_headroom,
                    usage,
                );
                self.gc.prune(age, now);
            }
        }
        self.gc.collect(now);
        ctx.delay(TICK, |p, ctx| p.tick(ctx));
    }

    /// Drops frameworks that have nothing left here into the completed list.
    pub(crate) fn remove_framework_if_idle(&mut self, framework_id: &str) {
        let idle = self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.executors.is_empty());
        if !idle {
            return;
        }
        if let Some(framework) = self.frameworks.remove(framework_id) {
            tracing::info!("cleaning up framework {framework_id}");
            self.updates.cleanup(framework_id);
            if framework.checkpoint() && !self.id().is_empty() {
                let meta = self.layout.framework_meta(&self.id(), framework_id);
                self.gc.schedule(meta, self.flags.gc_delay, Instant::now());
            }
            self.completed_frameworks.push_back(framework);
            while self.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
                self.completed_frameworks.pop_front();
            }
        }
    }
}

impl Process for Slave {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        // From the master.
        ctx.install::<SlaveRegisteredMessage, _>(|p, ctx, from, m| p.registered(ctx, from, m));
        ctx.install::<SlaveReregisteredMessage, _>(|p, ctx, from, m| p.reregistered(ctx, from, m));
        ctx.install::<PingSlaveMessage, _>(|p, ctx, from, m| p.ping(ctx, from, m));
        ctx.install::<RunTaskMessage, _>(|p, ctx, from, m| p.run_task(ctx, from, m));
        ctx.install::<RunTaskGroupMessage, _>(|p, ctx, from, m| p.run_task_group(ctx, from, m));
        ctx.install::<KillTaskMessage, _>(|p, ctx, from, m| p.kill_task(ctx, from, m));
        ctx.install::<ShutdownFrameworkMessage, _>(|p, ctx, from, m| {
            p.shutdown_framework(ctx, from, m)
        });
        ctx.install::<ShutdownExecutorMessage, _>(|p, ctx, from, m| {
            p.shutdown_executor_message(ctx, from, m)
        });
        ctx.install::<FrameworkToExecutorMessage, _>(|p, ctx, from, m| {
            p.framework_message(ctx, from, m)
        });
        ctx.install::<UpdateFrameworkMessage, _>(|p, _, from, m| p.update_framework(from, m));
        ctx.install::<StatusUpdateAcknowledgementMessage, _>(|p, ctx, from, m| {
            p.acknowledgement(ctx, from, m)
        });
        ctx.install::<ShutdownMessage, _>(|p, ctx, from, m| p.shutdown_agent(ctx, from, m));
        // From executors.
        ctx.install::<RegisterExecutorMessage, _>(|p, ctx, from, m| {
            p.register_executor(ctx, from, m)
        });
        ctx.install::<ReregisterExecutorMessage, _>(|p, ctx, from, m| {
            p.reregister_executor(ctx, from, m)
        });
        ctx.install::<StatusUpdateMessage, _>(|p, ctx, from, m| {
            p.status_update_message(ctx, from, m)
        });
        ctx.install::<ExecutorToFrameworkMessage, _>(|p, ctx, from, m| {
            p.executor_message(ctx, from, m)
        });

        // From HTTP executors.
        ctx.route(
            "/api/v1/executor",
            Some(executor_api::endpoint::HELP),
            |p, ctx, r| p.executor_api(ctx, r),
        );
        // HTTP executors (pymesos's among them) POST to `/api/v1/executor`
        // without a process id, as to a Mesos agent's OS process.
        let me = ctx.self_pid().id().to_string();
        ctx.runtime().set_delegate(&me);

        self.install_routes(ctx);
        crate::metrics::install(&ctx.handle());
        ctx.delay(TICK, |p, ctx| p.tick(ctx));

        let recovered = self.recovered.take();
        self.recover(ctx, recovered);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &UPID) {
        if *pid == self.master {
            self.master_exited(ctx);
        }
    }
}
