//! `/master/state` and `/master/state-summary`.

use libprocess::{Context, Reply, Request};
use serde_json::{json, Map, Value};

use super::{json_reply, model};
use crate::master::Master;
use crate::state::is_terminal;

/// Help for `/master/state`.
pub const HELP: &str = "Information about state of master.";
/// Help for `/master/state-summary`.
pub const SUMMARY_HELP: &str = "Summary of agents, tasks, and registered frameworks in cluster.";

/// Fields shared by `/master/state` and `/version`.
pub fn build_info() -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("version".into(), json!(crate::master::VERSION));
    o.insert(
        "git_sha".into(),
        json!("04bc7ee1984d86fbb0bd782ccc69ce44c13ae4b9"),
    );
    o.insert("git_tag".into(), json!("1.11.0"));
    o.insert("build_date".into(), json!("2020-11-24 15:38:37"));
    o.insert("build_time".into(), json!(1606232317.0));
    o.insert("build_user".into(), json!("mesos-rs"));
    o
}

/// The whole state as Mesos renders it.
pub fn render(master: &Master) -> Value {
    let mut o = build_info();
    o.insert("start_time".into(), json!(master.start_time));
    o.insert("elected_time".into(), json!(master.elected_time));
    o.insert("id".into(), json!(master.id()));
    o.insert("pid".into(), json!(master.pid()));
    o.insert(
        "hostname".into(),
        json!(master.info.hostname.clone().unwrap_or_default()),
    );
    o.insert(
        "capabilities".into(),
        json!(["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"]),
    );
    let active = master.state.agents.values().filter(|a| a.active).count();
    o.insert("activated_slaves".into(), json!(active as f64));
    o.insert(
        "deactivated_slaves".into(),
        json!((master.state.agents.len() - active) as f64),
    );
    o.insert(
        "unreachable_slaves".into(),
        json!(master.state.unreachable_agents.len() as f64),
    );
    o.insert("leader".into(), json!(master.pid()));
    o.insert("leader_info".into(), leader_info(master));
    if let Some(cluster) = &master.flags.cluster {
        o.insert("cluster".into(), json!(cluster));
    }
    o.insert("flags".into(), master.flags.to_json()["flags"].clone());
    let mut agents: Vec<_> = master.state.agents.values().collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    o.insert(
        "slaves".into(),
        Value::Array(agents.into_iter().map(model::agent).collect()),
    );
    o.insert("recovered_slaves".into(), recovered(master));
    let offers = |id: &str| master.state.offers.get(id).map(model::offer);
    let mut frameworks: Vec<_> = master.state.frameworks.values().collect();
    frameworks.sort_by(|a, b| a.id.cmp(&b.id));
    o.insert(
        "frameworks".into(),
        Value::Array(
            frameworks
                .into_iter()
                .map(|f| model::framework(f, &offers))
                .collect(),
        ),
    );
    o.insert(
        "completed_frameworks".into(),
        Value::Array(
            master
                .state
                .completed_frameworks
                .iter()
                .map(|f| model::framework(f, &offers))
                .collect(),
        ),
    );
    o.insert("orphan_tasks".into(), json!([]));
    o.insert("unregistered_frameworks".into(), json!([]));
    Value::Object(o)
}

/// `leader_info`: the `MasterInfo` as JSON.
pub fn leader_info(master: &Master) -> Value {
    let info = &master.info;
    json!({
        "id": info.id,
        "pid": info.pid,
        "port": info.port,
        "ip": info.ip,
        "hostname": info.hostname,
        "version": info.version,
        "address": info.address.as_ref().map(|a| json!({
            "hostname": a.hostname, "ip": a.ip, "port": a.port
        })),
        "capabilities": [{"type": "AGENT_UPDATE"}, {"type": "AGENT_DRAINING"}, {"type": "QUOTA_V2"}],
    })
}

/// Agents the registry remembers that have not reregistered yet.
pub fn recovered(master: &Master) -> Value {
    Value::Array(
        master
            .state
            .recovered_agents
            .iter()
            .map(|(id, info)| {
                json!({
                    "id": id,
                    "hostname": info.hostname,
                    "port": info.port,
                    "resources": model::resources(
                        &crate::resources::from_proto(&info.resources).unwrap_or_default()),
                })
            })
            .collect(),
    )
}

/// `GET /master/state`.
pub fn state(master: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    json_reply(&request, render(master))
}

/// Counts of tasks per state, as the summary shows them.
fn task_counts<'a>(
    tasks: impl Iterator<Item = &'a mesos_proto::mesos::Task>,
) -> Map<String, Value> {
    let mut counts = Map::new();
    for name in [
        "TASK_STAGING",
        "TASK_STARTING",
        "TASK_RUNNING",
        "TASK_KILLING",
        "TASK_FINISHED",
        "TASK_KILLED",
        "TASK_FAILED",
        "TASK_LOST",
        "TASK_ERROR",
        "TASK_UNREACHABLE",
    ] {
        counts.insert(name.into(), json!(0));
    }
    for task in tasks {
        let name = mesos_proto::mesos::TaskState::try_from(task.state)
            .map(|s| s.as_str_name())
            .unwrap_or("TASK_UNKNOWN");
        if let Some(Value::Number(n)) = counts.get_mut(name) {
            *n = (n.as_u64().unwrap_or(0) + 1).into();
        }
    }
    counts
}

/// `GET /master/state-summary`.
pub fn summary(master: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    let mut agents: Vec<_> = master.state.agents.values().collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    let slaves: Vec<Value> = agents
        .iter()
        .map(|a| {
            let mut o = match model::agent(a) {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            let tasks = master.state.frameworks.values().flat_map(|f| {
                f.tasks
                    .values()
                    .chain(f.completed_tasks.iter())
                    .filter(|t| t.slave_id.value == a.id)
            });
            o.extend(task_counts(tasks));
            let framework_ids: Vec<&String> = a.tasks.keys().collect();
            o.insert("framework_ids".into(), json!(framework_ids));
            Value::Object(o)
        })
        .collect();
    let frameworks: Vec<Value> = master
        .state
        .frameworks
        .values()
        .map(|f| {
            let mut o = Map::new();
            o.insert("id".into(), json!(f.id));
            o.insert("name".into(), json!(f.info.name));
            o.insert("pid".into(), json!(f.pid.as_ref().map(|p| p.to_string())));
            o.insert("used_resources".into(), model::resources(&f.used));
            o.insert("offered_resources".into(), model::resources(&f.offered));
            o.insert("active".into(), json!(f.active));
            o.insert("connected".into(), json!(f.connected));
            o.extend(task_counts(
                f.tasks.values().chain(f.completed_tasks.iter()),
            ));
            let agents: std::collections::BTreeSet<&String> = f
                .tasks
                .values()
                .filter(|t| !is_terminal(t.state))
                .map(|t| &t.slave_id.value)
                .collect();
            o.insert("slave_ids".into(), json!(agents));
            Value::Object(o)
        })
        .collect();
    let mut o = Map::new();
    o.insert("hostname".into(), json!(master.info.hostname));
    if let Some(cluster) = &master.flags.cluster {
        o.insert("cluster".into(), json!(cluster));
    }
    o.insert("slaves".into(), Value::Array(slaves));
    o.insert("frameworks".into(), Value::Array(frameworks));
    json_reply(&request, Value::Object(o))
}
