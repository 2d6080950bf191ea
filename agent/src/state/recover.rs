//! Reading the checkpointed tree back after a restart, as plain data the
//! agent then acts on. With `strict`, anything unreadable is an error;
//! otherwise it is skipped with a warning, as Mesos's `--strict=false`.

use std::fs;
use std::path::Path;

use bytes::Bytes;
use mesos_proto::internal::{status_update_record, StatusUpdate, StatusUpdateRecord};
use mesos_proto::mesos::{ExecutorInfo, FrameworkInfo, SlaveInfo, Task};

use super::checkpoint::{read_record, read_records};
use crate::error::{Error, Result};
use crate::paths::{Layout, LATEST};

/// The checkpointed agent.
#[derive(Debug, Clone)]
pub struct AgentState {
    /// Its id.
    pub id: String,
    /// Its `SlaveInfo` as last registered.
    pub info: SlaveInfo,
    /// Its checkpointing frameworks.
    pub frameworks: Vec<FrameworkState>,
}

/// One checkpointed framework.
#[derive(Debug, Clone)]
pub struct FrameworkState {
    /// Its id.
    pub id: String,
    /// `framework.info`.
    pub info: FrameworkInfo,
    /// `framework.pid`, if the scheduler had one.
    pub pid: Option<String>,
    /// Its executors.
    pub executors: Vec<ExecutorState>,
}

/// One checkpointed executor.
#[derive(Debug, Clone)]
pub struct ExecutorState {
    /// Its id.
    pub id: String,
    /// `executor.info`.
    pub info: ExecutorInfo,
    /// The latest run (the only one a restarted agent reconnects to).
    pub run: Option<RunState>,
}

/// One run (container) of an executor.
#[derive(Debug, Clone)]
pub struct RunState {
    /// The container id.
    pub container_id: String,
    /// `pids/forked.pid`: the executor's OS process.
    pub forked_pid: Option<i32>,
    /// `pids/libprocess.pid`: the executor's UPID, once it registered.
    pub libprocess_pid: Option<String>,
    /// The run ended before the restart (`executor.sentinel`).
    pub completed: bool,
    /// Its tasks.
    pub tasks: Vec<TaskState>,
}

/// One checkpointed task and its status update log.
#[derive(Debug, Clone)]
pub struct TaskState {
    /// Its id.
    pub id: String,
    /// `task.info`.
    pub info: Task,
    /// Updates in the order received.
    pub updates: Vec<StatusUpdate>,
    /// UUIDs acknowledged, in order.
    pub acks: Vec<Bytes>,
}

fn skip_or_fail<T>(strict: bool, error: Error) -> Result<Option<T>> {
    if strict {
        Err(error)
    } else {
        tracing::warn!("skipping unrecoverable checkpoint: {error}");
        Ok(None)
    }
}

fn dirs(path: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(path) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != LATEST)
        .collect();
    names.sort();
    names
}

fn read_text(path: &Path) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Reads the agent last checkpointed under `layout`, if any.
pub fn recover(layout: &Layout, strict: bool) -> Result<Option<AgentState>> {
    let link = layout.latest_agent_link();
    let Ok(target) = fs::read_link(&link) else {
        return Ok(None);
    };
    let id = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let info_path = layout.agent_info(&id);
    let info = match read_record::<SlaveInfo>(&info_path) {
        Ok(info) => info,
        Err(e) => return skip_or_fail(strict, e),
    };
    let mut frameworks = Vec::new();
    for fw in dirs(&layout.agent_meta(&id).join("frameworks")) {
        if let Some(state) = recover_framework(layout, &id, &fw, strict)? {
            frameworks.push(state);
        }
    }
    Ok(Some(AgentState {
        id,
        info,
        frameworks,
    }))
}

fn recover_framework(
    layout: &Layout,
    agent: &str,
    fw: &str,
    strict: bool,
) -> Result<Option<FrameworkState>> {
    let dir = layout.framework_meta(agent, fw);
    let info = match read_record::<FrameworkInfo>(&dir.join("framework.info")) {
        Ok(info) => info,
        // A framework directory without its info was cut short while it
        // was being created: nothing was promised for it yet.
        Err(Error::Io { .. }) => return Ok(None),
        Err(e) => return skip_or_fail(strict, e),
    };
    let mut executors = Vec::new();
    for ex in dirs(&dir.join("executors")) {
        let ex_dir = layout.executor_meta(agent, fw, &ex);
        let info = match read_record::<ExecutorInfo>(&ex_dir.join("executor.info")) {
            Ok(info) => info,
            Err(Error::Io { .. }) => continue,
            Err(e) => {
                skip_or_fail::<()>(strict, e)?;
                continue;
            }
        };
        let latest = fs::read_link(ex_dir.join("runs").join(LATEST))
            .ok()
            .and_then(|t| t.file_name().and_then(|n| n.to_str()).map(str::to_string));
        let run = match latest {
            Some(container) => recover_run(layout, agent, fw, &ex, &container, strict)?,
            None => None,
        };
        executors.push(ExecutorState { id: ex, info, run });
    }
    Ok(Some(FrameworkState {
        id: fw.to_string(),
        info,
        pid: read_text(&dir.join("framework.pid")),
        executors,
    }))
}

fn recover_run(
    layout: &Layout,
    agent: &str,
    fw: &str,
    ex: &str,
    container: &str,
    strict: bool,
) -> Result<Option<RunState>> {
    let dir = layout.run_meta(agent, fw, ex, container);
    let forked_pid = read_text(&dir.join("pids").join("forked.pid")).and_then(|s| s.parse().ok());
    let libprocess_pid = read_text(&dir.join("pids").join("libprocess.pid"));
    let mut tasks = Vec::new();
    for task in dirs(&dir.join("tasks")) {
        let task_dir = dir.join("tasks").join(&task);
        let info = match read_record::<Task>(&task_dir.join("task.info")) {
            Ok(info) => info,
            Err(Error::Io { .. }) => continue,
            Err(e) => {
                skip_or_fail::<()>(strict, e)?;
                continue;
            }
        };
        let (updates, acks) =
            match read_records::<StatusUpdateRecord>(&task_dir.join("task.updates")) {
                Ok((records, torn)) => {
                    if torn {
                        tracing::warn!(
                            "dropping a torn record at the end of the updates of task {task}"
                        );
                    }
                    split_records(records)
                }
                Err(Error::Io { .. }) => (Vec::new(), Vec::new()),
                Err(e) => {
                    skip_or_fail::<()>(strict, e)?;
                    (Vec::new(), Vec::new())
                }
            };
        tasks.push(TaskState {
            id: task,
            info,
            updates,
            acks,
        });
    }
    Ok(Some(RunState {
        container_id: container.to_string(),
        forked_pid,
        libprocess_pid,
        completed: dir.join("executor.sentinel").exists(),
        tasks,
    }))
}

fn split_records(records: Vec<StatusUpdateRecord>) -> (Vec<StatusUpdate>, Vec<Bytes>) {
    let mut updates = Vec::new();
    let mut acks = Vec::new();
    for record in records {
        if record.r#type == status_update_record::Type::Update as i32 {
            if let Some(update) = record.update {
                updates.push(update);
            }
        } else if let Some(uuid) = record.uuid {
            acks.push(uuid);
        }
    }
    (updates, acks)
}
