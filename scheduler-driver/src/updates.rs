//! What the driver does with a status update, as pure functions: which
//! `uuid` the scheduler sees, whether an implicit acknowledgement is due,
//! and the updates the driver makes up itself for launches it could not
//! send.

use bytes::Bytes;
use mesos_proto::internal::StatusUpdate;
use mesos_proto::mesos::{task_status, FrameworkId, TaskId, TaskState, TaskStatus};

/// How one status update is delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// What `Scheduler::status_update` gets.
    pub status: TaskStatus,
    /// The uuid to acknowledge with, when the update needs acknowledging.
    pub acknowledge: Option<Bytes>,
}

/// Decides how `update` is delivered. `from_driver` is true for updates
/// the driver made up (never acknowledged); `pid` is the
/// `StatusUpdateMessage.pid` (the agent that sent it), empty or absent
/// for updates the master generated.
///
/// As libmesos does, the scheduler sees a `uuid` only when the update has
/// one and came from an agent through the master; an acknowledgement is
/// due when the update has a uuid, or (for pre-0.23 agents) when it came
/// from an agent at all.
pub fn delivery(update: &StatusUpdate, from_driver: bool, pid: Option<&str>) -> Delivery {
    let has_uuid = update.uuid.as_ref().is_some_and(|u| !u.is_empty());
    let from_agent = !from_driver && pid.is_some_and(|p| p.parse::<libprocess::UPID>().is_ok());
    let mut status = update.status.clone();
    status.uuid = if has_uuid && from_agent {
        update.uuid.clone()
    } else {
        None
    };
    let acknowledge = (has_uuid || from_agent).then(|| update.uuid.clone().unwrap_or_default());
    Delivery {
        status,
        acknowledge,
    }
}

/// The update the driver delivers for a task it could not launch because
/// it was disconnected from the master: `TASK_DROPPED` for
/// partition-aware frameworks, `TASK_LOST` otherwise, reason
/// `REASON_MASTER_DISCONNECTED`, no uuid.
pub fn launch_while_disconnected(
    framework_id: &FrameworkId,
    task_id: &TaskId,
    partition_aware: bool,
    now_secs: f64,
) -> StatusUpdate {
    let state = if partition_aware {
        TaskState::TaskDropped
    } else {
        TaskState::TaskLost
    };
    StatusUpdate {
        framework_id: framework_id.clone(),
        timestamp: now_secs,
        status: TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            source: Some(task_status::Source::Master as i32),
            message: Some("Master disconnected".to_string()),
            reason: Some(task_status::Reason::MasterDisconnected as i32),
            timestamp: Some(now_secs),
            ..TaskStatus::default()
        },
        ..StatusUpdate::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(uuid: Option<&'static [u8]>) -> StatusUpdate {
        StatusUpdate {
            uuid: uuid.map(Bytes::from_static),
            status: TaskStatus {
                uuid: uuid.map(Bytes::from_static),
                ..TaskStatus::default()
            },
            ..StatusUpdate::default()
        }
    }

    #[test]
    fn agent_update_with_uuid_is_seen_and_acknowledged() {
        let d = delivery(&update(Some(b"u1")), false, Some("slave(1)@127.0.0.1:5051"));
        assert_eq!(d.status.uuid.as_deref(), Some(&b"u1"[..]));
        assert_eq!(d.acknowledge.as_deref(), Some(&b"u1"[..]));
    }

    #[test]
    fn master_generated_update_has_no_uuid_and_no_ack() {
        let d = delivery(&update(None), false, None);
        assert_eq!(d.status.uuid, None);
        assert_eq!(d.acknowledge, None);
        let d = delivery(&update(None), false, Some(""));
        assert_eq!(d.acknowledge, None);
    }

    #[test]
    fn uuid_without_agent_pid_is_hidden_but_acknowledged() {
        let d = delivery(&update(Some(b"u2")), false, Some(""));
        assert_eq!(d.status.uuid, None);
        assert_eq!(d.acknowledge.as_deref(), Some(&b"u2"[..]));
    }

    #[test]
    fn driver_made_update_is_never_acknowledged() {
        let lost = launch_while_disconnected(
            &FrameworkId { value: "f".into() },
            &TaskId { value: "t".into() },
            false,
            1.0,
        );
        let d = delivery(&lost, true, None);
        assert_eq!(d.acknowledge, None);
        assert_eq!(d.status.state, TaskState::TaskLost as i32);
        assert_eq!(
            d.status.reason,
            Some(task_status::Reason::MasterDisconnected as i32)
        );
        let dropped = launch_while_disconnected(
            &FrameworkId { value: "f".into() },
            &TaskId { value: "t".into() },
            true,
            1.0,
        );
        assert_eq!(dropped.status.state, TaskState::TaskDropped as i32);
    }
}
