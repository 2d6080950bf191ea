//! Registration: retries with backoff, failover with a framework id,
//! disconnection when the master goes away and re-registration when it
//! comes back, and bad `--master` values.

mod support;

use std::time::Duration;

use libprocess::testing::Match;
use mesos_proto::internal::FrameworkReregisteredMessage;
use mesos_proto::mesos::{FrameworkId, Status};
use mesos_proto::scheduler::{call, Call};
use mesos_scheduler::{MesosSchedulerDriver, SchedulerDriver};
use prost::Message as _;
use support::*;

#[test]
fn registration_is_retried_when_the_first_subscribe_is_dropped() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);

    let filters = master.runtime.filters();
    let first = filters.future(Match::protobuf::<Call>());
    filters.drop_all(Match::protobuf::<Call>());
    assert_eq!(driver.start(), Status::DriverRunning);

    let first = runtime.block_on(async move {
        tokio::time::timeout(WAIT, first)
            .await
            .expect("first SUBSCRIBE in time")
            .unwrap()
    });
    let first = Call::decode(first.body).unwrap();
    assert_eq!(first.r#type, Some(call::Type::Subscribe as i32));
    assert_eq!(first.framework_id, None, "a new framework has no id yet");
    let subscribe = first.subscribe.expect("subscribe is set");
    assert_eq!(subscribe.framework_info.name, "Driver Test Framework");
    assert_eq!(subscribe.force, None);
    assert!(
        subscribe.offer_constraints.is_some(),
        "libmesos always sends offer_constraints"
    );
    filters.clear();

    // The clock is paused: nothing is retried until it moves. Then the
    // retry comes within the first backoff interval (2s).
    runtime.clock().advance(Duration::from_secs(2));
    let (from, retry) = master.next_call(call::Type::Subscribe);
    assert_eq!(
        retry.subscribe.unwrap().framework_info.name,
        "Driver Test Framework"
    );
    assert!(
        heard.try_recv().is_err(),
        "not registered before the master answers"
    );

    master.register(&from, "framework-1");
    assert_eq!(
        next(&heard),
        Heard::Registered(FrameworkId {
            value: "framework-1".into()
        })
    );

    // Registered: however far the clock moves, no more SUBSCRIBEs.
    runtime.clock().advance(Duration::from_secs(600));
    master.expect_nothing_more_from(&runtime);
    assert_eq!(driver.stop(false), Status::DriverStopped);
    master.next_call(call::Type::Teardown);
}

#[test]
fn a_registration_from_another_process_is_ignored() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    assert_eq!(driver.start(), Status::DriverRunning);
    let (from, _) = master.next_call(call::Type::Subscribe);

    master.send_as(
        "impostor",
        &from,
        mesos_proto::internal::FrameworkRegisteredMessage {
            framework_id: FrameworkId {
                value: "stolen".into(),
            },
            master_info: master.info(),
        },
    );
    master.register(&from, "framework-2");
    assert_eq!(
        next(&heard),
        Heard::Registered(FrameworkId {
            value: "framework-2".into()
        })
    );
    driver.stop(true);
}

#[test]
fn failover_subscribes_with_the_framework_id_and_force() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let mut info = framework();
    info.id = Some(FrameworkId {
        value: "framework-3".into(),
    });
    info.failover_timeout = Some(3600.0);
    let driver = driver(scheduler, info, &master, &runtime);
    assert_eq!(driver.start(), Status::DriverRunning);

    let (from, subscribe) = master.next_call(call::Type::Subscribe);
    assert_eq!(
        subscribe.framework_id.as_ref().unwrap().value,
        "framework-3"
    );
    let body = subscribe.subscribe.unwrap();
    assert_eq!(
        body.force,
        Some(true),
        "a failing-over scheduler replaces the old one"
    );
    assert_eq!(body.framework_info.id.unwrap().value, "framework-3");

    // After a failover the master answers "registered", and so does the
    // driver's scheduler.
    master.register(&from, "framework-3");
    assert_eq!(
        next(&heard),
        Heard::Registered(FrameworkId {
            value: "framework-3".into()
        })
    );
    driver.stop(true);
}

#[test]
fn master_exit_disconnects_and_the_driver_reregisters_when_it_returns() {
    let master = FakeMaster::start();
    let port = master.runtime.address().port();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, "framework-4");

    master.runtime.shutdown();
    assert_eq!(next(&heard), Heard::Disconnected);

    // While disconnected, a launch cannot reach the master: the driver
    // answers it with TASK_LOST itself.
    let task = mesos_proto::mesos::TaskInfo {
        name: "t".into(),
        task_id: mesos_proto::mesos::TaskId { value: "t1".into() },
        ..Default::default()
    };
    driver.launch_tasks(
        &[mesos_proto::mesos::OfferId { value: "o1".into() }],
        &[task],
        &Default::default(),
    );
    match next(&heard) {
        Heard::Status(status) => {
            assert_eq!(status.task_id.value, "t1");
            assert_eq!(status.state, mesos_proto::mesos::TaskState::TaskLost as i32);
            assert_eq!(
                status.reason,
                Some(mesos_proto::mesos::task_status::Reason::MasterDisconnected as i32)
            );
            assert_eq!(status.uuid, None);
        }
        other => panic!("expected TASK_LOST, got {other:?}"),
    }

    // The master comes back at the same address.
    let master = FakeMaster::start_on(port);
    let subscribe = loop {
        runtime.clock().advance(Duration::from_secs(60));
        match master.seen.recv_timeout(Duration::from_secs(2)) {
            Ok(Seen::Call(_, call)) if call.r#type == Some(call::Type::Subscribe as i32) => {
                break call
            }
            Ok(other) => panic!("expected SUBSCRIBE, got {other:?}"),
            Err(_) => continue,
        }
    };
    assert_eq!(subscribe.framework_id.unwrap().value, "framework-4");
    assert_eq!(
        subscribe.subscribe.unwrap().force,
        Some(false),
        "not a failover"
    );

    master.send(
        &pid,
        FrameworkReregisteredMessage {
            framework_id: FrameworkId {
                value: "framework-4".into(),
            },
            master_info: master.info(),
        },
    );
    assert_eq!(next(&heard), Heard::Reregistered);

    // Connected again: operations reach the new master. (Retries sent
    // before the answer arrived may come first.)
    driver.reconcile_tasks(&[]);
    let reconcile = loop {
        match master.next() {
            Seen::Call(_, c) if c.r#type == Some(call::Type::Subscribe as i32) => continue,
            Seen::Call(_, c) if c.r#type == Some(call::Type::Reconcile as i32) => break *c,
            other => panic!("expected RECONCILE, got {other:?}"),
        }
    };
    assert_eq!(reconcile.framework_id.unwrap().value, "framework-4");
    driver.stop(false);
    master.next_call(call::Type::Teardown);
}

#[test]
fn a_wrong_master_is_a_clear_error_and_aborts() {
    for (value, expected) in [
        (
            "nonsense",
            "Failed to create a master detector for 'nonsense': invalid master 'nonsense'",
        ),
        (
            "zk://10.0.0.1:2181/mesos",
            "ZooKeeper master detection (zk://) is not supported yet",
        ),
        (
            "file:///no/such/file",
            "failed to read the master from file '/no/such/file'",
        ),
    ] {
        let (scheduler, heard) = Recording::new();
        let driver = MesosSchedulerDriver::new(scheduler, framework(), value);
        assert_eq!(driver.start(), Status::DriverAborted, "{value}");
        match next(&heard) {
            Heard::Error(message) => assert!(message.contains(expected), "{value}: {message}"),
            other => panic!("{value}: expected an error, got {other:?}"),
        }
        // Nothing was started: join returns at once, operations are refused.
        assert_eq!(driver.join(), Status::DriverAborted);
        assert_eq!(driver.kill_task(&Default::default()), Status::DriverAborted);
        assert_eq!(driver.start(), Status::DriverAborted);
        assert!(driver.pid().is_none());
    }
}
