//! `/master/state` and `/master/state-summary`, rendered from a snapshot.

use std::collections::BTreeSet;

use libprocess::{Context, Reply, Request};
use serde_json::{json, Map, Value};

use super::model;
use super::reads::{self, Endpoint};
use super::snapshot::{tasks_by_agent, MasterView, Snapshot};
use crate::master::Master;
use crate::state::is_terminal;

/// Help for `/master/state`.
pub const HELP: &str = "Information about state of master.";
/// Help for `/master/state-summary`.
pub const SUMMARY_HELP: &str = "Summary of agents, tasks, and registered frameworks in cluster.";

/// The whole state as Mesos renders it.
pub fn render(snapshot: &Snapshot) -> Value {
    let master = &snapshot.master;
    let pid = master.info.pid.clone().unwrap_or_default();
    let mut o = super::version::build_info();
    o.insert("start_time".into(), json!(master.start_time));
    o.insert("elected_time".into(), json!(master.elected_time));
    o.insert("id".into(), json!(master.info.id));
    o.insert("pid".into(), json!(pid));
    o.insert(
        "hostname".into(),
        json!(master.info.hostname.clone().unwrap_or_default()),
    );
    o.insert(
        "capabilities".into(),
        json!(["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"]),
    );
    let active = snapshot.agents.iter().filter(|a| a.active).count();
    o.insert("activated_slaves".into(), json!(active as f64));
    o.insert(
        "deactivated_slaves".into(),
        json!((snapshot.agents.len() - active) as f64),
    );
    o.insert(
        "unreachable_slaves".into(),
        json!(master.unreachable_agents as f64),
    );
    o.insert("leader".into(), json!(pid));
    o.insert("leader_info".into(), leader_info(master));
    if let Some(cluster) = &master.cluster {
        o.insert("cluster".into(), json!(cluster));
    }
    o.insert("flags".into(), master.flags.clone());
    o.insert(
        "slaves".into(),
        Value::Array(snapshot.agents.iter().map(model::agent).collect()),
    );
    o.insert("recovered_slaves".into(), recovered(snapshot));
    o.insert(
        "frameworks".into(),
        Value::Array(snapshot.frameworks.iter().map(model::framework).collect()),
    );
    o.insert(
        "completed_frameworks".into(),
        Value::Array(
            snapshot
                .completed_frameworks
                .iter()
                .map(model::framework)
                .collect(),
        ),
    );
    o.insert("orphan_tasks".into(), json!([]));
    o.insert("unregistered_frameworks".into(), json!([]));
    Value::Object(o)
}

/// `leader_info`: the `MasterInfo` as JSON.
pub fn leader_info(master: &MasterView) -> Value {
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
pub fn recovered(snapshot: &Snapshot) -> Value {
    Value::Array(
        snapshot
            .recovered_agents
            .iter()
            .map(|(id, info)| {
                json!({
                    "id": id,
                    "hostname": info.hostname,
                    "port": info.port,
                    "resources": model::resources(
                        &mesos_common::Resources::from_proto(&info.resources).unwrap_or_default()),
                })
            })
            .collect(),
    )
}

/// `GET /master/state`.
pub fn state(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::State, request)
}

/// Counts of tasks per state, as the summary shows them.
fn task_counts<'a>(
    tasks: impl Iterator<Item = &'a mesos_proto::mesos::Task>,
) -> Map<String, Value> {
    let mut counts = [0u64; 10];
    const NAMES: [&str; 10] = [
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
    ];
    for task in tasks {
        let name = mesos_proto::mesos::TaskState::try_from(task.state)
            .map(|s| s.as_str_name())
            .unwrap_or("TASK_UNKNOWN");
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            counts[i] += 1;
        }
    }
    NAMES
        .iter()
        .zip(counts)
        .map(|(name, n)| (name.to_string(), json!(n)))
        .collect()
}

/// The summary: agents and frameworks with task counts, no tasks.
pub fn render_summary(snapshot: &Snapshot) -> Value {
    let by_agent = tasks_by_agent(snapshot);
    let slaves: Vec<Value> = snapshot
        .agents
        .iter()
        .map(|a| {
            let mut o = match model::agent(a) {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            let tasks = by_agent.get(a.id.as_str()).into_iter().flatten().copied();
            o.extend(task_counts(tasks));
            o.insert("framework_ids".into(), json!(a.framework_ids));
            Value::Object(o)
        })
        .collect();
    let frameworks: Vec<Value> = snapshot
        .frameworks
        .iter()
        .map(|f| {
            let mut o = Map::new();
            o.insert("id".into(), json!(f.id));
            o.insert("name".into(), json!(f.info.name));
            o.insert("pid".into(), json!(f.pid));
            o.insert("used_resources".into(), model::resources(&f.used));
            o.insert("offered_resources".into(), model::resources(&f.offered));
            o.insert("active".into(), json!(f.active));
            o.insert("connected".into(), json!(f.connected));
            o.extend(task_counts(
                f.tasks.iter().chain(&f.completed_tasks).map(|t| t.as_ref()),
            ));
            let agents: BTreeSet<&String> = f
                .tasks
                .iter()
                .filter(|t| !is_terminal(t.state))
                .map(|t| &t.slave_id.value)
                .collect();
            o.insert("slave_ids".into(), json!(agents));
            Value::Object(o)
        })
        .collect();
    let mut o = Map::new();
    o.insert("hostname".into(), json!(snapshot.master.info.hostname));
    if let Some(cluster) = &snapshot.master.cluster {
        o.insert("cluster".into(), json!(cluster));
    }
    o.insert("slaves".into(), Value::Array(slaves));
    o.insert("frameworks".into(), Value::Array(frameworks));
    Value::Object(o)
}

/// `GET /master/state-summary`.
pub fn summary(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::StateSummary, request)
}
