//! The state endpoints (`/master/state`, `/state-summary`, `/frameworks`,
//! `/slaves`, `/tasks`) render consistent snapshots: every task appears
//! with its framework and agent, and what a framework uses matches its
//! tasks, even while pollers read concurrently with status updates.

mod support;

use mesos_proto::internal::*;
use mesos_proto::mesos::{
    self, value, CommandInfo, FrameworkId, FrameworkInfo, Resource, SlaveId, SlaveInfo, TaskId,
    TaskInfo, TaskState, TaskStatus,
};
use mesos_proto::scheduler::{call, Call};
use serde_json::Value;
use support::{http, Peer, TestMaster};

const TASKS: usize = 20;
const TASK_CPUS: f64 = 0.05;

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

fn update(framework: &str, agent: &str, task: &str, state: TaskState) -> StatusUpdateMessage {
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

/// A master with one agent and one framework running `TASKS` tasks
/// (staging); returns them with the framework and agent IDs.
fn cluster_with_tasks() -> (TestMaster, Peer, Peer, String, String) {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let agent = Peer::start("slave(1)");
    agent.send(
        &master.upid(),
        &RegisterSlaveMessage {
            slave: SlaveInfo {
                hostname: "localhost".into(),
                resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
                port: Some(5051),
                ..Default::default()
            },
            version: Some("1.11.0".into()),
            agent_capabilities: (1..=8)
                .map(|t| mesos::slave_info::Capability { r#type: Some(t) })
                .collect(),
            ..Default::default()
        },
    );
    let agent_id = agent.expect::<SlaveRegisteredMessage>().slave_id.value;

    let scheduler = Peer::start("scheduler-1");
    scheduler.send(
        &master.upid(),
        &Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: FrameworkInfo {
                    user: "root".into(),
                    name: "pollers".into(),
                    failover_timeout: Some(0.0),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let framework_id = scheduler
        .expect::<FrameworkRegisteredMessage>()
        .framework_id
        .value;
    let offers: ResourceOffersMessage = scheduler.expect();
    let tasks: Vec<TaskInfo> = (0..TASKS)
        .map(|i| TaskInfo {
            name: format!("task {i}"),
            task_id: TaskId {
                value: format!("t{i}"),
            },
            slave_id: SlaveId {
                value: agent_id.clone(),
            },
            resources: vec![scalar("cpus", TASK_CPUS), scalar("mem", 16.0)],
            command: Some(CommandInfo {
                value: Some("sleep 1".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    scheduler.send(
        &master.upid(),
        &Call {
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            r#type: Some(call::Type::Accept as i32),
            accept: Some(call::Accept {
                offer_ids: vec![offers.offers[0].id.clone()],
                operations: vec![mesos::offer::Operation {
                    r#type: Some(mesos::offer::operation::Type::Launch as i32),
                    launch: Some(mesos::offer::operation::Launch { task_infos: tasks }),
                    ..Default::default()
                }],
                filters: None,
            }),
            ..Default::default()
        },
    );
    for _ in 0..TASKS {
        let _: RunTaskMessage = agent.expect();
    }
    master.settle();
    (master, agent, scheduler, framework_id, agent_id)
}

fn terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED" | "TASK_FAILED" | "TASK_KILLED" | "TASK_LOST" | "TASK_ERROR"
    )
}

/// Checks one `/master/state` against itself: each task's framework and
/// agent are listed, and the framework uses exactly what its live tasks do.
fn check_consistent(state: &Value, framework_id: &str) {
    let agents: Vec<&str> = state["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let framework = state["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == framework_id)
        .expect("the framework is listed");
    let tasks = framework["tasks"].as_array().unwrap();
    let completed = framework["completed_tasks"].as_array().unwrap();
    assert_eq!(
        tasks.len() + completed.len(),
        TASKS,
        "no task lost or doubled"
    );
    let mut live = 0;
    for task in tasks.iter().chain(completed) {
        assert_eq!(task["framework_id"], framework_id);
        assert!(agents.contains(&task["slave_id"].as_str().unwrap()));
        if !terminal(task["state"].as_str().unwrap()) {
            live += 1;
        }
    }
    let used = framework["used_resources"]["cpus"].as_f64().unwrap();
    assert!(
        (used - live as f64 * TASK_CPUS).abs() < 1e-6,
        "used cpus {used} for {live} live tasks"
    );
}

#[test]
fn every_endpoint_shows_the_tasks_with_their_framework_and_agent() {
    let (master, _agent, _scheduler, framework_id, agent_id) = cluster_with_tasks();

    let state = master.json("/master/state");
    check_consistent(&state, &framework_id);
    assert_eq!(
        state["frameworks"][0]["tasks"][0]["state"], "TASK_STAGING",
        "{state}"
    );

    let frameworks = master.json(&format!("/master/frameworks?framework_id={framework_id}"));
    assert_eq!(
        frameworks["frameworks"][0]["tasks"]
            .as_array()
            .unwrap()
            .len(),
        TASKS
    );
    assert_eq!(
        master.json("/master/frameworks?framework_id=nope")["frameworks"],
        serde_json::json!([])
    );

    let slaves = master.json("/master/slaves");
    assert_eq!(slaves["slaves"][0]["id"], agent_id.as_str());
    let used = slaves["slaves"][0]["used_resources"]["cpus"]
        .as_f64()
        .unwrap();
    assert!((used - TASKS as f64 * TASK_CPUS).abs() < 1e-6, "{used}");

    let tasks = master.json("/master/tasks?limit=5&order=asc");
    let page = tasks["tasks"].as_array().unwrap();
    assert_eq!(page.len(), 5);
    assert!(page
        .iter()
        .all(|t| t["framework_id"] == framework_id.as_str() && t["slave_id"] == agent_id.as_str()));
    // As Mesos: a limit that is not a number leaves the default (100).
    let tasks = master.json("/master/tasks?limit=x");
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), TASKS.min(100));

    let summary = master.json("/master/state-summary");
    assert_eq!(summary["slaves"][0]["TASK_STAGING"], TASKS);
    assert_eq!(
        summary["slaves"][0]["framework_ids"],
        serde_json::json!([framework_id])
    );
    assert_eq!(summary["frameworks"][0]["TASK_STAGING"], TASKS);
    assert_eq!(
        summary["frameworks"][0]["slave_ids"],
        serde_json::json!([agent_id])
    );

    let (status, body) = master.get("/master/state?jsonp=cb");
    assert_eq!(status, 200);
    assert!(body.starts_with("cb(") && body.ends_with(");"), "{body}");
    let inner: Value = serde_json::from_str(&body[3..body.len() - 2]).unwrap();
    check_consistent(&inner, &framework_id);
}

#[test]
fn concurrent_pollers_see_consistent_snapshots_while_tasks_change() {
    let (master, agent, scheduler, framework_id, agent_id) = cluster_with_tasks();
    let runtime = master.runtime.clone();
    let pollers: Vec<_> = (0..4)
        .map(|_| {
            let runtime = runtime.clone();
            let framework_id = framework_id.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let (status, body) = http(&runtime, "GET", "/master/state", "");
                    assert_eq!(status, 200);
                    let state: Value = serde_json::from_str(&body).unwrap();
                    check_consistent(&state, &framework_id);
                }
            })
        })
        .collect();
    // Meanwhile every task runs, and half of them finish.
    for i in 0..TASKS {
        let task = format!("t{i}");
        agent.send(
            &master.upid(),
            &update(&framework_id, &agent_id, &task, TaskState::TaskRunning),
        );
        if i % 2 == 0 {
            agent.send(
                &master.upid(),
                &update(&framework_id, &agent_id, &task, TaskState::TaskFinished),
            );
        }
    }
    for poller in pollers {
        poller.join().expect("a poller saw an inconsistent state");
    }
    for _ in 0..(TASKS + TASKS / 2) {
        let _: StatusUpdateMessage = scheduler.expect();
    }
    master.settle();
    let state = master.json("/master/state");
    check_consistent(&state, &framework_id);
    let used = state["frameworks"][0]["used_resources"]["cpus"]
        .as_f64()
        .unwrap();
    assert!(
        (used - (TASKS / 2) as f64 * TASK_CPUS).abs() < 1e-6,
        "{used}"
    );
}

/// The parts of `/master/state` a Mesos 1.11 master shows, with its field
/// names, and nothing it leaves out (as its captured state shows).
#[test]
fn state_has_the_shape_of_mesos_state() {
    let (master, _agent, _scheduler, framework_id, agent_id) = cluster_with_tasks();
    let state = master.json("/master/state");

    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&state["leader_info"]),
        ["hostname", "id", "pid", "port"],
        "{state}"
    );
    for key in [
        "orphan_tasks",
        "unregistered_frameworks",
        "recovered_slaves",
    ] {
        assert_eq!(state[key], serde_json::json!([]), "{key}");
    }
    assert_eq!(state["activated_slaves"], 1.0);

    let agent = &state["slaves"][0];
    assert_eq!(agent["id"], agent_id.as_str());
    assert_eq!(agent["port"], 5051);
    assert_eq!(agent["attributes"], serde_json::json!({}));
    assert_eq!(agent["resources"]["cpus"], 2.0);
    assert_eq!(agent["resources"]["gpus"], 0.0);
    assert_eq!(agent["reserved_resources"], serde_json::json!({}));
    assert_eq!(agent["deactivated"], false);
    // The full resources are `/master/slaves`'s alone.
    assert!(agent.get("used_resources_full").is_none(), "{agent}");
    let slaves = master.json("/master/slaves");
    assert_eq!(
        slaves["slaves"][0]["unreserved_resources_full"][0],
        serde_json::json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 2.0}, "role": "*"})
    );

    let framework = &state["frameworks"][0];
    assert_eq!(framework["id"], framework_id.as_str());
    assert_eq!(framework["role"], "*");
    assert_eq!(framework["offer_constraints"], serde_json::json!({}));
    let task = &framework["tasks"][0];
    assert_eq!(task["role"], "*");
    assert_eq!(task["executor_id"], "");
    assert_eq!(task["statuses"], serde_json::json!([]));
    // The task ran no command as another user: Mesos records no user then.
    assert!(task.get("user").is_none(), "{task}");
}

/// Renders reuse what earlier ones made of unchanged tasks, and must still
/// show every change: a read after each update shows it.
#[test]
fn every_read_shows_the_latest_task_state() {
    let (master, agent, _scheduler, framework_id, agent_id) = cluster_with_tasks();
    let task_json = |state: &Value| -> Value {
        state["frameworks"][0]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "t0")
            .cloned()
            .expect("task t0 listed")
    };
    assert_eq!(
        task_json(&master.json("/master/state"))["state"],
        "TASK_STAGING"
    );

    let mut running = update(&framework_id, &agent_id, "t0", TaskState::TaskRunning);
    running.update.status.timestamp = Some(5.0);
    running.update.status.container_status = Some(mesos::ContainerStatus {
        container_id: Some(mesos::ContainerId {
            value: "c0".into(),
            parent: None,
        }),
        ..Default::default()
    });
    let handled = master.next_message::<StatusUpdateMessage>();
    agent.send(&master.upid(), &running);
    master.handled(handled);
    let task = task_json(&master.json("/master/state"));
    assert_eq!(task["state"], "TASK_RUNNING");
    assert_eq!(
        task["statuses"],
        serde_json::json!([{"state": "TASK_RUNNING", "timestamp": 5.0,
                            "container_status": {"container_id": {"value": "c0"}}}])
    );

    // A health check resends TASK_RUNNING: it replaces the last status.
    let mut healthy = update(&framework_id, &agent_id, "t0", TaskState::TaskRunning);
    healthy.update.status.timestamp = Some(6.0);
    healthy.update.status.healthy = Some(true);
    let handled = master.next_message::<StatusUpdateMessage>();
    agent.send(&master.upid(), &healthy);
    master.handled(handled);
    let task = task_json(&master.json("/master/state"));
    assert_eq!(
        task["statuses"],
        serde_json::json!([{"state": "TASK_RUNNING", "timestamp": 6.0, "healthy": true}])
    );
    let tasks = master.json("/master/tasks?task_id=t0");
    assert_eq!(tasks["tasks"][0], task);

    let handled = master.next_message::<StatusUpdateMessage>();
    agent.send(
        &master.upid(),
        &update(&framework_id, &agent_id, "t0", TaskState::TaskFinished),
    );
    master.handled(handled);
    let state = master.json("/master/state");
    assert_eq!(task_json(&state)["state"], "TASK_FINISHED");
    check_consistent(&state, &framework_id);
}

/// The summary counts every task a framework lists, and `/master/tasks`
/// and `/master/frameworks` keep listing the tasks of a removed framework.
#[test]
fn removed_frameworks_keep_their_tasks_listed() {
    let (master, _agent, _scheduler, framework_id, agent_id) = cluster_with_tasks();
    let (status, body) = http(
        &master.runtime,
        "POST",
        "/master/teardown",
        &format!("frameworkId={framework_id}"),
    );
    assert_eq!(status, 200, "{body}");
    master.settle();

    let state = master.json("/master/state");
    assert_eq!(state["frameworks"], serde_json::json!([]));
    let completed = &state["completed_frameworks"][0];
    assert_eq!(completed["id"], framework_id.as_str());
    assert_eq!(completed["active"], false);
    assert_eq!(
        completed["completed_tasks"].as_array().unwrap().len(),
        TASKS
    );
    assert!(completed["unregistered_time"].as_f64().unwrap() > 0.0);

    let tasks = master.json("/master/tasks?limit=1000");
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), TASKS, "{tasks}");
    let frameworks = master.json(&format!("/master/frameworks?framework_id={framework_id}"));
    assert_eq!(frameworks["frameworks"], serde_json::json!([]));
    assert_eq!(frameworks["completed_frameworks"][0], *completed);
    // A second read renders the same (kept) bytes.
    assert_eq!(
        master.json("/master/state")["completed_frameworks"][0],
        *completed
    );

    let summary = master.json("/master/state-summary");
    assert_eq!(summary["frameworks"], serde_json::json!([]));
    assert_eq!(summary["slaves"][0]["id"], agent_id.as_str());
    // Only live frameworks are summarized.
    assert_eq!(summary["slaves"][0]["TASK_KILLED"], 0);
    assert_eq!(summary["slaves"][0]["framework_ids"], serde_json::json!([]));
}

#[test]
fn summary_counts_completed_tasks_too() {
    let (master, agent, _scheduler, framework_id, agent_id) = cluster_with_tasks();
    let handled = master.next_message::<StatusUpdateMessage>();
    agent.send(
        &master.upid(),
        &update(&framework_id, &agent_id, "t1", TaskState::TaskFailed),
    );
    master.handled(handled);
    let summary = master.json("/master/state-summary");
    let framework = &summary["frameworks"][0];
    assert_eq!(framework["TASK_STAGING"], TASKS - 1);
    assert_eq!(framework["TASK_FAILED"], 1);
    assert_eq!(framework["slave_ids"], serde_json::json!([agent_id]));
    assert_eq!(framework["name"], "pollers");
    assert_eq!(framework["recovered"], false);
    assert!(framework.get("pid").is_some());
    assert_eq!(summary["slaves"][0]["TASK_FAILED"], 1);
}

/// GET `path` with `Accept-Encoding: gzip`; the response's head
/// (lowercase) and its body, decompressed when it came compressed.
fn get_accepting_gzip(master: &TestMaster, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(master.runtime.bound_address()).expect("connect");
    stream.set_read_timeout(Some(support::BOUND)).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let body = &answer[split + 4..];
    let mut text = String::new();
    if head.contains("content-encoding: gzip") {
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .expect("a gzip body");
    } else {
        text = String::from_utf8_lossy(body).into_owned();
    }
    (head, text)
}

#[test]
fn state_goes_gzipped_to_readers_that_accept_it() {
    let (master, _agent, _scheduler, framework_id, _agent_id) = cluster_with_tasks();
    // Several readers at once share one batch, and one compressed body.
    let readers: Vec<(String, String)> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| get_accepting_gzip(&master, "/master/state")))
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (head, text) in readers {
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("content-encoding: gzip"), "{head}");
        let state: Value = serde_json::from_str(&text).expect("JSON once decompressed");
        assert_eq!(state["frameworks"][0]["id"], framework_id.as_str());
        assert_eq!(
            state["frameworks"][0]["tasks"].as_array().unwrap().len(),
            TASKS
        );
    }
    // A reader that does not ask gets it as it is.
    let (status, body) = master.get("/master/state");
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_ok());
}
