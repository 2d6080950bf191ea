//! A task as `/master/state`, `/master/frameworks` and `/master/tasks`
//! show it (Mesos's `json(ObjectWriter*, const Task&)`).

use mesos_proto::mesos::{
    network_info, ContainerId, ContainerStatus, NetworkInfo, Task, TaskState, TaskStatus,
};

use super::super::json::{self, ObjectWriter};
use super::super::protobuf;
use super::{labels, resources_of};

fn state_name(state: i32) -> &'static str {
    TaskState::try_from(state)
        .map(|s| s.as_str_name())
        .unwrap_or("TASK_UNKNOWN")
}

/// The task's JSON object.
pub fn task(t: &Task) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    json::object(&mut out, |o| {
        o.str("id", &t.task_id.value);
        o.str("name", &t.name);
        o.str("framework_id", &t.framework_id.value);
        o.str(
            "executor_id",
            t.executor_id.as_ref().map_or("", |e| e.value.as_str()),
        );
        o.str("slave_id", &t.slave_id.value);
        o.str("state", state_name(t.state));
        let mut summary = Vec::new();
        resources_of(&mut summary, &t.resources);
        o.raw("resources", &summary);
        if !t.limits.is_empty() {
            o.object("limits", |o| {
                for (name, limit) in &t.limits {
                    o.f64(name, limit.value);
                }
            });
        }
        if let Some(first) = t.resources.first() {
            // A task's resources are all allocated to one role.
            let role = first
                .allocation_info
                .as_ref()
                .and_then(|a| a.role.as_deref());
            o.str("role", role.unwrap_or_default());
        }
        o.array("statuses", |a| {
            for s in &t.statuses {
                a.object(|o| status(o, s));
            }
        });
        if let Some(user) = &t.user {
            o.str("user", user);
        }
        if let Some(list) = &t.labels {
            o.array("labels", |a| labels(a, list));
        }
        if let Some(discovery) = &t.discovery {
            o.raw("discovery", &protobuf::to_vec(&**discovery));
        }
        if let Some(container) = &t.container {
            o.raw("container", &protobuf::to_vec(&**container));
        }
        if let Some(check) = &t.health_check {
            o.raw("health_check", &protobuf::to_vec(&**check));
        }
    });
    out
}

/// One entry of a task's `statuses`.
fn status(o: &mut ObjectWriter, s: &TaskStatus) {
    o.str("state", state_name(s.state));
    o.f64("timestamp", s.timestamp.unwrap_or(0.0));
    if let Some(list) = &s.labels {
        o.array("labels", |a| labels(a, list));
    }
    if let Some(container) = &s.container_status {
        o.object("container_status", |o| container_status(o, container));
    }
    if let Some(healthy) = s.healthy {
        o.bool("healthy", healthy);
    }
}

fn container_status(o: &mut ObjectWriter, s: &ContainerStatus) {
    if let Some(id) = &s.container_id {
        o.object("container_id", |o| container_id(o, id));
    }
    if !s.network_infos.is_empty() {
        o.array("network_infos", |a| {
            for info in &s.network_infos {
                a.object(|o| network(o, info));
            }
        });
    }
    if let Some(cgroup) = &s.cgroup_info {
        o.raw("cgroup_info", &protobuf::to_vec(cgroup));
    }
}

/// A `ContainerID`, written out by hand: every status of a task run by a
/// Mesos agent carries one.
fn container_id(o: &mut ObjectWriter, id: &ContainerId) {
    o.str("value", &id.value);
    if let Some(parent) = &id.parent {
        o.object("parent", |o| container_id(o, parent));
    }
}

fn network(o: &mut ObjectWriter, info: &NetworkInfo) {
    if !info.groups.is_empty() {
        o.array("groups", |a| {
            for group in &info.groups {
                a.str(group);
            }
        });
    }
    if let Some(list) = &info.labels {
        o.array("labels", |a| labels(a, list));
    }
    if !info.ip_addresses.is_empty() {
        o.array("ip_addresses", |a| {
            for ip in &info.ip_addresses {
                a.object(|o| {
                    // `protocol` has a default (IPv4), so it is always shown.
                    let protocol = ip
                        .protocol
                        .and_then(|p| network_info::Protocol::try_from(p).ok())
                        .unwrap_or(network_info::Protocol::IPv4);
                    o.str("protocol", protocol.as_str_name());
                    if let Some(address) = &ip.ip_address {
                        o.str("ip_address", address);
                    }
                });
            }
        });
    }
    if let Some(name) = &info.name {
        o.str("name", name);
    }
    if !info.port_mappings.is_empty() {
        o.array("port_mappings", |a| {
            for mapping in &info.port_mappings {
                a.raw(&protobuf::to_vec(mapping));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{
        network_info::IpAddress, resource::AllocationInfo, value, ExecutorId, Label, Labels,
        Resource, TaskId,
    };
    use serde_json::{json, Value};

    fn sample() -> Task {
        #[allow(deprecated)]
        let cpus = Resource {
            name: "cpus".into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: 0.1 }),
            allocation_info: Some(AllocationInfo {
                role: Some("web".into()),
            }),
            ..Default::default()
        };
        let mut task = Task {
            name: "Task 1".into(),
            task_id: TaskId { value: "1".into() },
            state: TaskState::TaskFinished as i32,
            resources: vec![cpus],
            labels: Some(Labels {
                labels: vec![Label {
                    key: "tier".into(),
                    value: Some("web".into()),
                }],
            }),
            ..Default::default()
        };
        task.framework_id.value = "F-0000".into();
        task.slave_id.value = "S0".into();
        let running = TaskStatus {
            state: TaskState::TaskRunning as i32,
            timestamp: Some(1_795_254_002.913_999_7),
            healthy: Some(true),
            container_status: Some(ContainerStatus {
                container_id: Some(ContainerId {
                    value: "2e5a".into(),
                    parent: None,
                }),
                network_infos: vec![NetworkInfo {
                    ip_addresses: vec![IpAddress {
                        protocol: None,
                        ip_address: Some("127.0.0.1".into()),
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            // The master never shows data, messages or reasons here.
            message: Some("running".into()),
            data: Some(bytes::Bytes::from_static(b"secret")),
            ..Default::default()
        };
        task.statuses = vec![running];
        task
    }

    #[test]
    fn a_task_as_mesos_shows_it() {
        let rendered: Value = serde_json::from_slice(&task(&sample())).unwrap();
        assert_eq!(
            rendered,
            json!({
                "id": "1", "name": "Task 1", "framework_id": "F-0000",
                "executor_id": "", "slave_id": "S0", "state": "TASK_FINISHED",
                "resources": {"cpus": 0.1, "gpus": 0.0, "mem": 0.0, "disk": 0.0},
                "role": "web",
                "statuses": [{
                    "state": "TASK_RUNNING", "timestamp": 1_795_254_002.913_999_7,
                    "container_status": {
                        "container_id": {"value": "2e5a"},
                        "network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": "127.0.0.1"}]}],
                    },
                    "healthy": true,
                }],
                "labels": [{"key": "tier", "value": "web"}],
            })
        );
    }

    #[test]
    fn optional_parts_appear_when_set() {
        let mut t = sample();
        t.executor_id = Some(ExecutorId {
            value: "exec".into(),
        });
        t.user = Some("nobody".into());
        t.limits.insert("cpus".into(), value::Scalar { value: 2.0 });
        t.container = Some(Box::new(mesos_proto::mesos::ContainerInfo {
            r#type: mesos_proto::mesos::container_info::Type::Mesos as i32,
            ..Default::default()
        }));
        let rendered: Value = serde_json::from_slice(&task(&t)).unwrap();
        assert_eq!(rendered["executor_id"], "exec");
        assert_eq!(rendered["user"], "nobody");
        assert_eq!(rendered["limits"], json!({"cpus": 2.0}));
        assert_eq!(rendered["container"]["type"], "MESOS");
        assert!(rendered.get("discovery").is_none());
    }
}
