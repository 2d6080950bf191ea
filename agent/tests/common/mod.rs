//! Helpers shared by the agent's integration tests: a fake master, an
//! agent process, and builders for the master's messages.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use mesos_agent::testing::{AgentProcess, FakeMaster};
use mesos_proto::internal::{RunTaskMessage, StatusUpdate};
use mesos_proto::mesos::{
    CommandInfo, FrameworkId, FrameworkInfo, Resource, SlaveId, TaskId, TaskInfo, TaskState,
};

pub const WAIT: Duration = Duration::from_secs(30);
pub const AGENT_ID: &str = "agent-test-S0";

pub fn agent_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mesos-agent"))
}

/// A fake master and an agent registered with it.
pub fn cluster(work_dir: &Path, extra: &[&str]) -> (FakeMaster, AgentProcess) {
    let master = FakeMaster::start(AGENT_ID);
    let mut flags = vec!["--switch_user=false"];
    flags.extend_from_slice(extra);
    let agent = AgentProcess::start(agent_binary(), &master.upid(), work_dir, &flags);
    master
        .next("mesos.internal.RegisterSlaveMessage", WAIT)
        .expect("the agent registers");
    assert!(mesos_agent::testing::eventually(WAIT, || {
        agent.state()["id"] == AGENT_ID
    }));
    (master, agent)
}

pub fn framework(id: &str, checkpoint: bool) -> FrameworkInfo {
    FrameworkInfo {
        user: String::new(),
        name: "test framework".into(),
        id: Some(FrameworkId { value: id.into() }),
        checkpoint: Some(checkpoint),
        ..Default::default()
    }
}

fn scalar(name: &str, value: f64) -> Resource {
    mesos_common::Resource::scalar(name, value).to_proto()
}

pub fn command_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: SlaveId {
            value: AGENT_ID.into(),
        },
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        command: Some(CommandInfo {
            value: Some(command.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[allow(deprecated)]
pub fn run_task(
    master: &FakeMaster,
    agent: &AgentProcess,
    framework: &FrameworkInfo,
    task: TaskInfo,
) {
    master.send(
        &agent.upid(),
        RunTaskMessage {
            framework_id: framework.id.clone(),
            framework: framework.clone(),
            pid: Some(format!("scheduler-test@{}", master.upid().address())),
            task,
            resource_version_uuids: vec![],
            launch_executor: Some(true),
        },
    );
}

pub fn state_of(update: &StatusUpdate) -> TaskState {
    TaskState::try_from(update.status.state).expect("a known state")
}

/// Collects forwarded updates until `task` reaches `state`; returns that
/// update. Updates for other tasks are kept in `seen`.
pub fn wait_for(
    master: &FakeMaster,
    seen: &mut HashMap<String, Vec<StatusUpdate>>,
    task: &str,
    state: TaskState,
) -> StatusUpdate {
    if let Some(u) = seen
        .get(task)
        .and_then(|v| v.iter().find(|u| state_of(u) == state))
    {
        return u.clone();
    }
    loop {
        let update = master
            .next_update(WAIT)
            .unwrap_or_else(|| panic!("task {task} never reached {state:?}; saw {seen:?}"));
        let id = update.status.task_id.value.clone();
        seen.entry(id.clone()).or_default().push(update.clone());
        if id == task && state_of(&update) == state {
            return update;
        }
    }
}

/// The sandbox directory of the executor that ran `task`, from `/state`
/// (its framework may already be among the completed ones).
pub fn sandbox_of(agent: &AgentProcess, task: &str) -> String {
    let state = agent.state();
    let frameworks = ["frameworks", "completed_frameworks"]
        .into_iter()
        .flat_map(|key| state[key].as_array().into_iter().flatten());
    for f in frameworks {
        for key in ["executors", "completed_executors"] {
            for e in f[key].as_array().into_iter().flatten() {
                if e["id"] == task {
                    return e["directory"].as_str().unwrap_or_default().to_string();
                }
            }
        }
    }
    panic!("no executor for {task} in {state}");
}
