//! A framework: its summary (what `/master/state-summary` lists, Mesos's
//! `Summary<Framework>`) and in full, with its tasks, offers and
//! executors (Mesos's `FullFrameworkWriter`).

use mesos_proto::mesos::framework_info::capability::Type as Capability;
use mesos_proto::mesos::{executor_info, CommandInfo, ExecutorInfo};

use super::super::cache::TaskJson;
use super::super::json::{self, ObjectWriter};
use super::super::protobuf;
use super::super::snapshot::{FrameworkView, OfferView};
use super::{labels, resources_member, resources_of};

/// The fields every framework rendering starts with.
pub fn summary(o: &mut ObjectWriter, f: &FrameworkView) {
    o.str("id", &f.id);
    o.str("name", &f.info.name);
    // HTTP schedulers have no pid.
    if let Some(pid) = &f.pid {
        o.str("pid", &pid.to_string());
    }
    resources_member(o, "used_resources", &f.used);
    resources_member(o, "offered_resources", &f.offered);
    o.array("capabilities", |a| {
        for c in &f.info.capabilities {
            if let Some(t) = c.r#type.and_then(|t| Capability::try_from(t).ok()) {
                a.str(t.as_str_name());
            }
        }
    });
    o.str("hostname", f.info.hostname.as_deref().unwrap_or_default());
    o.str("webui_url", f.info.webui_url.as_deref().unwrap_or_default());
    o.bool("active", f.active);
    o.bool("connected", f.connected);
    o.bool("recovered", f.recovered);
}

/// The framework in full; its task lists' JSON comes from `tasks`.
pub fn full(out: &mut Vec<u8>, f: &FrameworkView, tasks: &mut TaskJson) {
    json::object(out, |o| {
        summary(o, f);
        o.str("user", &f.info.user);
        o.f64("failover_timeout", f.info.failover_timeout.unwrap_or(0.0));
        o.bool("checkpoint", f.info.checkpoint.unwrap_or(false));
        o.f64("registered_time", f.registered_time);
        o.f64("unregistered_time", f.unregistered_time.unwrap_or(0.0));
        if let Some(principal) = &f.info.principal {
            o.str("principal", principal);
        }
        resources_member(o, "resources", &(&f.used + &f.offered));
        if let Some(t) = f.reregistered_time {
            o.f64("reregistered_time", t);
        }
        if f.multi_role {
            o.array("roles", |a| {
                for role in &f.info.roles {
                    a.str(role);
                }
            });
        } else {
            o.str("role", f.info.role.as_deref().unwrap_or("*"));
        }
        for (key, list) in [
            ("tasks", &f.tasks),
            ("unreachable_tasks", &f.unreachable_tasks),
            ("completed_tasks", &f.completed_tasks),
        ] {
            o.raw(key, tasks.list(list));
        }
        let mut offers: Vec<&OfferView> = f.offers.iter().collect();
        offers.sort_by(|a, b| a.id.cmp(&b.id));
        o.array("offers", |a| {
            for offer in offers {
                a.object(|o| self::offer(o, offer));
            }
        });
        o.array("executors", |a| {
            for (agent_id, executor) in &f.executors {
                a.object(|o| {
                    self::executor(o, executor);
                    o.str("slave_id", agent_id);
                });
            }
        });
        if let Some(list) = &f.info.labels {
            o.array("labels", |a| labels(a, list));
        }
        // We keep no offer constraints; Mesos shows an empty object then.
        o.object("offer_constraints", |_| {});
    });
}

/// An outstanding offer under its framework.
fn offer(o: &mut ObjectWriter, offer: &OfferView) {
    o.str("id", &offer.id);
    o.str("framework_id", &offer.framework_id);
    o.object("allocation_info", |o| o.str("role", &offer.role));
    o.str("slave_id", &offer.agent_id);
    resources_member(o, "resources", &offer.resources);
}

/// An executor (Mesos's `json(ObjectWriter*, const ExecutorInfo&)`).
fn executor(o: &mut ObjectWriter, e: &ExecutorInfo) {
    o.str("executor_id", &e.executor_id.value);
    o.str("name", e.name.as_deref().unwrap_or_default());
    o.str(
        "framework_id",
        e.framework_id.as_ref().map_or("", |f| f.value.as_str()),
    );
    o.object("command", |o| {
        command(o, e.command.as_ref().unwrap_or(&CommandInfo::default()))
    });
    let mut summary = Vec::new();
    resources_of(&mut summary, &e.resources);
    o.raw("resources", &summary);
    if let Some(first) = e.resources.first() {
        let role = first
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.as_deref());
        o.str("role", role.unwrap_or_default());
    }
    if let Some(list) = &e.labels {
        o.array("labels", |a| labels(a, list));
    }
    if let Some(t) = e.r#type.and_then(|t| executor_info::Type::try_from(t).ok()) {
        o.str("type", t.as_str_name());
    }
}

/// A command (Mesos's `json(ObjectWriter*, const CommandInfo&)`).
fn command(o: &mut ObjectWriter, c: &CommandInfo) {
    if let Some(shell) = c.shell {
        o.bool("shell", shell);
    }
    if let Some(value) = &c.value {
        o.str("value", value);
    }
    o.array("argv", |a| {
        for arg in &c.arguments {
            a.str(arg);
        }
    });
    if let Some(environment) = &c.environment {
        o.raw("environment", &protobuf::to_vec(environment));
    }
    o.array("uris", |a| {
        for uri in &c.uris {
            a.object(|o| {
                o.str("value", &uri.value);
                o.bool("executable", uri.executable.unwrap_or(false));
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_common::Resources;
    use mesos_proto::mesos::{ExecutorId, FrameworkInfo};
    use serde_json::{json, Value};
    use std::sync::Arc;

    fn view() -> FrameworkView {
        FrameworkView {
            id: "F-0000".into(),
            info: FrameworkInfo {
                user: "root".into(),
                name: "web".into(),
                role: Some("web".into()),
                ..Default::default()
            },
            multi_role: false,
            pid: None,
            active: true,
            connected: true,
            recovered: false,
            registered_time: 10.0,
            reregistered_time: None,
            unregistered_time: None,
            used: Resources::parse("cpus:1", "*").unwrap(),
            offered: Resources::parse("cpus:2", "*").unwrap(),
            tasks: Arc::from(vec![Arc::new(mesos_proto::mesos::Task::default())]),
            unreachable_tasks: Arc::from(Vec::new()),
            completed_tasks: Arc::from(Vec::new()),
            offers: Vec::new(),
            executors: vec![(
                "S0".into(),
                ExecutorInfo {
                    executor_id: ExecutorId { value: "e".into() },
                    command: Some(CommandInfo {
                        value: Some("run".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )],
        }
    }

    #[test]
    fn a_framework_in_full() {
        let mut out = Vec::new();
        full(&mut out, &view(), &mut TaskJson::default());
        let f: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(f["id"], "F-0000");
        // HTTP frameworks have no pid, and the field is left out.
        assert!(f.get("pid").is_none(), "{f}");
        assert_eq!(f["role"], "web");
        assert!(f.get("roles").is_none());
        assert_eq!(f["resources"]["cpus"], 3.0);
        assert_eq!(f["tasks"].as_array().unwrap().len(), 1);
        assert_eq!(f["offer_constraints"], json!({}));
        assert_eq!(
            f["executors"][0],
            json!({
                "executor_id": "e", "name": "", "framework_id": "",
                "command": {"value": "run", "argv": [], "uris": []},
                "resources": {"cpus": 0.0, "gpus": 0.0, "mem": 0.0, "disk": 0.0},
                "slave_id": "S0",
            })
        );
        assert!(f.get("reregistered_time").is_none());
    }
}
