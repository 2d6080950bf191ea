//! The agent in a real cluster: our master (in this process), the agent
//! as its own OS process running real command executors, and a framework
//! on our scheduler driver that gets every status update through the
//! master and acknowledges it. What is checked is what a user sees: the
//! framework's updates, `/master/state`, the sandbox, and `/proc`.

#[path = "real_master/cluster.rs"]
mod cluster;
mod common;

use std::collections::HashMap;

use bytes::Bytes;
use cluster::{command_task, start_agent, state_of, Framework, Master, WAIT};
use common::sandbox_of;
use mesos_agent::testing::eventually;
use mesos_proto::internal::{ReregisterSlaveMessage, RunTaskMessage};
use mesos_proto::mesos::{
    command_info::Uri, health_check, task_status::Reason, task_status::Source, CommandInfo,
    HealthCheck, SlaveId, TaskState,
};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use prost::{Message as _, Name as _};

/// `STARTING`, `RUNNING`, then `end`: what a command task's framework
/// sees.
fn lifecycle(end: TaskState) -> Vec<TaskState> {
    vec![TaskState::TaskStarting, TaskState::TaskRunning, end]
}

/// Whether `states` never goes back (a resent update may repeat the
/// latest state, never an earlier one).
fn never_goes_back(states: &[TaskState]) -> bool {
    let rank = |s: &TaskState| match s {
        TaskState::TaskStaging => 0,
        TaskState::TaskStarting => 1,
        TaskState::TaskRunning => 2,
        _ => 3,
    };
    states.windows(2).all(|w| rank(&w[0]) <= rank(&w[1]))
}

fn signal(pid: i32, signal: Signal) {
    kill(Pid::from_raw(pid), signal).expect("the process exists");
}

/// Whether every thread of process `pid` is stopped (`T` in `/proc`).
fn stopped(pid: i32) -> bool {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    threads.flatten().all(|thread| {
        std::fs::read_to_string(thread.path().join("stat")).is_ok_and(|stat| {
            // `pid (comm) state ...`; comm may hold spaces and parentheses.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        })
    })
}

/// The executor's OS pid, from the update the agent stamped.
fn executor_pid(status: &mesos_proto::mesos::TaskStatus) -> i32 {
    status
        .container_status
        .as_ref()
        .and_then(|c| c.executor_pid)
        .expect("the agent reports the executor's pid") as i32
}

#[test]
fn command_task_writes_its_sandbox_and_finishes() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);
    framework.launch(vec![command_task("t1", "echo hello from the task")]);

    let finished = framework.wait_for("t1", TaskState::TaskFinished);
    assert_eq!(
        finished.message.as_deref(),
        Some("Command exited with status 0")
    );
    assert_eq!(finished.source, Some(Source::Executor as i32));
    assert_eq!(
        Some(finished.slave_id.unwrap().value),
        master.agents()[0]["id"].as_str().map(str::to_string)
    );
    assert_eq!(
        framework.distinct_states("t1"),
        lifecycle(TaskState::TaskFinished)
    );

    let sandbox = sandbox_of(&agent, "t1");
    assert!(sandbox.contains(&format!("/frameworks/{}/executors/t1/runs/", framework.id)));
    let stdout = std::fs::read_to_string(format!("{sandbox}/stdout")).unwrap();
    assert!(stdout.contains("hello from the task"), "{stdout}");

    // Acknowledged, the task is among the master's completed ones.
    assert!(eventually(WAIT, || master.task_state("t1").as_deref()
        == Some("TASK_FINISHED")));
}

#[test]
fn failing_command_fails_with_its_exit_status() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let _agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);
    framework.launch(vec![command_task("bad", "echo oops >&2; exit 3")]);

    let failed = framework.wait_for("bad", TaskState::TaskFailed);
    assert_eq!(
        failed.message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(
        framework.distinct_states("bad"),
        lifecycle(TaskState::TaskFailed)
    );
    assert!(eventually(WAIT, || master.task_state("bad").as_deref()
        == Some("TASK_FAILED")));
}

#[test]
fn killed_task_dies_with_its_children() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);
    framework.launch(vec![command_task(
        "sleeper",
        "sleep 1000 & echo $! > child.pid; wait",
    )]);
    framework.wait_for("sleeper", TaskState::TaskRunning);
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

    framework.kill("sleeper");
    let killed = framework.wait_for("sleeper", TaskState::TaskKilled);
    assert_eq!(
        killed.message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
    assert!(
        eventually(WAIT, || !mesos_executor::os::alive(child)),
        "the task's child process is gone"
    );
    assert!(eventually(WAIT, || master.task_state("sleeper").as_deref()
        == Some("TASK_KILLED")));
}

/// Serves `body` to one request on 127.0.0.1; the URL ends in `name`.
fn serve_http(name: &str, body: Vec<u8>) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/{name}", listener.local_addr().unwrap());
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
    use std::os::unix::fs::PermissionsExt;

    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);

    let local = tempfile::tempdir().unwrap();
    let archive = local.path().join("bundle.tar.gz");
    std::fs::write(
        &archive,
        tarball("bin/hello.sh", b"#!/bin/sh\necho from-the-archive\n"),
    )
    .unwrap();
    let script = local.path().join("local.sh");
    std::fs::write(&script, "#!/bin/sh\necho from-a-local-file\n").unwrap();
    let (url, server) = serve_http("remote.sh", b"#!/bin/sh\necho from-http\n".to_vec());

    let mut task = command_task("fetch", "./bin/hello.sh && ./local.sh && ./remote.sh");
    task.command.as_mut().unwrap().uris = vec![
        Uri {
            value: archive.display().to_string(),
            extract: Some(true),
            ..Default::default()
        },
        Uri {
            value: script.display().to_string(),
            executable: Some(true),
            ..Default::default()
        },
        Uri {
            value: url,
            executable: Some(true),
            ..Default::default()
        },
    ];
    framework.launch(vec![task]);
    let finished = framework.wait_for("fetch", TaskState::TaskFinished);
    assert_eq!(
        finished.message.as_deref(),
        Some("Command exited with status 0")
    );
    server.join().unwrap();

    let sandbox = sandbox_of(&agent, "fetch");
    let stdout = std::fs::read_to_string(format!("{sandbox}/stdout")).unwrap();
    for line in ["from-the-archive", "from-a-local-file", "from-http"] {
        assert!(stdout.contains(line), "{line} in {stdout}");
    }
    for file in ["bin/hello.sh", "local.sh", "remote.sh"] {
        let mode = std::fs::metadata(format!("{sandbox}/{file}"))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o100 != 0, "{file} is executable: {mode:o}");
    }
}

#[test]
fn failing_health_check_marks_the_task_unhealthy_and_kills_it() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let _agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);
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
    framework.launch(vec![task]);

    let killed = framework.wait_for("sick", TaskState::TaskKilled);
    assert_eq!(killed.healthy, Some(false), "{killed:?}");
    let updates = &framework.updates["sick"];
    let unhealthy: Vec<_> = updates
        .iter()
        .filter(|u| state_of(u) == TaskState::TaskRunning && u.healthy == Some(false))
        .collect();
    assert_eq!(unhealthy.len(), 3, "one update per failure until the kill");
    assert!(unhealthy
        .iter()
        .all(|u| u.reason == Some(Reason::TaskHealthCheckStatusUpdated as i32)));
    assert!(eventually(WAIT, || master.task_state("sick").as_deref()
        == Some("TASK_KILLED")));
}

#[test]
fn killed_executor_fails_its_task_with_mesos_reason() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let _agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);
    framework.launch(vec![command_task("victim", "sleep 1000")]);
    let running = framework.wait_for("victim", TaskState::TaskRunning);

    signal(executor_pid(&running), Signal::SIGKILL);
    let failed = framework.wait_for("victim", TaskState::TaskFailed);
    assert_eq!(
        failed.reason,
        Some(Reason::ExecutorTerminated as i32),
        "{failed:?}"
    );
    assert_eq!(failed.source, Some(Source::Slave as i32));
    assert_eq!(failed.message.as_deref(), Some("Executor terminated"));
    assert!(eventually(WAIT, || master.task_state("victim").as_deref()
        == Some("TASK_FAILED")));
}

const TASKS: usize = 20;

#[test]
fn agent_killed_with_sigkill_recovers_its_tasks_and_updates() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let mut agent = start_agent(
        &master,
        work.path(),
        &["--executor_reregistration_timeout=10secs"],
    );
    let mut framework = Framework::start(&master, true);
    let ids: Vec<String> = (0..TASKS).map(|i| format!("task-{i}")).collect();
    framework.launch(
        ids.iter()
            .map(|id| command_task(id, "sleep 1000"))
            .collect(),
    );
    let mut executors = HashMap::new();
    for id in &ids {
        let running = framework.wait_for(id, TaskState::TaskRunning);
        executors.insert(id.clone(), executor_pid(&running));
    }

    // Five tasks end while the framework does not acknowledge.
    framework.set_acknowledge(false);
    let (killed, rest) = ids.split_at(5);
    for id in killed {
        framework.kill(id);
    }
    for id in killed {
        framework.wait_for(id, TaskState::TaskKilled);
    }

    // The agent dies; so does one executor while it is down.
    let reregistered = master.next_message::<ReregisterSlaveMessage>();
    agent.kill();
    let (victim, alive) = rest.split_first().unwrap();
    signal(executors[victim], Signal::SIGKILL);
    framework.set_acknowledge(true);
    agent.restart();

    let message: ReregisterSlaveMessage = master.received(reregistered);
    let reported: HashMap<String, i32> = message
        .tasks
        .iter()
        .map(|t| (t.task_id.value.clone(), t.state))
        .collect();
    assert_eq!(
        reported.len(),
        TASKS,
        "every task is reported: {reported:?}"
    );
    for id in alive {
        assert_eq!(reported[id], TaskState::TaskRunning as i32, "{id}");
    }
    for id in killed {
        assert_eq!(reported[id], TaskState::TaskKilled as i32, "{id}");
    }

    // The unacknowledged TASK_KILLED updates come again (and are now
    // acknowledged); the dead executor's task fails with Mesos's reason.
    for id in killed {
        let again = framework.wait_for_nth(id, TaskState::TaskKilled, 2);
        let first = framework.wait_for(id, TaskState::TaskKilled);
        assert_eq!(again.uuid, first.uuid, "the same update, resent");
    }
    let failed = framework.wait_for(victim, TaskState::TaskFailed);
    assert_eq!(failed.reason, Some(Reason::ExecutorTerminated as i32));
    assert_eq!(failed.source, Some(Source::Slave as i32));

    // The master sees every live task still running on the agent.
    let mut last = serde_json::Value::Null;
    let consistent = eventually(WAIT, || {
        let states: Vec<Option<String>> = ids.iter().map(|id| master.task_state(id)).collect();
        last = serde_json::json!(states);
        ids.iter().zip(&states).all(|(id, state)| {
            let expected = if killed.contains(id) {
                "TASK_KILLED"
            } else if id == victim {
                "TASK_FAILED"
            } else {
                "TASK_RUNNING"
            };
            state.as_deref() == Some(expected)
        })
    });
    assert!(consistent, "task states in /master/state: {last}");
    assert_eq!(master.agents()[0]["active"], true);

    // The live executors re-registered: the agent runs their tasks, and
    // the executors of ended tasks are gone.
    let mut metrics = serde_json::Value::Null;
    let settled = eventually(WAIT, || {
        let (_, body) = agent.get("/metrics/snapshot");
        metrics = serde_json::from_str(&body).unwrap_or_default();
        metrics["slave/executors_running"] == alive.len() as f64
            && metrics["slave/tasks_running"] == alive.len() as f64
    });
    assert!(settled, "metrics {metrics}");

    // ... and still take orders.
    for id in alive {
        framework.kill(id);
    }
    for id in alive {
        framework.wait_for(id, TaskState::TaskKilled);
    }

    // Nothing lost, nothing duplicated out of order.
    for id in &ids {
        let end = if id == victim {
            TaskState::TaskFailed
        } else {
            TaskState::TaskKilled
        };
        assert_eq!(framework.distinct_states(id), lifecycle(end), "{id}");
        assert!(
            never_goes_back(&framework.states(id)),
            "{id}: {:?}",
            framework.states(id)
        );
    }
}

#[test]
fn master_reconciles_a_task_whose_launch_the_agent_never_saw() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let mut agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, true);
    framework.launch(vec![command_task("kept", "sleep 1000")]);
    framework.wait_for("kept", TaskState::TaskRunning);

    // The agent freezes; the master launches a task on it that the agent
    // never reads: it dies with the message unread in its socket.
    let offer = framework.take_offer();
    let frozen = agent.pid().expect("the agent runs") as i32;
    signal(frozen, Signal::SIGSTOP);
    assert!(eventually(WAIT, || stopped(frozen)), "the agent stops");
    framework.launch_on(&offer, vec![command_task("lost", "sleep 1000")]);
    assert!(eventually(WAIT, || master.task_state("lost").as_deref()
        == Some("TASK_STAGING")));
    agent.restart();

    // The agent re-registers without the task; the master asks about it
    // and the agent says it does not know it.
    let lost = framework.wait_for("lost", TaskState::TaskLost);
    assert_eq!(lost.reason, Some(Reason::Reconciliation as i32), "{lost:?}");
    assert_eq!(lost.source, Some(Source::Slave as i32));
    assert_eq!(
        lost.message.as_deref(),
        Some("Reconciliation: task unknown to the agent")
    );
    assert_eq!(framework.states("lost"), vec![TaskState::TaskLost]);

    assert!(eventually(WAIT, || master.task_state("lost").as_deref()
        == Some("TASK_LOST")));
    assert_eq!(master.task_state("kept").as_deref(), Some("TASK_RUNNING"));
    assert_eq!(
        framework.distinct_states("kept"),
        vec![TaskState::TaskStarting, TaskState::TaskRunning]
    );
}

/// The framework as the agent's `/state` lists it among the completed.
fn completed_framework(
    agent: &mesos_agent::testing::AgentProcess,
    id: &str,
) -> Option<serde_json::Value> {
    agent.state()["completed_frameworks"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == id)
        .cloned()
}

#[test]
fn reregistration_reports_the_frameworks_that_are_done_here() {
    let work = tempfile::tempdir().unwrap();
    // On a port no outgoing connection can take while it restarts.
    let master = Master::start_on(mesos_agent::testing::free_port());
    let mut agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, true);
    framework.launch(vec![command_task("done", "true")]);
    framework.wait_for("done", TaskState::TaskFinished);

    // Its executor exits once the end is acknowledged: the framework has
    // nothing left here.
    let done_here = || completed_framework(&agent, &framework.id).is_some();
    assert!(eventually(WAIT, done_here));
    let check = |message: &ReregisterSlaveMessage| {
        assert!(message.frameworks.is_empty(), "{:?}", message.frameworks);
        assert!(message.tasks.is_empty(), "{:?}", message.tasks);
        assert_eq!(message.completed_frameworks.len(), 1);
        let archived = &message.completed_frameworks[0];
        assert_eq!(
            archived.framework_info.id.as_ref().unwrap().value,
            framework.id
        );
        assert_eq!(archived.pid, Some(framework.pid().to_string()));
        assert_eq!(archived.tasks.len(), 1);
        assert_eq!(archived.tasks[0].task_id.value, "done");
        assert_eq!(archived.tasks[0].state, TaskState::TaskFinished as i32);
    };

    // After its own restart (from its checkpoints).
    let reregistered = master.next_message::<ReregisterSlaveMessage>();
    agent.restart();
    check(&master.received(reregistered));
    let listed = completed_framework(&agent, &framework.id).expect("still listed");
    let task = &listed["completed_executors"][0]["completed_tasks"][0];
    assert_eq!(task["id"], "done");
    assert_eq!(task["state"], "TASK_FINISHED");

    // With a new master (a failover to the same address).
    let port = master.upid().port();
    drop(master);
    let master = Master::start_on(port);
    let reregistered = master.next_message::<ReregisterSlaveMessage>();
    check(&master.received(reregistered));
    assert!(eventually(WAIT, || master
        .agents()
        .iter()
        .any(|a| a["active"] == true)));
}

#[test]
fn bad_tasks_get_error_updates_and_disturb_nothing() {
    let work = tempfile::tempdir().unwrap();
    let master = Master::start();
    let mut agent = start_agent(&master, work.path(), &[]);
    let mut framework = Framework::start(&master, false);
    framework.launch(vec![command_task("keep", "sleep 1000")]);
    framework.wait_for("keep", TaskState::TaskRunning);

    // Through the master: its validation refuses them.
    let mut nothing = command_task("nothing", "x");
    nothing.command = None;
    let mut huge = command_task("huge", "true");
    huge.resources = vec![mesos_common::Resource::scalar("cpus", 100000.0).to_proto()];
    framework.launch(vec![nothing, huge]);
    let error = framework.wait_for("nothing", TaskState::TaskError);
    assert_eq!(error.reason, Some(Reason::TaskInvalid as i32));
    assert_eq!(error.source, Some(Source::Master as i32));
    assert_eq!(
        error.message.as_deref(),
        Some("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present")
    );
    let error = framework.wait_for("huge", TaskState::TaskError);
    assert_eq!(error.reason, Some(Reason::TaskInvalid as i32));
    assert!(error.message.unwrap().contains("more than available"));

    // Past the master (sent from its address, as a master without that
    // validation would): the agent refuses them itself, and its errors
    // reach the framework through the master.
    let agent_id = master.agents()[0]["id"].as_str().unwrap().to_string();
    let (info, scheduler) = (framework.info.clone(), framework.pid().to_string());
    let run_task = |task: mesos_proto::mesos::TaskInfo| {
        let mut task = task;
        task.slave_id = SlaveId {
            value: agent_id.clone(),
        };
        #[allow(deprecated)]
        let message = RunTaskMessage {
            framework_id: info.id.clone(),
            framework: info.clone(),
            pid: Some(scheduler.clone()),
            task,
            resource_version_uuids: Vec::new(),
            launch_executor: Some(true),
        };
        master.runtime.send(libprocess::Message {
            from: master.upid(),
            to: agent.upid(),
            name: RunTaskMessage::full_name().into(),
            body: Bytes::from(message.encode_to_vec()),
        });
    };
    let mut bare = command_task("bare", "x");
    bare.command = None;
    run_task(bare);
    let error = framework.wait_for("bare", TaskState::TaskError);
    assert_eq!(error.reason, Some(Reason::TaskInvalid as i32));
    assert_eq!(error.source, Some(Source::Slave as i32));
    assert_eq!(
        error.message.as_deref(),
        Some("TaskInfo must have either CommandInfo or ExecutorInfo set")
    );
    let mut giant = command_task("giant", "true");
    giant.resources = vec![mesos_common::Resource::scalar("cpus", 100000.0).to_proto()];
    run_task(giant);
    let error = framework.wait_for("giant", TaskState::TaskError);
    assert_eq!(error.reason, Some(Reason::TaskInvalid as i32));
    let message = error.message.unwrap();
    assert!(
        message.contains("only") && message.contains("cpus"),
        "{message}"
    );

    // A body that is not a RunTaskMessage at all.
    master.runtime.send(libprocess::Message {
        from: master.upid(),
        to: agent.upid(),
        name: RunTaskMessage::full_name().into(),
        body: Bytes::from_static(b"\xff\xff\xff not protobuf"),
    });

    // Nothing else was disturbed: the agent runs, is registered, still
    // runs the first task, and runs new ones.
    framework.launch(vec![command_task("after", "true")]);
    framework.wait_for("after", TaskState::TaskFinished);
    assert!(agent.try_wait().is_none(), "the agent is alive");
    assert_eq!(master.agents().len(), 1);
    assert_eq!(master.agents()[0]["active"], true);
    assert_eq!(master.task_state("keep").as_deref(), Some("TASK_RUNNING"));
    assert_eq!(
        framework.states("keep"),
        vec![TaskState::TaskStarting, TaskState::TaskRunning]
    );
    let state = agent.state();
    let keep_running = state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
        .any(|e| e["id"] == "keep" && e["tasks"][0]["state"] == "TASK_RUNNING");
    assert!(keep_running, "{state}");
    for task in ["nothing", "huge", "bare", "giant"] {
        assert_eq!(framework.states(task), vec![TaskState::TaskError], "{task}");
    }
}
