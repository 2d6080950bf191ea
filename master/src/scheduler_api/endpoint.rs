//! `POST /api/v1/scheduler`: checks a request as Mesos's master does (in
//! Mesos's order, with its status codes and messages), then hands the call
//! to the same handlers libprocess drivers reach: SUBSCRIBE opens the
//! event stream, every other call must come with that stream's
//! `Mesos-Stream-Id` and is answered `202 Accepted`.

use std::collections::BTreeSet;

use libprocess::{Context, Reply, Request, Response};
use mesos_proto::scheduler::call::Type;
use mesos_proto::scheduler::Call;

use super::codec::decode_call;
use super::connection::{Connection, HttpConnection};
use crate::master::Master;
use crate::validation;
use mesos_proto::codec::{self, ContentType};

/// Help for `/api/v1/scheduler`.
pub const HELP: &str = "Endpoint for schedulers to make calls against the master.\n\
Scheduler calls (`mesos.v1.scheduler.Call`) are POSTed as JSON or protobuf; SUBSCRIBE\n\
is answered with a RecordIO stream of `mesos.v1.scheduler.Event`s.";

/// The header naming a scheduler's event stream.
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

/// A request that passed the checks that need no master state.
#[derive(Debug)]
pub struct Checked {
    /// The devolved call.
    pub call: Call,
    /// Its type.
    pub kind: Type,
    /// For SUBSCRIBE, the encoding of the event stream.
    pub accept: Option<ContentType>,
}

fn text(status: u16, message: impl Into<String>) -> Response {
    Response::text(status, message)
}

/// The answer to a request refused before its body was read.
fn refused(refusal: codec::Refusal) -> Response {
    text(refusal.status, refusal.message).with_headers(refusal.headers)
}

/// The checks of a request that need no master state: method, content
/// type, body, the call's validity, and for SUBSCRIBE the `Accept` header
/// and the absence of a stream ID. Errors are the responses to give.
pub fn check(request: &Request) -> Result<Checked, Response> {
    let content_type = codec::request_encoding(&request.method, request.header("Content-Type"))
        .map_err(refused)?;
    let call =
        decode_call(content_type, &request.body).map_err(|error| text(400, error.to_string()))?;
    validation::call::validate(&call)
        .map_err(|error| text(400, format!("Failed to validate scheduler::Call: {error}")))?;
    let kind = Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(Type::Unknown);
    let mut accept = None;
    if matches!(kind, Type::Subscribe | Type::ReconcileOperations) {
        accept = Some(codec::stream_encoding(request.header("Accept")).map_err(refused)?);
    }
    if kind == Type::Subscribe && request.header(STREAM_ID_HEADER).is_some() {
        return Err(text(
            400,
            "Subscribe calls should not include the 'Mesos-Stream-Id' header",
        ));
    }
    Ok(Checked { call, kind, accept })
}

/// The route handler.
pub fn scheduler(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    let checked = match check(&request) {
        Ok(checked) => checked,
        Err(response) => {
            if response.status == 400 {
                master.metrics.invalid_framework_messages += 1;
            }
            return Reply::Now(response);
        }
    };
    Reply::Now(match checked.kind {
        Type::Subscribe => subscribe(master, ctx, checked),
        _ => call(master, ctx, &request, checked.call, checked.kind),
    })
}

fn subscribe(master: &mut Master, ctx: &mut Context<Master>, checked: Checked) -> Response {
    let Some(subscribe) = checked.call.subscribe else {
        return text(400, "Expecting 'subscribe' to be present");
    };
    let content_type = checked.accept.unwrap_or(ContentType::Json);
    let info = subscribe.framework_info;
    if info.id.as_ref().is_some_and(|id| !id.value.is_empty()) {
        master.metrics.messages_reregister_framework += 1;
    } else {
        master.metrics.messages_register_framework += 1;
    }
    let (http, events) = HttpConnection::new(content_type);
    let stream_id = http.stream_id.clone();
    let suppressed: BTreeSet<String> = subscribe.suppressed_roles.into_iter().collect();
    let force = subscribe.force.unwrap_or(false);
    master.subscribe(ctx, Connection::Http(http), info, force, suppressed);
    Response::stream(content_type.as_str(), events).with_header(STREAM_ID_HEADER, stream_id)
}

fn call(
    master: &mut Master,
    ctx: &mut Context<Master>,
    request: &Request,
    call: Call,
    kind: Type,
) -> Response {
    let framework_id = call
        .framework_id
        .as_ref()
        .map(|f| f.value.clone())
        .unwrap_or_default();
    let Some(framework) = master.state.frameworks.get(&framework_id) else {
        return text(400, "Framework cannot be found");
    };
    if !framework.connected {
        return text(403, "Framework is not subscribed");
    }
    let Some(http) = framework.http() else {
        return text(403, "Framework is not connected via HTTP");
    };
    let Some(stream_id) = request.header(STREAM_ID_HEADER) else {
        return text(
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
        );
    };
    if stream_id != http.stream_id {
        return text(
            400,
            format!(
                "The stream ID '{stream_id}' included in this request didn't match the \
                 stream ID currently associated with framework ID {framework_id}"
            ),
        );
    }
    match master.handle_call(ctx, &framework_id, call) {
        Ok(()) if kind == Type::UpdateFramework => Response::status(200),
        Ok(()) => Response::status(202),
        Err(error) => text(400, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn request(method: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.into(),
            path: "/master/api/v1/scheduler".into(),
            query: HashMap::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: bytes::Bytes::from(body.to_string()),
            client: None,
        }
    }

    const SUBSCRIBE: &str =
        r#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}"#;

    fn status(result: Result<Checked, Response>) -> u16 {
        result.map(|_| 200).unwrap_or_else(|r| r.status)
    }

    #[test]
    fn requests_are_checked_in_mesos_order() {
        let json = ("Content-Type", "application/json");
        assert_eq!(status(check(&request("GET", &[json], SUBSCRIBE))), 405);
        assert_eq!(status(check(&request("POST", &[], SUBSCRIBE))), 400);
        assert_eq!(
            status(check(&request(
                "POST",
                &[("Content-Type", "text/plain")],
                SUBSCRIBE
            ))),
            415
        );
        assert_eq!(status(check(&request("POST", &[json], "{"))), 400);
        assert_eq!(
            status(check(&request("POST", &[json], r#"{"type": "ACCEPT"}"#))),
            400
        );
        assert_eq!(
            status(check(&request(
                "POST",
                &[json, ("Accept", "text/html")],
                SUBSCRIBE
            ))),
            406
        );
        assert_eq!(
            status(check(&request(
                "POST",
                &[json, ("Mesos-Stream-Id", "x")],
                SUBSCRIBE
            ))),
            400
        );
        let checked = check(&request(
            "POST",
            &[json, ("Accept", "application/x-protobuf")],
            SUBSCRIBE,
        ))
        .unwrap();
        assert_eq!(checked.kind, Type::Subscribe);
        assert_eq!(checked.accept, Some(ContentType::Protobuf));
    }
}
