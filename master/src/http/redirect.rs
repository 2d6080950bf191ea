//! `/master/redirect`: 307 to the leading master (us).

use libprocess::{Context, Reply, Request, Response};

use crate::master::Master;

/// Help for `/master/redirect`.
pub const HELP: &str = "Redirects to the leading Master.";

/// `GET|HEAD /master/redirect`: `Location: //host:port`.
pub fn redirect(master: &mut Master, _: &mut Context<Master>, _: Request) -> Reply {
    let host = master.info.hostname.clone().unwrap_or_default();
    let location = format!("//{host}:{}", master.info.port);
    Reply::Now(Response::status(307).with_header("Location", location))
}
