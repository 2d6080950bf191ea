//! The master's endpoints, one file per endpoint. The state endpoints
//! render a [`snapshot::Snapshot`] of the master outside it (`reads`
//! batches them); their JSON is a set of pure functions (`model`) with
//! Mesos 1.11's field names.

pub mod flags;
pub mod frameworks;
pub mod health;
pub mod model;
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
