//! How the master reaches a framework's scheduler: by UPID (a libprocess
//! driver) or by the event stream of its SUBSCRIBE request (an HTTP
//! scheduler), and the one send path that picks between them.

use bytes::Bytes;
use libprocess::{Context, StreamWriter, UPID};
use tokio::sync::mpsc;

use super::codec;
use super::evolve::SchedulerMessage;
use crate::master::Master;
use mesos_proto::codec::ContentType;

/// The open SUBSCRIBE response of an HTTP scheduler: events written here
/// reach it as RecordIO records, one per chunk. Dropping the last clone
/// ends the response.
#[derive(Debug, Clone)]
pub struct HttpConnection {
    /// The `Mesos-Stream-Id` handed out with the subscription; later calls
    /// must carry it.
    pub stream_id: String,
    /// The encoding the scheduler accepts.
    pub content_type: ContentType,
    writer: StreamWriter,
}

impl HttpConnection {
    /// A connection with a fresh stream ID, and the receiving end to serve
    /// as the response body.
    pub fn new(content_type: ContentType) -> (HttpConnection, mpsc::UnboundedReceiver<Bytes>) {
        let (writer, reader) = StreamWriter::new();
        let connection = HttpConnection {
            stream_id: uuid::Uuid::new_v4().to_string(),
            content_type,
            writer,
        };
        (connection, reader)
    }

    /// Writes `event` to the stream; false when the scheduler has gone (or
    /// the event could not be encoded, which is logged).
    pub fn send(&self, event: &mesos_proto::scheduler::Event) -> bool {
        match codec::encode_event(self.content_type, event) {
            Ok(data) => self.writer.write(codec::record(&data)),
            Err(error) => {
                tracing::error!(
                    "cannot encode an event for stream {}: {error}",
                    self.stream_id
                );
                false
            }
        }
    }

    /// Resolves to true once the scheduler has closed the stream (its
    /// disconnection), or to false once the master has dropped every clone
    /// of this connection (it ended the stream itself).
    pub fn closed(&self) -> impl std::future::Future<Output = bool> + Send + 'static {
        self.writer.closed()
    }

    /// Whether the scheduler is still reading.
    pub fn is_open(&self) -> bool {
        !self.writer.is_closed()
    }
}

/// Where a subscribing scheduler is.
#[derive(Debug, Clone)]
pub enum Connection {
    /// A libprocess scheduler driver.
    Pid(UPID),
    /// An HTTP scheduler's event stream.
    Http(HttpConnection),
}

impl Connection {
    /// The UPID of a libprocess scheduler.
    pub fn pid(&self) -> Option<&UPID> {
        match self {
            Connection::Pid(pid) => Some(pid),
            Connection::Http(_) => None,
        }
    }

    /// Sends `message` (a libprocess message, or its event on a stream).
    pub fn send<M: SchedulerMessage>(&self, ctx: &Context<Master>, message: &M) {
        match self {
            Connection::Pid(pid) => ctx.send(pid, message),
            Connection::Http(http) => {
                if !http.send(&message.to_event()) {
                    tracing::debug!(
                        "dropping {} for closed stream {}",
                        M::full_name(),
                        http.stream_id
                    );
                }
            }
        }
    }

    /// Whether both reach the same scheduler (same UPID or same stream).
    pub fn same_as(&self, other: &Connection) -> bool {
        match (self, other) {
            (Connection::Pid(a), Connection::Pid(b)) => a == b,
            (Connection::Http(a), Connection::Http(b)) => a.stream_id == b.stream_id,
            _ => false,
        }
    }
}

impl std::fmt::Display for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connection::Pid(pid) => write!(f, "{pid}"),
            Connection::Http(http) => write!(f, "HTTP stream {}", http.stream_id),
        }
    }
}
