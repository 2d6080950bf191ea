//! `/help`: the routes of every process, and each route's help text.

use std::fmt::Write;

use crate::http::{Reply, Response};
use crate::process::{Context, Process};

/// Serves `/help`, `/help/<id>` and `/help/<id>/<route>`.
pub(crate) struct Help;

impl Process for Help {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.route(
            "/",
            Some("Lists the endpoints of every process."),
            |_, ctx, request| {
                let wanted = request.path.trim_start_matches("/help").trim_matches('/');
                let (id, route) = match wanted.split_once('/') {
                    Some((id, route)) => (id, Some(format!("/{route}"))),
                    None => (wanted, None),
                };
                let mut text = String::new();
                for (process, routes) in ctx.runtime().routes() {
                    if !id.is_empty() && process != id {
                        continue;
                    }
                    for (name, help) in routes {
                        if route.as_ref().is_some_and(|r| *r != name) {
                            continue;
                        }
                        let path = if name == "/" {
                            format!("/{process}")
                        } else {
                            format!("/{process}{name}")
                        };
                        if route.is_some() {
                            let _ = writeln!(text, "### {path} ###\n{help}");
                        } else {
                            let summary = help.lines().next().unwrap_or_default();
                            let _ = writeln!(text, "{path}  {summary}");
                        }
                    }
                }
                if text.is_empty() && !wanted.is_empty() {
                    return Reply::Now(Response::not_found());
                }
                Reply::Now(Response::ok("text/plain; charset=utf-8", text))
            },
        );
    }
}
