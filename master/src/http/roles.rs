//! `/master/roles`: the allocator's view of roles.

use libprocess::{Context, Reply, Request, Response};
use mesos_common::Resources;

use super::json;
use super::model::resources_member;
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
        let none = Resources::new();
        let body = json::to_vec(|o| {
            o.array("roles", |a| {
                for r in &roles {
                    a.object(|o| {
                        o.str("name", &r.role);
                        o.f64("weight", r.weight);
                        resources_member(o, "resources", &r.allocated);
                        resources_member(o, "allocated", &r.allocated);
                        resources_member(o, "offered", &none);
                        resources_member(o, "reserved", &none);
                        o.object("quota", |o| {
                            o.str("role", &r.role);
                            o.object("guarantee", |_| {});
                            o.object("limit", |_| {});
                            o.object("consumed", |_| {});
                        });
                        o.array("frameworks", |a| r.frameworks.iter().for_each(|f| a.str(f)));
                    });
                }
            });
        });
        match jsonp {
            Some(callback) => {
                let mut out = format!("{callback}(").into_bytes();
                out.extend(body);
                out.extend_from_slice(b");");
                Response::ok("text/javascript", out)
            }
            None => Response::ok("application/json", body),
        }
    })
}
