//! `/metrics/snapshot`: every metric of this OS process as one flat JSON
//! object.

use crate::http::{Reply, Response};
use crate::process::{Context, Process};

/// Serves `/metrics/snapshot`.
pub(crate) struct Metrics;

const HELP: &str = "Provides a snapshot of the current metrics.\n\n\
Query parameters: 'timeout' (e.g. 5secs) bounds how long pull gauges are \
waited for; those that do not answer in time are left out. 'jsonp' wraps \
the JSON in a callback.";

impl Process for Metrics {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.route("/snapshot", Some(HELP), |_, _, request| {
            let timeout = match request.query.get("timeout") {
                Some(value) => match super::parse_duration(value) {
                    Ok(timeout) => Some(timeout),
                    Err(error) => {
                        return Reply::Now(Response::bad_request(format!(
                            "Invalid timeout '{value}': {error}.\n"
                        )))
                    }
                },
                None => None,
            };
            let jsonp = request.query.get("jsonp").cloned();
            Reply::later(async move {
                let snapshot = crate::metrics::install().snapshot(timeout).await;
                let object: serde_json::Map<String, serde_json::Value> = snapshot
                    .into_iter()
                    .map(|(name, value)| (name, serde_json::json!(value)))
                    .collect();
                Response::json(&serde_json::Value::Object(object), jsonp.as_deref())
            })
        });
    }
}
