//! `/master/frameworks`.

use libprocess::{Context, Reply, Request};
use serde_json::{json, Value};

use super::{json_reply, model};
use crate::master::Master;

/// Help for `/master/frameworks`.
pub const HELP: &str = "Exposes the frameworks info.";

/// `GET /master/frameworks[?framework_id=...]`.
pub fn frameworks(master: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    let wanted = request.query.get("framework_id");
    let offers = |id: &str| master.state.offers.get(id).map(model::offer);
    let mut live: Vec<_> = master.state.frameworks.values().collect();
    live.sort_by(|a, b| a.id.cmp(&b.id));
    let keep = |id: &str| wanted.is_none_or(|w| w == id);
    let frameworks: Vec<Value> = live
        .into_iter()
        .filter(|f| keep(&f.id))
        .map(|f| model::framework(f, &offers))
        .collect();
    let completed: Vec<Value> = master
        .state
        .completed_frameworks
        .iter()
        .filter(|f| keep(&f.id))
        .map(|f| model::framework(f, &offers))
        .collect();
    json_reply(
        &request,
        json!({
            "frameworks": frameworks,
            "completed_frameworks": completed,
            "unregistered_frameworks": [],
        }),
    )
}
