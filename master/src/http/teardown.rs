//! `/master/teardown`: an operator removes a framework.

use libprocess::{Context, Reply, Request, Response};

use crate::master::Master;

/// Help for `/master/teardown`.
pub const HELP: &str = "Tears down a running framework by shutting down all tasks/executors\n\
and removing the framework. Please provide a \"frameworkId\" value designating\n\
the running framework to tear down.";

/// Reads `frameworkId` from a form-encoded body (or the query).
pub fn framework_id(request: &Request) -> Result<String, String> {
    let from_body = form_urlencoded_pairs(&request.body)
        .into_iter()
        .find(|(k, _)| k == "frameworkId")
        .map(|(_, v)| v);
    from_body
        .or_else(|| request.query.get("frameworkId").cloned())
        .ok_or_else(|| "Missing 'frameworkId' query parameter in the request body".to_string())
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `POST /master/teardown` with `frameworkId=<id>`.
pub fn teardown(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    if request.method != "POST" {
        return Reply::Now(
            Response::text(
                405,
                format!("Expecting 'POST', received '{}'", request.method),
            )
            .with_header("Allow", "POST"),
        );
    }
    let id = match framework_id(&request) {
        Ok(id) => id,
        Err(error) => return Reply::Now(Response::bad_request(error)),
    };
    if !master.state.frameworks.contains_key(&id) {
        return Reply::Now(Response::bad_request(
            "No framework found with specified ID",
        ));
    }
    master.remove_framework(ctx, &id);
    Reply::Now(Response::status(200))
}
