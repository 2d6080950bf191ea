//! Status updates: from executors (validated, stamped with the container's
//! status), or made by the agent itself; each goes through the status
//! update manager, which checkpoints it before the executor is
//! acknowledged and before it is forwarded to the master; the framework's
//! acknowledgement lets the next one go.

use bytes::Bytes;
use libprocess::{Context, UPID};
use mesos_executor::is_terminal;
use mesos_proto::internal::{
    StatusUpdate, StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::{
    network_info, task_status, ContainerId, ContainerStatus, ExecutorId, FrameworkId, NetworkInfo,
    TaskId, TaskState, TaskStatus,
};

use super::{Phase, Slave};
use crate::status_update_manager::{AckError, Received};

/// The lower-case state name Mesos's task metrics use (`finished`).
fn metric_state(state: i32) -> Option<&'static str> {
    Some(match TaskState::try_from(state).ok()? {
        TaskState::TaskFinished => "finished",
        TaskState::TaskFailed => "failed",
        TaskState::TaskKilled => "killed",
        TaskState::TaskLost => "lost",
        TaskState::TaskError => "error",
        TaskState::TaskDropped => "dropped",
        TaskState::TaskGone => "gone",
        TaskState::TaskGoneByOperator => "gone_by_operator",
        _ => return None,
    })
}

impl Slave {
    /// An update the agent makes itself (`SOURCE_SLAVE`).
    pub(crate) fn agent_update(
        &self,
        framework_id: &str,
        task_id: &TaskId,
        executor_id: Option<&str>,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
    ) -> StatusUpdate {
        let now = mesos_executor::now_secs();
        let uuid = Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let executor_id = executor_id.map(|e| ExecutorId {
            value: e.to_string(),
        });
        StatusUpdate {
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            executor_id: executor_id.clone(),
            slave_id: Some(self.slave_id()),
            status: TaskStatus {
                task_id: task_id.clone(),
                state: state as i32,
                message: Some(message.to_string()),
                slave_id: Some(self.slave_id()),
                timestamp: Some(now),
                executor_id,
                source: Some(task_status::Source::Slave as i32),
                reason: Some(reason as i32),
                uuid: Some(uuid.clone()),
                ..Default::default()
            },
            timestamp: now,
            uuid: Some(uuid),
            latest_state: None,
        }
    }

    /// `StatusUpdateMessage` from an executor.
    pub(crate) fn status_update_message(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: StatusUpdateMessage,
    ) {
        let update = m.update;
        let framework_id = update.framework_id.value.clone();
        let task_id = update.status.task_id.value.clone();
        let known = self
            .frameworks
            .get(&framework_id)
            .and_then(|f| f.executor_of(&task_id))
            .is_some();
        let uuid_ok = update.uuid.as_ref().is_some_and(|u| u.len() == 16);
        if !known || !uuid_ok {
            self.counters.invalid_status_updates += 1;
            tracing::warn!(
                "dropping status update for task '{task_id}' of framework {framework_id} from {from}: {}",
                if known { "missing or malformed uuid" } else { "unknown task" }
            );
            return;
        }
        if update.status.state == TaskState::TaskStaging as i32 {
            self.counters.invalid_status_updates += 1;
            tracing::warn!("dropping TASK_STAGING update for task '{task_id}' from {from}");
            return;
        }
        self.counters.valid_status_updates += 1;
        let pid = m
            .pid
            .as_deref()
            .and_then(|p| p.parse::<UPID>().ok())
            .unwrap_or_else(|| from.clone());
        self.status_update(ctx, update, Some(pid));
    }

    /// Handles an update (from an executor when `executor_pid` is set):
    /// records the task's state, hands it to the status update manager
    /// (which checkpoints it), acknowledges the executor, and forwards it
    /// if its stream was idle. Returns whether the update was taken (or
    /// was a duplicate), i.e. may be acknowledged; false when it could not
    /// be checkpointed.
    pub(crate) fn status_update(
        &mut self,
        ctx: &mut Context<Self>,
        mut update: StatusUpdate,
        executor_pid: Option<UPID>,
    ) -> bool {
        let framework_id = update.framework_id.value.clone();
        let task_id = update.status.task_id.value.clone();
        let agent = self.id();
        update.slave_id = Some(self.slave_id());
        update.status.slave_id = Some(self.slave_id());

        let mut log = None;
        let mut launched_at = None;
        if let Some(framework) = self.frameworks.get_mut(&framework_id) {
            let checkpoint = framework.checkpoint();
            if let Some(executor) = framework.executor_of_mut(&task_id) {
                if update.status.container_status.is_none() {
                    update.status.container_status = Some(ContainerStatus {
                        container_id: Some(ContainerId {
                            value: executor.container_id.clone(),
                            parent: None,
                        }),
                        executor_pid: executor.os_pid.map(|p| p as u32),
                        network_infos: vec![NetworkInfo {
                            ip_addresses: vec![network_info::IpAddress {
                                protocol: Some(network_info::Protocol::IPv4 as i32),
                                ip_address: Some(ctx.self_pid().ip().to_string()),
                            }],
                            ..Default::default()
                        }],
                        ..Default::default()
                    });
                }
                let duplicate = executor
                    .task(&task_id)
                    .is_some_and(|t| t.statuses.iter().any(|s| s.uuid == update.status.uuid));
                if !duplicate {
                    executor.apply_status(&update.status, &agent);
                    if let Some(name) = metric_state(update.status.state) {
                        *self.counters.tasks_ended.entry(name).or_insert(0) += 1;
                    }
                    if update.status.state == TaskState::TaskRunning as i32 {
                        launched_at = Some(());
                    }
                }
                if checkpoint {
                    log = Some(
                        self.layout
                            .task_meta(
                                &agent,
                                &framework_id,
                                &executor.id,
                                &executor.container_id,
                                &task_id,
                            )
                            .join("task.updates"),
                    );
                }
            }
        }
        if is_terminal(update.status.state) {
            self.launch_started.remove(&task_id);
        }
        if launched_at.is_some() {
            let now = Slave::now(ctx);
            if let Some(elapsed) = self.task_launch_elapsed(&task_id, now) {
                metrics::histogram!("slave/task_launch_latency_ms")
                    .record(elapsed.as_secs_f64() * 1000.0);
            }
        }
        let uuid = update.uuid.clone().unwrap_or_default();
        let now = Slave::now(ctx);
        match self.updates.update(update.clone(), log, now) {
            Ok(Received::Duplicate) => {}
            Ok(Received::Queued(send)) => {
                if let Some(next) = send {
                    self.forward(ctx, *next);
                }
            }
            Err(error) => {
                // Not acknowledged: the executor keeps it and resends it.
                tracing::error!("failed to checkpoint status update for task '{task_id}': {error}");
                return false;
            }
        }
        if let Some(pid) = executor_pid {
            ctx.send(
                &pid,
                &StatusUpdateAcknowledgementMessage {
                    slave_id: self.slave_id(),
                    framework_id: update.framework_id.clone(),
                    task_id: update.status.task_id.clone(),
                    uuid,
                },
            );
        }
        true
    }

    /// Sends an update to the master, with the task's latest state.
    pub(crate) fn forward(&mut self, ctx: &mut Context<Self>, mut update: StatusUpdate) {
        if self.phase != Phase::Running {
            return;
        }
        let latest = self
            .frameworks
            .get(&update.framework_id.value)
            .and_then(|f| f.executor_of(&update.status.task_id.value))
            .and_then(|e| e.task(&update.status.task_id.value))
            .map(|t| t.state);
        update.latest_state = latest.or(Some(update.status.state));
        let message = StatusUpdateMessage {
            update,
            pid: Some(ctx.self_pid().to_string()),
        };
        let master = self.master.clone();
        ctx.send(&master, &message);
    }

    /// The framework acknowledged an update (through the master, or
    /// straight from an old scheduler driver).
    pub(crate) fn acknowledgement(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: StatusUpdateAcknowledgementMessage,
    ) {
        let framework_id = m.framework_id.value.clone();
        let task_id = m.task_id.value.clone();
        let now = Slave::now(ctx);
        let ack = match self
            .updates
            .acknowledge(&framework_id, &task_id, &m.uuid, now)
        {
            Ok(Ok(ack)) => ack,
            Ok(Err(error)) => {
                tracing::error!(
                    "failed to checkpoint acknowledgement for task '{task_id}': {error}"
                );
                return;
            }
            Err(AckError::Duplicate) => {
                tracing::debug!("duplicate acknowledgement for task '{task_id}' from {from}");
                return;
            }
            Err(error) => {
                tracing::warn!(
                    "ignoring acknowledgement for task '{task_id}' from {from}: {error:?}"
                );
                return;
            }
        };
        if let Some(next) = ack.next {
            self.forward(ctx, next);
        }
        if is_terminal(ack.update.status.state) {
            let executor_id = self
                .frameworks
                .get_mut(&framework_id)
                .and_then(|f| f.executor_of_mut(&task_id))
                .map(|executor| {
                    executor.complete_task(&task_id);
                    executor.id.clone()
                });
            if let Some(executor_id) = executor_id {
                self.remove_executor_if_done(&framework_id, &executor_id);
            }
        }
    }
}
