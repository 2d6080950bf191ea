//! Bodies of the v1 executor API: media types and `Accept` negotiation, a
//! `mesos.v1.executor.Call` in (protobuf or JSON) read as the agent's
//! `executor::Call`, events out as `mesos.v1.executor.Event`, and the
//! RecordIO framing of the event stream.
//!
//! The v0 and v1 executor messages share field numbers (only names
//! differ: `slave_info` is `agent_info` in v1), so converting between them
//! is re-reading the same bytes under the other package's schema. JSON is
//! the proto3 JSON mapping with the `.proto`'s field names, enum names as
//! strings, bytes as base64 and 64-bit integers as numbers, as Mesos
//! writes it, done by `prost-reflect` over the schema's descriptors.

use std::sync::OnceLock;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use prost_reflect::{
    Cardinality, DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor,
    ReflectMessage, SerializeOptions, Value,
};

use mesos_proto::executor::{Call, Event};

/// `application/json`.
pub const APPLICATION_JSON: &str = "application/json";
/// `application/x-protobuf`.
pub const APPLICATION_PROTOBUF: &str = "application/x-protobuf";

const V1_CALL: &str = "mesos.v1.executor.Call";
const V1_EVENT: &str = "mesos.v1.executor.Event";

/// An encoding of v1 messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// The proto3 JSON mapping, with the `.proto`'s field names.
    Json,
    /// Protobuf bytes.
    Protobuf,
}

impl ContentType {
    /// The media type, as sent in `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Json => APPLICATION_JSON,
            ContentType::Protobuf => APPLICATION_PROTOBUF,
        }
    }

    /// The encoding a `Content-Type` header names (parameters such as
    /// `charset` ignored), or None when it is neither of ours.
    pub fn parse(header: &str) -> Option<ContentType> {
        let media = header.split(';').next().unwrap_or_default().trim();
        [ContentType::Json, ContentType::Protobuf]
            .into_iter()
            .find(|c| media.eq_ignore_ascii_case(c.as_str()))
    }

    /// The encoding of the event stream given the request's `Accept`
    /// header: JSON when it is accepted (or there is no header, which
    /// accepts everything), else protobuf, else None.
    pub fn negotiate(accept: Option<&str>) -> Option<ContentType> {
        let Some(accept) = accept else {
            return Some(ContentType::Json);
        };
        [ContentType::Json, ContentType::Protobuf]
            .into_iter()
            .find(|c| accepts(accept, c.as_str()))
    }
}

/// Whether an `Accept` header value accepts `media` (`type/subtype`): the
/// most specific matching range decides, and `q=0` refuses.
pub fn accepts(accept: &str, media: &str) -> bool {
    let kind = media.split('/').next().unwrap_or(media);
    let mut best: Option<(u8, bool)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let pattern = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f64>().ok())
            .any(|q| q <= 0.0);
        let specificity = match pattern.split_once('/') {
            Some(("*", "*")) => 1,
            Some((k, "*")) if k == kind => 2,
            _ if pattern == media => 3,
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, !refused));
        }
    }
    best.is_some_and(|(_, accepted)| accepted)
}

/// Why a request body is not a `Call`; the texts are Mesos's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Protobuf bytes that do not decode (or lack a required field).
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

/// The paths of the required fields `message` lacks, nested ones included
/// (`update.status.task_id`, `unacknowledged_tasks[0].name`), as
/// protobuf's initialization check names them.
pub fn missing_required(message: &DynamicMessage) -> Vec<String> {
    let mut missing = Vec::new();
    collect_missing(message, "", &mut missing);
    missing
}

fn collect_missing(message: &DynamicMessage, prefix: &str, missing: &mut Vec<String>) {
    for field in message.descriptor().fields() {
        let path = format!("{prefix}{}", field.name());
        if !message.has_field(&field) {
            if field.cardinality() == Cardinality::Required {
                missing.push(path);
            }
            continue;
        }
        match &*message.get_field(&field) {
            Value::Message(inner) => collect_missing(inner, &format!("{path}."), missing),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Message(inner) = item {
                        collect_missing(inner, &format!("{path}[{i}]."), missing);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads a v1 `Call` in `content_type` as the agent's `executor::Call`.
pub fn decode_call(content_type: ContentType, body: &[u8]) -> Result<Call, DecodeError> {
    let descriptor = descriptor(V1_CALL).map_err(DecodeError::Convert)?;
    match content_type {
        ContentType::Protobuf => {
            let message =
                DynamicMessage::decode(descriptor, body).map_err(|_| DecodeError::Protobuf)?;
            if !missing_required(&message).is_empty() {
                return Err(DecodeError::Protobuf);
            }
            Call::decode(body).map_err(|_| DecodeError::Protobuf)
        }
        ContentType::Json => {
            let value: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
            if !value.is_object() {
                return Err(DecodeError::Convert("Expecting a JSON object".into()));
            }
            let options = DeserializeOptions::new().deny_unknown_fields(false);
            let message = DynamicMessage::deserialize_with_options(descriptor, value, &options)
                .map_err(|e| DecodeError::Convert(e.to_string()))?;
            let missing = missing_required(&message);
            if !missing.is_empty() {
                return Err(DecodeError::Convert(format!(
                    "Missing required fields: {}",
                    missing.join(", ")
                )));
            }
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
    use mesos_proto::executor::{call, event};
    use mesos_proto::mesos::{SlaveInfo, TaskState};

    #[test]
    fn json_calls_as_pymesos_sends_them() {
        let body = br#"{"type": "UPDATE", "executor_id": {"value": "e"},
            "framework_id": {"value": "f"},
            "update": {"status": {"task_id": {"value": "t1"}, "state": "TASK_RUNNING",
                                  "timestamp": 1700000000, "source": "SOURCE_EXECUTOR",
                                  "uuid": "9y/njwnTQQ+cZJksQFG0JQ=="}}}"#;
        let call = decode_call(ContentType::Json, body).unwrap();
        assert_eq!(call.r#type, Some(call::Type::Update as i32));
        assert_eq!(call.executor_id.value, "e");
        let status = call.update.unwrap().status;
        assert_eq!(status.state, TaskState::TaskRunning as i32);
        assert_eq!(status.uuid.unwrap()[0], 0xf7);
    }

    #[test]
    fn missing_required_fields_are_named() {
        let error = decode_call(
            ContentType::Json,
            br#"{"type": "UPDATE", "framework_id": {"value": "f"},
                 "update": {"status": {"state": "TASK_RUNNING"}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Failed to convert JSON into Call protobuf: Missing required fields: \
             executor_id, update.status.task_id"
        );
        // The same call as protobuf bytes.
        let bytes = Call {
            r#type: Some(call::Type::Subscribe as i32),
            ..Default::default()
        }
        .encode_to_vec();
        // prost writes the empty required ids, so this one is complete.
        assert!(decode_call(ContentType::Protobuf, &bytes).is_ok());
        let bare = [0x18, 0x01]; // type = SUBSCRIBE, nothing else
        assert_eq!(
            decode_call(ContentType::Protobuf, &bare).unwrap_err(),
            DecodeError::Protobuf
        );
    }

    #[test]
    fn malformed_bodies_are_refused_with_mesos_words() {
        assert!(matches!(
            decode_call(ContentType::Json, b"{not json"),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode_call(ContentType::Json, b"[1]"),
            Err(DecodeError::Convert(_))
        ));
        assert!(matches!(
            decode_call(ContentType::Json, br#"{"executor_id": "e"}"#),
            Err(DecodeError::Convert(_))
        ));
        assert_eq!(
            decode_call(ContentType::Protobuf, b"\xff\xff\xff").unwrap_err(),
            DecodeError::Protobuf
        );
    }

    #[test]
    fn events_use_v1_names() {
        let event = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                slave_info: SlaveInfo {
                    hostname: "h".into(),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&encode_event(ContentType::Json, &event).unwrap()).unwrap();
        assert_eq!(json["type"], "SUBSCRIBED");
        assert_eq!(json["subscribed"]["agent_info"]["hostname"], "h");
        let proto = encode_event(ContentType::Protobuf, &event).unwrap();
        assert_eq!(Event::decode(proto.as_slice()).unwrap(), event);
    }

    #[test]
    fn media_types_and_accept() {
        assert_eq!(
            ContentType::parse("application/json; charset=utf-8"),
            Some(ContentType::Json)
        );
        assert_eq!(ContentType::parse("text/plain"), None);
        assert_eq!(ContentType::negotiate(None), Some(ContentType::Json));
        assert_eq!(ContentType::negotiate(Some("*/*")), Some(ContentType::Json));
        assert_eq!(
            ContentType::negotiate(Some("application/x-protobuf")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::negotiate(Some("application/*, application/json;q=0")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(ContentType::negotiate(Some("text/html")), None);
    }

    #[test]
    fn records_are_length_prefixed() {
        assert_eq!(&record(b"hello")[..], b"5\nhello");
        assert_eq!(&record(b"")[..], b"0\n");
    }
}
