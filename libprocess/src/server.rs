//! The listening side: every incoming HTTP request is either a message
//! (delivered to its process and answered `202`) or a plain request for a
//! process's route. Connections that open with a GET (readers: endpoints,
//! metrics, the web UI) are handed to the reader threads, at a lower
//! priority, so that readers never take the CPU that processes need.
//! HTTP/1.0 and 1.1, keep-alive and pipelining, and bodies by
//! `Content-Length` or chunked are hyper's; this module decides what each
//! request is and where it goes.
//!
//! hyper rather than actix-web: actix-http (3.11.2 and later) closes a
//! keep-alive connection after an empty response when the next pipelined
//! request's chunked body has only partly arrived, which loses the
//! messages queued behind it; libprocess peers pipeline exactly that way.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::http::{gzip, Body, Request, Response, GZIP_MINIMUM_BODY_LENGTH};
use crate::message::Message;
use crate::runtime::Runtime;
use crate::upid::UPID;

type HttpBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// Accepts connections on `listener` and serves each on its own task,
/// until the runtime stops.
pub(crate) async fn serve(runtime: Runtime, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: keep serving the
                // connections we have, and try again.
                tracing::warn!("failed to accept a connection: {error}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let runtime = runtime.clone();
        tokio::spawn(async move {
            let first = first_request(&stream).await;
            match (first, runtime.readers().cloned()) {
                (FirstRequest::Read, Some(readers)) => {
                    hand_to_readers(&readers, runtime, stream, peer)
                }
                (first, _) => {
                    serve_connection(runtime, stream, peer, first == FirstRequest::Other).await
                }
            }
        });
    }
}

/// Serves a reader's connection on the readers' runtime, whose reactor
/// must own the socket.
fn hand_to_readers(
    readers: &tokio::runtime::Handle,
    runtime: Runtime,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let stream = match stream.into_std() {
        Ok(stream) => stream,
        Err(error) => return tracing::warn!("cannot serve reader {peer}: {error}"),
    };
    readers.spawn(async move {
        match TcpStream::from_std(stream) {
            Ok(stream) => serve_connection(runtime, stream, peer, false).await,
            Err(error) => tracing::warn!("cannot serve reader {peer}: {error}"),
        }
    });
}

/// Serves one connection until it closes. `pipelined`: hyper's
/// `pipeline_flush`, which writes the answers to many pipelined requests
/// together but copies every response into one buffer (see
/// [`FirstRequest`]).
async fn serve_connection(runtime: Runtime, stream: TcpStream, peer: SocketAddr, pipelined: bool) {
    let service = service_fn(move |request| {
        let runtime = runtime.clone();
        async move { Ok::<_, Infallible>(handle(&runtime, request, peer).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .pipeline_flush(pipelined)
        // A peer that sent its last messages and closed must still
        // have every buffered request handled.
        .half_close(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    if let Err(error) = connection.await {
        if error.is_parse() || error.is_parse_too_large() {
            tracing::warn!("closing connection from {peer}: malformed request: {error}");
        } else {
            tracing::debug!("connection from {peer} ended: {error}");
        }
    }
}

/// What a connection's first request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstRequest {
    /// A GET or HEAD: a reader (endpoints, metrics, the web UI), served on
    /// the reader threads, its answers (a big cluster's `/master/state` is
    /// megabytes) written as they are, without a copy.
    Read,
    /// Anything else, most often a libprocess peer POSTing messages, many
    /// pipelined, whose `202`s are best written together.
    Other,
    /// Nothing arrived (the peer closed, or the socket failed).
    Nothing,
}

/// Peeks at the start of a connection's first request.
async fn first_request(stream: &TcpStream) -> FirstRequest {
    let mut start = [0u8; 4];
    match stream.peek(&mut start).await {
        Ok(0) | Err(_) => FirstRequest::Nothing,
        Ok(n) if start[..n].starts_with(b"GET") || start[..n].starts_with(b"HEAD") => {
            FirstRequest::Read
        }
        Ok(_) => FirstRequest::Other,
    }
}

async fn handle(
    runtime: &Runtime,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> hyper::Response<HttpBody> {
    let (head, body) = request.into_parts();
    let path = match percent_encoding::percent_decode_str(head.uri.path()).decode_utf8() {
        Ok(path) => path.into_owned(),
        Err(_) => return respond(Response::bad_request("Malformed URL path.\n")),
    };
    let limit = runtime.config().max_body_bytes;
    let body = match Limited::new(body, limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            let too_large = error.is::<http_body_util::LengthLimitError>();
            tracing::warn!("dropping request for {path} from {peer}: {error}");
            let mut response = if too_large {
                respond(Response::text(413, "Request body too large.\n"))
            } else {
                respond(Response::bad_request(format!(
                    "Failed to read body: {error}.\n"
                )))
            };
            // The rest of an unread body would be parsed as requests.
            response
                .headers_mut()
                .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    if path.contains("/..") {
        return respond(Response::not_found());
    }
    if is_message(&head) {
        respond(deliver_message(runtime, &head, &path, body))
    } else {
        respond(route_request(runtime, &head, path, body, peer).await)
    }
}

fn header<'a>(head: &'a hyper::http::request::Parts, name: &str) -> Option<&'a str> {
    head.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A POST with `Libprocess-From`, or with a `User-Agent` of
/// `libprocess/...`, is a message.
fn is_message(head: &hyper::http::request::Parts) -> bool {
    head.method == hyper::Method::POST
        && (head.headers.contains_key("libprocess-from")
            || header(head, "user-agent").is_some_and(|ua| ua.starts_with("libprocess/")))
}

/// The sender of a message: `Libprocess-From`, else the UPID after
/// `libprocess/` in `User-Agent`.
fn sender(head: &hyper::http::request::Parts) -> Result<UPID, String> {
    let from = header(head, "libprocess-from")
        .or_else(|| header(head, "user-agent").and_then(|ua| ua.strip_prefix("libprocess/")))
        .unwrap_or_default();
    from.trim()
        .parse()
        .map_err(|e: crate::error::UpidError| e.to_string())
}

fn deliver_message(
    runtime: &Runtime,
    head: &hyper::http::request::Parts,
    path: &str,
    body: Bytes,
) -> Response {
    let from = match sender(head) {
        Ok(from) => from,
        Err(error) => {
            tracing::warn!("dropping message for {path}: bad sender: {error}");
            return Response::bad_request(format!("Bad Libprocess-From: {error}.\n"));
        }
    };
    let (id, name) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path.trim_start_matches('/'), ""));
    if name.is_empty() {
        tracing::warn!("dropping message from {from} for '{path}': no message name");
        return Response::bad_request("Message without a name.\n");
    }
    let Some(slot) = runtime.lookup(id) else {
        tracing::debug!("dropping '{name}' from {from}: no process '{id}'");
        return Response::not_found();
    };
    let message = Message {
        from,
        to: slot.pid().clone(),
        name: Arc::from(name),
        body,
    };
    if runtime.deliver_local(&*slot, message) {
        Response::status(202)
    } else {
        Response::not_found()
    }
}

async fn route_request(
    runtime: &Runtime,
    head: &hyper::http::request::Parts,
    path: String,
    body: Bytes,
    peer: SocketAddr,
) -> Response {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let (slot, path) = match runtime.lookup(first) {
        Some(slot) if !first.is_empty() => (slot, path),
        _ => match runtime.delegate().and_then(|d| runtime.lookup(&d)) {
            Some(delegate) => {
                let delegated = format!("/{}{}", delegate.pid().id(), path.trim_end_matches('/'));
                (delegate, delegated)
            }
            None => return Response::not_found(),
        },
    };
    let request = Request {
        method: head.method.to_string(),
        path,
        query: form_urlencoded::parse(head.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
        headers: headers(head),
        body,
        client: Some(peer),
    };
    let gzip = request.accepts_encoding("gzip");
    let (reply_tx, reply_rx) = oneshot::channel();
    if !slot.http(request, reply_tx) {
        return Response::not_found();
    }
    let response = match reply_rx.await {
        Ok(reply) => reply.into_response().await,
        Err(_) => Response::text(503, "The process terminated before answering.\n"),
    };
    if gzip {
        gzipped(response).await
    } else {
        response
    }
}

/// `response` with its body compressed, as libprocess sends a whole body
/// of [`GZIP_MINIMUM_BODY_LENGTH`] or more to a client that accepts gzip,
/// unless it already has a `Content-Encoding` (one compressed once for
/// many readers, say). Compressing a large body takes a while, so it is
/// done on a blocking thread.
async fn gzipped(mut response: Response) -> Response {
    let Body::Full(body) = &response.body else {
        return response;
    };
    let encoded = response
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-encoding"));
    if body.len() < GZIP_MINIMUM_BODY_LENGTH || encoded {
        return response;
    }
    let body = body.clone();
    if let Ok(compressed) = tokio::task::spawn_blocking(move || gzip(&body)).await {
        response.body = Body::Full(compressed);
        response
            .headers
            .push(("Content-Encoding".into(), "gzip".into()));
    }
    response
}

fn headers(head: &hyper::http::request::Parts) -> HashMap<String, String> {
    let mut headers: HashMap<String, String> = HashMap::new();
    for (name, value) in &head.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    headers
}

fn respond(response: Response) -> hyper::Response<HttpBody> {
    let body: HttpBody = match response.body {
        Body::Full(bytes) => Full::new(bytes).boxed(),
        Body::Stream(receiver) => {
            let chunks = futures::stream::unfold(receiver, |mut receiver| async {
                receiver
                    .recv()
                    .await
                    .map(|chunk| (Ok::<_, Infallible>(Frame::data(chunk)), receiver))
            });
            StreamBody::new(chunks).boxed()
        }
    };
    let mut built = hyper::Response::new(body);
    *built.status_mut() = hyper::StatusCode::from_u16(response.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        match (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                built.headers_mut().append(name, value);
            }
            _ => tracing::warn!("dropping invalid response header '{name}: {value}'"),
        }
    }
    built
}
