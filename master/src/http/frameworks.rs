//! `/master/frameworks`, rendered from a snapshot.

use std::collections::HashMap;

use libprocess::{Context, Reply, Request};

use super::cache::RenderCache;
use super::json;
use super::model;
use super::reads::{self, Endpoint};
use super::snapshot::Snapshot;
use super::state::{completed_frameworks, sorted_frameworks};
use crate::master::Master;

/// Help for `/master/frameworks`.
pub const HELP: &str = "Exposes the frameworks info.";

/// The frameworks, live and completed, or only `?framework_id=`.
pub fn render(
    out: &mut Vec<u8>,
    snapshot: &Snapshot,
    cache: &mut RenderCache,
    query: &HashMap<String, String>,
) {
    let wanted = query.get("framework_id");
    let keep = |id: &str| wanted.is_none_or(|w| w == id);
    json::object(out, |o| {
        o.array("frameworks", |a| {
            for f in sorted_frameworks(snapshot)
                .into_iter()
                .filter(|f| keep(&f.id))
            {
                a.with(|out| model::framework::full(out, f, &mut cache.tasks));
            }
        });
        o.array("completed_frameworks", |a| {
            completed_frameworks(a, snapshot, cache, |f| keep(&f.id))
        });
        o.array("unregistered_frameworks", |_| {});
    });
}

/// `GET /master/frameworks[?framework_id=...]`.
pub fn frameworks(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    reads::serve(master, ctx, Endpoint::Frameworks, request)
}
