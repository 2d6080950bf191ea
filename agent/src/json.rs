//! The agent's state as Mesos 1.11's `/slave(1)/state` renders it: pure
//! functions from the agent's records to JSON.

use mesos_common::Resources;
use mesos_proto::mesos::{
    network_info, task_status, FrameworkInfo, Resource, Task, TaskState, TaskStatus,
};
use serde_json::{json, Map, Value as Json};

use crate::slave::types::{Executor, Framework};

/// `{"cpus": 1.0, "mem": 32.0, "disk": 0.0, "gpus": 0.0, "ports": "[...]"}`.
pub fn resources(list: &[Resource]) -> Json {
    Resources::from_proto(list)
        .map(|r| r.to_json_summary())
        .unwrap_or_else(|_| Resources::new().to_json_summary())
}

/// The role a task's or executor's resources are allocated to.
fn role(list: &[Resource]) -> Json {
    list.iter()
        .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
        .map(Json::String)
        .unwrap_or_else(|| json!("*"))
}

fn state_name(state: i32) -> &'static str {
    TaskState::try_from(state)
        .map(|s| s.as_str_name())
        .unwrap_or("TASK_UNKNOWN")
}

/// One status in a task's history.
pub fn status(s: &TaskStatus) -> Json {
    let mut o = Map::new();
    o.insert("state".into(), json!(state_name(s.state)));
    if let Some(t) = s.timestamp {
        o.insert("timestamp".into(), json!(t));
    }
    if let Some(healthy) = s.healthy {
        o.insert("healthy".into(), json!(healthy));
    }
    if let Some(reason) = s.reason.and_then(|r| task_status::Reason::try_from(r).ok()) {
        o.insert("reason".into(), json!(reason.as_str_name()));
    }
    if let Some(message) = &s.message {
        o.insert("message".into(), json!(message));
    }
    if let Some(cs) = &s.container_status {
        let mut c = Map::new();
        if let Some(id) = &cs.container_id {
            c.insert("container_id".into(), json!({ "value": id.value }));
        }
        if let Some(pid) = cs.executor_pid {
            c.insert("executor_pid".into(), json!(pid));
        }
        let networks: Vec<Json> = cs
            .network_infos
            .iter()
            .map(|n| {
                let ips: Vec<Json> = n
                    .ip_addresses
                    .iter()
                    .map(|ip| {
                        let protocol = ip
                            .protocol
                            .and_then(|p| network_info::Protocol::try_from(p).ok())
                            .map(|p| p.as_str_name())
                            .unwrap_or("IPv4");
                        json!({ "protocol": protocol, "ip_address": ip.ip_address })
                    })
                    .collect();
                json!({ "ip_addresses": ips })
            })
            .collect();
        c.insert("network_infos".into(), json!(networks));
        o.insert("container_status".into(), Json::Object(c));
    }
    Json::Object(o)
}

/// A task.
pub fn task(t: &Task) -> Json {
    json!({
        "id": t.task_id.value,
        "name": t.name,
        "framework_id": t.framework_id.value,
        "executor_id": t.executor_id.as_ref().map(|e| e.value.clone()).unwrap_or_default(),
        "slave_id": t.slave_id.value,
        "state": state_name(t.state),
        "resources": resources(&t.resources),
        "role": role(&t.resources),
        "statuses": t.statuses.iter().map(status).collect::<Vec<_>>(),
    })
}

/// A queued task (not sent to its executor yet).
fn queued_task(t: &mesos_proto::mesos::TaskInfo, framework_id: &str, executor_id: &str) -> Json {
    json!({
        "id": t.task_id.value,
        "name": t.name,
        "framework_id": framework_id,
        "executor_id": executor_id,
        "slave_id": t.slave_id.value,
        "resources": resources(&t.resources),
        "role": role(&t.resources),
    })
}

/// An executor with its tasks.
#[allow(deprecated)]
pub fn executor(e: &Executor) -> Json {
    let mut tasks: Vec<Json> = e.launched.values().map(task).collect();
    tasks.extend(e.terminated.values().map(task));
    json!({
        "id": e.id,
        "name": e.info.name.clone().unwrap_or_default(),
        "source": e.info.source.clone().unwrap_or_default(),
        "container": e.container_id,
        "directory": e.directory.display().to_string(),
        "resources": resources(&e.resources()),
        "role": role(&e.info.resources),
        "tasks": tasks,
        "queued_tasks": e.queued.iter().map(|t| queued_task(t, &e.framework_id, &e.id)).collect::<Vec<_>>(),
        "completed_tasks": e.completed.iter().map(task).collect::<Vec<_>>(),
    })
}

fn framework_fields(info: &FrameworkInfo, id: &str) -> Map<String, Json> {
    let mut o = Map::new();
    o.insert("id".into(), json!(id));
    o.insert("name".into(), json!(info.name));
    o.insert("user".into(), json!(info.user));
    o.insert(
        "failover_timeout".into(),
        json!(info.failover_timeout.unwrap_or(0.0)),
    );
    o.insert("checkpoint".into(), json!(info.checkpoint.unwrap_or(false)));
    o.insert(
        "hostname".into(),
        json!(info.hostname.clone().unwrap_or_default()),
    );
    if let Some(principal) = &info.principal {
        o.insert("principal".into(), json!(principal));
    }
    #[allow(deprecated)]
    let roles: Vec<String> = if info.roles.is_empty() {
        vec![info.role.clone().unwrap_or_else(|| "*".into())]
    } else {
        info.roles.clone()
    };
    o.insert("roles".into(), json!(roles));
    o
}

/// A framework with its executors.
pub fn framework(f: &Framework) -> Json {
    let mut o = framework_fields(&f.info, &f.id);
    o.insert(
        "executors".into(),
        json!(f.executors.values().map(executor).collect::<Vec<_>>()),
    );
    o.insert(
        "completed_executors".into(),
        json!(f
            .completed_executors
            .iter()
            .map(executor)
            .collect::<Vec<_>>()),
    );
    Json::Object(o)
}
