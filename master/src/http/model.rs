//! Pure JSON models of the master's frameworks, agents and tasks, rendered
//! from a [`Snapshot`](super::snapshot::Snapshot) outside the master.

use mesos_common::Resources;
use mesos_proto::mesos::{Attribute, Task, TaskState, TaskStatus};
use serde_json::{json, Map, Value};

use super::snapshot::{AgentView, FrameworkView, OfferView};
use mesos_common::resources::proto::Format;

/// Resources as Mesos's summary object (`{"cpus":1.0,...}`).
pub fn resources(resources: &Resources) -> Value {
    resources.to_json_summary()
}

/// Full resource objects, as `*_resources_full`.
pub fn resources_full(resources: &Resources) -> Value {
    Value::Array(
        // Mesos renders the pre-refinement fields (`role: "*"`) here.
        resources
            .to_proto_in(Format {
                allocation_info: true,
                ..Format::LEGACY_FRAMEWORK
            })
            .iter()
            .map(resource_full)
            .collect(),
    )
}

fn resource_full(r: &mesos_proto::mesos::Resource) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(r.name));
    let kind = mesos_proto::mesos::value::Type::try_from(r.r#type)
        .map(|t| t.as_str_name())
        .unwrap_or("SCALAR");
    o.insert("type".into(), json!(kind));
    if let Some(s) = &r.scalar {
        o.insert("scalar".into(), json!({ "value": s.value }));
    }
    if let Some(ranges) = &r.ranges {
        let ranges: Vec<Value> = ranges
            .range
            .iter()
            .map(|x| json!({"begin": x.begin, "end": x.end}))
            .collect();
        o.insert("ranges".into(), json!({ "range": ranges }));
    }
    if let Some(set) = &r.set {
        o.insert("set".into(), json!({ "item": set.item }));
    }
    if let Some(role) = &r.role {
        o.insert("role".into(), json!(role));
    }
    if let Some(a) = &r.allocation_info {
        o.insert("allocation_info".into(), json!({ "role": a.role }));
    }
    Value::Object(o)
}

fn attributes(attributes: &[Attribute]) -> Value {
    let mut o = Map::new();
    for a in attributes {
        let value = if let Some(s) = &a.scalar {
            json!(s.value)
        } else if let Some(t) = &a.text {
            json!(t.value)
        } else if let Some(r) = &a.ranges {
            let parts: Vec<String> = r
                .range
                .iter()
                .map(|x| format!("{}-{}", x.begin, x.end))
                .collect();
            json!(format!("[{}]", parts.join(", ")))
        } else if let Some(s) = &a.set {
            json!(format!("{{{}}}", s.item.join(", ")))
        } else {
            Value::Null
        };
        o.insert(a.name.clone(), value);
    }
    Value::Object(o)
}

fn state_name(state: i32) -> &'static str {
    TaskState::try_from(state)
        .map(|s| s.as_str_name())
        .unwrap_or("TASK_UNKNOWN")
}

fn status(s: &TaskStatus) -> Value {
    let mut o = Map::new();
    o.insert("state".into(), json!(state_name(s.state)));
    o.insert("timestamp".into(), json!(s.timestamp.unwrap_or(0.0)));
    if let Some(healthy) = s.healthy {
        o.insert("healthy".into(), json!(healthy));
    }
    Value::Object(o)
}

/// A task, as in `/master/state` and `/master/tasks`.
pub fn task(t: &Task) -> Value {
    let res = Resources::from_proto(&t.resources).unwrap_or_default();
    let mut o = Map::new();
    o.insert("id".into(), json!(t.task_id.value));
    o.insert("name".into(), json!(t.name));
    o.insert("framework_id".into(), json!(t.framework_id.value));
    o.insert(
        "executor_id".into(),
        json!(t
            .executor_id
            .as_ref()
            .map(|e| e.value.clone())
            .unwrap_or_default()),
    );
    o.insert("slave_id".into(), json!(t.slave_id.value));
    o.insert("state".into(), json!(state_name(t.state)));
    o.insert("resources".into(), resources(&res));
    if let Some(role) = res.iter().next().and_then(|r| r.allocation_role.clone()) {
        o.insert("role".into(), json!(role));
    }
    o.insert(
        "statuses".into(),
        Value::Array(t.statuses.iter().map(status).collect()),
    );
    if let Some(user) = &t.user {
        o.insert("user".into(), json!(user));
    }
    if let Some(labels) = &t.labels {
        let labels: Vec<Value> = labels
            .labels
            .iter()
            .map(|l| json!({"key": l.key, "value": l.value}))
            .collect();
        o.insert("labels".into(), Value::Array(labels));
    }
    Value::Object(o)
}

fn capability_names(f: &FrameworkView) -> Vec<&'static str> {
    use mesos_proto::mesos::framework_info::capability::Type;
    f.info
        .capabilities
        .iter()
        .filter_map(|c| c.r#type.and_then(|t| Type::try_from(t).ok()))
        .map(|t| t.as_str_name())
        .collect()
}

/// The fields every framework rendering shares (`/master/state`,
/// `/master/frameworks`).
pub fn framework(f: &FrameworkView) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(f.id));
    o.insert("name".into(), json!(f.info.name));
    if let Some(pid) = &f.pid {
        o.insert("pid".into(), json!(pid));
    }
    o.insert("used_resources".into(), resources(&f.used));
    o.insert("offered_resources".into(), resources(&f.offered));
    o.insert("capabilities".into(), json!(capability_names(f)));
    o.insert(
        "hostname".into(),
        json!(f.info.hostname.clone().unwrap_or_default()),
    );
    o.insert(
        "webui_url".into(),
        json!(f.info.webui_url.clone().unwrap_or_default()),
    );
    o.insert("active".into(), json!(f.active));
    o.insert("connected".into(), json!(f.connected));
    o.insert("recovered".into(), json!(f.recovered));
    o.insert("user".into(), json!(f.info.user));
    o.insert(
        "failover_timeout".into(),
        json!(f.info.failover_timeout.unwrap_or(0.0)),
    );
    o.insert(
        "checkpoint".into(),
        json!(f.info.checkpoint.unwrap_or(false)),
    );
    o.insert("registered_time".into(), json!(f.registered_time));
    o.insert(
        "unregistered_time".into(),
        json!(f.unregistered_time.unwrap_or(0.0)),
    );
    if let Some(principal) = &f.info.principal {
        o.insert("principal".into(), json!(principal));
    }
    if let Some(t) = f.reregistered_time {
        o.insert("reregistered_time".into(), json!(t));
    }
    if f.capabilities.multi_role {
        o.insert("roles".into(), json!(f.info.roles));
    } else {
        o.insert(
            "role".into(),
            json!(f.roles.first().cloned().unwrap_or_default()),
        );
    }
    o.insert("resources".into(), resources(&(&f.used + &f.offered)));
    o.insert(
        "tasks".into(),
        Value::Array(f.tasks.iter().map(|t| task(t)).collect()),
    );
    o.insert(
        "unreachable_tasks".into(),
        Value::Array(f.unreachable_tasks.iter().map(|t| task(t)).collect()),
    );
    o.insert(
        "completed_tasks".into(),
        Value::Array(f.completed_tasks.iter().map(|t| task(t)).collect()),
    );
    o.insert(
        "offers".into(),
        Value::Array(f.offers.iter().map(offer).collect()),
    );
    let executors: Vec<Value> = f
        .executors
        .iter()
        .map(|(agent, e)| {
                json!({
                    "executor_id": e.executor_id.value,
                    "name": e.name.clone().unwrap_or_default(),
                    "framework_id": f.id,
                    "command": e.command.as_ref().map(|c| json!({"value": c.value, "shell": c.shell.unwrap_or(true)})),
                    "resources": resources(&Resources::from_proto(&e.resources).unwrap_or_default()),
                    "slave_id": agent,
                })
        })
        .collect();
    o.insert("executors".into(), Value::Array(executors));
    Value::Object(o)
}

/// An offer as listed under its framework.
pub fn offer(o: &OfferView) -> Value {
    json!({
        "id": o.id,
        "framework_id": o.framework_id,
        "slave_id": o.agent_id,
        "resources": resources(&o.resources),
        "allocation_info": {"role": o.role},
    })
}

/// An agent, as in `/master/state` and `/master/slaves`.
pub fn agent(a: &AgentView) -> Value {
    use mesos_proto::mesos::slave_info::capability::Type;
    let used = &a.used;
    let reserved = a.total.filter(|r| !r.is_unreserved());
    let mut by_role = Map::new();
    for r in reserved.iter() {
        let entry = by_role
            .entry(r.role().to_string())
            .or_insert_with(|| Value::Null);
        let mut acc = Resources::new();
        acc.add_resource(r);
        *entry = resources(&acc);
    }
    let capabilities: Vec<&str> = a
        .capabilities
        .iter()
        .filter_map(|c| Type::try_from(*c).ok())
        .map(|t| t.as_str_name())
        .collect();
    let mut o = Map::new();
    o.insert("id".into(), json!(a.id));
    o.insert("hostname".into(), json!(a.info.hostname));
    o.insert("port".into(), json!(a.port));
    o.insert("attributes".into(), attributes(&a.info.attributes));
    o.insert("pid".into(), json!(a.pid));
    o.insert("registered_time".into(), json!(a.registered_time));
    if let Some(t) = a.reregistered_time {
        o.insert("reregistered_time".into(), json!(t));
    }
    o.insert("resources".into(), resources(&a.total));
    o.insert("used_resources".into(), resources(used));
    o.insert("offered_resources".into(), resources(&a.offered));
    o.insert("reserved_resources".into(), Value::Object(by_role));
    o.insert(
        "unreserved_resources".into(),
        resources(&a.total.unreserved()),
    );
    o.insert("active".into(), json!(a.active));
    o.insert("deactivated".into(), json!(false));
    o.insert("version".into(), json!(a.version));
    o.insert("capabilities".into(), json!(capabilities));
    o.insert("reserved_resources_full".into(), json!({}));
    o.insert(
        "unreserved_resources_full".into(),
        resources_full(&a.total.unreserved()),
    );
    o.insert("used_resources_full".into(), resources_full(used));
    o.insert("offered_resources_full".into(), resources_full(&a.offered));
    Value::Object(o)
}
