//! `/version` (and `/master/version`): the build we claim to be.

use libprocess::{Context, Reply, Request};
use serde_json::Value;

use super::{json_reply, state::build_info};
use crate::master::Master;

/// Help for `/version`.
pub const HELP: &str = "Provides version information.";

/// `GET /version`: `{"build_date","build_time","build_user","git_sha","git_tag","version"}`.
pub fn version(_: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    json_reply(&request, Value::Object(build_info()))
}
