//! Bodies of the v1 API: a `mesos.v1.scheduler.Call` in, as protobuf or
//! JSON, devolved to the `scheduler::Call` the master handles; events out,
//! evolved to `mesos.v1.scheduler.Event` and framed as RecordIO.
//!
//! v0 and v1 scheduler messages share field numbers, so devolving and
//! evolving is re-reading the same bytes under the other package's names.
//! JSON uses the proto3 JSON mapping with the `.proto`'s field names, enum
//! names as strings, bytes as base64 and 64-bit integers as numbers, as
//! Mesos writes it; it goes through `prost-reflect` over the schema's
//! descriptors rather than a hand-written converter per message.

use std::sync::OnceLock;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions,
};

use mesos_proto::scheduler::{Call, Event};

use super::media::ContentType;

const V1_CALL: &str = "mesos.v1.scheduler.Call";
const V1_EVENT: &str = "mesos.v1.scheduler.Event";

/// Why a request body is not a `Call`; the texts are Mesos's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Protobuf bytes that do not decode.
    #[error("Failed to parse body into Call protobuf")]
    Protobuf,
    /// A body that is not JSON.
    #[error("Failed to parse body into JSON: {0}")]
    Json(String),
    /// JSON that does not describe a `Call`.
    #[error("Failed to convert JSON into Call protobuf: {0}")]
    Convert(String),
}

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(mesos_proto::FILE_DESCRIPTOR_SET)
            .inspect_err(|e| tracing::error!("cannot load the protobuf descriptors: {e}"))
            .ok()
    })
    .as_ref()
}

fn descriptor(name: &str) -> Result<MessageDescriptor, String> {
    pool()
        .and_then(|p| p.get_message_by_name(name))
        .ok_or_else(|| format!("no descriptor for '{name}'"))
}

/// Reads a v1 `Call` in `content_type` as the master's `scheduler::Call`.
pub fn decode_call(content_type: ContentType, body: &[u8]) -> Result<Call, DecodeError> {
    match content_type {
        ContentType::Protobuf => Call::decode(body).map_err(|_| DecodeError::Protobuf),
        ContentType::Json => {
            let value: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
            if !value.is_object() {
                return Err(DecodeError::Convert("Expecting a JSON object".into()));
            }
            let descriptor = descriptor(V1_CALL).map_err(DecodeError::Convert)?;
            let options = DeserializeOptions::new().deny_unknown_fields(false);
            let message = DynamicMessage::deserialize_with_options(descriptor, value, &options)
                .map_err(|e| DecodeError::Convert(e.to_string()))?;
            Call::decode(message.encode_to_vec().as_slice())
                .map_err(|e| DecodeError::Convert(e.to_string()))
        }
    }
}

/// A v1 `Event` in `content_type` (JSON without a trailing newline).
pub fn encode_event(content_type: ContentType, event: &Event) -> Result<Vec<u8>, String> {
    let bytes = event.encode_to_vec();
    match content_type {
        ContentType::Protobuf => Ok(bytes),
        ContentType::Json => {
            let message = DynamicMessage::decode(descriptor(V1_EVENT)?, bytes.as_slice())
                .map_err(|e| e.to_string())?;
            let options = SerializeOptions::new()
                .use_proto_field_name(true)
                .stringify_64_bit_integers(false);
            let mut out = Vec::with_capacity(bytes.len() * 2);
            let mut serializer = serde_json::Serializer::new(&mut out);
            message
                .serialize_with_options(&mut serializer, &options)
                .map_err(|e| e.to_string())?;
            Ok(out)
        }
    }
}

/// One RecordIO record: the length in decimal, a newline, the bytes.
pub fn record(data: &[u8]) -> Bytes {
    let length = data.len().to_string();
    let mut out = BytesMut::with_capacity(length.len() + 1 + data.len());
    out.put_slice(length.as_bytes());
    out.put_u8(b'\n');
    out.put_slice(data);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::scheduler::call::Type;

    #[test]
    fn json_calls_as_pymesos_sends_them() {
        let body = br#"{"type": "ACKNOWLEDGE", "framework_id": {"value": "f-0001"},
            "acknowledge": {"agent_id": {"value": "S0"}, "task_id": {"value": "t1"},
                            "uuid": "9y/njwnTQQ+cZJksQFG0JQ=="}}"#;
        let call = decode_call(ContentType::Json, body).unwrap();
        assert_eq!(call.r#type, Some(Type::Acknowledge as i32));
        assert_eq!(call.framework_id.unwrap().value, "f-0001");
        let ack = call.acknowledge.unwrap();
        assert_eq!(ack.slave_id.value, "S0");
        assert_eq!(ack.uuid.len(), 16);
        assert_eq!(ack.uuid[0], 0xf7);
    }

    #[test]
    fn malformed_bodies_are_refused_with_mesos_words() {
        assert!(matches!(
            decode_call(ContentType::Json, b"{not json"),
            Err(DecodeError::Json(_))
        ));
        let error = decode_call(ContentType::Json, br#"{"framework_id": "f"}"#).unwrap_err();
        assert!(matches!(error, DecodeError::Convert(_)), "{error}");
        assert_eq!(
            decode_call(ContentType::Protobuf, b"\xff\xff\xff").unwrap_err(),
            DecodeError::Protobuf
        );
    }

    #[test]
    fn events_render_with_field_names_and_enum_names() {
        let event = crate::scheduler_api::evolve::heartbeat();
        let json = encode_event(ContentType::Json, &event).unwrap();
        assert_eq!(json, br#"{"type":"HEARTBEAT"}"#);
        let proto = encode_event(ContentType::Protobuf, &event).unwrap();
        assert_eq!(Event::decode(proto.as_slice()).unwrap(), event);
    }

    #[test]
    fn records_are_length_prefixed() {
        assert_eq!(&record(b"hello")[..], b"5\nhello");
        assert_eq!(&record(b"")[..], b"0\n");
    }
}
