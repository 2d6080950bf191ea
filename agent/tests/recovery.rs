//! Agent restarts: `kill -9` the agent while tasks run, start it again,
//! and check that executors re-register, every task is still known, and
//! no status update was lost or reordered. Also: a master restart.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use mesos_agent::testing::{eventually, FakeMaster};
use mesos_proto::internal::{KillTaskMessage, ReregisterSlaveMessage, StatusUpdate};
use mesos_proto::mesos::{task_status::Reason, FrameworkId, TaskId, TaskState};

const TASKS: usize = 20;

fn kill(master: &FakeMaster, agent: &mesos_agent::testing::AgentProcess, task: &str) {
    master.send(
        &agent.upid(),
        KillTaskMessage {
            framework_id: FrameworkId {
                value: "fw-cp".into(),
            },
            task_id: TaskId { value: task.into() },
            kill_policy: None,
        },
    );
}

/// Per task, the states of its distinct updates in arrival order (a
/// resent update repeats its uuid and is counted once).
fn distinct_states(seen: &HashMap<String, Vec<StatusUpdate>>, task: &str) -> Vec<TaskState> {
    let mut uuids = Vec::new();
    let mut states = Vec::new();
    for u in seen.get(task).into_iter().flatten() {
        if !uuids.contains(&u.uuid) {
            uuids.push(u.uuid.clone());
            states.push(state_of(u));
        }
    }
    states
}

#[test]
fn agent_killed_with_sigkill_recovers_its_tasks_and_updates() {
    let work = tempfile::tempdir().unwrap();
    let (master, mut agent) = cluster(work.path(), &["--executor_reregistration_timeout=10secs"]);
    let fw = framework("fw-cp", true);
    let ids: Vec<String> = (0..TASKS).map(|i| format!("task-{i}")).collect();
    for id in &ids {
        run_task(&master, &agent, &fw, command_task(id, "sleep 1000"));
    }
    let mut seen: HashMap<String, Vec<StatusUpdate>> = HashMap::new();
    let mut executor_pids = HashMap::new();
    for id in &ids {
        let running = wait_for(&master, &mut seen, id, TaskState::TaskRunning);
        let pid = running
            .status
            .container_status
            .as_ref()
            .and_then(|c| c.executor_pid);
        executor_pids.insert(id.clone(), pid.expect("executor pid") as i32);
    }

    // Five tasks end while the framework does not acknowledge.
    master.set_auto_ack(false);
    let killed: Vec<&String> = ids.iter().take(5).collect();
    for id in &killed {
        kill(&master, &agent, id);
    }
    for id in &killed {
        wait_for(&master, &mut seen, id, TaskState::TaskKilled);
    }

    // The agent dies; so does one executor while it is down.
    agent.kill();
    let victim = &ids[5];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(executor_pids[victim]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    master.set_auto_ack(true);
    agent.restart();

    let (_, reregister) = master
        .next_message::<ReregisterSlaveMessage>(WAIT)
        .expect("the agent re-registers");
    assert_eq!(reregister.slave.id.as_ref().unwrap().value, AGENT_ID);
    let states: HashMap<String, TaskState> = reregister
        .tasks
        .iter()
        .map(|t| {
            (
                t.task_id.value.clone(),
                TaskState::try_from(t.state).unwrap(),
            )
        })
        .collect();
    assert_eq!(states.len(), TASKS, "every task is reported: {states:?}");
    for id in &ids[6..] {
        assert_eq!(states[id], TaskState::TaskRunning, "{id}");
    }
    for id in &killed {
        assert_eq!(states[*id], TaskState::TaskKilled, "{id}");
    }

    // The unacknowledged TASK_KILLED updates come again; the dead
    // executor's task fails with Mesos's reason.
    for id in &killed {
        let kills = |seen: &HashMap<String, Vec<StatusUpdate>>| {
            seen[*id]
                .iter()
                .filter(|u| state_of(u) == TaskState::TaskKilled)
                .count()
        };
        while kills(&seen) < 2 {
            let update = master
                .next_update(WAIT)
                .expect("the unacknowledged update is resent");
            seen.entry(update.status.task_id.value.clone())
                .or_default()
                .push(update);
        }
    }
    let failed = wait_for(&master, &mut seen, victim, TaskState::TaskFailed);
    assert_eq!(
        failed.status.reason,
        Some(Reason::ExecutorTerminated as i32)
    );

    // The live executors re-registered: the agent shows their tasks
    // running, and they still take orders.
    assert!(eventually(WAIT, || {
        let state = agent.state();
        let running = state["frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
            .filter(|e| e["tasks"][0]["state"] == "TASK_RUNNING")
            .count();
        running == TASKS - 6
    }));
    // Executors whose last update was acknowledged exit on their own.
    let mut last = serde_json::Value::Null;
    let exited = eventually(WAIT, || {
        let (_, metrics) = agent.get("/metrics/snapshot");
        last = serde_json::from_str(&metrics).unwrap();
        last["slave/executors_running"] == (TASKS - 6) as f64
    });
    assert!(exited, "metrics {last}\nstate {}", agent.state());
    for id in &ids[6..] {
        kill(&master, &agent, id);
    }
    for id in &ids[6..] {
        wait_for(&master, &mut seen, id, TaskState::TaskKilled);
    }

    // Nothing lost, nothing out of order.
    for id in &ids {
        let states = distinct_states(&seen, id);
        let expected_end = if id == victim {
            TaskState::TaskFailed
        } else {
            TaskState::TaskKilled
        };
        assert_eq!(
            states,
            vec![
                TaskState::TaskStarting,
                TaskState::TaskRunning,
                expected_end
            ],
            "{id}"
        );
    }
}

#[test]
fn agent_reregisters_after_a_master_restart() {
    let work = tempfile::tempdir().unwrap();
    let (master, agent) = cluster(work.path(), &[]);
    run_task(
        &master,
        &agent,
        &framework("fw-cp", false),
        command_task("t", "sleep 1000"),
    );
    let mut seen = HashMap::new();
    wait_for(&master, &mut seen, "t", TaskState::TaskRunning);
    let port = master.upid().port();
    drop(master);

    let master = FakeMaster::start_on(AGENT_ID, port);
    let (_, reregister) = master
        .next_message::<ReregisterSlaveMessage>(WAIT)
        .expect("the agent re-registers with the new master");
    assert_eq!(reregister.tasks.len(), 1);
    assert_eq!(reregister.tasks[0].state, TaskState::TaskRunning as i32);
    assert_eq!(reregister.frameworks[0].id.as_ref().unwrap().value, "fw-cp");
    kill(&master, &agent, "t");
    let _ = Duration::ZERO;
}
