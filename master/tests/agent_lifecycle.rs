//! Agents coming and going as Mesos 1.11's master sees them: a broken
//! connection, reregistration (with reconciliation), the reregistration
//! timeouts, a master failover with the agent's completed frameworks, and
//! agents learning where a failed-over scheduler is.

mod lifecycle;
mod support;

use std::time::Duration;

use lifecycle::*;
use mesos_proto::internal::*;
use mesos_proto::mesos::task_status::{Reason, Source};
use mesos_proto::mesos::{FrameworkId, SlaveId, Task, TaskId, TaskState};
use support::{Peer, TestMaster};

/// A ReregisterSlaveMessage from agent `id` (frameworks, tasks as given).
fn reregistration(
    id: &str,
    frameworks: Vec<mesos_proto::mesos::FrameworkInfo>,
) -> ReregisterSlaveMessage {
    let mut info = agent_info();
    info.id = Some(SlaveId { value: id.into() });
    ReregisterSlaveMessage {
        slave: info,
        version: Some("1.11.0".into()),
        agent_capabilities: agent_capabilities(),
        frameworks,
        ..Default::default()
    }
}

/// A task as an agent reports it.
fn reported_task(id: &str, framework: &str, agent: &str, state: TaskState) -> Task {
    Task {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        framework_id: FrameworkId {
            value: framework.into(),
        },
        slave_id: SlaveId {
            value: agent.into(),
        },
        state: state as i32,
        resources: vec![scalar("cpus", 0.25), scalar("mem", 16.0)],
        ..Default::default()
    }
}

#[test]
fn disconnected_agent_stays_registered_but_inactive_and_loses_only_non_checkpointing_tasks() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);

    // Framework A does not checkpoint; its task runs in an executor.
    let a = Peer::start("scheduler-a");
    let a_id = subscribe(&master, &a, framework_info("plain"));
    let offer = next_offers(&a).offers.remove(0);
    a.send(
        &master.upid(),
        &accept_call(
            &a_id,
            &offer.id,
            vec![launch(vec![executor_task("t1", &agent_id, 1.0, "exec-a")])],
            3600.0,
        ),
    );
    let _: RunTaskMessage = agent.expect();

    // Framework B checkpoints; it keeps an offer outstanding.
    let b = Peer::start("scheduler-b");
    let mut b_info = framework_info("checkpointing");
    b_info.checkpoint = Some(true);
    let b_id = subscribe(&master, &b, b_info.clone());
    let offer = next_offers(&b).offers.remove(0);
    b.send(
        &master.upid(),
        &accept_call(
            &b_id,
            &offer.id,
            vec![launch(vec![task("t2", &agent_id, 0.5)])],
            0.0,
        ),
    );
    let _: RunTaskMessage = agent.expect();
    let outstanding = next_offers(&b).offers.remove(0);

    // The agent's connection breaks.
    drop(agent);

    let lost: StatusUpdateMessage = a.expect();
    let status = &lost.update.status;
    assert_eq!(status.task_id.value, "t1");
    assert_eq!(status.state, TaskState::TaskLost as i32);
    assert_eq!(status.source, Some(Source::Master as i32));
    assert_eq!(status.reason, Some(Reason::SlaveDisconnected as i32));
    assert_eq!(
        status.message.as_deref(),
        Some("Agent localhost disconnected")
    );
    assert_eq!(status.slave_id.as_ref().unwrap().value, agent_id);
    let rescinded: RescindResourceOfferMessage = b.expect();
    assert_eq!(rescinded.offer_id, outstanding.id);

    let state = wait_for(&master, "/master/state", |s| {
        s["slaves"][0]["active"] == false
    });
    assert_eq!(state["slaves"].as_array().unwrap().len(), 1);
    assert_eq!(state["slaves"][0]["id"], agent_id.as_str());
    assert_eq!(state["deactivated_slaves"], 1.0);
    let fa = framework(&state, &a_id);
    assert!(fa["tasks"].as_array().unwrap().is_empty());
    assert_eq!(fa["completed_tasks"][0]["id"], "t1");
    assert_eq!(fa["completed_tasks"][0]["state"], "TASK_LOST");
    // Its executor is gone too, and with it what the executor used.
    assert!(fa["executors"].as_array().unwrap().is_empty(), "{fa}");
    assert_eq!(fa["used_resources"]["cpus"], 0.0);
    let fb = framework(&state, &b_id);
    assert_eq!(fb["tasks"][0]["id"], "t2");
    assert_eq!(fb["tasks"][0]["state"], "TASK_STAGING");
    assert!(fb["offers"].as_array().unwrap().is_empty());

    // It comes back from a restarted process: active again, told where
    // B's scheduler is, and asked to reconcile t2, which it did not report.
    let agent = Peer::start("slave(1)");
    b_info.id = Some(FrameworkId {
        value: b_id.clone(),
    });
    agent.send(&master.upid(), &reregistration(&agent_id, vec![b_info]));
    let reregistered: SlaveReregisteredMessage = agent.expect();
    assert_eq!(reregistered.slave_id.value, agent_id);
    assert_eq!(reregistered.reconciliations.len(), 1);
    let reconcile = &reregistered.reconciliations[0];
    assert_eq!(reconcile.framework_id.value, b_id);
    assert_eq!(reconcile.statuses[0].task_id.value, "t2");
    let update: UpdateFrameworkMessage = agent.expect();
    assert_eq!(update.framework_id.value, b_id);
    assert_eq!(update.pid, Some(b.upid().to_string()));
    let state = wait_for(&master, "/master/state", |s| {
        s["slaves"][0]["active"] == true
    });
    assert_eq!(state["slaves"][0]["pid"], agent.upid().to_string());
    assert_eq!(state["deactivated_slaves"], 0.0);
}

#[test]
fn reregistration_reconciles_unreported_tasks_with_a_master_request() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("reconcile"));
    let offer = next_offers(&scheduler).offers.remove(0);
    scheduler.send(
        &master.upid(),
        &accept_call(
            &framework_id,
            &offer.id,
            vec![launch(vec![
                task("reported", &agent_id, 0.5),
                task("missing", &agent_id, 0.5),
            ])],
            3600.0,
        ),
    );
    let _: RunTaskMessage = agent.expect();
    let _: RunTaskMessage = agent.expect();
    // The framework heard "missing" is running; the master keeps that as
    // the state the framework knows.
    let mut running = StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: FrameworkId {
                value: framework_id.clone(),
            },
            slave_id: Some(SlaveId {
                value: agent_id.clone(),
            }),
            status: mesos_proto::mesos::TaskStatus {
                task_id: TaskId {
                    value: "missing".into(),
                },
                state: TaskState::TaskRunning as i32,
                message: Some("from the executor".into()),
                source: Some(Source::Executor as i32),
                ..Default::default()
            },
            timestamp: 1.0,
            ..Default::default()
        },
        pid: None,
    };
    let uuid = bytes::Bytes::from(uuid::Uuid::new_v4().as_bytes().to_vec());
    running.update.uuid = Some(uuid.clone());
    running.update.status.uuid = Some(uuid);
    agent.send(&master.upid(), &running);
    let _: StatusUpdateMessage = scheduler.expect();

    // The agent reregisters (same process) reporting only one task.
    let mut info = framework_info("reconcile");
    info.id = Some(FrameworkId {
        value: framework_id.clone(),
    });
    let mut message = reregistration(&agent_id, vec![info]);
    message.tasks = vec![reported_task(
        "reported",
        &framework_id,
        &agent_id,
        TaskState::TaskStaging,
    )];
    let before = support_now();
    agent.send(&master.upid(), &message);
    let reregistered: SlaveReregisteredMessage = agent.expect();
    assert_eq!(reregistered.reconciliations.len(), 1);
    let reconcile = &reregistered.reconciliations[0];
    assert_eq!(reconcile.framework_id.value, framework_id);
    assert_eq!(
        reconcile.framework.as_ref().map(|f| f.name.as_str()),
        Some("reconcile")
    );
    assert_eq!(reconcile.statuses.len(), 1);
    let status = &reconcile.statuses[0];
    assert_eq!(status.task_id.value, "missing");
    assert_eq!(status.state, TaskState::TaskRunning as i32);
    assert_eq!(status.source, Some(Source::Master as i32));
    assert_eq!(status.reason, Some(Reason::Reconciliation as i32));
    assert_eq!(status.message.as_deref(), Some("Reconciliation request"));
    assert_eq!(status.slave_id.as_ref().unwrap().value, agent_id);
    assert!(status.timestamp.unwrap() >= before, "{status:?}");
    assert!(status.uuid.is_none() && status.executor_id.is_none());
    // The agent also hears where the scheduler is.
    let update: UpdateFrameworkMessage = agent.expect();
    assert_eq!(update.pid, Some(scheduler.upid().to_string()));
}

/// Unix seconds now, as the master stamps statuses.
fn support_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn disconnected_agent_that_does_not_reregister_in_time_is_marked_unreachable() {
    // Pings that would take 100 minutes to give up: only the
    // reregistration timeout can remove the agent here.
    let master = TestMaster::with_args(&[
        "--allocation_interval=50ms",
        "--agent_ping_timeout=10mins",
        "--max_agent_ping_timeouts=10",
    ]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let mut info = framework_info("checkpointing");
    info.checkpoint = Some(true);
    let framework_id = subscribe(&master, &scheduler, info);
    let offer = next_offers(&scheduler).offers.remove(0);
    scheduler.send(
        &master.upid(),
        &accept_call(
            &framework_id,
            &offer.id,
            vec![launch(vec![task("t1", &agent_id, 1.0)])],
            3600.0,
        ),
    );
    let _: RunTaskMessage = agent.expect();

    master.runtime.clock().pause();
    drop(agent);
    wait_for(&master, "/master/state", |s| {
        s["slaves"][0]["active"] == false
    });

    // Just short of `--agent_reregister_timeout` (10mins): still there.
    master.runtime.clock().advance(Duration::from_secs(599));
    master.settle();
    let state = master.json("/master/state");
    assert_eq!(state["slaves"].as_array().unwrap().len(), 1);
    assert_eq!(framework(&state, &framework_id)["tasks"][0]["id"], "t1");

    master.runtime.clock().advance(Duration::from_secs(2));
    let lost: StatusUpdateMessage = scheduler.expect();
    assert_eq!(lost.update.status.task_id.value, "t1");
    assert_eq!(lost.update.status.state, TaskState::TaskLost as i32);
    assert_eq!(lost.update.status.reason, Some(Reason::SlaveRemoved as i32));
    let message = lost.update.status.message.unwrap();
    assert!(
        message.contains("did not reregister within 10mins after disconnecting"),
        "{message}"
    );
    let lost_agent: LostSlaveMessage = scheduler.expect();
    assert_eq!(lost_agent.slave_id.value, agent_id);
    let state = wait_for(&master, "/master/state", |s| s["unreachable_slaves"] == 1.0);
    assert!(state["slaves"].as_array().unwrap().is_empty());
}

#[test]
fn agent_that_reregisters_after_disconnecting_is_not_marked_unreachable() {
    let master = TestMaster::with_args(&[
        "--agent_ping_timeout=10mins",
        "--max_agent_ping_timeouts=10",
    ]);
    let (agent, agent_id) = register_agent(&master);
    master.runtime.clock().pause();
    drop(agent);
    wait_for(&master, "/master/state", |s| {
        s["slaves"][0]["active"] == false
    });
    let agent = Peer::start("slave(1)");
    agent.send(&master.upid(), &reregistration(&agent_id, vec![]));
    let _: SlaveReregisteredMessage = agent.expect();

    // The timer of the first disconnection expires while the agent is
    // connected and again after a second disconnection: neither removes it.
    master.runtime.clock().advance(Duration::from_secs(300));
    drop(agent);
    wait_for(&master, "/master/state", |s| {
        s["slaves"][0]["active"] == false
    });
    master.runtime.clock().advance(Duration::from_secs(301));
    master.settle();
    let state = master.json("/master/state");
    assert_eq!(state["slaves"].as_array().unwrap().len(), 1, "{state}");
    assert_eq!(state["unreachable_slaves"], 0.0);
    // The second disconnection's own timer does.
    master.runtime.clock().advance(Duration::from_secs(300));
    wait_for(&master, "/master/state", |s| s["unreachable_slaves"] == 1.0);
}

#[test]
fn scheduler_failover_tells_agents_the_new_scheduler_and_executor_messages_reach_it() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let first = Peer::start("scheduler-1");
    let mut info = framework_info("failover");
    info.failover_timeout = Some(3600.0);
    let framework_id = subscribe(&master, &first, info.clone());
    let offer = next_offers(&first).offers.remove(0);
    first.send(
        &master.upid(),
        &accept_call(
            &framework_id,
            &offer.id,
            vec![launch(vec![executor_task("t1", &agent_id, 1.0, "exec")])],
            3600.0,
        ),
    );
    let run: RunTaskMessage = agent.expect();
    assert_eq!(run.pid, Some(first.upid().to_string()));

    // A new scheduler process takes over.
    let second = Peer::start("scheduler-2");
    info.id = Some(FrameworkId {
        value: framework_id.clone(),
    });
    info.name = "failover (2)".into();
    second.send(&master.upid(), &subscribe_call(info, true));
    let registered: FrameworkRegisteredMessage = second.expect();
    assert_eq!(registered.framework_id.value, framework_id);
    let error: FrameworkErrorMessage = first.expect();
    assert_eq!(error.message, "Framework failed over");

    let update: UpdateFrameworkMessage = agent.expect();
    assert_eq!(update.framework_id.value, framework_id);
    assert_eq!(update.pid, Some(second.upid().to_string()));
    assert_eq!(
        update.framework_info.map(|i| i.name).as_deref(),
        Some("failover (2)")
    );

    // The agent sends the executor's messages where it was told...
    let to_framework = |data: &'static [u8]| ExecutorToFrameworkMessage {
        slave_id: SlaveId {
            value: agent_id.clone(),
        },
        framework_id: FrameworkId {
            value: framework_id.clone(),
        },
        executor_id: mesos_proto::mesos::ExecutorId {
            value: "exec".into(),
        },
        data: bytes::Bytes::from_static(data),
    };
    let told: libprocess::UPID = update.pid.unwrap().parse().unwrap();
    agent.send(&told, &to_framework(b"direct"));
    let direct: ExecutorToFrameworkMessage = second.expect();
    assert_eq!(&direct.data[..], b"direct");
    // ...and what it relays through the master reaches the new one too.
    agent.send(&master.upid(), &to_framework(b"relayed"));
    let relayed: ExecutorToFrameworkMessage = second.expect();
    assert_eq!(&relayed.data[..], b"relayed");
}

/// A work directory for a master's registry, removed on drop.
struct WorkDir(std::path::PathBuf);

impl WorkDir {
    fn new() -> WorkDir {
        WorkDir(std::env::temp_dir().join(format!("master-lifecycle-{}", uuid::Uuid::new_v4())))
    }

    fn flag(&self) -> String {
        format!("--work_dir={}", self.0.display())
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn agent_reregistering_after_master_failover_brings_back_completed_tasks() {
    let dir = WorkDir::new();
    let (agent, agent_id) = {
        let master = TestMaster::with_args(&[&dir.flag()]);
        register_agent(&master)
    };
    let master = TestMaster::with_args(&[&dir.flag(), "--allocation_interval=50ms"]);

    // Framework F's scheduler comes back to the new master first.
    let scheduler = Peer::start("scheduler-f");
    let mut f_info = framework_info("f");
    f_info.checkpoint = Some(true);
    f_info.failover_timeout = Some(3600.0);
    f_info.id = Some(FrameworkId {
        value: "fw-f".into(),
    });
    scheduler.send(&master.upid(), &subscribe_call(f_info.clone(), false));
    let _: FrameworkReregisteredMessage = scheduler.expect();
    // H's scheduler has not come back; G ended before the failover.
    let mut h_info = framework_info("h");
    h_info.id = Some(FrameworkId {
        value: "fw-h".into(),
    });
    let mut g_info = framework_info("g");
    g_info.id = Some(FrameworkId {
        value: "fw-g".into(),
    });

    let mut message = reregistration(&agent_id, vec![f_info.clone(), h_info.clone()]);
    message.tasks = vec![
        reported_task("f-running", "fw-f", &agent_id, TaskState::TaskRunning),
        reported_task("h-running", "fw-h", &agent_id, TaskState::TaskRunning),
    ];
    message.completed_frameworks = vec![
        archive::Framework {
            framework_info: f_info,
            pid: Some(scheduler.upid().to_string()),
            tasks: vec![reported_task(
                "f-done",
                "fw-f",
                &agent_id,
                TaskState::TaskFinished,
            )],
        },
        archive::Framework {
            framework_info: h_info,
            pid: None,
            tasks: vec![reported_task(
                "h-done",
                "fw-h",
                &agent_id,
                TaskState::TaskFailed,
            )],
        },
        archive::Framework {
            framework_info: g_info,
            pid: None,
            tasks: vec![reported_task(
                "g-done",
                "fw-g",
                &agent_id,
                TaskState::TaskFinished,
            )],
        },
    ];
    agent.send(&master.upid(), &message);
    let reregistered: SlaveReregisteredMessage = agent.expect();
    assert_eq!(reregistered.slave_id.value, agent_id);
    // F is known: the agent hears where its scheduler now is.
    let update: UpdateFrameworkMessage = agent.expect();
    assert_eq!(update.framework_id.value, "fw-f");
    assert_eq!(update.pid, Some(scheduler.upid().to_string()));

    master.settle();
    let state = master.json("/master/state");
    assert!(state["recovered_slaves"].as_array().unwrap().is_empty());
    assert_eq!(state["slaves"][0]["id"], agent_id.as_str());
    let f = framework(&state, "fw-f");
    assert_eq!(f["tasks"][0]["id"], "f-running");
    assert_eq!(f["completed_tasks"][0]["id"], "f-done");
    assert_eq!(f["completed_tasks"][0]["state"], "TASK_FINISHED");
    let h = framework(&state, "fw-h");
    assert_eq!(h["recovered"], true);
    assert_eq!(h["tasks"][0]["id"], "h-running");
    assert_eq!(h["completed_tasks"][0]["id"], "h-done");
    assert_eq!(h["completed_tasks"][0]["state"], "TASK_FAILED");
    // As in Mesos, the tasks of a framework the master does not know are
    // not shown: there is no framework to show them under.
    let all = state.to_string();
    assert!(!all.contains("fw-g") && !all.contains("g-done"), "{state}");
}

#[test]
fn recovered_agent_that_never_reregisters_is_lost_to_connected_frameworks() {
    let dir = WorkDir::new();
    let agent_id = {
        let master = TestMaster::with_args(&[&dir.flag()]);
        register_agent(&master).1
    };
    let master = TestMaster::with_args(&[&dir.flag(), "--agent_reregister_timeout=10mins"]);
    let scheduler = Peer::start("scheduler-1");
    let _ = subscribe(&master, &scheduler, framework_info("watcher"));
    assert_eq!(
        master.json("/master/state")["recovered_slaves"][0]["id"],
        agent_id.as_str()
    );

    master.runtime.clock().pause();
    master.runtime.clock().advance(Duration::from_secs(601));
    let lost: LostSlaveMessage = scheduler.expect();
    assert_eq!(lost.slave_id.value, agent_id);
    let state = wait_for(&master, "/master/state", |s| s["unreachable_slaves"] == 1.0);
    assert!(state["recovered_slaves"].as_array().unwrap().is_empty());
}
