//! The messages the master sends a scheduler, as `scheduler::Event`s: what
//! a libprocess scheduler gets as a message, an HTTP scheduler gets as an
//! event on its stream. The v0 `Event` built here is wire-identical to
//! `mesos.v1.scheduler.Event` (same field numbers), so its bytes are the v1
//! event's bytes.

use mesos_proto::internal::{
    ExecutorToFrameworkMessage, ExitedExecutorMessage, FrameworkErrorMessage,
    FrameworkRegisteredMessage, FrameworkReregisteredMessage, LostSlaveMessage,
    RescindResourceOfferMessage, ResourceOffersMessage, StatusUpdateMessage,
};
use mesos_proto::scheduler::event::{self, Type};
use mesos_proto::scheduler::Event;

/// How often an HTTP scheduler hears a HEARTBEAT (Mesos's default), and
/// the interval SUBSCRIBED announces.
pub const HEARTBEAT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15);

/// A message the master sends to a framework's scheduler, and the event an
/// HTTP scheduler gets in its place.
pub trait SchedulerMessage: prost::Message + prost::Name + Sized + 'static {
    /// The event carrying the same news.
    fn to_event(&self) -> Event;
}

fn event(kind: Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn subscribed(
    framework_id: &mesos_proto::mesos::FrameworkId,
    master_info: &mesos_proto::mesos::MasterInfo,
) -> Event {
    Event {
        subscribed: Some(event::Subscribed {
            framework_id: framework_id.clone(),
            heartbeat_interval_seconds: Some(HEARTBEAT_INTERVAL.as_secs_f64()),
            master_info: Some(master_info.clone()),
        }),
        ..event(Type::Subscribed)
    }
}

/// The HEARTBEAT event.
pub fn heartbeat() -> Event {
    event(Type::Heartbeat)
}

impl SchedulerMessage for FrameworkRegisteredMessage {
    fn to_event(&self) -> Event {
        subscribed(&self.framework_id, &self.master_info)
    }
}

impl SchedulerMessage for FrameworkReregisteredMessage {
    fn to_event(&self) -> Event {
        subscribed(&self.framework_id, &self.master_info)
    }
}

impl SchedulerMessage for ResourceOffersMessage {
    fn to_event(&self) -> Event {
        Event {
            offers: Some(event::Offers {
                offers: self.offers.clone(),
            }),
            ..event(Type::Offers)
        }
    }
}

impl SchedulerMessage for RescindResourceOfferMessage {
    fn to_event(&self) -> Event {
        Event {
            rescind: Some(event::Rescind {
                offer_id: self.offer_id.clone(),
            }),
            ..event(Type::Rescind)
        }
    }
}

impl SchedulerMessage for StatusUpdateMessage {
    /// The status, with the update's agent, executor and time; its `uuid`
    /// only when the update must be acknowledged (it has one and came from
    /// an agent, not from the master itself).
    fn to_event(&self) -> Event {
        let update = &self.update;
        let mut status = update.status.clone();
        if update.slave_id.is_some() {
            status.slave_id.clone_from(&update.slave_id);
        }
        if update.executor_id.is_some() {
            status.executor_id.clone_from(&update.executor_id);
        }
        status.timestamp = Some(update.timestamp);
        let acknowledgee = self.pid.as_deref().unwrap_or_default();
        status.uuid = match &update.uuid {
            Some(uuid) if !uuid.is_empty() && !acknowledgee.is_empty() => Some(uuid.clone()),
            _ => None,
        };
        Event {
            update: Some(event::Update { status }),
            ..event(Type::Update)
        }
    }
}

impl SchedulerMessage for ExecutorToFrameworkMessage {
    fn to_event(&self) -> Event {
        Event {
            message: Some(event::Message {
                slave_id: self.slave_id.clone(),
                executor_id: self.executor_id.clone(),
                data: self.data.clone(),
            }),
            ..event(Type::Message)
        }
    }
}

impl SchedulerMessage for LostSlaveMessage {
    fn to_event(&self) -> Event {
        Event {
            failure: Some(event::Failure {
                slave_id: Some(self.slave_id.clone()),
                executor_id: None,
                status: None,
            }),
            ..event(Type::Failure)
        }
    }
}

impl SchedulerMessage for ExitedExecutorMessage {
    fn to_event(&self) -> Event {
        Event {
            failure: Some(event::Failure {
                slave_id: Some(self.slave_id.clone()),
                executor_id: Some(self.executor_id.clone()),
                status: Some(self.status),
            }),
            ..event(Type::Failure)
        }
    }
}

impl SchedulerMessage for FrameworkErrorMessage {
    fn to_event(&self) -> Event {
        Event {
            error: Some(event::Error {
                message: self.message.clone(),
            }),
            ..event(Type::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::internal::StatusUpdate;
    use mesos_proto::mesos::{SlaveId, TaskState, TaskStatus};

    fn update(pid: &str) -> StatusUpdateMessage {
        StatusUpdateMessage {
            update: StatusUpdate {
                slave_id: Some(SlaveId { value: "S0".into() }),
                status: TaskStatus {
                    state: TaskState::TaskRunning as i32,
                    ..Default::default()
                },
                timestamp: 12.5,
                uuid: Some(bytes::Bytes::from_static(b"0123456789abcdef")),
                ..Default::default()
            },
            pid: Some(pid.into()),
        }
    }

    #[test]
    fn updates_from_agents_carry_the_uuid_to_acknowledge() {
        let event = update("slave(1)@127.0.0.1:5051").to_event();
        assert_eq!(event.r#type, Some(Type::Update as i32));
        let status = event.update.unwrap().status;
        assert_eq!(status.uuid.as_deref(), Some(&b"0123456789abcdef"[..]));
        assert_eq!(status.slave_id.unwrap().value, "S0");
        assert_eq!(status.timestamp, Some(12.5));
    }

    #[test]
    fn updates_from_the_master_need_no_acknowledgement() {
        let status = update("").to_event().update.unwrap().status;
        assert_eq!(status.uuid, None);
    }

    #[test]
    fn subscribed_announces_the_heartbeat_interval() {
        let event = FrameworkRegisteredMessage::default().to_event();
        assert_eq!(event.r#type, Some(Type::Subscribed as i32));
        assert_eq!(
            event.subscribed.unwrap().heartbeat_interval_seconds,
            Some(15.0)
        );
    }
}
