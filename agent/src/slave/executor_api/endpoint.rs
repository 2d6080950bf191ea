//! `POST /slave(1)/api/v1/executor`: checks a request as Mesos's agent
//! does (in its order, with its status codes and texts), finds the
//! executor, then hands the call to its handler: SUBSCRIBE opens the event
//! stream (200), UPDATE and MESSAGE are answered `202 Accepted`.

use libprocess::{Context, Reply, Request, Response};
use mesos_proto::executor::call::Type;
use mesos_proto::executor::Call;

use mesos_proto::codec;

use super::codec::{decode_call, ContentType};
use super::validation;
use crate::slave::types::ExecutorPhase;
use crate::slave::{Phase, Slave};

/// Help for `/api/v1/executor`.
pub const HELP: &str = "Endpoint for the Executor HTTP API.\n\
Executors POST `mesos.v1.executor.Call`s as JSON or protobuf. Returns 200 OK\n\
iff the initial SUBSCRIBE call is successful, with a chunked RecordIO stream of\n\
`mesos.v1.executor.Event`s; 202 Accepted for all other calls iff accepted.";

/// A request that passed the checks that need no agent state.
#[derive(Debug)]
pub struct Checked {
    /// The call.
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

/// The checks of a request that need no agent state: method, content
/// type, body, the call's validity, and for SUBSCRIBE the `Accept`
/// header. Errors are the responses to give.
pub fn check(request: &Request) -> Result<Checked, Response> {
    let content_type = codec::request_encoding(&request.method, request.header("Content-Type"))
        .map_err(refused)?;
    let call =
        decode_call(content_type, &request.body).map_err(|error| text(400, error.to_string()))?;
    validation::validate_call(&call)
        .map_err(|error| text(400, format!("Failed to validate Executor::Call: {error}")))?;
    let kind = Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(Type::Unknown);
    let mut accept = None;
    if kind == Type::Subscribe {
        accept = Some(codec::stream_encoding(request.header("Accept")).map_err(refused)?);
    }
    Ok(Checked { call, kind, accept })
}

impl Slave {
    /// The route: Mesos's checks, then the call's handler.
    pub(crate) fn executor_api(&mut self, ctx: &mut Context<Self>, request: Request) -> Reply {
        let checked = match check(&request) {
            Ok(checked) => checked,
            Err(response) => {
                tracing::warn!(
                    "refusing executor API call from {}: {} {}",
                    request
                        .client
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "?".into()),
                    response.status,
                    match &response.body {
                        libprocess::Body::Full(body) => String::from_utf8_lossy(body).into_owned(),
                        libprocess::Body::Stream(_) => String::new(),
                    }
                );
                return Reply::Now(response);
            }
        };
        Reply::Now(self.executor_call(ctx, checked))
    }

    fn executor_call(&mut self, ctx: &mut Context<Self>, checked: Checked) -> Response {
        let Checked { call, kind, accept } = checked;
        match kind {
            // Executors may send dummy ids with heartbeats: accepted as is.
            Type::Heartbeat => return Response::status(202),
            Type::Subscribe => {}
            _ if self.phase == Phase::Recovering => {
                return text(503, "Agent has not finished recovery");
            }
            _ => {}
        }
        let framework_id = call.framework_id.value.clone();
        let executor_id = call.executor_id.value.clone();
        if !self.frameworks.contains_key(&framework_id) {
            return text(400, "Framework cannot be found");
        }
        let Some(executor) = self.executor(&framework_id, &executor_id) else {
            return text(400, "Executor cannot be found");
        };
        if executor.phase == ExecutorPhase::Registering && kind != Type::Subscribe {
            return text(403, "Executor is not subscribed");
        }
        match kind {
            Type::Subscribe => {
                let subscribe = call.subscribe.unwrap_or_default();
                let content_type = accept.unwrap_or(ContentType::Json);
                self.subscribe_executor(ctx, &framework_id, &executor_id, subscribe, content_type)
            }
            Type::Update => match call.update {
                Some(update) => {
                    self.executor_update(ctx, &framework_id, &executor_id, update.status)
                }
                None => text(400, "Expecting 'update' to be present"),
            },
            Type::Message => match call.message {
                Some(message) => {
                    self.executor_call_message(ctx, &framework_id, &executor_id, message.data)
                }
                None => text(400, "Expecting 'message' to be present"),
            },
            Type::Heartbeat => Response::status(202),
            Type::Unknown => {
                tracing::warn!("received 'UNKNOWN' call from executor '{executor_id}'");
                Response::status(501)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn request(method: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.into(),
            path: "/slave(1)/api/v1/executor".into(),
            query: HashMap::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: bytes::Bytes::from(body.to_string()),
            client: None,
        }
    }

    const SUBSCRIBE: &str = r#"{"type": "SUBSCRIBE", "framework_id": {"value": "f"},
        "executor_id": {"value": "e"}, "subscribe": {}}"#;

    fn status(result: Result<Checked, Response>) -> u16 {
        result.map(|_| 200).unwrap_or_else(|r| r.status)
    }

    #[test]
    fn requests_are_checked_in_mesos_order() {
        let json = ("Content-Type", "application/json");
        let get = check(&request("GET", &[json], SUBSCRIBE)).unwrap_err();
        assert_eq!(get.status, 405);
        assert!(get.headers.contains(&("Allow".into(), "POST".into())));
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
            status(check(&request(
                "POST",
                &[json],
                r#"{"type": "SUBSCRIBE", "framework_id": {"value": "f"},
                    "executor_id": {"value": "e"}}"#
            ))),
            400,
            "SUBSCRIBE without 'subscribe'"
        );
        assert_eq!(
            status(check(&request(
                "POST",
                &[json, ("Accept", "text/html")],
                SUBSCRIBE
            ))),
            406
        );
        let checked = check(&request(
            "POST",
            &[json, ("Accept", "application/x-protobuf")],
            SUBSCRIBE,
        ))
        .unwrap();
        assert_eq!(checked.kind, Type::Subscribe);
        assert_eq!(checked.accept, Some(ContentType::Protobuf));
        assert_eq!(checked.call.executor_id.value, "e");
    }
}
