//! `/master/slaves`, rendered from a snapshot.

use std::collections::HashMap;

use libprocess::{Context, Reply, Request};
use serde_json::{json, Value};

use super::reads::{self, Endpoint};
use super::snapshot::Snapshot;
use super::{model, state::recovered};
use crate::master::Master;

/// Help for `/master/slaves`.
pub const HELP: &str = "Information about agents.";

/// The agents, or only `?slave_id=`.
pub fn render(snapshot: &Snapshot, query: &HashMap<String, String>) -> Value {
    let wanted = query.get("slave_id");
    let slaves: Vec<Value> = snapshot
        .agents
        .iter()
        .filter(|a| wanted.is_none_or(|w| *w == a.id))
        .map(model::agent)
        .collect();
    json!({"slaves": slaves, "recovered_slaves": recovered(snapshot)})
}

/// `GET /master/slaves[?slave_id=...]`.
pub fn slaves(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::Slaves, request)
}
