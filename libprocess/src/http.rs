//! Plain HTTP as processes see it: a decoded `Request`, and the `Response`
//! a route answers with, now or later, whole or streamed.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use tokio::sync::mpsc;

/// An HTTP request routed to a process.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The decoded path, starting with the process id (`/master/state`).
    pub path: String,
    /// The decoded query parameters.
    pub query: HashMap<String, String>,
    /// Headers, names in lower case; repeated headers are joined with `,`.
    pub headers: HashMap<String, String>,
    /// The whole body.
    pub body: Bytes,
    /// The peer's address.
    pub client: Option<SocketAddr>,
}

impl Request {
    /// A header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(|s| s.as_str())
    }

    /// Whether the client accepts responses in `encoding` (`gzip`), as
    /// libprocess reads `Accept-Encoding`: the encoding or `*` is listed,
    /// without `q=0`.
    pub fn accepts_encoding(&self, encoding: &str) -> bool {
        let Some(accept) = self.header("accept-encoding") else {
            return false;
        };
        let accept: String = accept.chars().filter(|c| !c.is_whitespace()).collect();
        for candidate in [encoding, "*"] {
            for item in accept.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or_default();
                if name.is_empty() || !name.eq_ignore_ascii_case(candidate) {
                    continue;
                }
                let q: Vec<&str> = parts.filter_map(|p| p.strip_prefix("q=")).collect();
                return match q.as_slice() {
                    // No q value, or more than one: accepted.
                    [q] => q.parse::<f64>().is_ok_and(|q| q > 0.0),
                    _ => true,
                };
            }
        }
        false
    }

    /// The URL as libprocess prints it: path and query.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let mut pairs: Vec<_> = self.query.iter().collect();
        pairs.sort();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}?{}", self.path, query.join("&"))
    }
}

/// Bodies shorter than this are sent as they are, even to clients that
/// accept gzip (libprocess's threshold).
pub const GZIP_MINIMUM_BODY_LENGTH: usize = 1024;

/// `body` compressed with gzip, as responses to clients that accept it
/// are sent. The fastest level: a large state compresses about tenfold
/// even so, at a fraction of the CPU of zlib's default.
pub fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// The body of a response.
pub enum Body {
    /// The whole body, sent with `Content-Length`.
    Full(Bytes),
    /// Chunks sent as they come, with `Transfer-Encoding: chunked`; the
    /// response ends when every sender is dropped. A sender sees the
    /// channel closed once the client has gone.
    Stream(mpsc::UnboundedReceiver<Bytes>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Full(b) => write!(f, "Full({} bytes)", b.len()),
            Body::Stream(_) => write!(f, "Stream"),
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Extra headers (`Content-Length` and `Date` are added when sent).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl Response {
    /// A response with `status`, a `text/plain` body and no other header.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        let body: String = body.into();
        let mut response = Response::status(status);
        if !body.is_empty() {
            response
                .headers
                .push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
        }
        response.body = Body::Full(Bytes::from(body));
        response
    }

    /// An empty response with `status`.
    pub fn status(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Full(Bytes::new()),
        }
    }

    /// `200 OK` with a JSON body. With `jsonp`, the body is wrapped as
    /// `callback(json);` and typed `text/javascript`, as libprocess does.
    pub fn json(value: &serde_json::Value, jsonp: Option<&str>) -> Response {
        let json = value.to_string();
        match jsonp {
            Some(callback) => Response::ok("text/javascript", format!("{callback}({json});")),
            None => Response::ok("application/json", json),
        }
    }

    /// `200 OK` with `body` of `content_type`.
    pub fn ok(content_type: &str, body: impl Into<Bytes>) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Full(body.into()),
        }
    }

    /// `200 OK` streaming the chunks `receiver` yields.
    pub fn stream(content_type: &str, receiver: mpsc::UnboundedReceiver<Bytes>) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Stream(receiver),
        }
    }

    /// `400 Bad Request` saying why.
    pub fn bad_request(message: impl Into<String>) -> Response {
        Response::text(400, message)
    }

    /// `404 Not Found`, worded as libprocess words it.
    pub fn not_found() -> Response {
        Response::text(404, "404 Not Found.")
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Adds headers, in order.
    pub fn with_headers<'a>(
        self,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Response {
        headers.into_iter().fold(self, |response, (name, value)| {
            response.with_header(name, value)
        })
    }
}

/// A future response, for routes that must wait (a registry write, another
/// process) before they can answer; it runs outside the process.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// What a route handler gives back: a response now, or one to come.
pub enum Reply {
    /// The response is ready.
    Now(Response),
    /// The response comes when the future completes.
    Later(ResponseFuture),
}

impl From<Response> for Reply {
    fn from(response: Response) -> Reply {
        Reply::Now(response)
    }
}

impl Reply {
    /// A reply that waits for `future`.
    pub fn later(future: impl Future<Output = Response> + Send + 'static) -> Reply {
        Reply::Later(Box::pin(future))
    }

    /// Waits for the response.
    pub async fn into_response(self) -> Response {
        match self {
            Reply::Now(response) => response,
            Reply::Later(future) => future.await,
        }
    }
}

/// The writing end of a streamed response (libprocess's `http::Pipe`
/// writer): chunks written here reach the client one by one, and the
/// response ends when the last clone is dropped. It notices the client
/// going away only when a write fails, as hyper tells no sooner.
#[derive(Debug, Clone)]
pub struct StreamWriter {
    chunks: mpsc::UnboundedSender<Bytes>,
    /// Dropped with the last clone: tells `closed()` watchers to let go of
    /// their sender so the response can end.
    alive: std::sync::Arc<tokio::sync::watch::Sender<()>>,
}

impl StreamWriter {
    /// A writer, and the receiving end to serve with [`Response::stream`].
    pub fn new() -> (StreamWriter, mpsc::UnboundedReceiver<Bytes>) {
        let (chunks, reader) = mpsc::unbounded_channel();
        let writer = StreamWriter {
            chunks,
            alive: std::sync::Arc::new(tokio::sync::watch::channel(()).0),
        };
        (writer, reader)
    }

    /// Queues `chunk`; false when the client has gone.
    pub fn write(&self, chunk: Bytes) -> bool {
        self.chunks.send(chunk).is_ok()
    }

    /// Whether the client has gone.
    pub fn is_closed(&self) -> bool {
        self.chunks.is_closed()
    }

    /// Resolves to true once the client has gone, or to false once every
    /// clone of this writer was dropped (the server ended the stream).
    pub fn closed(&self) -> impl Future<Output = bool> + Send + 'static {
        let chunks = self.chunks.clone();
        let mut alive = self.alive.subscribe();
        async move {
            tokio::select! {
                () = chunks.closed() => true,
                _ = alive.changed() => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> Request {
        Request {
            method: "GET".into(),
            path: "/".into(),
            query: HashMap::new(),
            headers: HashMap::from([("accept-encoding".to_string(), value.to_string())]),
            body: Bytes::new(),
            client: None,
        }
    }

    #[test]
    fn accept_encoding_is_read_as_libprocess_reads_it() {
        for (value, gzip) in [
            ("gzip", true),
            ("GZIP", true),
            ("deflate, gzip", true),
            ("gzip;q=0.5", true),
            ("gzip; q=0", false),
            ("gzip;q=0.0", false),
            ("gzip;q=x", false),
            ("*", true),
            ("*;q=0", false),
            ("deflate", false),
            ("", false),
        ] {
            assert_eq!(accepting(value).accepts_encoding("gzip"), gzip, "{value:?}");
        }
    }
}
