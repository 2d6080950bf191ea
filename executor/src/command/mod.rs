//! The command executor (`mesos-executor`): runs one task's command in
//! the sandbox, reports TASK_STARTING, TASK_RUNNING and how it ended,
//! kills it with a grace period, and runs its command health check.
//!
//! `CommandExecutor` is the `Executor` the driver calls; it forwards each
//! callback to `CommandExecutorProcess`, which owns the task, so that the
//! task's exit, timers and health check results come back to one place.
//!
//! - `launch`: the task's command as a process.
//! - `health`: the health check state machine.

pub mod health;
pub mod launch;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libprocess::{Context, Pid, Process, Timer};
use mesos_proto::mesos::{
    framework_info, task_status::Reason, ExecutorInfo, FrameworkInfo, SlaveInfo, TaskId, TaskInfo,
    TaskState, TaskStatus,
};
use nix::sys::signal::Signal;

use crate::driver::{Executor, ExecutorDriver};
use crate::os;
use health::{HealthChange, HealthPolicy, HealthState};

/// How long a kill waits before SIGKILL when no kill policy says.
pub const DEFAULT_KILL_GRACE_PERIOD: Duration = Duration::from_secs(3);

/// How long the executor waits for its last updates to be acknowledged
/// before it exits anyway.
const ACKNOWLEDGEMENT_WAIT: Duration = Duration::from_secs(60);

/// The `Executor` of the `mesos-executor` binary.
pub struct CommandExecutor {
    sandbox: PathBuf,
    shutdown_grace_period: Duration,
    process: Option<Pid<CommandExecutorProcess>>,
}

impl CommandExecutor {
    /// A command executor running tasks in `sandbox`.
    pub fn new(sandbox: PathBuf, shutdown_grace_period: Duration) -> CommandExecutor {
        CommandExecutor {
            sandbox,
            shutdown_grace_period,
            process: None,
        }
    }

    fn post(
        &self,
        f: impl FnOnce(&mut CommandExecutorProcess, &mut Context<CommandExecutorProcess>)
            + Send
            + 'static,
    ) {
        if let Some(pid) = &self.process {
            pid.post(f);
        }
    }
}

impl Executor for CommandExecutor {
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        _executor_info: ExecutorInfo,
        framework_info: FrameworkInfo,
        _slave_info: SlaveInfo,
    ) {
        if self.process.is_some() {
            return;
        }
        let runtime = driver.runtime().clone();
        let id = runtime.generate_id("command-executor");
        let process = CommandExecutorProcess::new(
            driver.clone(),
            framework_info,
            self.sandbox.clone(),
            self.shutdown_grace_period,
        );
        match runtime.spawn(&id, process) {
            Ok(pid) => self.process = Some(pid),
            Err(error) => {
                tracing::error!("failed to start the command executor process: {error}");
                driver.abort();
            }
        }
    }

    fn launch_task(&mut self, _driver: &ExecutorDriver, task: TaskInfo) {
        self.post(move |p, ctx| p.launch(ctx, task));
    }

    fn kill_task(&mut self, _driver: &ExecutorDriver, task_id: TaskId) {
        self.post(move |p, ctx| p.kill_requested(ctx, task_id));
    }

    fn framework_message(&mut self, _driver: &ExecutorDriver, _data: Bytes) {}

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        match &self.process {
            Some(pid) => {
                pid.post(|p, ctx| p.shutdown(ctx));
            }
            None => {
                driver.stop();
            }
        }
    }

    fn error(&mut self, driver: &ExecutorDriver, message: &str) {
        tracing::error!("{message}");
        driver.stop();
    }
}

/// The process that owns the command executor's one task.
pub struct CommandExecutorProcess {
    driver: ExecutorDriver,
    framework: FrameworkInfo,
    sandbox: PathBuf,
    shutdown_grace_period: Duration,
    task: Option<TaskInfo>,
    pid: Option<i32>,
    launched: bool,
    killed: bool,
    terminated: bool,
    killed_by_health_check: bool,
    killed_by_completion_time: bool,
    /// When the kill started, its grace period and the SIGKILL timer.
    escalation: Option<(Instant, Duration, Timer)>,
    completion_timer: Option<Timer>,
    last_status: Option<TaskStatus>,
    health: Option<HealthState>,
    stopping: bool,
}

impl CommandExecutorProcess {
    fn new(
        driver: ExecutorDriver,
        framework: FrameworkInfo,
        sandbox: PathBuf,
        shutdown_grace_period: Duration,
    ) -> CommandExecutorProcess {
        CommandExecutorProcess {
            driver,
            framework,
            sandbox,
            shutdown_grace_period,
            task: None,
            pid: None,
            launched: false,
            killed: false,
            terminated: false,
            killed_by_health_check: false,
            killed_by_completion_time: false,
            escalation: None,
            completion_timer: None,
            last_status: None,
            health: None,
            stopping: false,
        }
    }

    fn status(&self, task_id: &TaskId, state: TaskState) -> TaskStatus {
        TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            ..Default::default()
        }
    }

    fn forward(&mut self, status: TaskStatus) {
        self.last_status = Some(status.clone());
        self.driver.send_status_update(status);
    }

    fn launch(&mut self, ctx: &mut Context<Self>, task: TaskInfo) {
        if self.task.is_some() {
            let mut failed = self.status(&task.task_id, TaskState::TaskFailed);
            failed.message =
                Some("Attempted to run multiple tasks using a \"command\" executor".into());
            self.driver.send_status_update(failed);
            return;
        }
        self.task = Some(task.clone());
        let starting = self.status(&task.task_id, TaskState::TaskStarting);
        self.forward(starting);

        let command = task.command.clone().unwrap_or_default();
        let spawned =
            launch::build(&task.task_id.value, &command, &self.sandbox).and_then(|mut cmd| {
                cmd.spawn().map_err(|source| crate::error::Error::Launch {
                    command: command.value.clone().unwrap_or_default(),
                    source,
                })
            });
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                self.terminated = true;
                let mut failed = self.status(&task.task_id, TaskState::TaskFailed);
                failed.message = Some(error.to_string());
                failed.reason = Some(Reason::CommandExecutorFailed as i32);
                self.forward(failed);
                self.stop_when_acknowledged(ctx, Instant::now());
                return;
            }
        };
        self.pid = child.id().map(|p| p as i32);
        self.launched = true;
        tracing::info!("forked command at {:?}", self.pid);
        ctx.defer(async move { child.wait().await }, |p, ctx, status| {
            p.reaped(ctx, status)
        });

        let running = self.status(&task.task_id, TaskState::TaskRunning);
        self.forward(running);

        if let Some(check) = &task.health_check {
            match HealthPolicy::from_proto(check) {
                Ok(policy) => {
                    let delay = policy.delay;
                    self.health = Some(HealthState::new(policy, ctx.runtime().clock().now()));
                    ctx.delay(delay, |p, ctx| p.run_health_check(ctx));
                }
                Err(reason) => tracing::warn!("not health checking the task: {reason}"),
            }
        }
        if let Some(max) = &task.max_completion_time {
            let limit = Duration::from_nanos(max.nanoseconds.max(0) as u64);
            self.completion_timer = Some(ctx.delay(limit, |p, ctx| {
                if !p.terminated && !p.killed {
                    p.killed_by_completion_time = true;
                    p.kill(ctx, Duration::ZERO);
                }
            }));
        }
    }

    fn kill_requested(&mut self, ctx: &mut Context<Self>, task_id: TaskId) {
        let Some(task) = &self.task else {
            tracing::warn!(
                "kill for task {} before any task was launched; exiting",
                task_id.value
            );
            self.driver.stop();
            return;
        };
        if task.task_id != task_id {
            tracing::warn!("ignoring kill for unknown task {}", task_id.value);
            return;
        }
        let grace = task
            .kill_policy
            .as_ref()
            .and_then(|k| k.grace_period.as_ref())
            .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(DEFAULT_KILL_GRACE_PERIOD);
        self.kill(ctx, grace);
    }

    fn shutdown(&mut self, ctx: &mut Context<Self>) {
        // Leave time to report TASK_KILLED before the agent destroys us.
        let grace = self
            .shutdown_grace_period
            .saturating_sub(Duration::from_secs(2));
        if self.launched {
            self.kill(ctx, grace);
        } else {
            self.driver.stop();
        }
    }

    /// SIGTERM to the task's tree now, SIGKILL after `grace`. A second
    /// kill may only shorten the grace period, as in Mesos.
    fn kill(&mut self, ctx: &mut Context<Self>, grace: Duration) {
        if self.terminated || !self.launched {
            return;
        }
        let now = ctx.runtime().clock().now();
        if self.killed {
            if let Some((started, _, timer)) = self.escalation {
                if started + grace >= timer.deadline() {
                    return;
                }
                ctx.cancel(timer);
                let remaining = (started + grace).saturating_duration_since(now);
                let timer = ctx.delay(remaining, |p, _| p.escalate());
                self.escalation = Some((started, grace, timer));
            }
            return;
        }
        let task_id = match &self.task {
            Some(task) => task.task_id.clone(),
            None => return,
        };
        let killing_capable =
            self.framework.capabilities.iter().any(|c| {
                c.r#type == Some(framework_info::capability::Type::TaskKillingState as i32)
            });
        if killing_capable && !self.killed_by_completion_time {
            let killing = self.status(&task_id, TaskState::TaskKilling);
            self.forward(killing);
        }
        if let Some(pid) = self.pid {
            let signalled = os::killtree(pid, Signal::SIGTERM);
            tracing::info!("sent SIGTERM to process tree {signalled:?}");
        }
        let timer = ctx.delay(grace, |p, _| p.escalate());
        self.escalation = Some((now, grace, timer));
        self.killed = true;
    }

    fn escalate(&mut self) {
        if self.terminated {
            return;
        }
        if let Some(pid) = self.pid {
            let signalled = os::killtree(pid, Signal::SIGKILL);
            tracing::info!("task did not terminate in time; sent SIGKILL to {signalled:?}");
        }
    }

    fn reaped(
        &mut self,
        ctx: &mut Context<Self>,
        status: std::io::Result<std::process::ExitStatus>,
    ) {
        self.terminated = true;
        if let Some((_, _, timer)) = self.escalation.take() {
            ctx.cancel(timer);
        }
        if let Some(timer) = self.completion_timer.take() {
            ctx.cancel(timer);
        }
        let Some(task) = self.task.clone() else {
            return;
        };
        // Whatever the task left in its session dies with it.
        if let Some(pid) = self.pid {
            os::killtree(pid, Signal::SIGKILL);
        }
        let (state, reason, message) = match &status {
            Err(error) => (
                TaskState::TaskFailed,
                None,
                format!("Failed to get exit status for Command: {error}"),
            ),
            Ok(exit) => {
                let state = if self.killed_by_completion_time {
                    TaskState::TaskFailed
                } else if self.killed {
                    TaskState::TaskKilled
                } else if exit.success() {
                    TaskState::TaskFinished
                } else {
                    TaskState::TaskFailed
                };
                let reason = self
                    .killed_by_completion_time
                    .then_some(Reason::MaxCompletionTimeReached as i32);
                (
                    state,
                    reason,
                    format!("Command {}", os::describe_exit(exit)),
                )
            }
        };
        tracing::info!("{message} (pid: {:?})", self.pid);
        let mut update = self.status(&task.task_id, state);
        update.reason = reason;
        update.message = Some(message);
        if self.killed && self.killed_by_health_check {
            update.healthy = Some(false);
        }
        self.forward(update);
        self.stop_when_acknowledged(ctx, ctx.runtime().clock().now());
    }

    /// Stops the driver (and so the executor) once the agent has every
    /// update, or after `ACKNOWLEDGEMENT_WAIT`.
    fn stop_when_acknowledged(&mut self, ctx: &mut Context<Self>, since: Instant) {
        self.stopping = true;
        let driver = self.driver.clone();
        ctx.defer(
            async move { driver.unacknowledged_updates().await },
            move |p, ctx, pending| {
                let waited = ctx.runtime().clock().now().saturating_duration_since(since);
                if pending.unwrap_or(0) == 0 || waited >= ACKNOWLEDGEMENT_WAIT {
                    p.driver.stop();
                    ctx.terminate();
                } else {
                    ctx.delay(Duration::from_millis(50), move |p, ctx| {
                        p.stop_when_acknowledged(ctx, since)
                    });
                }
            },
        );
    }

    fn run_health_check(&mut self, ctx: &mut Context<Self>) {
        if self.terminated || self.killed {
            return;
        }
        let (Some(task), Some(health)) = (&self.task, &self.health) else {
            return;
        };
        let Some(command) = task.health_check.as_ref().and_then(|h| h.command.clone()) else {
            return;
        };
        let timeout = health.policy().timeout;
        let built = launch::build(&task.task_id.value, &command, &self.sandbox);
        ctx.defer(
            async move {
                let mut cmd = built.map_err(|e| e.to_string())?;
                cmd.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true);
                let mut child = cmd.spawn().map_err(|e| e.to_string())?;
                let pid = child.id();
                match tokio::time::timeout(timeout, child.wait()).await {
                    Ok(Ok(status)) if status.success() => Ok(()),
                    Ok(Ok(status)) => Err(format!("command {}", os::describe_exit(&status))),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => {
                        if let Some(pid) = pid {
                            os::killtree(pid as i32, Signal::SIGKILL);
                        }
                        Err(format!("command timed out after {timeout:?}"))
                    }
                }
            },
            |p, ctx, result: Result<(), String>| p.health_result(ctx, result),
        );
    }

    fn health_result(&mut self, ctx: &mut Context<Self>, result: Result<(), String>) {
        if self.terminated || self.killed {
            return;
        }
        let now = ctx.runtime().clock().now();
        let Some(health) = self.health.as_mut() else {
            return;
        };
        let change = match &result {
            Ok(()) => health.success(),
            Err(reason) => {
                tracing::warn!("health check failed: {reason}");
                health.failure(now)
            }
        };
        let interval = health.policy().interval;
        if let Some(change) = change {
            self.health_changed(ctx, change);
        }
        if !self.killed {
            ctx.delay(interval, |p, ctx| p.run_health_check(ctx));
        }
    }

    fn health_changed(&mut self, ctx: &mut Context<Self>, change: HealthChange) {
        let Some(mut status) = self.last_status.clone() else {
            return;
        };
        status.uuid = None;
        status.timestamp = None;
        status.message = None;
        status.reason = Some(Reason::TaskHealthCheckStatusUpdated as i32);
        status.healthy = Some(change.healthy);
        self.forward(status);
        if change.kill_task {
            self.killed_by_health_check = true;
            let grace = self
                .task
                .as_ref()
                .and_then(|t| t.kill_policy.as_ref())
                .and_then(|k| k.grace_period.as_ref())
                .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
                .unwrap_or(DEFAULT_KILL_GRACE_PERIOD);
            self.kill(ctx, grace);
        }
    }
}

impl Process for CommandExecutorProcess {}
