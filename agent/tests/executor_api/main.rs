//! The v1 executor HTTP API of a real agent (its own OS process) against
//! a fake master: the test itself is the HTTP executor of a task whose
//! executor command (`sleep 1000`) never registers, knowing its framework
//! and executor ids as an executor reads them from its environment.

mod client;
#[path = "../common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use client::*;
use common::*;
use libprocess::UPID;
use mesos_agent::testing::{
    acknowledgement, eventually, http_get, kill_sandbox_processes, launcher_dir, FakeMaster,
};
use mesos_agent::AgentFlags;
use mesos_proto::internal::{
    ExecutorToFrameworkMessage, FrameworkToExecutorMessage, KillTaskMessage,
    ReregisterSlaveMessage, RunTaskMessage, ShutdownExecutorMessage, UpdateFrameworkMessage,
};
use mesos_proto::mesos::{
    task_status::Reason, CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId,
    TaskInfo, TaskState,
};
use mesos_proto::v1::executor::{call, event, Call};
use prost::Message;
use serde_json::{json, Value};

fn scalar(name: &str, value: f64) -> mesos_proto::mesos::Resource {
    mesos_common::Resource::scalar(name, value).to_proto()
}

/// A task for executor `EXECUTOR` of `framework`, whose command runs but
/// never registers: the test subscribes in its place.
fn executor_task(id: &str, framework: &str) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: mesos_proto::mesos::SlaveId {
            value: AGENT_ID.into(),
        },
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        executor: Some(ExecutorInfo {
            executor_id: ExecutorId {
                value: EXECUTOR.into(),
            },
            framework_id: Some(FrameworkId {
                value: framework.into(),
            }),
            command: Some(CommandInfo {
                value: Some("sleep 1000".into()),
                ..Default::default()
            }),
            resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Runs `task` for `framework`, a framework without a scheduler UPID (so
/// its executors' messages go to the master).
#[allow(deprecated)]
fn launch(master: &FakeMaster, agent: &UPID, framework: &FrameworkInfo, task: TaskInfo) {
    master.send(
        agent,
        RunTaskMessage {
            framework_id: framework.id.clone(),
            framework: framework.clone(),
            pid: None,
            task,
            resource_version_uuids: vec![],
            launch_executor: Some(true),
        },
    );
}

/// The agent's `/state`.
fn state(agent: SocketAddr) -> Value {
    let (code, body) = http_get(&url(agent, "/slave(1)/state"));
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).expect("state is JSON")
}

/// Waits until the agent knows executor `EXECUTOR` of `framework`.
fn wait_for_executor(agent: SocketAddr, framework: &str) {
    assert!(
        eventually(WAIT, || {
            state(agent)["frameworks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["id"] == framework)
                .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
                .any(|e| e["id"] == EXECUTOR)
        }),
        "the agent launched executor {EXECUTOR}"
    );
}

#[test]
fn http_executor_runs_tasks_and_gets_every_kind_of_event() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let fw = framework("fw-http", false);
    launch(&master, &agent.upid(), &fw, executor_task("t1", "fw-http"));
    wait_for_executor(agent.address, "fw-http");

    // Protobuf both ways, through the delegate's path as pymesos uses it.
    let stream = Subscription::open(
        agent.address,
        "/api/v1/executor",
        PROTOBUF,
        PROTOBUF,
        &subscribe_call("fw-http", vec![], vec![]).encode_to_vec(),
    );
    assert_eq!(stream.status, 200);
    assert_eq!(stream.headers["content-type"], PROTOBUF);
    assert_eq!(stream.headers["transfer-encoding"], "chunked");

    let subscribed = stream.event();
    assert_eq!(kind(&subscribed), event::Type::Subscribed);
    let subscribed = subscribed.subscribed.unwrap();
    assert_eq!(subscribed.executor_info.executor_id.value, EXECUTOR);
    assert_eq!(subscribed.framework_info.id.unwrap().value, "fw-http");
    assert_eq!(subscribed.agent_info.id.unwrap().value, AGENT_ID);
    assert!(!subscribed.container_id.unwrap().value.is_empty());

    // The task queued before it subscribed.
    let launch_event = stream.event();
    assert_eq!(kind(&launch_event), event::Type::Launch);
    assert_eq!(launch_event.launch.unwrap().task.task_id.value, "t1");

    // Updates are acknowledged once the agent has them, before the
    // framework does; the framework gets them in order.
    master.set_auto_ack(false);
    let running = status("t1", mesos_proto::v1::TaskState::TaskRunning);
    let (code, body) = post_call(agent.address, &update_call("fw-http", running.clone()));
    assert_eq!(code, 202, "{body}");
    let ack = stream.event();
    assert_eq!(kind(&ack), event::Type::Acknowledged);
    let ack = ack.acknowledged.unwrap();
    assert_eq!(ack.task_id.value, "t1");
    assert_eq!(Some(ack.uuid), running.uuid);

    let finished = status("t1", mesos_proto::v1::TaskState::TaskFinished);
    let (code, _) = post_call(agent.address, &update_call("fw-http", finished.clone()));
    assert_eq!(code, 202);
    let ack = stream.event().acknowledged.unwrap();
    assert_eq!(Some(ack.uuid), finished.uuid);

    let first = master.next_update(WAIT).expect("TASK_RUNNING forwarded");
    assert_eq!(state_of(&first), TaskState::TaskRunning);
    assert_eq!(first.status.task_id.value, "t1");
    assert!(
        first.status.container_status.is_some(),
        "stamped by the agent"
    );
    master.send(&agent.upid(), acknowledgement(&first));
    let second = master.next_update(WAIT).expect("TASK_FINISHED forwarded");
    assert_eq!(state_of(&second), TaskState::TaskFinished);
    master.send(&agent.upid(), acknowledgement(&second));
    master.set_auto_ack(true);

    // Framework messages both ways.
    master.send(
        &agent.upid(),
        FrameworkToExecutorMessage {
            slave_id: mesos_proto::mesos::SlaveId {
                value: AGENT_ID.into(),
            },
            framework_id: FrameworkId {
                value: "fw-http".into(),
            },
            executor_id: ExecutorId {
                value: EXECUTOR.into(),
            },
            data: bytes::Bytes::from_static(b"to the executor"),
        },
    );
    let message = stream.event();
    assert_eq!(kind(&message), event::Type::Message);
    assert_eq!(&message.message.unwrap().data[..], b"to the executor");

    let (framework_id, executor_id) = ids("fw-http");
    let (code, _) = post_call(
        agent.address,
        &Call {
            executor_id,
            framework_id,
            r#type: Some(call::Type::Message as i32),
            message: Some(call::Message {
                data: bytes::Bytes::from_static(b"to the framework"),
            }),
            ..Default::default()
        },
    );
    assert_eq!(code, 202);
    let (_, relayed) = master
        .next_message::<ExecutorToFrameworkMessage>(WAIT)
        .expect("the message reaches the framework (here, through the master)");
    assert_eq!(&relayed.data[..], b"to the framework");
    assert_eq!(relayed.executor_id.value, EXECUTOR);

    // A second task goes straight to the subscribed executor; the
    // master's kill arrives as KILL.
    launch(&master, &agent.upid(), &fw, executor_task("t2", "fw-http"));
    let launch_event = stream.event();
    assert_eq!(launch_event.launch.unwrap().task.task_id.value, "t2");
    master.send(
        &agent.upid(),
        KillTaskMessage {
            framework_id: FrameworkId {
                value: "fw-http".into(),
            },
            task_id: TaskId { value: "t2".into() },
            kill_policy: None,
        },
    );
    let kill = stream.event();
    assert_eq!(kind(&kill), event::Type::Kill);
    assert_eq!(kill.kill.unwrap().task_id.value, "t2");
    let killed = status("t2", mesos_proto::v1::TaskState::TaskKilled);
    let (code, _) = post_call(agent.address, &update_call("fw-http", killed));
    assert_eq!(code, 202);
    assert_eq!(kind(&stream.event()), event::Type::Acknowledged);
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "t2", TaskState::TaskKilled);

    // Shutdown: SHUTDOWN, then (the executor ignoring it) its container
    // is destroyed after the grace period, which ends the stream.
    master.send(
        &agent.upid(),
        ShutdownExecutorMessage {
            executor_id: Some(ExecutorId {
                value: EXECUTOR.into(),
            }),
            framework_id: Some(FrameworkId {
                value: "fw-http".into(),
            }),
        },
    );
    assert_eq!(kind(&stream.event()), event::Type::Shutdown);
    assert!(stream.ends());
    let gone = agent.state()["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|f| f["id"] != "fw-http");
    assert!(gone, "the framework has nothing left on the agent");
}

#[test]
fn malformed_calls_get_mesos_status_codes_and_change_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let fw = framework("fw-json", false);
    launch(&master, &agent.upid(), &fw, executor_task("j1", "fw-json"));
    wait_for_executor(agent.address, "fw-json");

    let subscribe = json!({
        "type": "SUBSCRIBE",
        "framework_id": {"value": "fw-json"},
        "executor_id": {"value": EXECUTOR},
        "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []},
    });
    let update = |task: &str, state: &str| {
        json!({
            "type": "UPDATE",
            "framework_id": {"value": "fw-json"},
            "executor_id": {"value": EXECUTOR},
            "update": {"status": {
                "task_id": {"value": task}, "state": state, "source": "SOURCE_EXECUTOR",
                "timestamp": 1700000000, "uuid": "9y/njwnTQQ+cZJksQFG0JQ==",
            }},
        })
    };

    let (code, body) = ureq::get(&url(agent.address, "/slave(1)/api/v1/executor"))
        .call()
        .map(|r| (r.status(), String::new()))
        .unwrap_or_else(|e| match e {
            ureq::Error::Status(code, r) => (code, r.into_string().unwrap_or_default()),
            e => panic!("{e}"),
        });
    assert_eq!(code, 405, "{body}");
    let (code, body) = post(agent.address, &[], subscribe.to_string().as_bytes());
    assert_eq!(
        (code, body.as_str()),
        (400, "Expecting 'Content-Type' to be present")
    );
    let (code, _) = post(
        agent.address,
        &[("Content-Type", "text/plain")],
        subscribe.to_string().as_bytes(),
    );
    assert_eq!(code, 415);
    let (code, body) = post(agent.address, &[("Content-Type", JSON)], b"{\"type\": ");
    assert_eq!(code, 400);
    assert!(body.starts_with("Failed to parse body into JSON"), "{body}");
    let (code, body) = post(
        agent.address,
        &[("Content-Type", PROTOBUF)],
        b"\xff\xff\xff",
    );
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to parse body into Call protobuf")
    );
    let (code, body) = post_json(
        agent.address,
        &json!({"type": "SUBSCRIBE", "subscribe": {}}),
    );
    assert_eq!(code, 400);
    assert!(
        body.contains("Missing required fields: executor_id"),
        "{body}"
    );
    let mut unknown = subscribe.clone();
    unknown["framework_id"]["value"] = json!("no-such-framework");
    assert_eq!(
        post_json(agent.address, &unknown),
        (400, "Framework cannot be found".into())
    );
    let mut unknown = subscribe.clone();
    unknown["executor_id"]["value"] = json!("no-such-executor");
    assert_eq!(
        post_json(agent.address, &unknown),
        (400, "Executor cannot be found".into())
    );
    let (code, _) = post(
        agent.address,
        &[("Content-Type", JSON), ("Accept", "text/html")],
        subscribe.to_string().as_bytes(),
    );
    assert_eq!(code, 406);
    // Not subscribed yet.
    assert_eq!(
        post_json(agent.address, &update("j1", "TASK_RUNNING")),
        (403, "Executor is not subscribed".into())
    );
    let (code, body) = post_json(agent.address, &update("j1", "TASK_STAGING"));
    assert_eq!(code, 400);
    assert!(body.contains("TASK_STAGING"), "{body}");

    // None of that disturbed the executor: it subscribes (JSON, by the
    // agent's own path) and gets its task.
    let stream = Subscription::open(
        agent.address,
        "/slave(1)/api/v1/executor",
        JSON,
        JSON,
        subscribe.to_string().as_bytes(),
    );
    assert_eq!(stream.status, 200);
    assert_eq!(stream.headers["content-type"], JSON);
    let subscribed = stream.json();
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    assert_eq!(
        subscribed["subscribed"]["executor_info"]["executor_id"]["value"],
        EXECUTOR
    );
    assert_eq!(
        subscribed["subscribed"]["framework_info"]["id"]["value"],
        "fw-json"
    );
    assert_eq!(
        subscribed["subscribed"]["agent_info"]["id"]["value"],
        AGENT_ID
    );
    let launched = stream.json();
    assert_eq!(launched["type"], "LAUNCH");
    assert_eq!(launched["launch"]["task"]["task_id"]["value"], "j1");

    // A JSON update as pymesos sends it; the acknowledgement carries its
    // uuid in base64.
    assert_eq!(
        post_json(agent.address, &update("j1", "TASK_RUNNING")).0,
        202
    );
    let ack = stream.json();
    assert_eq!(ack["type"], "ACKNOWLEDGED");
    assert_eq!(ack["acknowledged"]["uuid"], "9y/njwnTQQ+cZJksQFG0JQ==");
    assert_eq!(ack["acknowledged"]["task_id"]["value"], "j1");
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "j1", TaskState::TaskRunning);
    // An update for a task the executor does not have.
    let (code, body) = post_json(agent.address, &update("nope", "TASK_RUNNING"));
    assert_eq!(code, 400);
    assert!(body.contains("'nope'"), "{body}");

    // A task whose LAUNCH the executor never saw (it reconnects without
    // listing it) is reported lost when it subscribes again; the earlier
    // stream is closed.
    launch(&master, &agent.upid(), &fw, executor_task("j2", "fw-json"));
    assert_eq!(stream.json()["launch"]["task"]["task_id"]["value"], "j2");
    let mut again = subscribe.clone();
    again["subscribe"]["unacknowledged_tasks"] = json!([]);
    let second = Subscription::open(
        agent.address,
        "/api/v1/executor",
        JSON,
        JSON,
        again.to_string().as_bytes(),
    );
    assert_eq!(second.status, 200);
    assert!(stream.ends(), "the earlier stream is closed");
    assert_eq!(second.json()["type"], "SUBSCRIBED");
    let lost = wait_for(&master, &mut seen, "j2", TaskState::TaskLost);
    assert_eq!(lost.status.reason, Some(Reason::SlaveRestarted as i32));
    assert_eq!(
        lost.status.message.as_deref(),
        Some("Task launched during agent restart")
    );
    // The task it does know keeps running.
    let state = agent.state();
    let running = state["frameworks"][0]["executors"][0]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["id"] == "j1" && t["state"] == "TASK_RUNNING");
    assert!(running, "{state}");
    second.close();
}

#[test]
fn http_executor_subscribes_again_after_the_agent_restarts() {
    let work = tempfile::tempdir().unwrap();
    let (master, mut agent) = cluster(work.path(), &["--executor_reregistration_timeout=60secs"]);
    let fw = framework("fw-cp", true);
    launch(&master, &agent.upid(), &fw, executor_task("r1", "fw-cp"));
    wait_for_executor(agent.address, "fw-cp");
    let stream = Subscription::open(
        agent.address,
        "/api/v1/executor",
        PROTOBUF,
        PROTOBUF,
        &subscribe_call("fw-cp", vec![], vec![]).encode_to_vec(),
    );
    assert_eq!(kind(&stream.event()), event::Type::Subscribed);
    let task = stream.event().launch.unwrap().task;
    let running = status("r1", mesos_proto::v1::TaskState::TaskRunning);
    assert_eq!(
        post_call(agent.address, &update_call("fw-cp", running)).0,
        202
    );
    assert_eq!(kind(&stream.event()), event::Type::Acknowledged);
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "r1", TaskState::TaskRunning);

    // The agent checkpointed that this executor speaks HTTP.
    let markers: Vec<_> = walk(work.path())
        .into_iter()
        .filter(|p| p.ends_with("http.marker"))
        .collect();
    assert_eq!(markers.len(), 1, "one marker under meta/");
    assert!(markers[0].to_string_lossy().contains("/meta/slaves/"));

    // The agent dies; the executor finishes its task meanwhile and keeps
    // the update, unacknowledged.
    agent.kill();
    assert!(stream.ends(), "the agent's death ends the stream");
    agent.restart();
    let finished = status("r1", mesos_proto::v1::TaskState::TaskFinished);

    // Recovery waits for the executor: calls other than SUBSCRIBE are
    // refused until it is over.
    let mut code = 0;
    assert!(eventually(WAIT, || {
        let response = ureq::post(&url(agent.address, "/api/v1/executor"))
            .set("Content-Type", PROTOBUF)
            .timeout(WAIT)
            .send_bytes(&update_call("fw-cp", finished.clone()).encode_to_vec());
        code = match response {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(c, _)) => c,
            Err(_) => 0,
        };
        // 404 until the restarted agent's process is up.
        !matches!(code, 0 | 404)
    }));
    assert_eq!(code, 503, "recovering");

    let stream = Subscription::open(
        agent.address,
        "/api/v1/executor",
        PROTOBUF,
        PROTOBUF,
        &subscribe_call(
            "fw-cp",
            vec![task],
            vec![call::Update {
                status: finished.clone(),
            }],
        )
        .encode_to_vec(),
    );
    assert_eq!(stream.status, 200);
    assert_eq!(kind(&stream.event()), event::Type::Subscribed);
    let ack = stream.event();
    assert_eq!(kind(&ack), event::Type::Acknowledged);
    assert_eq!(Some(ack.acknowledged.unwrap().uuid), finished.uuid);

    // With its executor back, the agent re-registers with its task, and
    // the resent update reaches the framework.
    let (_, reregister) = master
        .next_message::<ReregisterSlaveMessage>(WAIT)
        .expect("the agent re-registers");
    assert!(
        reregister.tasks.iter().any(|t| t.task_id.value == "r1"),
        "{reregister:?}"
    );
    wait_for(&master, &mut seen, "r1", TaskState::TaskFinished);
    stream.close();
}

/// Every file under `dir` (not following the `latest` links).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn subscribed_stream_gets_a_heartbeat_every_thirty_minutes() {
    // The agent runs in this process, so the test owns its clock.
    let work = tempfile::tempdir().unwrap();
    let master = FakeMaster::start(AGENT_ID);
    let flags = AgentFlags::load(
        [
            "mesos-agent".to_string(),
            format!("--master={}", master.upid()),
            format!("--work_dir={}", work.path().display()),
            "--ip=127.0.0.1".into(),
            "--port=0".into(),
            format!("--launcher_dir={}", launcher_dir().display()),
            "--switch_user=false".into(),
            "--registration_backoff_factor=10ms".into(),
            "--resources=cpus:4;mem:4096;disk:1000".into(),
        ],
        Vec::new(),
    )
    .expect("valid flags");
    let agent = mesos_agent::start(flags).expect("the agent starts");
    let address = agent.runtime.address();
    master
        .next("mesos.internal.RegisterSlaveMessage", WAIT)
        .expect("the agent registers");
    assert!(eventually(WAIT, || state(address)["id"] == AGENT_ID));
    launch(
        &master,
        agent.slave.upid(),
        &framework("fw-hb", false),
        executor_task("h1", "fw-hb"),
    );
    wait_for_executor(address, "fw-hb");
    let stream = Subscription::open(
        address,
        "/api/v1/executor",
        PROTOBUF,
        PROTOBUF,
        &subscribe_call("fw-hb", vec![], vec![]).encode_to_vec(),
    );
    assert_eq!(kind(&stream.event()), event::Type::Subscribed);
    assert_eq!(kind(&stream.event()), event::Type::Launch);

    let clock = agent.runtime.clock();
    clock.pause();
    for _ in 0..2 {
        clock.advance(Duration::from_secs(30 * 60));
        assert_eq!(kind(&stream.event()), event::Type::Heartbeat);
    }
    stream.close();
    agent.shutdown();
    kill_sandbox_processes(work.path());
}

/// A framework whose scheduler failed over to the HTTP API: the master's
/// `UpdateFrameworkMessage` carries the empty UPID, and the executor's
/// messages then go through the master instead of the old scheduler.
#[test]
#[allow(deprecated)]
fn empty_scheduler_pid_sends_executor_messages_through_the_master() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let fw = framework("fw-moved", false);
    let old_scheduler = format!("scheduler-old@{}", master.upid().address());
    master.send(
        &agent.upid(),
        RunTaskMessage {
            framework_id: fw.id.clone(),
            framework: fw.clone(),
            pid: Some(old_scheduler),
            task: executor_task("t1", "fw-moved"),
            resource_version_uuids: vec![],
            launch_executor: Some(true),
        },
    );
    wait_for_executor(agent.address, "fw-moved");
    master.send(
        &agent.upid(),
        UpdateFrameworkMessage {
            framework_id: fw.id.clone().unwrap(),
            pid: Some("@0.0.0.0:0".into()),
            framework_info: None,
        },
    );

    let stream = Subscription::open(
        agent.address,
        "/api/v1/executor",
        PROTOBUF,
        PROTOBUF,
        &subscribe_call("fw-moved", vec![], vec![]).encode_to_vec(),
    );
    assert_eq!(stream.status, 200);
    let (framework_id, executor_id) = ids("fw-moved");
    let (code, _) = post_call(
        agent.address,
        &Call {
            executor_id,
            framework_id,
            r#type: Some(call::Type::Message as i32),
            message: Some(call::Message {
                data: bytes::Bytes::from_static(b"after the failover"),
            }),
            ..Default::default()
        },
    );
    assert_eq!(code, 202);
    let (_, relayed) = master
        .next_message::<ExecutorToFrameworkMessage>(WAIT)
        .expect("the message reaches the master, not the old scheduler");
    assert_eq!(&relayed.data[..], b"after the failover");
}
