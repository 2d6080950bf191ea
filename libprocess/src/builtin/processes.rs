//! `/__processes__`: every live process and the events waiting for it.

use serde_json::Value;

use crate::http::{Reply, Response};
use crate::process::{Context, Process};

/// Serves `/__processes__`.
pub(crate) struct Processes;

impl Process for Processes {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.route(
            "/",
            Some("Lists every process and its queued events."),
            |_, ctx, request| {
                let processes = Value::Array(ctx.runtime().describe_processes());
                Reply::Now(Response::json(
                    &processes,
                    request.query.get("jsonp").map(String::as_str),
                ))
            },
        );
    }
}
