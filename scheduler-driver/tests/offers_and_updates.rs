//! Offers, launches, status updates and their acknowledgements, and the
//! other events a master sends a framework.

mod support;

use bytes::Bytes;
use mesos_proto::internal::{
    ExecutorToFrameworkMessage, ExitedExecutorMessage, LostSlaveMessage,
    RescindResourceOfferMessage, ResourceOffersMessage, StatusUpdate, StatusUpdateMessage,
};
use mesos_proto::mesos::{
    offer, value, CommandInfo, ExecutorId, Filters, FrameworkId, Offer, OfferId, Resource, SlaveId,
    TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_proto::scheduler::call;
use mesos_scheduler::{MesosSchedulerDriver, SchedulerDriver};
use support::*;

const FRAMEWORK: &str = "framework-o";

fn offer(id: &str, agent: &str) -> Offer {
    Offer {
        id: OfferId { value: id.into() },
        framework_id: FrameworkId {
            value: FRAMEWORK.into(),
        },
        slave_id: SlaveId {
            value: agent.into(),
        },
        hostname: "localhost".into(),
        resources: vec![Resource {
            name: "cpus".into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: 2.0 }),
            ..Resource::default()
        }],
        ..Offer::default()
    }
}

fn task_for(offer: &Offer, id: &str) -> TaskInfo {
    TaskInfo {
        name: format!("Task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: offer.slave_id.clone(),
        resources: offer.resources.clone(),
        command: Some(CommandInfo {
            value: Some("sleep 0.1".into()),
            ..CommandInfo::default()
        }),
        ..TaskInfo::default()
    }
}

fn update(task: &str, agent: &str, state: TaskState, uuid: Option<&'static [u8]>) -> StatusUpdate {
    StatusUpdate {
        framework_id: FrameworkId {
            value: FRAMEWORK.into(),
        },
        slave_id: Some(SlaveId {
            value: agent.into(),
        }),
        timestamp: 1.0,
        uuid: uuid.map(Bytes::from_static),
        status: TaskStatus {
            task_id: TaskId { value: task.into() },
            state: state as i32,
            slave_id: Some(SlaveId {
                value: agent.into(),
            }),
            uuid: uuid.map(Bytes::from_static),
            ..TaskStatus::default()
        },
        executor_id: None,
        latest_state: None,
    }
}

#[test]
fn offers_reach_the_scheduler_and_a_launch_from_the_callback_is_an_accept() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let scheduler = scheduler.on_offers(|driver, offers| {
        for offer in offers {
            let task = task_for(offer, "0");
            let filters = Filters {
                refuse_seconds: Some(5.0),
            };
            driver.launch_tasks(std::slice::from_ref(&offer.id), &[task], &filters);
        }
    });
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, FRAMEWORK);

    let offered = offer("o-1", "agent-1");
    master.send(
        &pid,
        ResourceOffersMessage {
            offers: vec![offered.clone()],
            pids: vec![master.runtime.upid("slave(1)").to_string()],
        },
    );
    assert_eq!(next(&heard), Heard::Offers(vec![offered.clone()]));

    let (from, accept) = master.next_call(call::Type::Accept);
    assert_eq!(from, pid);
    assert_eq!(accept.framework_id.unwrap().value, FRAMEWORK);
    let accept = accept.accept.unwrap();
    assert_eq!(accept.offer_ids, vec![offered.id.clone()]);
    assert_eq!(
        accept.filters,
        Some(Filters {
            refuse_seconds: Some(5.0)
        })
    );
    assert_eq!(accept.operations.len(), 1);
    let operation = &accept.operations[0];
    assert_eq!(
        operation.r#type,
        Some(offer::operation::Type::Launch as i32)
    );
    let tasks = &operation.launch.as_ref().unwrap().task_infos;
    assert_eq!(tasks, &vec![task_for(&offered, "0")]);
    driver.stop(false);
}

#[test]
fn an_agent_update_is_delivered_then_acknowledged_implicitly() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, FRAMEWORK);
    let agent_pid = master.runtime.upid("slave(1)").to_string();

    master.send(
        &pid,
        StatusUpdateMessage {
            update: update("0", "agent-1", TaskState::TaskRunning, Some(b"uuid-0001")),
            pid: Some(agent_pid.clone()),
        },
    );
    match next(&heard) {
        Heard::Status(status) => {
            assert_eq!(status.state, TaskState::TaskRunning as i32);
            assert_eq!(status.uuid.as_deref(), Some(&b"uuid-0001"[..]));
        }
        other => panic!("expected a status update, got {other:?}"),
    }
    let (_, ack) = master.next_call(call::Type::Acknowledge);
    assert_eq!(ack.framework_id.unwrap().value, FRAMEWORK);
    let ack = ack.acknowledge.unwrap();
    assert_eq!(ack.slave_id.value, "agent-1");
    assert_eq!(ack.task_id.value, "0");
    assert_eq!(&ack.uuid[..], b"uuid-0001");

    // A master-generated update (reconciliation) has no uuid: the
    // scheduler hears it, nobody acknowledges it.
    master.send(
        &pid,
        StatusUpdateMessage {
            update: update("9", "agent-1", TaskState::TaskLost, None),
            pid: None,
        },
    );
    match next(&heard) {
        Heard::Status(status) => {
            assert_eq!(status.task_id.value, "9");
            assert_eq!(status.uuid, None);
        }
        other => panic!("expected a status update, got {other:?}"),
    }
    master.expect_nothing_more_from(&runtime);

    // An update for another framework is dropped.
    let mut foreign = update("0", "agent-1", TaskState::TaskFinished, Some(b"uuid-0002"));
    foreign.framework_id.value = "someone-else".into();
    master.send(
        &pid,
        StatusUpdateMessage {
            update: foreign,
            pid: Some(agent_pid),
        },
    );
    driver.reconcile_tasks(&[]);
    master.next_call(call::Type::Reconcile);
    assert!(
        heard.try_recv().is_err(),
        "the foreign update reached the scheduler"
    );
    driver.stop(false);
}

#[test]
fn explicit_acknowledgements_are_sent_only_when_asked() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = MesosSchedulerDriver::builder(scheduler, framework(), master.address())
        .runtime(runtime.clone())
        .implicit_acknowledgements(false)
        .build();
    let pid = start_and_register(&driver, &master, &heard, FRAMEWORK);

    master.send(
        &pid,
        StatusUpdateMessage {
            update: update("0", "agent-1", TaskState::TaskFinished, Some(b"uuid-1")),
            pid: Some(master.runtime.upid("slave(1)").to_string()),
        },
    );
    let status = match next(&heard) {
        Heard::Status(status) => status,
        other => panic!("expected a status update, got {other:?}"),
    };
    master.expect_nothing_more_from(&runtime);

    assert_eq!(
        driver.acknowledge_status_update(&status),
        mesos_proto::mesos::Status::DriverRunning
    );
    let (_, ack) = master.next_call(call::Type::Acknowledge);
    assert_eq!(&ack.acknowledge.unwrap().uuid[..], b"uuid-1");

    // A status without a uuid needs no acknowledgement.
    let mut no_uuid = status.clone();
    no_uuid.uuid = None;
    driver.acknowledge_status_update(&no_uuid);
    master.expect_nothing_more_from(&runtime);
    driver.stop(false);
}

#[test]
fn rescinds_losses_and_executor_messages_reach_the_scheduler() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, FRAMEWORK);
    let agent = SlaveId {
        value: "agent-1".into(),
    };
    let executor = ExecutorId {
        value: "executor-1".into(),
    };

    master.send(
        &pid,
        RescindResourceOfferMessage {
            offer_id: OfferId {
                value: "o-9".into(),
            },
        },
    );
    assert_eq!(
        next(&heard),
        Heard::Rescinded(OfferId {
            value: "o-9".into()
        })
    );

    master.send(
        &pid,
        LostSlaveMessage {
            slave_id: agent.clone(),
        },
    );
    assert_eq!(next(&heard), Heard::SlaveLost(agent.clone()));

    master.send(
        &pid,
        ExitedExecutorMessage {
            slave_id: agent.clone(),
            framework_id: FrameworkId {
                value: FRAMEWORK.into(),
            },
            executor_id: executor.clone(),
            status: 256,
        },
    );
    assert_eq!(
        next(&heard),
        Heard::ExecutorLost(executor.clone(), agent.clone(), 256)
    );

    // Executor messages come straight from the agent.
    master.send_as(
        "slave(1)",
        &pid,
        ExecutorToFrameworkMessage {
            slave_id: agent.clone(),
            framework_id: FrameworkId {
                value: FRAMEWORK.into(),
            },
            executor_id: executor.clone(),
            data: Bytes::from_static(b"hello"),
        },
    );
    assert_eq!(
        next(&heard),
        Heard::Message(executor, agent, b"hello".to_vec())
    );

    // Offers from a process that is not the master are ignored.
    master.send_as(
        "impostor",
        &pid,
        ResourceOffersMessage {
            offers: vec![offer("o-x", "agent-1")],
            pids: vec![String::new()],
        },
    );
    master.send(
        &pid,
        RescindResourceOfferMessage {
            offer_id: OfferId {
                value: "o-10".into(),
            },
        },
    );
    assert_eq!(
        next(&heard),
        Heard::Rescinded(OfferId {
            value: "o-10".into()
        })
    );
    driver.stop(false);
}

#[test]
fn framework_messages_go_to_the_agent_that_runs_the_task_else_through_the_master() {
    let master = FakeMaster::start();
    let (agent_tx, agent_seen) = std::sync::mpsc::channel();
    master
        .runtime
        .spawn("slave(1)", Recorder::new(agent_tx))
        .expect("agent spawns");
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    let pid = start_and_register(&driver, &master, &heard, FRAMEWORK);

    let offered = offer("o-1", "agent-1");
    master.send(
        &pid,
        ResourceOffersMessage {
            offers: vec![offered.clone()],
            pids: vec![master.runtime.upid("slave(1)").to_string()],
        },
    );
    assert!(matches!(next(&heard), Heard::Offers(_)));
    driver.launch_tasks(
        std::slice::from_ref(&offered.id),
        &[task_for(&offered, "0")],
        &Filters::default(),
    );
    master.next_call(call::Type::Accept);

    let executor = ExecutorId { value: "0".into() };
    driver.send_framework_message(&executor, &offered.slave_id, b"direct");
    match agent_seen
        .recv_timeout(WAIT)
        .expect("the agent got the message")
    {
        Seen::ToExecutor(message) => {
            assert_eq!(&message.data[..], b"direct");
            assert_eq!(message.framework_id.value, FRAMEWORK);
            assert_eq!(message.executor_id, executor);
        }
        other => panic!("expected a framework message, got {other:?}"),
    }

    // An agent the driver launched nothing on: through the master.
    let other = SlaveId {
        value: "agent-2".into(),
    };
    driver.send_framework_message(&executor, &other, b"relayed");
    let (_, message) = master.next_call(call::Type::Message);
    let message = message.message.unwrap();
    assert_eq!(message.slave_id, other);
    assert_eq!(&message.data[..], b"relayed");
    driver.stop(false);
}

#[test]
fn decline_kill_revive_suppress_request_and_reconcile_are_calls() {
    let master = FakeMaster::start();
    let runtime = driver_runtime();
    let (scheduler, heard) = Recording::new();
    let driver = driver(scheduler, framework(), &master, &runtime);
    start_and_register(&driver, &master, &heard, FRAMEWORK);

    driver.decline_offer(
        &OfferId {
            value: "o-1".into(),
        },
        &Filters {
            refuse_seconds: Some(30.0),
        },
    );
    let (_, decline) = master.next_call(call::Type::Decline);
    let decline = decline.decline.unwrap();
    assert_eq!(
        decline.offer_ids,
        vec![OfferId {
            value: "o-1".into()
        }]
    );
    assert_eq!(
        decline.filters,
        Some(Filters {
            refuse_seconds: Some(30.0)
        })
    );

    driver.kill_task(&TaskId { value: "t".into() });
    let (_, kill) = master.next_call(call::Type::Kill);
    assert_eq!(kill.kill.unwrap().task_id.value, "t");

    driver.suppress_offers(&[]);
    assert_eq!(master.next_call(call::Type::Suppress).1.suppress, None);
    driver.revive_offers(&["*".to_string()]);
    let (_, revive) = master.next_call(call::Type::Revive);
    assert_eq!(revive.revive.unwrap().roles, vec!["*".to_string()]);

    driver.request_resources(&[mesos_proto::mesos::Request::default()]);
    assert_eq!(
        master
            .next_call(call::Type::Request)
            .1
            .request
            .unwrap()
            .requests
            .len(),
        1
    );

    let known = TaskStatus {
        task_id: TaskId { value: "t".into() },
        slave_id: Some(SlaveId {
            value: "agent-1".into(),
        }),
        ..TaskStatus::default()
    };
    driver.reconcile_tasks(&[known]);
    let (_, reconcile) = master.next_call(call::Type::Reconcile);
    let tasks = reconcile.reconcile.unwrap().tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task_id.value, "t");
    assert_eq!(tasks[0].slave_id.as_ref().unwrap().value, "agent-1");

    let mut updated = framework();
    updated.id = Some(FrameworkId {
        value: FRAMEWORK.into(),
    });
    updated.name = "Renamed".into();
    driver.update_framework(&updated, &["*".to_string()], &Default::default());
    let (_, update) = master.next_call(call::Type::UpdateFramework);
    assert_eq!(update.framework_id.unwrap().value, FRAMEWORK);
    let update = update.update_framework.unwrap();
    assert_eq!(update.framework_info.name, "Renamed");
    assert_eq!(update.suppressed_roles, vec!["*".to_string()]);
    driver.stop(false);
}
