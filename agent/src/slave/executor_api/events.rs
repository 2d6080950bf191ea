//! The executor event for each message the agent sends an executor (as
//! Mesos's `evolve`), so one send path serves libprocess and HTTP
//! executors alike.

use mesos_proto::executor::{event, Event};
use mesos_proto::internal::{
    FrameworkToExecutorMessage, KillTaskMessage, RunTaskGroupMessage, RunTaskMessage,
    ShutdownExecutorMessage, StatusUpdateAcknowledgementMessage,
};
use mesos_proto::mesos::{ContainerId, ExecutorInfo, FrameworkInfo, SlaveInfo};

/// How often an HTTP executor's stream gets a HEARTBEAT (Mesos's
/// `DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL`), the first one after as long.
pub const HEARTBEAT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A message the agent sends executors, and its event on an HTTP stream.
pub trait ExecutorMessage: prost::Message + prost::Name + 'static {
    /// The event an HTTP executor gets instead.
    fn to_event(&self) -> Event;
}

fn of_type(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

impl ExecutorMessage for RunTaskMessage {
    fn to_event(&self) -> Event {
        Event {
            launch: Some(event::Launch {
                task: self.task.clone(),
            }),
            ..of_type(event::Type::Launch)
        }
    }
}

impl ExecutorMessage for RunTaskGroupMessage {
    fn to_event(&self) -> Event {
        Event {
            launch_group: Some(event::LaunchGroup {
                task_group: self.task_group.clone(),
            }),
            ..of_type(event::Type::LaunchGroup)
        }
    }
}

impl ExecutorMessage for KillTaskMessage {
    fn to_event(&self) -> Event {
        Event {
            kill: Some(event::Kill {
                task_id: self.task_id.clone(),
                kill_policy: self.kill_policy,
            }),
            ..of_type(event::Type::Kill)
        }
    }
}

impl ExecutorMessage for StatusUpdateAcknowledgementMessage {
    fn to_event(&self) -> Event {
        Event {
            acknowledged: Some(event::Acknowledged {
                task_id: self.task_id.clone(),
                uuid: self.uuid.clone(),
            }),
            ..of_type(event::Type::Acknowledged)
        }
    }
}

impl ExecutorMessage for FrameworkToExecutorMessage {
    fn to_event(&self) -> Event {
        Event {
            message: Some(event::Message {
                data: self.data.clone(),
            }),
            ..of_type(event::Type::Message)
        }
    }
}

impl ExecutorMessage for ShutdownExecutorMessage {
    fn to_event(&self) -> Event {
        of_type(event::Type::Shutdown)
    }
}

/// SUBSCRIBED: what the executor is, its framework, this agent and its
/// container.
pub fn subscribed(
    executor_info: ExecutorInfo,
    framework_info: FrameworkInfo,
    agent_info: SlaveInfo,
    container_id: &str,
) -> Event {
    Event {
        subscribed: Some(event::Subscribed {
            executor_info,
            framework_info,
            slave_info: agent_info,
            container_id: Some(ContainerId {
                value: container_id.to_string(),
                parent: None,
            }),
        }),
        ..of_type(event::Type::Subscribed)
    }
}

/// HEARTBEAT.
pub fn heartbeat() -> Event {
    of_type(event::Type::Heartbeat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{FrameworkId, KillPolicy, SlaveId, TaskId};

    #[test]
    fn messages_become_their_events() {
        let kill = KillTaskMessage {
            framework_id: FrameworkId { value: "f".into() },
            task_id: TaskId { value: "t".into() },
            kill_policy: Some(KillPolicy::default()),
        }
        .to_event();
        assert_eq!(kill.r#type, Some(event::Type::Kill as i32));
        assert_eq!(kill.kill.unwrap().task_id.value, "t");

        let ack = StatusUpdateAcknowledgementMessage {
            slave_id: SlaveId { value: "s".into() },
            framework_id: FrameworkId { value: "f".into() },
            task_id: TaskId { value: "t".into() },
            uuid: bytes::Bytes::from_static(b"0123456789abcdef"),
        }
        .to_event();
        assert_eq!(ack.r#type, Some(event::Type::Acknowledged as i32));
        assert_eq!(&ack.acknowledged.unwrap().uuid[..], b"0123456789abcdef");

        let shutdown = ShutdownExecutorMessage::default().to_event();
        assert_eq!(shutdown, of_type(event::Type::Shutdown));
    }
}
