//! `/master/health`, and what the delegate answers for `/` paths it has
//! no route for.

use libprocess::{Context, Reply, Request, Response};

use crate::master::Master;

/// Help for `/master/health`.
pub const HELP: &str = "Health check of the Master.";
/// Help for the catch-all route.
pub const ROOT_HELP: &str = "Requests the delegate (the master) has no route for.";

/// `GET /master/health`: 200 with an empty body while we run.
pub fn health(_: &mut Master, _: &mut Context<Master>, _: Request) -> Reply {
    Reply::Now(Response::status(200))
}

/// Anything else sent to the master: `/` (and `/master`) is the web UI,
/// `/health` (the delegate's health) is 200; other paths 404, as
/// libprocess words it.
pub fn root(_: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    let path = request.path.trim_end_matches('/');
    if path == "/master" && (request.method == "GET" || request.method == "HEAD") {
        return crate::http::webui::index();
    }
    if path == "/health" || path == "/master/health" {
        return Reply::Now(Response::status(200));
    }
    Reply::Now(Response::not_found())
}
