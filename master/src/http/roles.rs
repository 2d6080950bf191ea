//! `/master/roles`: the allocator's view of roles.

use libprocess::{Context, Reply, Request, Response};
use serde_json::{json, Value};

use super::model;
use crate::master::Master;

/// Help for `/master/roles`.
pub const HELP: &str = "Information about roles.";

/// `GET /master/roles`.
pub fn roles(master: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    let allocator = master.allocator.clone();
    let jsonp = request.query.get("jsonp").cloned();
    Reply::later(async move {
        let Ok(roles) = allocator.roles().await else {
            return Response::text(503, "the allocator has terminated");
        };
        let roles: Vec<Value> = roles
            .into_iter()
            .map(|r| {
                json!({
                    "name": r.role,
                    "weight": r.weight,
                    "resources": model::resources(&r.allocated),
                    "allocated": model::resources(&r.allocated),
                    "offered": model::resources(&mesos_common::Resources::new()),
                    "reserved": model::resources(&mesos_common::Resources::new()),
                    "quota": {"role": r.role, "guarantee": {}, "limit": {}, "consumed": {}},
                    "frameworks": r.frameworks,
                })
            })
            .collect();
        Response::json(&json!({ "roles": roles }), jsonp.as_deref())
    })
}
