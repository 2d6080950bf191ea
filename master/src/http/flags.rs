//! `/master/flags`.

use libprocess::{Context, Reply, Request};

use super::json_reply;
use crate::master::Master;

/// Help for `/master/flags`.
pub const HELP: &str = "Exposes the master's flag configuration.";

/// `GET /master/flags`: `{"flags": {name: value}}`.
pub fn flags(master: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    json_reply(&request, master.flags.to_json())
}
