//! Recovery after a restart (`--recover=reconnect`): rebuild frameworks,
//! executors, tasks and status update streams from the checkpoints; ask
//! live libprocess executors to re-register (`ReconnectExecutorMessage`,
//! repeated until they do) and wait for HTTP ones to subscribe again; those that do not within
//! `--executor_reregistration_timeout`, and those already dead, end with
//! their unfinished tasks reported; then (re-)register with the master.
//! Runs that had ended are kept as history (completed executors and
//! frameworks, as Mesos's agent keeps them).
//! `--recover=cleanup` kills what was running and starts as a new agent.

use std::collections::BTreeMap;

use libprocess::{Context, UPID};
use mesos_proto::internal::ReconnectExecutorMessage;
use mesos_proto::mesos::{task_status::Reason, Task, TaskState};

use super::types::{Executor, ExecutorPhase, Framework, PendingTermination};
use super::{Phase, Slave};
use crate::containerizer;
use crate::flags::RecoverMode;
use crate::state::recover::TaskState as CheckpointedTask;
use crate::state::AgentState;

/// How long a recovered agent waits for an executor's re-registration
/// before asking again (`--executor_reregistration_timeout` bounds the
/// whole wait).
const RECONNECT_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// A checkpointed task as the agent keeps it: its record with every
/// status it had (without their data), the latest being its state.
fn task_record(task: &CheckpointedTask) -> Task {
    let mut record = task.info.clone();
    for update in &task.updates {
        let mut status = update.status.clone();
        status.data = None;
        record.state = status.state;
        record.statuses.push(status);
    }
    record
}

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
                    http: None,
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
                if run.completed {
                    // Ended and acknowledged before the restart: history
                    // for `/state` and the master, and garbage to collect.
                    executor.phase = ExecutorPhase::Terminated;
                    executor.completed = run.tasks.iter().map(task_record).collect();
                    let meta = self
                        .layout
                        .run_meta(&state.id, &fw.id, &ex.id, &run.container_id);
                    let now = std::time::Instant::now();
                    self.gc
                        .schedule(directory.clone(), self.flags.gc_delay, now);
                    self.gc.schedule(meta, self.flags.gc_delay, now);
                    if let Some(files) = &self.files {
                        files.post(move |f, _| f.attach(directory));
                    }
                    framework.completed_executors.push_back(executor);
                    while framework.completed_executors.len() > self.flags.max_completed_executors {
                        framework.completed_executors.pop_front();
                    }
                    continue;
                }
                for task in run.tasks {
                    let log = self
                        .layout
                        .task_meta(&state.id, &fw.id, &ex.id, &run.container_id, &task.id)
                        .join("task.updates");
                    let record = task_record(&task);
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
                    let via_http = executor.pid.is_none()
                        && self
                            .layout
                            .run_meta(&state.id, &fw.id, &ex.id, &run.container_id)
                            .join(super::executor_api::HTTP_MARKER)
                            .exists();
                    if via_http {
                        // Its driver subscribes again by itself.
                        tracing::info!(
                            "waiting for HTTP executor '{}' of framework {} to subscribe",
                            ex.id,
                            fw.id
                        );
                    } else if let Some(pid) = &executor.pid {
                        ctx.link(pid);
                        ctx.send(
                            pid,
                            &ReconnectExecutorMessage {
                                slave_id: self.slave_id(),
                            },
                        );
                        let (fwid, exid, cid) =
                            (fw.id.clone(), ex.id.clone(), run.container_id.clone());
                        ctx.delay(RECONNECT_RETRY_INTERVAL, move |p, ctx| {
                            p.reconnect_again(ctx, &fwid, &exid, &cid)
                        });
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
            } else if !framework.completed_executors.is_empty() {
                // Nothing left to run: done here, as Mesos's agent files
                // such a framework among its completed ones.
                self.completed_frameworks.push_back(framework);
                while self.completed_frameworks.len() > super::MAX_COMPLETED_FRAMEWORKS {
                    self.completed_frameworks.pop_front();
                }
            }
        }
        if awaiting == 0 {
            self.finish_recovery(ctx);
            return;
        }
        let timeout = self.flags.executor_reregistration_timeout;
        ctx.delay(timeout, |p, ctx| p.reregistration_timeout(ctx));
    }

    /// Asks a recovered executor to re-register once more while it has
    /// not. Its first answer can be lost: written on its connection to
    /// the agent that died, before it noticed that connection broke;
    /// after that it waits for a new request. Stops once it re-registered
    /// or is gone, or recovery is over.
    fn reconnect_again(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
    ) {
        if self.phase != Phase::Recovering {
            return;
        }
        let pid = self
            .executor(framework_id, executor_id)
            .filter(|e| e.container_id == container_id && e.phase == ExecutorPhase::Registering)
            .and_then(|e| e.pid.clone());
        let Some(pid) = pid else {
            return;
        };
        tracing::info!(
            "executor '{executor_id}' of framework {framework_id} has not re-registered yet; asking again"
        );
        ctx.send(
            &pid,
            &ReconnectExecutorMessage {
                slave_id: self.slave_id(),
            },
        );
        let (fwid, exid, cid) = (
            framework_id.to_string(),
            executor_id.to_string(),
            container_id.to_string(),
        );
        ctx.delay(RECONNECT_RETRY_INTERVAL, move |p, ctx| {
            p.reconnect_again(ctx, &fwid, &exid, &cid)
        });
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
