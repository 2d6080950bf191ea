//! Executors: launching them in their sandbox (fetch, then fork), their
//! registration and the tasks queued for it, shutdown with a grace
//! period, and what happens to their tasks when they end.

use std::time::Duration;

use libprocess::{Context, UPID};
use mesos_proto::internal::{
    ExecutorRegisteredMessage, ExecutorReregisteredMessage, ExecutorToFrameworkMessage,
    ExitedExecutorMessage, FrameworkToExecutorMessage, RegisterExecutorMessage,
    ReregisterExecutorMessage, RunTaskMessage, ShutdownExecutorMessage,
};
use mesos_proto::mesos::{task_status::Reason, ExecutorInfo, TaskInfo, TaskState};

use super::types::{new_task, Executor, ExecutorPhase, PendingTermination, Reregistration};
use super::{Phase, Slave};
use crate::containerizer;
use crate::state::checkpoint::write_text;

impl Slave {
    /// The shutdown grace period of `info` (its own, or the flag's).
    pub(crate) fn grace_period(&self, info: &ExecutorInfo) -> Duration {
        info.shutdown_grace_period
            .as_ref()
            .map(|d| Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(self.flags.executor_shutdown_grace_period)
    }

    pub(crate) fn executor(&self, framework_id: &str, executor_id: &str) -> Option<&Executor> {
        self.frameworks
            .get(framework_id)?
            .executors
            .get(executor_id)
    }

    pub(crate) fn executor_mut(
        &mut self,
        framework_id: &str,
        executor_id: &str,
    ) -> Option<&mut Executor> {
        self.frameworks
            .get_mut(framework_id)?
            .executors
            .get_mut(executor_id)
    }

    pub(crate) fn queue_task(&mut self, framework_id: &str, executor_id: &str, task: TaskInfo) {
        let checkpoint = self
            .executor(framework_id, executor_id)
            .is_some_and(|e| e.checkpoint);
        if checkpoint {
            self.checkpoint_task(framework_id, executor_id, &task);
        }
        if let Some(e) = self.executor_mut(framework_id, executor_id) {
            e.queued.push(task);
        }
    }

    /// Sends a task to a registered executor.
    #[allow(deprecated)]
    pub(crate) fn send_task(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        task: TaskInfo,
    ) {
        let agent = self.id();
        let Some(framework) = self.frameworks.get(framework_id) else {
            return;
        };
        let message = RunTaskMessage {
            framework_id: framework.info.id.clone(),
            framework: framework.info.clone(),
            pid: framework.pid.as_ref().map(|p| p.to_string()),
            task: task.clone(),
            resource_version_uuids: Vec::new(),
            launch_executor: None,
        };
        let checkpoint = framework.checkpoint();
        if checkpoint {
            self.checkpoint_task(framework_id, executor_id, &task);
        }
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        let record = new_task(
            &task,
            framework_id,
            executor_id,
            &agent,
            executor.command_executor,
        );
        executor.launched.insert(task.task_id.value.clone(), record);
        executor.send(ctx, &message);
    }

    pub(crate) fn register_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: RegisterExecutorMessage,
    ) {
        let framework_id = m.framework_id.value.clone();
        let executor_id = m.executor_id.value.clone();
        let shutdown = ShutdownExecutorMessage {
            executor_id: Some(m.executor_id.clone()),
            framework_id: Some(m.framework_id.clone()),
        };
        if self.phase == Phase::Recovering {
            tracing::warn!(
                "executor '{executor_id}' registered while recovering; shutting it down"
            );
            ctx.send(from, &shutdown);
            return;
        }
        let ok = self
            .executor(&framework_id, &executor_id)
            .is_some_and(|e| e.phase == ExecutorPhase::Registering && !e.recovered);
        if !ok {
            tracing::warn!("unexpected registration of executor '{executor_id}' of framework {framework_id} from {from}; shutting it down");
            ctx.send(from, &shutdown);
            return;
        }
        let agent_info = self.info.clone();
        let agent = self.id();
        let Some(framework) = self.frameworks.get(&framework_id) else {
            return;
        };
        let framework_info = framework.info.clone();
        let Some(executor) = self.executor_mut(&framework_id, &executor_id) else {
            return;
        };
        executor.phase = ExecutorPhase::Running;
        executor.pid = Some(from.clone());
        let timer = executor.registration_timer.take();
        let queued = std::mem::take(&mut executor.queued);
        let checkpoint = executor.checkpoint;
        let container_id = executor.container_id.clone();
        let info = executor.info.clone();
        if let Some(timer) = timer {
            ctx.cancel(timer);
        }
        if checkpoint {
            let path = self
                .layout
                .run_meta(&agent, &framework_id, &executor_id, &container_id)
                .join("pids")
                .join("libprocess.pid");
            if let Err(error) = write_text(&path, &from.to_string()) {
                tracing::error!("failed to checkpoint the executor's pid: {error}");
            }
        }
        ctx.link(from);
        tracing::info!(
            "executor '{executor_id}' of framework {framework_id} registered from {from}"
        );
        ctx.send(
            from,
            &ExecutorRegisteredMessage {
                executor_info: info,
                framework_id: m.framework_id,
                framework_info,
                slave_id: self.slave_id(),
                slave_info: agent_info,
            },
        );
        for task in queued {
            self.send_task(ctx, &framework_id, &executor_id, task);
        }
    }

    pub(crate) fn reregister_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: ReregisterExecutorMessage,
    ) {
        let framework_id = m.framework_id.value.clone();
        let executor_id = m.executor_id.value.clone();
        let kind = self
            .executor(&framework_id, &executor_id)
            .map_or(Reregistration::Unexpected, |e| e.reregistration(from));
        if kind == Reregistration::Repeated {
            // It answered a repeated reconnect request after the first
            // answer was taken: confirm again rather than kill it.
            ctx.send(
                from,
                &ExecutorReregisteredMessage {
                    slave_id: self.slave_id(),
                    slave_info: self.info.clone(),
                },
            );
            for update in m.updates {
                self.status_update(ctx, update, Some(from.clone()));
            }
            return;
        }
        if kind == Reregistration::Unexpected {
            tracing::warn!("unexpected re-registration of executor '{executor_id}' from {from}; shutting it down");
            ctx.send(
                from,
                &ShutdownExecutorMessage {
                    executor_id: Some(m.executor_id),
                    framework_id: Some(m.framework_id),
                },
            );
            return;
        }
        let agent = self.id();
        let Some(executor) = self.executor_mut(&framework_id, &executor_id) else {
            return;
        };
        executor.phase = ExecutorPhase::Running;
        executor.pid = Some(from.clone());
        let queued = std::mem::take(&mut executor.queued);
        let container_id = executor.container_id.clone();
        let checkpoint = executor.checkpoint;
        if checkpoint {
            let path = self
                .layout
                .run_meta(&agent, &framework_id, &executor_id, &container_id)
                .join("pids")
                .join("libprocess.pid");
            if let Err(error) = write_text(&path, &from.to_string()) {
                tracing::error!("failed to checkpoint the executor's pid: {error}");
            }
        }
        ctx.link(from);
        tracing::info!(
            "executor '{executor_id}' of framework {framework_id} re-registered from {from}"
        );
        // Re-registered first: the executor ignores acknowledgements
        // while it considers itself disconnected.
        ctx.send(
            from,
            &ExecutorReregisteredMessage {
                slave_id: self.slave_id(),
                slave_info: self.info.clone(),
            },
        );
        // Updates the executor sent that never reached (or were never
        // acknowledged by) the old agent; duplicates are recognized.
        for update in m.updates {
            self.status_update(ctx, update, Some(from.clone()));
        }
        for task in queued {
            self.send_task(ctx, &framework_id, &executor_id, task);
        }
        self.maybe_finish_recovery(ctx);
    }

    pub(crate) fn registration_timeout(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
    ) {
        let timeout = self.flags.executor_registration_timeout;
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id || executor.phase != ExecutorPhase::Registering {
            return;
        }
        tracing::info!(
            "terminating executor '{executor_id}' because it did not register within {timeout:?}"
        );
        executor.phase = ExecutorPhase::Terminating;
        executor.pending_termination = Some(PendingTermination {
            state: TaskState::TaskFailed,
            reason: Reason::ExecutorRegistrationTimeout,
            message: format!(
                "Executor did not register within {}",
                mesos_common::Duration::from(timeout)
            ),
        });
        let pid = executor.os_pid;
        self.destroy(ctx, framework_id, executor_id, container_id, pid);
    }

    /// Kills the container; its end arrives as `executor_exited`.
    pub(crate) fn destroy(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        os_pid: Option<i32>,
    ) {
        match os_pid {
            Some(pid) => containerizer::destroy(pid),
            // Not forked yet (fetching): it ends now.
            None => self.executor_exited(ctx, framework_id, executor_id, container_id, None),
        }
    }

    /// Asks an executor to shut down; destroys it after its grace period.
    pub(crate) fn shutdown_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
    ) {
        let grace = match self.executor(framework_id, executor_id) {
            Some(e) => self.grace_period(&e.info),
            None => return,
        };
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if matches!(
            executor.phase,
            ExecutorPhase::Terminating | ExecutorPhase::Terminated
        ) {
            return;
        }
        tracing::info!("shutting down executor '{executor_id}' of framework {framework_id}");
        let previous = executor.phase;
        executor.phase = ExecutorPhase::Terminating;
        let container_id = executor.container_id.clone();
        let os_pid = executor.os_pid;
        if previous == ExecutorPhase::Running {
            executor.send(
                ctx,
                &ShutdownExecutorMessage {
                    executor_id: Some(executor.info.executor_id.clone()),
                    framework_id: executor.info.framework_id.clone(),
                },
            );
            let (fw, ex) = (framework_id.to_string(), executor_id.to_string());
            ctx.delay(grace, move |p, ctx| {
                let still = p
                    .executor(&fw, &ex)
                    .filter(|e| {
                        e.container_id == container_id && e.phase == ExecutorPhase::Terminating
                    })
                    .map(|e| e.os_pid);
                if let Some(pid) = still {
                    tracing::info!(
                        "executor '{ex}' did not exit within its grace period; destroying it"
                    );
                    p.destroy(ctx, &fw, &ex, &container_id, pid);
                }
            });
        } else {
            self.destroy(ctx, framework_id, executor_id, &container_id, os_pid);
        }
    }

    pub(crate) fn shutdown_executor_message(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: ShutdownExecutorMessage,
    ) {
        if *from != self.master {
            tracing::warn!("ignoring shutdown executor from {from}: not the master");
            return;
        }
        if let (Some(fw), Some(ex)) = (m.framework_id, m.executor_id) {
            self.shutdown_executor(ctx, &fw.value, &ex.value);
        }
    }

    /// The executor's process is gone (or never started): its unfinished
    /// tasks fail (or are lost), then it is removed once nothing about it
    /// waits for an acknowledgement.
    pub(crate) fn executor_exited(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        status: Option<i32>,
    ) {
        let Some(framework) = self.frameworks.get(framework_id) else {
            return;
        };
        let framework_terminating = framework.terminating;
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id || executor.phase == ExecutorPhase::Terminated {
            return;
        }
        executor.phase = ExecutorPhase::Terminated;
        executor.exit_status = status;
        // Ends an HTTP executor's event stream.
        executor.http = None;
        if let Some(timer) = executor.registration_timer.take() {
            ctx.cancel(timer);
        }
        let command_executor = executor.command_executor;
        let pending = executor.pending_termination.clone();
        let unfinished: Vec<_> = executor
            .launched
            .keys()
            .cloned()
            .chain(executor.queued.iter().map(|t| t.task_id.value.clone()))
            .collect();
        self.counters.executors_terminated += 1;
        if !framework_terminating {
            let (state, reason, message) = match pending {
                Some(p) => (p.state, p.reason, p.message),
                None => (
                    TaskState::TaskFailed,
                    Reason::ExecutorTerminated,
                    "Executor terminated".to_string(),
                ),
            };
            for task_id in unfinished {
                let update = self.agent_update(
                    framework_id,
                    &mesos_proto::mesos::TaskId { value: task_id },
                    Some(executor_id),
                    state,
                    reason,
                    &message,
                );
                self.status_update(ctx, update, None);
            }
        }
        if !command_executor {
            if let Some(master) = (self.phase == Phase::Running).then(|| self.master.clone()) {
                ctx.send(
                    &master,
                    &ExitedExecutorMessage {
                        slave_id: self.slave_id(),
                        framework_id: mesos_proto::mesos::FrameworkId {
                            value: framework_id.to_string(),
                        },
                        executor_id: mesos_proto::mesos::ExecutorId {
                            value: executor_id.to_string(),
                        },
                        status: status.unwrap_or(-1),
                    },
                );
            }
        }
        self.remove_executor_if_done(framework_id, executor_id);
        self.maybe_finish_recovery(ctx);
    }

    /// Removes a terminated executor whose tasks are all acknowledged (or
    /// whose framework is going away), and then maybe its framework.
    pub(crate) fn remove_executor_if_done(&mut self, framework_id: &str, executor_id: &str) {
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        let terminating = framework.terminating;
        let done = framework.executors.get(executor_id).is_some_and(|e| {
            e.phase == ExecutorPhase::Terminated && (terminating || !e.incomplete_tasks())
        });
        if !done {
            return;
        }
        let Some(mut executor) = framework.executors.remove(executor_id) else {
            return;
        };
        // Whatever was still unacknowledged is history now.
        let terminated: Vec<String> = executor.terminated.keys().cloned().collect();
        for task_id in terminated {
            executor.complete_task(&task_id);
        }
        let agent = self.id();
        let now = std::time::Instant::now();
        let delay = self.flags.gc_delay;
        self.gc.schedule(executor.directory.clone(), delay, now);
        if executor.checkpoint {
            let run =
                self.layout
                    .run_meta(&agent, framework_id, executor_id, &executor.container_id);
            let _ = write_text(&run.join("executor.sentinel"), "");
            self.gc.schedule(run, delay, now);
        }
        let max = self.flags.max_completed_executors;
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            framework.completed_executors.push_back(executor);
            while framework.completed_executors.len() > max {
                framework.completed_executors.pop_front();
            }
        }
        self.remove_framework_if_idle(framework_id);
    }

    pub(crate) fn framework_message(
        &mut self,
        ctx: &mut Context<Self>,
        _from: &UPID,
        m: FrameworkToExecutorMessage,
    ) {
        let executor = self
            .executor(&m.framework_id.value, &m.executor_id.value)
            .filter(|e| e.phase == ExecutorPhase::Running && (e.pid.is_some() || e.http.is_some()));
        match executor {
            Some(executor) => {
                executor.send(ctx, &m);
                self.counters.valid_framework_messages += 1;
            }
            None => {
                self.counters.invalid_framework_messages += 1;
                tracing::warn!(
                    "dropping framework message for executor '{}': not running",
                    m.executor_id.value
                );
            }
        }
    }

    pub(crate) fn executor_message(
        &mut self,
        ctx: &mut Context<Self>,
        _from: &UPID,
        m: ExecutorToFrameworkMessage,
    ) {
        let Some(framework) = self.frameworks.get(&m.framework_id.value) else {
            self.counters.invalid_framework_messages += 1;
            return;
        };
        self.counters.valid_framework_messages += 1;
        match framework.pid.clone() {
            Some(pid) => ctx.send(&pid, &m),
            None => {
                let master = self.master.clone();
                ctx.send(&master, &m)
            }
        }
    }
}
