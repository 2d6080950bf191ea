//! Messages between processes, and their encoding on the wire.

use std::any::TypeId;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock, RwLock};

use bytes::{BufMut, Bytes, BytesMut};

use crate::upid::UPID;

/// A message from one process to another: a name (for protobuf messages,
/// the full type name, `mesos.internal.RegisterSlaveMessage`) and a body.
#[derive(Clone, Debug)]
pub struct Message {
    /// The sender.
    pub from: UPID,
    /// The receiver.
    pub to: UPID,
    /// What kind of message this is.
    pub name: Arc<str>,
    /// The payload, usually an encoded protobuf.
    pub body: Bytes,
}

impl Message {
    /// Appends the message as libprocess puts it on the wire: a
    /// `POST /<to-id>/<name> HTTP/1.1` request with `User-Agent`,
    /// `Libprocess-From`, `Connection: Keep-Alive`, an empty `Host`, and a
    /// non-empty body as a single chunk.
    pub fn encode_into(&self, out: &mut BytesMut) {
        out.reserve(128 + self.name.len() + self.body.len());
        out.put_slice(b"POST /");
        out.put_slice(self.to.id().as_bytes());
        out.put_u8(b'/');
        out.put_slice(self.name.as_bytes());
        out.put_slice(b" HTTP/1.1\r\nUser-Agent: libprocess/");
        let mut writer = out.writer();
        // Writing into a BytesMut cannot fail.
        let _ = write!(
            writer,
            "{}\r\nLibprocess-From: {}\r\n",
            self.from, self.from
        );
        let out = writer.into_inner();
        out.put_slice(b"Connection: Keep-Alive\r\nHost: \r\n");
        if self.body.is_empty() {
            out.put_slice(b"\r\n");
        } else {
            let mut writer = out.writer();
            let _ = write!(
                writer,
                "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                self.body.len()
            );
            let out = writer.into_inner();
            out.put_slice(&self.body);
            out.put_slice(b"\r\n0\r\n\r\n");
        }
    }

    /// The message as it goes on the wire.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode_into(&mut out);
        out.freeze()
    }
}

/// The wire name of protobuf message type `M`: its full type name.
/// Computed once per type.
pub fn name_of<M: prost::Name + 'static>() -> Arc<str> {
    static NAMES: OnceLock<RwLock<HashMap<TypeId, Arc<str>>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let id = TypeId::of::<M>();
    if let Some(name) = names.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return name.clone();
    }
    let name: Arc<str> = M::full_name().into();
    names
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_libprocess_does() {
        let message = Message {
            from: "slave(1)@127.0.0.1:15151".parse().unwrap(),
            to: "master@127.0.0.1:15150".parse().unwrap(),
            name: "mesos.internal.PongSlaveMessage".into(),
            body: Bytes::from_static(b"\x08\x01"),
        };
        assert_eq!(
            message.encode(),
            Bytes::from_static(
                b"POST /master/mesos.internal.PongSlaveMessage HTTP/1.1\r\n\
                  User-Agent: libprocess/slave(1)@127.0.0.1:15151\r\n\
                  Libprocess-From: slave(1)@127.0.0.1:15151\r\n\
                  Connection: Keep-Alive\r\n\
                  Host: \r\n\
                  Transfer-Encoding: chunked\r\n\
                  \r\n\
                  2\r\n\x08\x01\r\n0\r\n\r\n"
            )
        );
    }

    #[test]
    fn empty_body_has_no_transfer_encoding() {
        let message = Message {
            from: "a@127.0.0.1:1".parse().unwrap(),
            to: "b@127.0.0.1:2".parse().unwrap(),
            name: "x".into(),
            body: Bytes::new(),
        };
        let wire = message.encode();
        assert!(wire.ends_with(b"Host: \r\n\r\n"));
        assert!(!wire.windows(17).any(|w| w == b"Transfer-Encoding"));
    }

    #[test]
    fn chunk_size_is_lower_case_hex() {
        let message = Message {
            from: "a@127.0.0.1:1".parse().unwrap(),
            to: "b@127.0.0.1:2".parse().unwrap(),
            name: "x".into(),
            body: Bytes::from(vec![0u8; 175]),
        };
        let wire = message.encode();
        assert!(wire.windows(6).any(|w| w == b"\r\naf\r\n"));
    }
}
