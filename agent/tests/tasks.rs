//! A real agent (its own OS process) and real command executors against a
//! fake master speaking the Mesos protocol.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use mesos_agent::testing::eventually;
use mesos_proto::internal::KillTaskMessage;
use mesos_proto::mesos::{
    command_info::Uri, health_check, task_status::Reason, CommandInfo, FrameworkId, HealthCheck,
    TaskId, TaskState,
};

#[test]
fn command_task_finishes_and_writes_its_sandbox() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let fw = framework("fw-1", false);
    run_task(
        &master,
        &agent,
        &fw,
        command_task("t1", "echo hello from the task"),
    );

    let mut seen = HashMap::new();
    let starting = wait_for(&master, &mut seen, "t1", TaskState::TaskStarting);
    assert_eq!(starting.slave_id.as_ref().unwrap().value, AGENT_ID);
    assert!(
        starting.status.container_status.is_some(),
        "agent adds the container"
    );
    wait_for(&master, &mut seen, "t1", TaskState::TaskRunning);
    let finished = wait_for(&master, &mut seen, "t1", TaskState::TaskFinished);
    assert_eq!(
        finished.status.message.as_deref(),
        Some("Command exited with status 0")
    );
    let order: Vec<TaskState> = seen["t1"].iter().map(state_of).collect();
    assert_eq!(
        order,
        vec![
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );

    let sandbox = sandbox_of(&agent, "t1");
    assert!(sandbox.contains(&format!(
        "/slaves/{AGENT_ID}/frameworks/fw-1/executors/t1/runs/"
    )));
    let stdout = std::fs::read_to_string(format!("{sandbox}/stdout")).unwrap();
    assert!(stdout.contains("hello from the task"), "{stdout}");

    // The web UI's way of tailing: size first, then a window.
    let (status, body) = agent.get(&format!("/files/read?path={sandbox}/stdout&offset=-1"));
    assert_eq!(status, 200, "{body}");
    let size = serde_json::from_str::<serde_json::Value>(&body).unwrap()["offset"]
        .as_u64()
        .unwrap();
    assert_eq!(size as usize, stdout.len());
    let (status, body) = agent.get(&format!(
        "/files/read?path={sandbox}/stdout&offset=0&length=5"
    ));
    assert_eq!(status, 200);
    let read: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(read["data"], stdout[..5]);
    let (status, body) = agent.get(&format!("/files/browse?path={sandbox}"));
    assert_eq!(status, 200);
    assert!(body.contains("/stdout\""), "{body}");

    // The task is completed in /state once acknowledged.
    assert!(eventually(WAIT, || {
        let state = agent.state();
        state["frameworks"]
            .as_array()
            .into_iter()
            .chain(state["completed_frameworks"].as_array())
            .flatten()
            .flat_map(|f| {
                f["completed_executors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|e| e["completed_tasks"].as_array().cloned().unwrap_or_default())
            .any(|t| t["id"] == "t1" && t["state"] == "TASK_FINISHED")
    }));
}

#[test]
fn failing_command_fails_with_its_exit_status() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    run_task(
        &master,
        &agent,
        &framework("fw-1", false),
        command_task("bad", "exit 3"),
    );
    let mut seen = HashMap::new();
    let failed = wait_for(&master, &mut seen, "bad", TaskState::TaskFailed);
    assert_eq!(
        failed.status.message.as_deref(),
        Some("Command exited with status 3")
    );
}

#[test]
fn killed_task_dies_with_its_children() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let fw = framework("fw-1", false);
    run_task(
        &master,
        &agent,
        &fw,
        command_task("sleeper", "sleep 1000 & echo $! > child.pid; wait"),
    );
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "sleeper", TaskState::TaskRunning);
    let sandbox = sandbox_of(&agent, "sleeper");
    let mut child = 0;
    assert!(eventually(WAIT, || {
        child = std::fs::read_to_string(format!("{sandbox}/child.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        child > 0
    }));
    assert!(mesos_executor::os::alive(child));

    master.send(
        &agent.upid(),
        KillTaskMessage {
            framework_id: FrameworkId {
                value: "fw-1".into(),
            },
            task_id: TaskId {
                value: "sleeper".into(),
            },
            kill_policy: None,
        },
    );
    let killed = wait_for(&master, &mut seen, "sleeper", TaskState::TaskKilled);
    assert_eq!(
        killed.status.message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
    assert!(
        eventually(WAIT, || !mesos_executor::os::alive(child)),
        "the child was killed"
    );
}

/// Serves `body` once per connection on 127.0.0.1, as a minimal HTTP server.
fn serve_http(body: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/payload.tar.gz", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (url, handle)
}

fn tarball(name: &str, data: &[u8]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    tar.append_data(&mut header, name, data).unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

#[test]
fn uris_are_fetched_and_extracted_before_the_task_runs() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let (url, server) = serve_http(tarball(
        "bin/hello.sh",
        b"#!/bin/sh\necho fetched-and-run\n",
    ));
    let local = tempfile::tempdir().unwrap();
    let script = local.path().join("local.sh");
    std::fs::write(&script, "#!/bin/sh\necho local-ok\n").unwrap();

    let mut task = command_task("fetch", "./bin/hello.sh && ./local.sh");
    task.command.as_mut().unwrap().uris = vec![
        Uri {
            value: url,
            extract: Some(true),
            ..Default::default()
        },
        Uri {
            value: script.display().to_string(),
            executable: Some(true),
            ..Default::default()
        },
    ];
    run_task(&master, &agent, &framework("fw-1", false), task);
    let mut seen = HashMap::new();
    let finished = wait_for(&master, &mut seen, "fetch", TaskState::TaskFinished);
    assert_eq!(
        finished.status.message.as_deref(),
        Some("Command exited with status 0")
    );
    server.join().unwrap();
    let stdout =
        std::fs::read_to_string(format!("{}/stdout", sandbox_of(&agent, "fetch"))).unwrap();
    assert!(
        stdout.contains("fetched-and-run") && stdout.contains("local-ok"),
        "{stdout}"
    );

    // A URI that cannot be fetched fails the task with Mesos's reason.
    let mut broken = command_task("nofetch", "true");
    broken.command.as_mut().unwrap().uris = vec![Uri {
        value: "/nonexistent/archive.tgz".into(),
        ..Default::default()
    }];
    run_task(&master, &agent, &framework("fw-1", false), broken);
    let failed = wait_for(&master, &mut seen, "nofetch", TaskState::TaskFailed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ContainerLaunchFailed as i32)
    );
    assert!(failed
        .status
        .message
        .unwrap()
        .contains("/nonexistent/archive.tgz"));
}

#[test]
fn failing_health_check_marks_the_task_unhealthy_and_kills_it() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let mut task = command_task("sick", "sleep 1000");
    task.health_check = Some(HealthCheck {
        r#type: Some(health_check::Type::Command as i32),
        command: Some(CommandInfo {
            value: Some("test -f healthy".into()),
            ..Default::default()
        }),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.1),
        grace_period_seconds: Some(0.0),
        consecutive_failures: Some(3),
        timeout_seconds: Some(5.0),
        ..Default::default()
    });
    run_task(&master, &agent, &framework("fw-1", false), task);
    let mut seen = HashMap::new();
    let killed = wait_for(&master, &mut seen, "sick", TaskState::TaskKilled);
    assert_eq!(killed.status.healthy, Some(false));
    let unhealthy: Vec<_> = seen["sick"]
        .iter()
        .filter(|u| state_of(u) == TaskState::TaskRunning && u.status.healthy == Some(false))
        .collect();
    assert_eq!(unhealthy.len(), 3, "one update per failure until the kill");
    assert!(unhealthy
        .iter()
        .all(|u| u.status.reason == Some(Reason::TaskHealthCheckStatusUpdated as i32)));
}

#[test]
fn killed_executor_fails_its_task_with_mesos_reason() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    run_task(
        &master,
        &agent,
        &framework("fw-1", false),
        command_task("victim", "sleep 1000"),
    );
    let mut seen = HashMap::new();
    let running = wait_for(&master, &mut seen, "victim", TaskState::TaskRunning);
    let executor_pid = running
        .status
        .container_status
        .as_ref()
        .and_then(|c| c.executor_pid)
        .expect("the agent reports the executor's pid") as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(executor_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let failed = wait_for(&master, &mut seen, "victim", TaskState::TaskFailed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ExecutorTerminated as i32)
    );
    assert_eq!(failed.status.source, Some(1), "SOURCE_SLAVE");
    assert_eq!(
        failed.status.message.as_deref(),
        Some("Executor terminated")
    );
}

#[test]
fn bad_input_gets_clear_errors_and_disturbs_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    let fw = framework("fw-1", false);
    run_task(&master, &agent, &fw, command_task("keep", "sleep 1000"));
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "keep", TaskState::TaskRunning);

    // No command and no executor.
    let mut nothing = command_task("nothing", "x");
    nothing.command = None;
    run_task(&master, &agent, &fw, nothing);
    let error = wait_for(&master, &mut seen, "nothing", TaskState::TaskError);
    assert_eq!(error.status.reason, Some(Reason::TaskInvalid as i32));
    assert_eq!(
        error.status.message.as_deref(),
        Some("TaskInfo must have either CommandInfo or ExecutorInfo set")
    );

    // More than the agent has.
    let mut huge = command_task("huge", "true");
    huge.resources = vec![mesos_common::Resource::scalar("cpus", 100000.0).to_proto()];
    run_task(&master, &agent, &fw, huge);
    let error = wait_for(&master, &mut seen, "huge", TaskState::TaskError);
    assert!(
        error.status.message.unwrap().contains("only"),
        "names what is available"
    );

    // Garbage bodies are dropped without harm.
    master.runtime.block_on({
        let to = agent.upid();
        let from = master.upid();
        let runtime = master.runtime.clone();
        async move {
            runtime.send(libprocess::Message {
                from,
                to,
                name: "mesos.internal.RunTaskMessage".into(),
                body: bytes::Bytes::from_static(b"\xff\xff\xff not protobuf"),
            });
        }
    });

    // Paths outside a sandbox.
    let sandbox = sandbox_of(&agent, "keep");
    let (status, _) = agent.get(&format!(
        "/files/read?path={sandbox}/../../../../../../../etc/passwd&offset=0"
    ));
    assert_eq!(status, 400);
    let (status, _) = agent.get("/files/download?path=/etc/passwd");
    assert_eq!(status, 404);
    std::os::unix::fs::symlink("/etc/passwd", format!("{sandbox}/escape")).unwrap();
    let (status, _) = agent.get(&format!("/files/download?path={sandbox}/escape"));
    assert_eq!(status, 403);
    let (status, body) = agent.get(&format!("/files/read?path={sandbox}/stdout&offset=abc"));
    assert_eq!(status, 400, "{body}");

    // The running task was not disturbed.
    let state = agent.state();
    let running = state["frameworks"][0]["executors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == "keep" && e["tasks"][0]["state"] == "TASK_RUNNING");
    assert!(running, "{state}");
}

#[test]
fn endpoints_and_metrics_describe_the_agent() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &["--attributes=rack:a;zone:b"]);
    run_task(
        &master,
        &agent,
        &framework("fw-1", false),
        command_task("m", "sleep 1000"),
    );
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "m", TaskState::TaskRunning);

    let state = agent.state();
    assert_eq!(state["id"], AGENT_ID);
    assert_eq!(state["resources"]["cpus"], 64.0);
    assert_eq!(state["attributes"]["rack"], "a");
    assert_eq!(
        state["flags"]["work_dir"],
        work.path().display().to_string()
    );
    assert_eq!(
        state["frameworks"][0]["executors"][0]["tasks"][0]["state"],
        "TASK_RUNNING"
    );
    // The build, as the master reports it in /version.
    assert_eq!(state["version"], "1.11.0");
    assert_eq!(state["git_sha"], mesos_common::build::GIT_SHA);
    assert_eq!(state["build_date"], mesos_common::build::DATE);

    let (status, _) = agent.get("/slave(1)/health");
    assert_eq!(status, 200);
    let (_, flags) = agent.get("/slave(1)/flags");
    assert!(flags.contains("\"recover\":\"reconnect\""), "{flags}");

    // Where Mesos 1.11 serves it (mesos-cli reads this path), and the
    // older top-level path.
    for path in ["/slave(1)/monitor/statistics", "/monitor/statistics"] {
        let (_, stats) = agent.get(path);
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        assert_eq!(stats[0]["executor_id"], "m", "{path}");
        assert!(stats[0]["statistics"]["mem_rss_bytes"].as_u64().unwrap() > 0);
    }

    let (_, metrics) = agent.get("/metrics/snapshot");
    let metrics: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    assert_eq!(metrics["slave/registered"], 1.0);
    assert_eq!(metrics["slave/tasks_running"], 1.0);
    assert_eq!(metrics["slave/executors_running"], 1.0);
    assert_eq!(metrics["slave/cpus_total"], 64.0);
    assert!(metrics["slave/cpus_used"].as_f64().unwrap() > 0.1);
}

#[test]
fn missing_work_dir_is_a_clear_error() {
    let output = std::process::Command::new(agent_binary())
        .arg("--master=127.0.0.1:5050")
        .env_remove("MESOS_WORK_DIR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Flag 'work_dir' is required, but it was not provided"),
        "{stderr}"
    );
    let _ = Duration::ZERO;
}
