//! Recovery after a restart (`--recover=reconnect`): rebuild frameworks,
//! executors, tasks and status update streams from the checkpoints; ask
//! live executors to re-register (`ReconnectExecutorMessage`); those that
//! do not within `--executor_reregistration_timeout`, and those already
//! dead, end with their unfinished tasks reported; then (re-)register
//! with the master. `--recover=cleanup` kills what was running and starts
//! as a new agent.

use std::collections::BTreeMap;

use libprocess::{Context, UPID};
use mesos_proto::internal::ReconnectExecutorMessage;
use mesos_proto::mesos::{task_status::Reason, TaskState};

use super::types::{Executor, ExecutorPhase, Framework, PendingTermination};
use super::{Phase, Slave};
use crate::containerizer;
use crate::flags::RecoverMode;
use crate::state::AgentState;

impl Slave {
    /// Acts on what was read from the checkpoints, then starts
    /// registering (at once, or once executors had their chance to
    /// re-register).
    #[allow(deprecated)]
    pub(crate) fn recover(&mut self, ctx: &mut Context<Self>, state: Option<AgentState>) {
        let Some(state) = state else {
            self.detected(ctx);
            return;
        };
        if self.flags.recover == RecoverMode::Cleanup {
            for framework in &state.frameworks {
                for executor in &framework.executors {
                    if let Some(pid) = executor.run.as_ref().and_then(|r| r.forked_pid) {
                        if mesos_executor::os::alive(pid) {
                            tracing::info!(
                                "cleanup: killing executor '{}' (pid {pid})",
                                executor.id
                            );
                            containerizer::destroy(pid);
                        }
                    }
                }
            }
            self.detected(ctx);
            return;
        }
        tracing::info!("recovering agent {}", state.id);
        self.info.id = state.info.id.clone();
        let mut awaiting = 0;
        for fw in state.frameworks {
            let pid = fw.pid.as_deref().and_then(|p| p.parse::<UPID>().ok());
            let mut framework = Framework::new(fw.info, pid);
            framework.id = fw.id.clone();
            for ex in fw.executors {
                let Some(run) = ex.run else { continue };
                if run.completed {
                    continue;
                }
                let directory = self
                    .layout
                    .sandbox(&state.id, &fw.id, &ex.id, &run.container_id);
                let command_executor = ex.info.source.as_deref() == Some(ex.id.as_str())
                    && ex
                        .info
                        .name
                        .as_deref()
                        .is_some_and(|n| n.starts_with("Command Executor"));
                let mut executor = Executor {
                    id: ex.id.clone(),
                    info: ex.info,
                    framework_id: fw.id.clone(),
                    container_id: run.container_id.clone(),
                    directory: directory.clone(),
                    phase: ExecutorPhase::Registering,
                    pid: run.libprocess_pid.as_deref().and_then(|p| p.parse().ok()),
                    os_pid: run.forked_pid,
                    command_executor,
                    checkpoint: true,
                    recovered: true,
                    queued: Vec::new(),
                    launched: BTreeMap::new(),
                    terminated: BTreeMap::new(),
                    completed: Default::default(),
                    pending_termination: None,
                    registration_timer: None,
                    exit_status: None,
                };
                for task in run.tasks {
                    let log = self
                        .layout
                        .task_meta(&state.id, &fw.id, &ex.id, &run.container_id, &task.id)
                        .join("task.updates");
                    let mut record = task.info;
                    for update in &task.updates {
                        let mut status = update.status.clone();
                        status.data = None;
                        record.state = status.state;
                        record.statuses.push(status);
                    }
                    let open = self.updates.recover(&task.updates, &task.acks, Some(log));
                    if mesos_executor::is_terminal(record.state) {
                        if open {
                            executor.terminated.insert(task.id, record);
                        } else {
                            executor.completed.push_back(record);
                        }
                    } else {
                        executor.launched.insert(task.id, record);
                    }
                }
                if let Some(files) = &self.files {
                    files.post(move |f, _| f.attach(directory));
                }
                let alive = run.forked_pid.is_some_and(mesos_executor::os::alive);
                let (fwid, exid, cid) = (fw.id.clone(), ex.id.clone(), run.container_id.clone());
                if alive {
                    if let Some(os_pid) = run.forked_pid {
                        ctx.defer(containerizer::wait_recovered(os_pid), move |p, ctx, ()| {
                            tracing::info!(
                                "recovered executor '{exid}' of framework {fwid} exited"
                            );
                            p.executor_exited(ctx, &fwid, &exid, &cid, None);
                        });
                    }
                    if let Some(pid) = &executor.pid {
                        ctx.link(pid);
                        ctx.send(
                            pid,
                            &ReconnectExecutorMessage {
                                slave_id: self.slave_id(),
                            },
                        );
                    }
                    // One that never registered is destroyed at the timeout.
                    awaiting += 1;
                } else {
                    tracing::info!("executor '{}' of framework {} is gone", ex.id, fw.id);
                    ctx.defer(async {}, move |p, ctx, ()| {
                        p.executor_exited(ctx, &fwid, &exid, &cid, None);
                    });
                }
                framework.executors.insert(ex.id, executor);
            }
            if !framework.executors.is_empty() {
                self.frameworks.insert(fw.id, framework);
            }
        }
        if awaiting == 0 {
            self.finish_recovery(ctx);
            return;
        }
        let timeout = self.flags.executor_reregistration_timeout;
        ctx.delay(timeout, |p, ctx| p.reregistration_timeout(ctx));
    }

    /// Executors that did not re-register in time are destroyed; their
    /// tasks are reported lost (gone, for partition-aware frameworks).
    fn reregistration_timeout(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Recovering {
            return;
        }
        let timeout = mesos_common::Duration::from(self.flags.executor_reregistration_timeout);
        let mut doomed = Vec::new();
        for framework in self.frameworks.values_mut() {
            let state = if framework.partition_aware() {
                TaskState::TaskGone
            } else {
                TaskState::TaskLost
            };
            for executor in framework.executors.values_mut() {
                if executor.phase == ExecutorPhase::Registering {
                    tracing::info!("killing executor '{}': it did not re-register", executor.id);
                    executor.phase = ExecutorPhase::Terminating;
                    executor.pending_termination = Some(PendingTermination {
                        state,
                        reason: Reason::ExecutorReregistrationTimeout,
                        message: format!("Executor did not reregister within {timeout}"),
                    });
                    doomed.push((
                        framework.id.clone(),
                        executor.id.clone(),
                        executor.container_id.clone(),
                        executor.os_pid,
                    ));
                }
            }
        }
        for (fw, ex, cid, pid) in doomed {
            self.destroy(ctx, &fw, &ex, &cid, pid);
        }
        self.finish_recovery(ctx);
    }

    /// Ends recovery early once every live executor re-registered.
    pub(crate) fn maybe_finish_recovery(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Recovering {
            return;
        }
        let waiting = self.frameworks.values().any(|f| {
            f.executors
                .values()
                .any(|e| e.phase == ExecutorPhase::Registering && e.recovered)
        });
        if !waiting {
            self.finish_recovery(ctx);
        }
    }

    fn finish_recovery(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Recovering {
            return;
        }
        tracing::info!("finished recovery");
        self.detected(ctx);
    }
}
