//! `/master/frameworks`, rendered from a snapshot.

use std::collections::HashMap;

use libprocess::{Context, Reply, Request};
use serde_json::{json, Value};

use super::model;
use super::reads::{self, Endpoint};
use super::snapshot::Snapshot;
use crate::master::Master;

/// Help for `/master/frameworks`.
pub const HELP: &str = "Exposes the frameworks info.";

/// The frameworks, or only `?framework_id=`.
pub fn render(snapshot: &Snapshot, query: &HashMap<String, String>) -> Value {
    let wanted = query.get("framework_id");
    let keep = |id: &str| wanted.is_none_or(|w| w == id);
    let frameworks: Vec<Value> = snapshot
        .frameworks
        .iter()
        .filter(|f| keep(&f.id))
        .map(model::framework)
        .collect();
    let completed: Vec<Value> = snapshot
        .completed_frameworks
        .iter()
        .filter(|f| keep(&f.id))
        .map(model::framework)
        .collect();
    json!({
        "frameworks": frameworks,
        "completed_frameworks": completed,
        "unregistered_frameworks": [],
    })
}

/// `GET /master/frameworks[?framework_id=...]`.
pub fn frameworks(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::Frameworks, request)
}
