//! How the agent reaches an executor: by UPID (a libprocess driver) or by
//! the event stream its SUBSCRIBE opened (an HTTP executor), and the one
//! send path that picks between them, as Mesos's `Executor::send`.

use bytes::Bytes;
use libprocess::{Context, StreamWriter};
use mesos_proto::executor::Event;
use tokio::sync::mpsc;

use super::codec::{self, ContentType};
use super::events::ExecutorMessage;
use crate::slave::types::Executor;
use crate::slave::Slave;

/// The open SUBSCRIBE response of an HTTP executor: events written here
/// reach it as RecordIO records, one per chunk. Dropping the last clone
/// ends the response.
#[derive(Debug, Clone)]
pub struct HttpConnection {
    /// Names this subscription, to tell it from a later one.
    pub id: String,
    /// The encoding the executor accepts.
    pub content_type: ContentType,
    writer: StreamWriter,
}

impl HttpConnection {
    /// A new connection, and the receiving end to serve as the body.
    pub fn new(content_type: ContentType) -> (HttpConnection, mpsc::UnboundedReceiver<Bytes>) {
        let (writer, reader) = StreamWriter::new();
        let connection = HttpConnection {
            id: uuid::Uuid::new_v4().to_string(),
            content_type,
            writer,
        };
        (connection, reader)
    }

    /// Writes `event` to the stream; false when the executor has gone (or
    /// the event could not be encoded, which is logged).
    pub fn send(&self, event: &Event) -> bool {
        match codec::encode_event(self.content_type, event) {
            Ok(data) => self.writer.write(codec::record(&data)),
            Err(error) => {
                tracing::error!("cannot encode an executor event: {error}");
                false
            }
        }
    }

    /// Resolves to true once the executor has closed the stream, or to
    /// false once the agent has dropped every clone of this connection
    /// (it ended the stream itself).
    pub fn closed(&self) -> impl std::future::Future<Output = bool> + Send + 'static {
        self.writer.closed()
    }
}

impl Executor {
    /// Sends `message` to the executor: as a message to its UPID, or as
    /// its event on its HTTP stream. Lost (with a log line) when the
    /// executor is not connected, as in Mesos.
    pub(crate) fn send<M: ExecutorMessage>(&self, ctx: &Context<Slave>, message: &M) {
        if let Some(http) = &self.http {
            if !http.send(&message.to_event()) {
                tracing::warn!(
                    "unable to send {} to executor '{}' of framework {}: connection closed",
                    M::full_name(),
                    self.id,
                    self.framework_id
                );
            }
        } else if let Some(pid) = &self.pid {
            ctx.send(pid, message);
        } else {
            tracing::warn!(
                "unable to send {} to executor '{}' of framework {}: not connected",
                M::full_name(),
                self.id,
                self.framework_id
            );
        }
    }
}
