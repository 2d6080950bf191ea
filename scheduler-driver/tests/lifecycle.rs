//! The driver's status transitions: stop with and without failover,
//! abort, errors from the master, and operations outside DRIVER_RUNNING.

mod support;

use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};

use libprocess::testing::Match;

use mesos_proto::internal::FrameworkErrorMessage;
use mesos_proto::mesos::{FrameworkId, Status, TaskId};
use mesos_proto::scheduler::call;
use mesos_scheduler::{MesosSchedulerDriver, SchedulerDriver};
use support::*;

#[test]
fn stop_without_failover_tears_the_framework_down() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    start_and_register(&driver, &master, &heard, "framework-s");

    assert_eq!(driver.stop(false), Status::DriverStopped);
    assert_eq!(driver.join(), Status::DriverStopped);
    let (_, teardown) = master.next_call(call::Type::Teardown);
    assert_eq!(teardown.framework_id.unwrap().value, "framework-s");

    // Stopped: everything is refused, with the status that refused it.
    assert_eq!(driver.kill_task(&TaskId::default()), Status::DriverStopped);
    assert_eq!(driver.abort(), Status::DriverStopped);
    assert_eq!(driver.start(), Status::DriverStopped);
    assert_eq!(driver.stop(false), Status::DriverStopped);
    master.expect_nothing_more_from(&runtime);
}

#[test]
fn stop_with_failover_leaves_the_framework_registered() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    start_and_register(&driver, &master, &heard, "framework-f");

    assert_eq!(driver.stop(true), Status::DriverStopped);
    assert_eq!(driver.join(), Status::DriverStopped);
    master.expect_nothing_more_from(&runtime);
}

#[test]
fn a_framework_error_aborts_the_driver_then_reaches_the_scheduler() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, "framework-e");

    master.send(
        &pid,
        FrameworkErrorMessage {
            message: "Framework has been removed".into(),
        },
    );
    assert_eq!(
        next(&heard),
        Heard::Error("Framework has been removed".into())
    );
    assert_eq!(driver.join(), Status::DriverAborted);
    assert_eq!(driver.status(), Status::DriverAborted);

    // Aborting tells the master to deactivate the framework.
    match master.next() {
        Seen::Deactivate(id) => assert_eq!(
            id,
            FrameworkId {
                value: "framework-e".into()
            }
        ),
        other => panic!("expected DeactivateFrameworkMessage, got {other:?}"),
    }
    // Aborted: operations are refused; stop still stops (and says it
    // was aborted). Like libmesos's `SchedulerProcess::stop`, a stop
    // without failover while connected still tears the framework down.
    assert_eq!(driver.kill_task(&TaskId::default()), Status::DriverAborted);
    assert_eq!(driver.stop(false), Status::DriverAborted);
    assert_eq!(driver.status(), Status::DriverStopped);
    let (_, teardown) = master.next_call(call::Type::Teardown);
    assert_eq!(teardown.framework_id.unwrap().value, "framework-e");
    master.expect_nothing_more_from(&runtime);
}

#[test]
fn nothing_is_delivered_after_abort() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, "framework-a");

    assert_eq!(driver.abort(), Status::DriverAborted);
    assert_eq!(driver.join(), Status::DriverAborted);
    match master.next() {
        Seen::Deactivate(_) => {}
        other => panic!("expected DeactivateFrameworkMessage, got {other:?}"),
    }

    // An error arriving after the abort is not delivered: once the
    // process ends (and drops the scheduler), nothing was heard.
    let arrived = runtime
        .filters()
        .future(Match::protobuf::<FrameworkErrorMessage>());
    master.send(
        &pid,
        FrameworkErrorMessage {
            message: "late".into(),
        },
    );
    runtime.block_on(async move { tokio::time::timeout(WAIT, arrived).await.is_ok() });
    assert_eq!(driver.stop(true), Status::DriverAborted);
    assert_eq!(
        heard.recv_timeout(WAIT),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn run_blocks_until_a_callback_stops_the_driver() {
    struct StopOnRegistered(Arc<Mutex<Vec<&'static str>>>);
    impl mesos_scheduler::Scheduler for StopOnRegistered {
        fn registered(
            &mut self,
            d: &dyn SchedulerDriver,
            _: &FrameworkId,
            _: &mesos_proto::mesos::MasterInfo,
        ) {
            self.0.lock().unwrap().push("registered");
            assert_eq!(d.stop(false), Status::DriverStopped);
        }
        fn reregistered(&mut self, _: &dyn SchedulerDriver, _: &mesos_proto::mesos::MasterInfo) {}
        fn disconnected(&mut self, _: &dyn SchedulerDriver) {}
        fn resource_offers(&mut self, _: &dyn SchedulerDriver, _: &[mesos_proto::mesos::Offer]) {}
        fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, _: &mesos_proto::mesos::OfferId) {}
        fn status_update(&mut self, _: &dyn SchedulerDriver, _: &mesos_proto::mesos::TaskStatus) {}
        fn framework_message(
            &mut self,
            _: &dyn SchedulerDriver,
            _: &mesos_proto::mesos::ExecutorId,
            _: &mesos_proto::mesos::SlaveId,
            _: &[u8],
        ) {
        }
        fn slave_lost(&mut self, _: &dyn SchedulerDriver, _: &mesos_proto::mesos::SlaveId) {}
        fn executor_lost(
            &mut self,
            _: &dyn SchedulerDriver,
            _: &mesos_proto::mesos::ExecutorId,
            _: &mesos_proto::mesos::SlaveId,
            _: i32,
        ) {
        }
        fn error(&mut self, _: &dyn SchedulerDriver, _: &str) {}
    }

    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let log = Arc::new(Mutex::new(Vec::new()));
    let driver =
        MesosSchedulerDriver::builder(StopOnRegistered(log.clone()), framework(), master.address())
            .runtime(runtime.clone())
            .build();
    let running = driver.clone();
    let run = std::thread::spawn(move || running.run());

    let (from, _) = master.next_call(call::Type::Subscribe);
    master.register(&from, "framework-r");
    assert_eq!(run.join().unwrap(), Status::DriverStopped);
    assert_eq!(*log.lock().unwrap(), vec!["registered"]);
    master.next_call(call::Type::Teardown);
}

#[test]
fn dropping_the_last_handle_ends_the_process() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, "framework-d");
    drop(driver);
    // The process is gone, and the scheduler with it: the message is
    // never heard.
    master.send(
        &pid,
        FrameworkErrorMessage {
            message: "x".into(),
        },
    );
    assert_eq!(
        heard.recv_timeout(WAIT),
        Err(RecvTimeoutError::Disconnected)
    );
}
