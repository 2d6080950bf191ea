//! UPDATE and MESSAGE from a subscribed HTTP executor: a status update
//! goes through the status update manager as a libprocess executor's does
//! and is acknowledged with ACKNOWLEDGED once checkpointed (Mesos sends it
//! at the same point a libprocess executor gets its
//! `StatusUpdateAcknowledgementMessage`); a message goes to its
//! framework.

use bytes::Bytes;
use libprocess::{Context, Response};
use mesos_proto::internal::{
    ExecutorToFrameworkMessage, StatusUpdate, StatusUpdateAcknowledgementMessage,
};
use mesos_proto::mesos::{ExecutorId, FrameworkId, TaskStatus};

use super::validation::validate_update;
use crate::slave::Slave;

/// Why an executor's status update was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpdateError {
    /// The executor has no such task.
    #[error("Task '{task}' of executor '{executor}' cannot be found")]
    UnknownTask {
        /// The task.
        task: String,
        /// The executor.
        executor: String,
    },
    /// The status itself is invalid (Mesos's validation texts).
    #[error("{0}")]
    Invalid(String),
    /// The update could not be checkpointed; the executor keeps it.
    #[error("failed to checkpoint the status update of task '{0}'")]
    Checkpoint(String),
}

impl UpdateError {
    /// The HTTP status an UPDATE call refused for this reason gets.
    pub fn status(&self) -> u16 {
        match self {
            UpdateError::UnknownTask { .. } | UpdateError::Invalid(_) => 400,
            UpdateError::Checkpoint(_) => 500,
        }
    }
}

/// The `StatusUpdate` for `status` from an executor of `framework_id`, as
/// Mesos's `createStatusUpdate` makes it: stamped with the agent, timed by
/// the status (or now), with the status's uuid.
pub fn status_update(framework_id: &str, mut status: TaskStatus, agent: &str) -> StatusUpdate {
    let slave_id = mesos_proto::mesos::SlaveId {
        value: agent.to_string(),
    };
    if status.slave_id.is_none() {
        status.slave_id = Some(slave_id.clone());
    }
    StatusUpdate {
        framework_id: FrameworkId {
            value: framework_id.to_string(),
        },
        executor_id: status.executor_id.clone(),
        slave_id: Some(slave_id),
        timestamp: status.timestamp.unwrap_or_else(mesos_executor::now_secs),
        uuid: status.uuid.clone(),
        status,
        latest_state: None,
    }
}

impl Slave {
    /// UPDATE: 202 once the update is taken, and ACKNOWLEDGED on the
    /// executor's stream.
    pub(crate) fn executor_update(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        status: TaskStatus,
    ) -> Response {
        match self.accept_executor_update(ctx, framework_id, executor_id, status) {
            Ok(ack) => {
                if let Some(executor) = self.executor(framework_id, executor_id) {
                    executor.send(ctx, &ack);
                }
                Response::status(202)
            }
            Err(error) => Response::text(error.status(), error.to_string()),
        }
    }

    /// Hands a status from an HTTP executor to the status update manager
    /// (which checkpoints it and forwards it in order); returns the
    /// acknowledgement to give the executor.
    pub(crate) fn accept_executor_update(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        status: TaskStatus,
    ) -> Result<StatusUpdateAcknowledgementMessage, UpdateError> {
        let task_id = status.task_id.clone();
        let refused = if let Err(reason) = validate_update(&status, executor_id, framework_id) {
            Some(UpdateError::Invalid(reason))
        } else if !self
            .executor(framework_id, executor_id)
            .is_some_and(|e| e.has_task(&task_id.value))
        {
            Some(UpdateError::UnknownTask {
                task: task_id.value.clone(),
                executor: executor_id.to_string(),
            })
        } else {
            None
        };
        if let Some(error) = refused {
            self.counters.invalid_status_updates += 1;
            return Err(error);
        }
        self.counters.valid_status_updates += 1;
        let update = status_update(framework_id, status, &self.id());
        let uuid = update.uuid.clone().unwrap_or_default();
        if !self.status_update(ctx, update, None) {
            return Err(UpdateError::Checkpoint(task_id.value));
        }
        Ok(StatusUpdateAcknowledgementMessage {
            slave_id: self.slave_id(),
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            task_id,
            uuid,
        })
    }

    /// MESSAGE: relayed to the framework; 202.
    pub(crate) fn executor_call_message(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        data: Bytes,
    ) -> Response {
        let message = ExecutorToFrameworkMessage {
            slave_id: self.slave_id(),
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            executor_id: ExecutorId {
                value: executor_id.to_string(),
            },
            data,
        };
        let me = ctx.self_pid().clone();
        self.executor_message(ctx, &me, message);
        Response::status(202)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{SlaveId, TaskId, TaskState};

    #[test]
    fn updates_are_made_as_mesos_makes_them() {
        let uuid = Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let status = TaskStatus {
            task_id: TaskId { value: "t".into() },
            state: TaskState::TaskRunning as i32,
            timestamp: Some(12.5),
            uuid: Some(uuid.clone()),
            ..Default::default()
        };
        let update = status_update("f", status.clone(), "S0");
        assert_eq!(update.framework_id.value, "f");
        assert_eq!(update.slave_id.as_ref().unwrap().value, "S0");
        assert_eq!(update.status.slave_id.as_ref().unwrap().value, "S0");
        assert_eq!(update.timestamp, 12.5);
        assert_eq!(update.uuid, Some(uuid));
        assert_eq!(update.executor_id, None, "only the status's own");

        // The executor's own agent id is kept.
        let mut own = status;
        own.slave_id = Some(SlaveId { value: "X".into() });
        own.timestamp = None;
        let update = status_update("f", own, "S0");
        assert_eq!(update.status.slave_id.unwrap().value, "X");
        assert!(update.timestamp > 0.0);
    }
}
