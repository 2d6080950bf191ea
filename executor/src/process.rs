//! The executor driver's libprocess process: registers with the agent,
//! turns the agent's messages into `Executor` callbacks, and keeps every
//! status update until the agent acknowledges it, so that a restarted
//! agent gets them again when the executor re-registers.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use libprocess::{Context, Process, UPID};
use mesos_proto::internal::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, ExecutorToFrameworkMessage,
    FrameworkToExecutorMessage, KillTaskMessage, ReconnectExecutorMessage, RegisterExecutorMessage,
    ReregisterExecutorMessage, RunTaskMessage, ShutdownExecutorMessage, StatusUpdate,
    StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::{task_status, TaskInfo, TaskStatus};

use crate::driver::{Executor, ExecutorDriver, Shared};
use crate::env::ExecutorEnv;

/// The process behind a `MesosExecutorDriver`.
pub struct ExecutorProcess {
    executor: Box<dyn Executor>,
    env: ExecutorEnv,
    agent: UPID,
    shared: Arc<Shared>,
    driver: Option<ExecutorDriver>,
    connected: bool,
    /// Bumped on every (re-)registration, so that a recovery timeout
    /// armed for an older connection does nothing.
    connection: u64,
    /// Updates sent and not yet acknowledged, by UUID.
    updates: BTreeMap<Bytes, StatusUpdate>,
    /// Tasks received and not yet finished (acknowledged terminal).
    tasks: BTreeMap<String, TaskInfo>,
}

impl ExecutorProcess {
    pub(crate) fn new(
        executor: Box<dyn Executor>,
        env: ExecutorEnv,
        shared: Arc<Shared>,
    ) -> ExecutorProcess {
        ExecutorProcess {
            executor,
            agent: env.agent.clone(),
            env,
            shared,
            driver: None,
            connected: false,
            connection: 0,
            updates: BTreeMap::new(),
            tasks: BTreeMap::new(),
        }
    }

    fn aborted(&self) -> bool {
        self.shared.aborted.load(Ordering::SeqCst)
    }

    /// Runs a callback with the driver handle (set in `initialize`).
    fn callback(&mut self, f: impl FnOnce(&mut dyn Executor, &ExecutorDriver)) {
        if let Some(driver) = self.driver.clone() {
            f(self.executor.as_mut(), &driver);
        }
    }

    fn registered(&mut self, from: &UPID, message: ExecutorRegisteredMessage) {
        if self.aborted() {
            return;
        }
        tracing::info!("executor registered on agent {}", message.slave_id.value);
        self.agent = from.clone();
        self.connected = true;
        self.connection += 1;
        self.callback(|executor, driver| {
            executor.registered(
                driver,
                message.executor_info,
                message.framework_info,
                message.slave_info,
            )
        });
    }

    fn reregistered(&mut self, from: &UPID, message: ExecutorReregisteredMessage) {
        if self.aborted() {
            return;
        }
        tracing::info!("executor re-registered on agent {}", message.slave_id.value);
        self.agent = from.clone();
        self.connected = true;
        self.connection += 1;
        self.callback(|executor, driver| executor.reregistered(driver, message.slave_info));
    }

    /// A restarted agent asks the executor to re-register: resend what
    /// it has not acknowledged.
    fn reconnect(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ReconnectExecutorMessage,
    ) {
        if self.aborted() {
            return;
        }
        tracing::info!(
            "received reconnect request from agent {}",
            message.slave_id.value
        );
        self.agent = from.clone();
        // The connection to the agent's previous run may still look
        // alive: an answer on it would be lost.
        ctx.relink(&self.agent);
        let reregister = ReregisterExecutorMessage {
            executor_id: self.env.executor_id.clone(),
            framework_id: self.env.framework_id.clone(),
            tasks: self.tasks.values().cloned().collect(),
            updates: self.updates.values().cloned().collect(),
        };
        ctx.send(&self.agent, &reregister);
    }

    fn run_task(&mut self, message: RunTaskMessage) {
        if self.aborted() {
            return;
        }
        if !self.connected {
            tracing::warn!(
                "ignoring run task message for task {} because the driver is disconnected",
                message.task.task_id.value
            );
            return;
        }
        let task = message.task;
        if self.tasks.contains_key(&task.task_id.value) {
            tracing::warn!("ignoring duplicate task {}", task.task_id.value);
            return;
        }
        self.tasks.insert(task.task_id.value.clone(), task.clone());
        self.callback(|executor, driver| executor.launch_task(driver, task));
    }

    fn kill_task(&mut self, message: KillTaskMessage) {
        if self.aborted() {
            return;
        }
        if !self.connected {
            tracing::warn!(
                "kill for task {} received while disconnected from the agent",
                message.task_id.value
            );
        }
        self.callback(|executor, driver| executor.kill_task(driver, message.task_id));
    }

    fn acknowledged(&mut self, message: StatusUpdateAcknowledgementMessage) {
        if self.aborted() || !self.connected {
            return;
        }
        match self.updates.remove(&message.uuid) {
            Some(_) => {
                // The task's last update was acknowledged; only a terminal
                // one is followed by nothing, and the agent keeps the task
                // until then, so forgetting it here is what Mesos does.
                self.tasks.remove(&message.task_id.value);
            }
            None => tracing::warn!(
                "ignoring unknown status update acknowledgement for task {}",
                message.task_id.value
            ),
        }
    }

    fn framework_message(&mut self, message: FrameworkToExecutorMessage) {
        if self.aborted() || !self.connected {
            return;
        }
        self.callback(|executor, driver| executor.framework_message(driver, message.data));
    }

    fn shutdown(&mut self, ctx: &mut Context<Self>) {
        if self.aborted() {
            return;
        }
        tracing::info!("executor asked to shut down");
        if !self.env.local {
            schedule_suicide(ctx, self.env.shutdown_grace_period);
        }
        self.callback(|executor, driver| executor.shutdown(driver));
        self.shared.aborted.store(true, Ordering::SeqCst);
    }

    fn recovery_timeout(&mut self, ctx: &mut Context<Self>, connection: u64) {
        if !self.connected && self.connection == connection {
            tracing::info!(
                "recovery timeout of {:?} exceeded; shutting down",
                self.env.recovery_timeout
            );
            self.shutdown(ctx);
        }
    }

    /// Fills in what the driver owns (ids, time, UUID, source) and sends.
    pub(crate) fn send_status_update(&mut self, ctx: &mut Context<Self>, mut status: TaskStatus) {
        let now = now_secs();
        let uuid = Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        status.timestamp = Some(now);
        status.uuid = Some(uuid.clone());
        status.slave_id = Some(self.env.slave_id.clone());
        if status.executor_id.is_none() {
            status.executor_id = Some(self.env.executor_id.clone());
        }
        if status.source.is_none() {
            status.source = Some(task_status::Source::Executor as i32);
        }
        let update = StatusUpdate {
            framework_id: self.env.framework_id.clone(),
            executor_id: Some(self.env.executor_id.clone()),
            slave_id: Some(self.env.slave_id.clone()),
            status,
            timestamp: now,
            uuid: Some(uuid.clone()),
            latest_state: None,
        };
        self.updates.insert(uuid, update.clone());
        let message = StatusUpdateMessage {
            update,
            pid: Some(ctx.self_pid().to_string()),
        };
        ctx.send(&self.agent, &message);
    }

    pub(crate) fn send_framework_message(&mut self, ctx: &mut Context<Self>, data: Bytes) {
        let message = ExecutorToFrameworkMessage {
            slave_id: self.env.slave_id.clone(),
            framework_id: self.env.framework_id.clone(),
            executor_id: self.env.executor_id.clone(),
            data,
        };
        ctx.send(&self.agent, &message);
    }

    /// Reports an unrecoverable error to the executor (the caller aborts).
    pub(crate) fn fail(&mut self, _ctx: &mut Context<Self>, message: &str) {
        tracing::error!("executor driver error: {message}");
        self.callback(|executor, driver| executor.error(driver, message));
    }

    /// How many status updates wait for the agent's acknowledgement.
    pub(crate) fn unacknowledged(&self) -> usize {
        self.updates.len()
    }
}

impl Process for ExecutorProcess {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        self.driver = Some(ExecutorDriver {
            pid: ctx.handle(),
            shared: self.shared.clone(),
            runtime: ctx.runtime().clone(),
        });
        ctx.install::<ExecutorRegisteredMessage, _>(|p, _, from, m| p.registered(from, m));
        ctx.install::<ExecutorReregisteredMessage, _>(|p, _, from, m| p.reregistered(from, m));
        ctx.install::<ReconnectExecutorMessage, _>(|p, ctx, from, m| p.reconnect(ctx, from, m));
        ctx.install::<RunTaskMessage, _>(|p, _, _, m| p.run_task(m));
        ctx.install::<KillTaskMessage, _>(|p, _, _, m| p.kill_task(m));
        ctx.install::<StatusUpdateAcknowledgementMessage, _>(|p, _, _, m| p.acknowledged(m));
        ctx.install::<FrameworkToExecutorMessage, _>(|p, _, _, m| p.framework_message(m));
        ctx.install::<ShutdownExecutorMessage, _>(|p, ctx, _, _| p.shutdown(ctx));

        tracing::info!(
            "executor started at {} with pid {}",
            ctx.self_pid(),
            std::process::id()
        );
        ctx.link(&self.agent);
        let register = RegisterExecutorMessage {
            framework_id: self.env.framework_id.clone(),
            executor_id: self.env.executor_id.clone(),
        };
        ctx.send(&self.agent, &register);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &UPID) {
        if self.aborted() || *pid != self.agent {
            return;
        }
        if self.env.checkpoint && self.connected {
            self.connected = false;
            tracing::info!(
                "agent exited, but the framework checkpoints; waiting {:?} for it to come back",
                self.env.recovery_timeout
            );
            let connection = self.connection;
            ctx.delay(self.env.recovery_timeout, move |p, ctx| {
                p.recovery_timeout(ctx, connection)
            });
            self.callback(|executor, driver| executor.disconnected(driver));
            return;
        }
        tracing::info!("agent exited; shutting down");
        self.connected = false;
        self.shutdown(ctx);
    }
}

impl ExecutorDriver {
    /// How many status updates the agent has not acknowledged yet; `None`
    /// once the driver's process has terminated.
    pub async fn unacknowledged_updates(&self) -> Option<usize> {
        self.pid.dispatch(|p, _| p.unacknowledged()).await.ok()
    }

    /// Whether the driver is currently registered with its agent.
    pub async fn connected(&self) -> bool {
        self.pid.dispatch(|p, _| p.connected).await.unwrap_or(false)
    }
}

/// After `grace`, kills this executor's whole process group (itself
/// included): an executor that does not exit on shutdown must not outlive
/// its agent's decision.
fn schedule_suicide(ctx: &Context<ExecutorProcess>, grace: std::time::Duration) {
    ctx.runtime().clock().timer(grace, || {
        tracing::info!("committing suicide by killing the process group");
        // Tasks run in sessions of their own: kill them by ancestry first.
        crate::os::killtree(std::process::id() as i32, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::signal::killpg(nix::unistd::getpgrp(), nix::sys::signal::Signal::SIGKILL);
        std::thread::sleep(std::time::Duration::from_secs(5));
        std::process::exit(1);
    });
}

/// Seconds since the epoch, as status update timestamps carry them.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whether `state` ends a task (Mesos's `isTerminalState`).
pub fn is_terminal(state: i32) -> bool {
    use mesos_proto::mesos::TaskState as S;
    [
        S::TaskFinished,
        S::TaskFailed,
        S::TaskKilled,
        S::TaskLost,
        S::TaskError,
        S::TaskDropped,
        S::TaskGone,
        S::TaskGoneByOperator,
    ]
    .iter()
    .any(|s| *s as i32 == state)
}
