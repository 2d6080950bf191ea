//! `/master/slaves`.

use libprocess::{Context, Reply, Request};
use serde_json::{json, Value};

use super::{json_reply, model, state::recovered};
use crate::master::Master;

/// Help for `/master/slaves`.
pub const HELP: &str = "Information about agents.";

/// `GET /master/slaves[?slave_id=...]`.
pub fn slaves(master: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    let wanted = request.query.get("slave_id");
    let mut agents: Vec<_> = master
        .state
        .agents
        .values()
        .filter(|a| wanted.is_none_or(|w| *w == a.id))
        .collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    let slaves: Vec<Value> = agents.into_iter().map(model::agent).collect();
    json_reply(
        &request,
        json!({"slaves": slaves, "recovered_slaves": recovered(master)}),
    )
}
