//! Full type names (the libprocess message names) and enum numbers, checked
//! against the values Mesos 1.11 uses on the wire.

use mesos_proto::prost::Name;
use mesos_proto::{executor, internal, mesos, scheduler, v1};

#[test]
fn full_names_are_mesos_wire_names() {
    assert_eq!(
        internal::RegisterFrameworkMessage::full_name(),
        "mesos.internal.RegisterFrameworkMessage"
    );
    assert_eq!(
        internal::RegisterSlaveMessage::full_name(),
        "mesos.internal.RegisterSlaveMessage"
    );
    assert_eq!(
        internal::StatusUpdateMessage::full_name(),
        "mesos.internal.StatusUpdateMessage"
    );
    assert_eq!(
        internal::AuthenticateMessage::full_name(),
        "mesos.internal.AuthenticateMessage"
    );
    assert_eq!(internal::Registry::full_name(), "mesos.internal.Registry");
    assert_eq!(
        internal::registry::Slave::full_name(),
        "mesos.internal.Registry.Slave"
    );
    assert_eq!(
        internal::state::Entry::full_name(),
        "mesos.internal.state.Entry"
    );
    assert_eq!(
        internal::slave::ResourceState::full_name(),
        "mesos.internal.slave.ResourceState"
    );
    assert_eq!(scheduler::Call::full_name(), "mesos.scheduler.Call");
    assert_eq!(scheduler::Event::full_name(), "mesos.scheduler.Event");
    assert_eq!(
        scheduler::call::Subscribe::full_name(),
        "mesos.scheduler.Call.Subscribe"
    );
    assert_eq!(executor::Call::full_name(), "mesos.executor.Call");
    assert_eq!(mesos::FrameworkId::full_name(), "mesos.FrameworkID");
    assert_eq!(
        mesos::resource::disk_info::source::Path::full_name(),
        "mesos.Resource.DiskInfo.Source.Path"
    );
    assert_eq!(v1::AgentId::full_name(), "mesos.v1.AgentID");
    assert_eq!(v1::scheduler::Call::full_name(), "mesos.v1.scheduler.Call");
    assert_eq!(v1::executor::Event::full_name(), "mesos.v1.executor.Event");
    assert_eq!(v1::master::Call::full_name(), "mesos.v1.master.Call");
    assert_eq!(
        mesos_proto::full_name::<internal::PingSlaveMessage>(),
        "mesos.internal.PingSlaveMessage"
    );
    assert_eq!(
        internal::PingSlaveMessage::type_url(),
        "/mesos.internal.PingSlaveMessage"
    );
}

#[test]
fn task_state_numbers() {
    use mesos::TaskState as S;
    let expected = [
        (S::TaskStaging, 6),
        (S::TaskStarting, 0),
        (S::TaskRunning, 1),
        (S::TaskKilling, 8),
        (S::TaskFinished, 2),
        (S::TaskFailed, 3),
        (S::TaskKilled, 4),
        (S::TaskError, 7),
        (S::TaskLost, 5),
        (S::TaskDropped, 9),
        (S::TaskUnreachable, 10),
        (S::TaskGone, 11),
        (S::TaskGoneByOperator, 12),
        (S::TaskUnknown, 13),
    ];
    for (state, n) in expected {
        assert_eq!(state as i32, n, "{state:?}");
        assert_eq!(S::try_from(n).unwrap(), state);
    }
    assert_eq!(S::TaskLost.as_str_name(), "TASK_LOST");
    // proto2: an enum without an explicit default takes its first value.
    assert_eq!(S::default(), S::TaskStaging);
    assert_eq!(v1::TaskState::TaskLost as i32, 5);
}

#[test]
fn task_status_source_and_reason_numbers() {
    use mesos::task_status::{Reason as R, Source};
    assert_eq!(Source::Master as i32, 0);
    assert_eq!(Source::Slave as i32, 1);
    assert_eq!(Source::Executor as i32, 2);
    let expected = [
        (R::CommandExecutorFailed, 0),
        (R::ExecutorTerminated, 1),
        (R::ExecutorUnregistered, 2),
        (R::FrameworkRemoved, 3),
        (R::GcError, 4),
        (R::InvalidFrameworkid, 5),
        (R::InvalidOffers, 6),
        (R::MasterDisconnected, 7),
        (R::ContainerLimitationMemory, 8),
        (R::Reconciliation, 9),
        (R::SlaveDisconnected, 10),
        (R::SlaveRemoved, 11),
        (R::SlaveRestarted, 12),
        (R::SlaveUnknown, 13),
        (R::TaskInvalid, 14),
        (R::TaskUnauthorized, 15),
        (R::TaskUnknown, 16),
        (R::ContainerPreempted, 17),
        (R::ResourcesUnknown, 18),
        (R::ContainerLimitation, 19),
        (R::ContainerLimitationDisk, 20),
        (R::ContainerLaunchFailed, 21),
        (R::ContainerUpdateFailed, 22),
        (R::ExecutorRegistrationTimeout, 23),
        (R::ExecutorReregistrationTimeout, 24),
        (R::TaskGroupInvalid, 25),
        (R::TaskGroupUnauthorized, 26),
        (R::IoSwitchboardExited, 27),
        (R::TaskCheckStatusUpdated, 28),
        (R::TaskHealthCheckStatusUpdated, 29),
        (R::TaskKilledDuringLaunch, 30),
        (R::SlaveRemovedByOperator, 31),
        (R::SlaveReregistered, 32),
        (R::MaxCompletionTimeReached, 33),
        (R::SlaveDraining, 34),
    ];
    for (reason, n) in expected {
        assert_eq!(reason as i32, n, "{reason:?}");
    }
    assert_eq!(
        R::ContainerLimitationMemory.as_str_name(),
        "REASON_CONTAINER_LIMITATION_MEMORY"
    );
}

#[test]
fn offer_operation_type_numbers() {
    use mesos::offer::operation::Type as T;
    let expected = [
        (T::Unknown, 0),
        (T::Launch, 1),
        (T::LaunchGroup, 6),
        (T::Reserve, 2),
        (T::Unreserve, 3),
        (T::Create, 4),
        (T::Destroy, 5),
        (T::GrowVolume, 11),
        (T::ShrinkVolume, 12),
        (T::CreateDisk, 13),
        (T::DestroyDisk, 14),
    ];
    for (t, n) in expected {
        assert_eq!(t as i32, n, "{t:?}");
    }
}

#[test]
fn scheduler_call_and_event_type_numbers() {
    use scheduler::call::Type as C;
    let calls = [
        (C::Unknown, 0),
        (C::Subscribe, 1),
        (C::Teardown, 2),
        (C::Accept, 3),
        (C::Decline, 4),
        (C::Revive, 5),
        (C::Kill, 6),
        (C::Shutdown, 7),
        (C::Acknowledge, 8),
        (C::Reconcile, 9),
        (C::Message, 10),
        (C::Request, 11),
        (C::Suppress, 12),
        (C::AcceptInverseOffers, 13),
        (C::DeclineInverseOffers, 14),
        (C::AcknowledgeOperationStatus, 15),
        (C::ReconcileOperations, 16),
        (C::UpdateFramework, 17),
    ];
    for (t, n) in calls {
        assert_eq!(t as i32, n, "{t:?}");
        assert_eq!(
            v1::scheduler::call::Type::try_from(n)
                .unwrap()
                .as_str_name(),
            t.as_str_name()
        );
    }
    use scheduler::event::Type as E;
    let events = [
        (E::Unknown, 0),
        (E::Subscribed, 1),
        (E::Offers, 2),
        (E::Rescind, 3),
        (E::Update, 4),
        (E::Message, 5),
        (E::Failure, 6),
        (E::Error, 7),
        (E::Heartbeat, 8),
        (E::InverseOffers, 9),
        (E::RescindInverseOffer, 10),
        (E::UpdateOperationStatus, 11),
    ];
    for (t, n) in events {
        assert_eq!(t as i32, n, "{t:?}");
    }
}

#[test]
fn proto2_defaults_match_mesos() {
    // Getters of unset optional fields return the schema's default values.
    let agent = mesos::SlaveInfo::default();
    assert_eq!(agent.port(), 5051);
    assert!(!agent.checkpoint());
    let framework = mesos::FrameworkInfo::default();
    assert_eq!(framework.role(), "*");
    assert_eq!(framework.failover_timeout(), 0.0);
    let health = mesos::HealthCheck::default();
    assert_eq!(health.delay_seconds(), 15.0);
    assert_eq!(health.interval_seconds(), 10.0);
    assert_eq!(health.timeout_seconds(), 20.0);
    assert_eq!(health.consecutive_failures(), 3);
    assert_eq!(health.grace_period_seconds(), 10.0);
    let command = mesos::CommandInfo::default();
    assert!(command.shell());
    assert!(mesos::command_info::Uri::default().extract());
    // Unset optional fields are not encoded at all; the required `hostname`
    // always is (tag 0x0a = field 1, length-delimited; length 0).
    assert_eq!(
        mesos_proto::prost::Message::encode_to_vec(&agent),
        [0x0a, 0x00]
    );
}
