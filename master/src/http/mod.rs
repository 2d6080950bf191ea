//! The master's endpoints, one file per endpoint. The state endpoints
//! (`/master/state`, `/state-summary`, `/frameworks`, `/slaves`, `/tasks`)
//! render a [`snapshot::Snapshot`] of the master outside it (`reads`
//! batches them) straight into bytes (`json`), reusing what earlier
//! renders made of unchanged tasks and agents (`cache`); their JSON is a
//! set of pure functions (`model`) with Mesos 1.11's field names.
//!
//! Modules:
//! - `reads`: batching state reads and rendering them off the master.
//! - `snapshot`: the consistent copy a batch renders.
//! - `cache`: rendered JSON kept between batches.
//! - `json`: the JSON writer.
//! - `protobuf`: messages rendered field by field from their schema.
//! - `model`: the JSON of tasks, frameworks and agents.
//! - `state`, `frameworks`, `slaves`, `tasks`: the state endpoints.
//! - `roles`, `health`, `redirect`, `teardown`, `flags`, `version`,
//!   `webui`: the other endpoints.

pub mod cache;
pub mod flags;
pub mod frameworks;
pub mod health;
pub mod json;
pub mod model;
pub mod protobuf;
pub mod reads;
pub mod redirect;
pub mod roles;
pub mod slaves;
pub mod snapshot;
pub mod state;
pub mod tasks;
pub mod teardown;
pub mod version;
pub mod webui;

use libprocess::{Reply, Request, Response};
use serde_json::Value;

/// A JSON reply, honouring `?jsonp=`. The body is serialized outside the
/// master process so a large state does not hold up its mailbox.
pub(crate) fn json_reply(request: &Request, value: Value) -> Reply {
    let jsonp = request.query.get("jsonp").cloned();
    Reply::later(async move { Response::json(&value, jsonp.as_deref()) })
}
