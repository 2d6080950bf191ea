//! The master driven over loopback by test agents and test schedulers
//! speaking the real protocol.

mod support;

use std::time::Duration;

use mesos_proto::internal::*;
use mesos_proto::mesos::{
    self, framework_info, value, CommandInfo, FrameworkId, FrameworkInfo, OfferId, Resource,
    SlaveId, SlaveInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_proto::scheduler::{call, Call};
use support::{Peer, TestMaster, BOUND};

fn scalar(name: &str, v: f64) -> Resource {
    #[allow(deprecated)]
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        role: Some("*".into()),
        ..Default::default()
    }
}

fn agent_info() -> SlaveInfo {
    SlaveInfo {
        hostname: "localhost".into(),
        resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
        port: Some(5051),
        ..Default::default()
    }
}

/// Registers a test agent; returns it and its ID.
fn register_agent(master: &TestMaster) -> (Peer, String) {
    let agent = Peer::start("slave(1)");
    agent.send(
        &master.upid(),
        &RegisterSlaveMessage {
            slave: agent_info(),
            version: Some("1.11.0".into()),
            // What a Mesos 1.11 agent announces (MULTI_ROLE ... AGENT_DRAINING).
            agent_capabilities: (1..=8)
                .map(|t| mesos::slave_info::Capability { r#type: Some(t) })
                .collect(),
            ..Default::default()
        },
    );
    let registered: SlaveRegisteredMessage = agent.expect();
    (agent, registered.slave_id.value)
}

fn framework_info(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        failover_timeout: Some(0.0),
        ..Default::default()
    }
}

/// Subscribes a libmesos-style scheduler with a Call; returns its ID.
fn subscribe(master: &TestMaster, scheduler: &Peer, info: FrameworkInfo) -> String {
    scheduler.send(
        &master.upid(),
        &Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: info,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let registered: FrameworkRegisteredMessage = scheduler.expect();
    registered.framework_id.value
}

fn task(id: &str, agent: &str, cpus: f64) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: SlaveId {
            value: agent.into(),
        },
        resources: vec![scalar("cpus", cpus), scalar("mem", 32.0)],
        command: Some(CommandInfo {
            value: Some("sleep 1".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn accept(framework: &str, offer: &OfferId, tasks: Vec<TaskInfo>) -> Call {
    Call {
        framework_id: Some(FrameworkId {
            value: framework.into(),
        }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: vec![offer.clone()],
            operations: vec![mesos::offer::Operation {
                r#type: Some(mesos::offer::operation::Type::Launch as i32),
                launch: Some(mesos::offer::operation::Launch { task_infos: tasks }),
                ..Default::default()
            }],
            filters: None,
        }),
        ..Default::default()
    }
}

fn agent_update(framework: &str, agent: &str, task: &str, state: TaskState) -> StatusUpdateMessage {
    let uuid = bytes::Bytes::from(uuid::Uuid::new_v4().as_bytes().to_vec());
    StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: FrameworkId {
                value: framework.into(),
            },
            slave_id: Some(SlaveId {
                value: agent.into(),
            }),
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                uuid: Some(uuid.clone()),
                ..Default::default()
            },
            timestamp: 1.0,
            uuid: Some(uuid),
            ..Default::default()
        },
        pid: None,
    }
}

#[test]
fn agent_registers_with_mesos_ids_and_is_pinged() {
    let master = TestMaster::with_args(&["--agent_ping_timeout=1secs"]);
    let (agent, id) = register_agent(&master);
    let master_id = master.inspect(|m| m.id().to_string());
    assert_eq!(id, format!("{master_id}-S0"));
    let ping: PingSlaveMessage = agent.expect();
    assert!(ping.connected);
    let slaves = master.json("/master/slaves");
    assert_eq!(slaves["slaves"][0]["id"], id.as_str());
    assert_eq!(slaves["slaves"][0]["resources"]["cpus"], 2.0);
    assert_eq!(slaves["slaves"][0]["pid"], agent.upid().to_string());
}

#[test]
fn framework_launches_a_task_and_sees_its_updates() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let master_id = master.inspect(|m| m.id().to_string());
    assert_eq!(framework_id, format!("{master_id}-0000"));

    let offers: ResourceOffersMessage = scheduler.expect();
    assert_eq!(offers.offers.len(), 1);
    assert_eq!(offers.pids, vec![agent.upid().to_string()]);
    let offer = &offers.offers[0];
    assert!(offer.id.value.starts_with(&format!("{master_id}-O")));

    scheduler.send(
        &master.upid(),
        &accept(&framework_id, &offer.id, vec![task("t1", &agent_id, 1.0)]),
    );
    let run: RunTaskMessage = agent.expect();
    assert_eq!(run.task.task_id.value, "t1");
    assert_eq!(
        run.pid.as_deref(),
        Some(scheduler.upid().to_string().as_str())
    );

    // RUNNING, forwarded with the agent as acknowledgee.
    let running = agent_update(&framework_id, &agent_id, "t1", TaskState::TaskRunning);
    agent.send(&master.upid(), &running);
    let forwarded: StatusUpdateMessage = scheduler.expect();
    assert_eq!(forwarded.update.status.state, TaskState::TaskRunning as i32);
    assert_eq!(
        forwarded.pid.as_deref(),
        Some(agent.upid().to_string().as_str())
    );
    let state = master.json("/master/state");
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(state["frameworks"][0]["used_resources"]["cpus"], 1.0);

    // The acknowledgement reaches the agent.
    scheduler.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Acknowledge as i32),
            acknowledge: Some(call::Acknowledge {
                slave_id: SlaveId {
                    value: agent_id.clone(),
                },
                task_id: TaskId { value: "t1".into() },
                uuid: running.update.uuid.clone().unwrap(),
            }),
            ..Default::default()
        },
    );
    let ack: StatusUpdateAcknowledgementMessage = agent.expect();
    assert_eq!(ack.uuid, running.update.uuid.unwrap());

    // Kill goes to the agent; FINISHED + ack moves the task to completed.
    scheduler.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Kill as i32),
            kill: Some(call::Kill {
                task_id: TaskId { value: "t1".into() },
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let kill: KillTaskMessage = agent.expect();
    assert_eq!(kill.task_id.value, "t1");
    let finished = agent_update(&framework_id, &agent_id, "t1", TaskState::TaskKilled);
    agent.send(&master.upid(), &finished);
    let _: StatusUpdateMessage = scheduler.expect();
    scheduler.send(
        &master.upid(),
        &StatusUpdateAcknowledgementMessage {
            slave_id: SlaveId {
                value: agent_id.clone(),
            },
            framework_id: FrameworkId {
                value: framework_id.clone(),
            },
            task_id: TaskId { value: "t1".into() },
            uuid: finished.update.uuid.unwrap(),
        },
    );
    let _: StatusUpdateAcknowledgementMessage = agent.expect();
    master.settle();
    let state = master.json("/master/state");
    assert_eq!(state["frameworks"][0]["tasks"].as_array().unwrap().len(), 0);
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_KILLED"
    );
    // Metrics are process-wide gauges (the last master started in this
    // test binary owns them), so read this master's counters directly;
    // tests/metrics.rs checks `/metrics/snapshot` with one master.
    let (killed, valid) =
        master.inspect(|m| (m.metrics().tasks_killed, m.metrics().valid_status_updates));
    assert_eq!((killed, valid), (1, 2));
}

#[test]
fn invalid_launches_get_mesos_errors() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (_agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let offers: ResourceOffersMessage = scheduler.expect();
    let offer = offers.offers[0].id.clone();

    // Too many resources, and no command nor executor.
    let mut no_command = task("t2", &agent_id, 0.5);
    no_command.command = None;
    scheduler.send(
        &master.upid(),
        &accept(
            &framework_id,
            &offer,
            vec![task("t1", &agent_id, 64.0), no_command],
        ),
    );
    let too_big: StatusUpdateMessage = scheduler.expect();
    assert_eq!(too_big.update.status.state, TaskState::TaskError as i32);
    let message = too_big.update.status.message.unwrap();
    assert!(message.contains("more than available"), "{message}");
    let no_cmd: StatusUpdateMessage = scheduler.expect();
    assert_eq!(
        no_cmd.update.status.message.unwrap(),
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
    );

    // The offer is used up: a second accept names an invalid offer.
    scheduler.send(
        &master.upid(),
        &accept(&framework_id, &offer, vec![task("t3", &agent_id, 0.1)]),
    );
    let lost: StatusUpdateMessage = scheduler.expect();
    assert_eq!(lost.update.status.state, TaskState::TaskLost as i32);
    assert_eq!(
        lost.update.status.reason,
        Some(mesos::task_status::Reason::InvalidOffers as i32)
    );
    assert_eq!(
        lost.update.status.message.unwrap(),
        format!(
            "Task launched with invalid offers: Offer {} is no longer valid",
            offer.value
        )
    );
}

#[test]
fn malformed_and_unauthorized_messages_change_nothing() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let _: ResourceOffersMessage = scheduler.expect();
    master.settle();
    let before = master.stable_state();

    let intruder = Peer::start("scheduler-2");
    // Garbage bodies.
    intruder.send_raw(
        &master.upid(),
        "mesos.scheduler.Call",
        vec![0xff, 0xff, 0x01],
    );
    intruder.send_raw(
        &master.upid(),
        "mesos.internal.RegisterSlaveMessage",
        vec![0x0a, 0xff],
    );
    // A Call from a process that is not the framework's scheduler.
    intruder.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Teardown as i32),
            ..Default::default()
        },
    );
    // A Call without its sub-message; one without a framework ID.
    master.settle();
    scheduler.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Accept as i32),
            ..Default::default()
        },
    );
    let last_call = master.next_message::<Call>();
    scheduler.send(
        &master.upid(),
        &Call {
            r#type: Some(call::Type::Decline as i32),
            ..Default::default()
        },
    );
    // A status update for the agent from someone else.
    intruder.send(
        &master.upid(),
        &agent_update(&framework_id, &agent_id, "x", TaskState::TaskRunning),
    );
    // An agent registering with invalid resources.
    let mut bad = agent_info();
    bad.resources[0].scalar = None;
    intruder.send(
        &master.upid(),
        &RegisterSlaveMessage {
            slave: bad,
            ..Default::default()
        },
    );
    let shutdown: ShutdownMessage = intruder.expect();
    assert!(shutdown.message.unwrap().contains("Invalid resources"));
    // Bad HTTP requests.
    assert_eq!(master.get("/master/state.json").0, 404);
    let (status, _) = support::http(
        &master.runtime,
        "POST",
        "/master/teardown",
        "frameworkId=nope",
    );
    assert_eq!(status, 400);

    master.handled(last_call);
    let after = master.stable_state();
    assert_eq!(before["frameworks"], after["frameworks"]);
    assert_eq!(before["slaves"][0]["id"], after["slaves"][0]["id"]);
    assert_eq!(
        before["slaves"].as_array().unwrap().len(),
        after["slaves"].as_array().unwrap().len()
    );
    drop(agent);
}

#[test]
fn scheduler_fails_over_within_timeout_and_is_removed_past_it() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let mut info = framework_info("failover");
    info.failover_timeout = Some(3600.0);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, info.clone());
    let offers: ResourceOffersMessage = scheduler.expect();
    scheduler.send(
        &master.upid(),
        &accept(
            &framework_id,
            &offers.offers[0].id,
            vec![task("t1", &agent_id, 1.0)],
        ),
    );
    let _: RunTaskMessage = agent.expect();
    master.settle();

    // The scheduler dies; a new one takes over with the same ID.
    master.runtime.clock().pause();
    drop(scheduler);
    let connected =
        |m: &TestMaster| m.json("/master/frameworks")["frameworks"][0]["connected"].clone();
    let deadline = std::time::Instant::now() + BOUND;
    while connected(&master) != false {
        assert!(
            std::time::Instant::now() < deadline,
            "disconnection noticed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    master.runtime.clock().advance(Duration::from_secs(1800));
    let successor = Peer::start("scheduler-2");
    info.id = Some(FrameworkId {
        value: framework_id.clone(),
    });
    successor.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: info,
                force: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let registered: FrameworkRegisteredMessage = successor.expect();
    assert_eq!(registered.framework_id.value, framework_id);
    master.runtime.clock().advance(Duration::from_secs(3600));
    master.settle();
    let frameworks = master.json("/master/frameworks");
    assert_eq!(frameworks["frameworks"][0]["connected"], true);
    assert_eq!(frameworks["frameworks"][0]["tasks"][0]["id"], "t1");

    // Now it goes away for longer than its timeout: torn down.
    drop(successor);
    let deadline = std::time::Instant::now() + BOUND;
    while connected(&master) != false {
        assert!(
            std::time::Instant::now() < deadline,
            "disconnection noticed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    master.runtime.clock().advance(Duration::from_secs(3601));
    let shutdown: ShutdownFrameworkMessage = agent.expect();
    assert_eq!(shutdown.framework_id.value, framework_id);
    master.settle();
    let frameworks = master.json("/master/frameworks");
    assert!(frameworks["frameworks"].as_array().unwrap().is_empty());
    assert_eq!(
        frameworks["completed_frameworks"][0]["id"],
        framework_id.as_str()
    );
}

#[test]
fn agent_lost_by_ping_timeout_fails_its_tasks_and_can_reregister() {
    let master = TestMaster::with_args(&[
        "--allocation_interval=50ms",
        "--agent_ping_timeout=1secs",
        "--max_agent_ping_timeouts=2",
    ]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let offers: ResourceOffersMessage = scheduler.expect();
    scheduler.send(
        &master.upid(),
        &accept(
            &framework_id,
            &offers.offers[0].id,
            vec![task("t1", &agent_id, 1.0)],
        ),
    );
    let _: RunTaskMessage = agent.expect();
    master.settle();

    agent.stop_answering_pings();
    let _: PingSlaveMessage = agent.expect();
    master.runtime.clock().pause();
    for _ in 0..3 {
        master.runtime.clock().advance(Duration::from_secs(1));
        master.settle();
    }
    let lost: StatusUpdateMessage = scheduler.expect();
    assert_eq!(lost.update.status.state, TaskState::TaskLost as i32);
    assert_eq!(
        lost.update.status.reason,
        Some(mesos::task_status::Reason::SlaveRemoved as i32)
    );
    let lost_agent: LostSlaveMessage = scheduler.expect();
    assert_eq!(lost_agent.slave_id.value, agent_id);
    master.settle();
    let state = master.json("/master/state");
    assert_eq!(state["slaves"].as_array().unwrap().len(), 0);
    assert_eq!(state["unreachable_slaves"], 1.0);
    master.runtime.clock().resume();

    // It comes back with its ID: readmitted.
    let mut info = agent_info();
    info.id = Some(SlaveId {
        value: agent_id.clone(),
    });
    agent.send(
        &master.upid(),
        &ReregisterSlaveMessage {
            slave: info,
            version: Some("1.11.0".into()),
            ..Default::default()
        },
    );
    let reregistered: SlaveReregisteredMessage = agent.expect();
    assert_eq!(reregistered.slave_id.value, agent_id);
    let state = master.json("/master/state");
    assert_eq!(state["slaves"][0]["id"], agent_id.as_str());
    assert_eq!(state["unreachable_slaves"], 0.0);
}

#[test]
fn reconciliation_answers_known_and_unknown_tasks() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let offers: ResourceOffersMessage = scheduler.expect();
    scheduler.send(
        &master.upid(),
        &accept(
            &framework_id,
            &offers.offers[0].id,
            vec![task("t1", &agent_id, 1.0)],
        ),
    );
    let _: RunTaskMessage = agent.expect();
    // Implicit: every task.
    scheduler.send(
        &master.upid(),
        &ReconcileTasksMessage {
            framework_id: FrameworkId {
                value: framework_id.clone(),
            },
            statuses: vec![],
            framework: None,
        },
    );
    let implicit: StatusUpdateMessage = scheduler.expect();
    assert_eq!(implicit.update.status.task_id.value, "t1");
    assert_eq!(implicit.update.status.state, TaskState::TaskStaging as i32);
    // Explicit: an unknown task on a known agent.
    scheduler.send(
        &master.upid(),
        &ReconcileTasksMessage {
            framework_id: FrameworkId {
                value: framework_id.clone(),
            },
            statuses: vec![TaskStatus {
                task_id: TaskId {
                    value: "nope".into(),
                },
                slave_id: Some(SlaveId {
                    value: agent_id.clone(),
                }),
                ..Default::default()
            }],
            framework: None,
        },
    );
    let explicit: StatusUpdateMessage = scheduler.expect();
    assert_eq!(explicit.update.status.state, TaskState::TaskLost as i32);
    assert_eq!(
        explicit.update.status.message.as_deref(),
        Some("Reconciliation: Task is unknown to the agent")
    );
}

#[test]
fn what_an_ended_task_held_is_offered_again_before_the_next_batch() {
    // The default interval: the next batch is a second away.
    let master = TestMaster::with_args(&[]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let offers: ResourceOffersMessage = scheduler.expect();
    master.runtime.clock().pause();

    let mut whole = task("t1", &agent_id, 2.0);
    whole.resources = agent_info().resources;
    scheduler.send(
        &master.upid(),
        &accept(&framework_id, &offers.offers[0].id, vec![whole]),
    );
    let _: RunTaskMessage = agent.expect();
    let finished = agent_update(&framework_id, &agent_id, "t1", TaskState::TaskFinished);
    agent.send(&master.upid(), &finished);
    let _: StatusUpdateMessage = scheduler.expect();
    // The master gave the resources back as it forwarded the update; once
    // the allocator has taken them, the clock may move.
    let allocator = master.inspect(|m| m.allocator().pid().clone());
    master
        .runtime
        .block_on(async move { allocator.dispatch(|_, _| ()).await })
        .expect("allocator alive");

    // One slice gap of the paused clock later, not a whole interval.
    master
        .runtime
        .clock()
        .advance(mesos_master::allocator::process::MIN_SLICE_GAP);
    let again: ResourceOffersMessage = scheduler.expect();
    assert_eq!(again.offers.len(), 1);
    assert_eq!(again.offers[0].slave_id.value, agent_id);
    let cpus = again.offers[0]
        .resources
        .iter()
        .find(|r| r.name == "cpus")
        .and_then(|r| r.scalar.as_ref())
        .map(|s| s.value);
    assert_eq!(cpus, Some(2.0));

    // The allocator's count of open offers follows the master's through
    // an accept, a finished task and now a decline; had it drifted up,
    // freed resources would wait for the batch for good.
    let open = |master: &TestMaster| {
        master.settle();
        master.inspect(|m| (m.allocator().open_offers(), m.outstanding_offers()))
    };
    assert_eq!(open(&master), (1, 1));
    let declined = master.next_message::<Call>();
    scheduler.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Decline as i32),
            decline: Some(call::Decline {
                offer_ids: vec![again.offers[0].id.clone()],
                filters: None,
            }),
            ..Default::default()
        },
    );
    master.handled(declined);
    assert_eq!(open(&master), (0, 0));
}

#[test]
fn offers_are_rescinded_after_offer_timeout() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms", "--offer_timeout=30secs"]);
    let (_agent, _) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let _ = subscribe(&master, &scheduler, framework_info("test"));
    let offers: ResourceOffersMessage = scheduler.expect();
    master.runtime.clock().pause();
    master.runtime.clock().advance(Duration::from_secs(31));
    let rescind: RescindResourceOfferMessage = scheduler.expect();
    assert_eq!(rescind.offer_id, offers.offers[0].id);
}

#[test]
fn v0_driver_registers_and_unregisters() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (_agent, _) = register_agent(&master);
    let scheduler = Peer::start("scheduler(1)");
    scheduler.send(
        &master.upid(),
        &RegisterFrameworkMessage {
            framework: framework_info("pesos"),
        },
    );
    let registered: FrameworkRegisteredMessage = scheduler.expect();
    assert_eq!(
        registered.master_info.pid.as_deref(),
        Some(master.upid().to_string().as_str())
    );
    let offers: ResourceOffersMessage = scheduler.expect();
    // Not MULTI_ROLE: no allocation info, legacy role.
    assert!(offers.offers[0].allocation_info.is_none());
    #[allow(deprecated)]
    let role = offers.offers[0].resources[0].role.clone();
    assert_eq!(role.as_deref(), Some("*"));
    let arrived = master.next_message::<UnregisterFrameworkMessage>();
    scheduler.send(
        &master.upid(),
        &UnregisterFrameworkMessage {
            framework_id: registered.framework_id.clone(),
        },
    );
    master.handled(arrived);
    let frameworks = master.json("/master/frameworks");
    assert_eq!(
        frameworks["completed_frameworks"][0]["id"],
        registered.framework_id.value.as_str()
    );
}

#[test]
fn two_roles_weighted_one_to_three_converge() {
    let master = TestMaster::with_args(&["--allocation_interval=20ms", "--weights=a=1,b=3"]);
    let fa = Peer::start("scheduler-a");
    let fb = Peer::start("scheduler-b");
    let mut ia = framework_info("a");
    ia.roles = vec!["a".into()];
    ia.capabilities = vec![framework_info::Capability {
        r#type: Some(framework_info::capability::Type::MultiRole as i32),
    }];
    let mut ib = ia.clone();
    ib.name = "b".into();
    ib.roles = vec!["b".into()];
    let ida = subscribe(&master, &fa, ia);
    let idb = subscribe(&master, &fb, ib);
    let agents: Vec<(Peer, String)> = (0..12).map(|_| register_agent(&master)).collect();
    // Each framework keeps every offer it gets (one task per agent using it
    // all); the allocator hands agents out by weighted DRF.
    let mut held = std::collections::HashMap::new();
    let deadline = std::time::Instant::now() + BOUND;
    while held.len() < 12 && std::time::Instant::now() < deadline {
        for (peer, id) in [(&fa, &ida), (&fb, &idb)] {
            if let Some(offers) =
                peer.receives_within::<ResourceOffersMessage>(Duration::from_millis(50))
            {
                for offer in offers.offers {
                    let agent = offer.slave_id.value.clone();
                    let t = TaskInfo {
                        resources: offer.resources.clone(),
                        ..task(&format!("{agent}-{id}"), &agent, 0.0)
                    };
                    peer.send(&master.upid(), &accept(id, &offer.id, vec![t]));
                    held.insert(agent, id.clone());
                }
            }
        }
    }
    let a = held.values().filter(|f| **f == ida).count();
    let b = held.values().filter(|f| **f == idb).count();
    assert_eq!(
        (a, b),
        (3, 9),
        "agents held by a and b; roles: {}",
        master.json("/master/roles")
    );
    drop(agents);
}

#[test]
fn restarted_master_recovers_agents_from_its_work_dir() {
    let dir = std::env::temp_dir().join(format!("master-registry-{}", uuid::Uuid::new_v4()));
    let work_dir = format!("--work_dir={}", dir.display());
    let agent_id = {
        let master = TestMaster::with_args(&[&work_dir]);
        let (_agent, id) = register_agent(&master);
        id
    };
    assert!(dir.join("registry.pb").exists());

    // A new master with the same work dir waits for the agent...
    let master = TestMaster::with_args(&[&work_dir, "--agent_reregister_timeout=10mins"]);
    let slaves = master.json("/master/slaves");
    assert_eq!(slaves["recovered_slaves"][0]["id"], agent_id.as_str());
    // ...and marks it unreachable when it does not come back in time.
    master.runtime.clock().pause();
    master.runtime.clock().advance(Duration::from_secs(601));
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        master.settle();
        let state = master.json("/master/state");
        if state["unreachable_slaves"] == 1.0 {
            assert!(state["recovered_slaves"].as_array().unwrap().is_empty());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "agent marked unreachable in time"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(master);
    // The registry survives a third master: the agent is still unreachable.
    let master = TestMaster::with_args(&[&work_dir]);
    assert_eq!(master.json("/master/state")["unreachable_slaves"], 1.0);
    drop(master);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn endpoints_answer_as_mesos() {
    let master = TestMaster::with_args(&["--cluster=test-cluster"]);
    let version = master.json("/version");
    assert_eq!(version["version"], "1.11.0");
    for key in [
        "build_date",
        "build_time",
        "build_user",
        "git_sha",
        "git_tag",
    ] {
        assert!(version.get(key).is_some(), "{key}");
    }
    assert_eq!(master.get("/health"), (200, String::new()));
    assert_eq!(master.get("/master/health"), (200, String::new()));
    let (status, _) = support::http(&master.runtime, "HEAD", "/master/redirect", "");
    assert_eq!(status, 307);
    let state = master.json("/master/state");
    assert_eq!(state["pid"], master.upid().to_string());
    assert_eq!(state["cluster"], "test-cluster");
    assert_eq!(
        master.json("/master/flags")["flags"]["cluster"],
        "test-cluster"
    );
    let metrics = master.json("/metrics/snapshot");
    for key in [
        "master/elected",
        "master/uptime_secs",
        "master/slaves_active",
        "master/cpus_total",
        "master/tasks_running",
        "master/dropped_messages",
    ] {
        assert!(metrics.get(key).is_some(), "{key}");
    }
    assert_eq!(metrics["master/elected"], 1.0);
    let tasks = master.json("/master/tasks?limit=5&offset=0&order=asc");
    assert!(tasks["tasks"].as_array().unwrap().is_empty());
    // As Mesos: an order that is not `asc` is `des`, not an error.
    assert_eq!(master.get("/master/tasks?order=sideways").0, 200);

    // The web UI, at the root and under the master's id; nothing else.
    let (status, page) = master.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("<title>mesos-rs master</title>") && page.contains("/master/state"));
    assert_eq!(master.get("/master").0, 200);
    assert_eq!(master.get("/no/such/page").0, 404);
}

#[test]
fn teardown_keeps_the_terminal_state_of_an_unacknowledged_task() {
    // libmesos sends TEARDOWN from inside the status update callback of the
    // last task, before acknowledging it: the task stays TASK_FINISHED.
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("test"));
    let offers: ResourceOffersMessage = scheduler.expect();
    scheduler.send(
        &master.upid(),
        &accept(
            &framework_id,
            &offers.offers[0].id,
            vec![task("t1", &agent_id, 1.0)],
        ),
    );
    let _: RunTaskMessage = agent.expect();
    agent.send(
        &master.upid(),
        &agent_update(&framework_id, &agent_id, "t1", TaskState::TaskFinished),
    );
    let finished: StatusUpdateMessage = scheduler.expect();
    assert_eq!(finished.update.status.state, TaskState::TaskFinished as i32);
    scheduler.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Teardown as i32),
            ..Default::default()
        },
    );
    let _: ShutdownFrameworkMessage = agent.expect();
    master.settle();
    let state = master.json("/master/state");
    let completed = &state["completed_frameworks"][0];
    assert_eq!(completed["id"], framework_id.as_str());
    assert_eq!(completed["completed_tasks"][0]["id"], "t1");
    assert_eq!(completed["completed_tasks"][0]["state"], "TASK_FINISHED");
}
