//! `/master/slaves`, rendered from a snapshot: the agents as
//! `/master/state` shows them, plus every resource whole.

use std::collections::HashMap;

use libprocess::{Context, Reply, Request};

use super::cache::RenderCache;
use super::json;
use super::model;
use super::reads::{self, Endpoint};
use super::snapshot::Snapshot;
use super::state::{recovered, sorted_agents};
use crate::master::Master;

/// Help for `/master/slaves`.
pub const HELP: &str = "Information about agents.";

/// The agents, or only `?slave_id=`.
pub fn render(
    out: &mut Vec<u8>,
    snapshot: &Snapshot,
    cache: &mut RenderCache,
    query: &HashMap<String, String>,
) {
    let wanted = query.get("slave_id");
    let keep = |id: &str| wanted.is_none_or(|w| w == id);
    json::object(out, |o| {
        o.array("slaves", |a| {
            for agent in sorted_agents(snapshot).into_iter().filter(|a| keep(&a.id)) {
                let members = cache.agents.get(agent, model::agent::members);
                let full = cache.agents_full.get(agent, model::agent::full_members);
                a.object(|o| {
                    o.members(members);
                    o.members(full);
                });
            }
        });
        o.array("recovered_slaves", |a| recovered(a, snapshot, keep));
    });
}

/// `GET /master/slaves[?slave_id=...]`.
pub fn slaves(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::Slaves, request)
}
