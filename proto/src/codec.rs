//! The encodings of Mesos's v1 HTTP APIs (`/api/v1/scheduler` on the
//! master, `/api/v1/executor` on the agent): media types and `Accept`
//! negotiation, a v1 message read from protobuf or JSON, a message
//! written as JSON, and the RecordIO framing of event streams.
//!
//! JSON is the proto3 JSON mapping with the `.proto`'s field names, enum
//! names as strings, bytes as base64 and 64-bit integers as numbers, as
//! Mesos writes it, done by `prost-reflect` over this crate's descriptors
//! rather than a converter per message. A v1 message and its v0 twin share
//! field numbers, so reading a v1 `Call` as the v0 type the master or
//! agent handles is re-reading the same bytes.

use std::sync::OnceLock;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use prost_reflect::{
    Cardinality, DescriptorPool, DeserializeOptions, DynamicMessage, ReflectMessage,
    SerializeOptions, Value,
};

/// `application/json`.
pub const APPLICATION_JSON: &str = "application/json";
/// `application/x-protobuf`.
pub const APPLICATION_PROTOBUF: &str = "application/x-protobuf";

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
        if media.eq_ignore_ascii_case(APPLICATION_JSON) {
            Some(ContentType::Json)
        } else if media.eq_ignore_ascii_case(APPLICATION_PROTOBUF) {
            Some(ContentType::Protobuf)
        } else {
            None
        }
    }

    /// The encoding to answer with given the request's `Accept` header:
    /// JSON when it is accepted (or there is no header), else protobuf,
    /// else None. Wildcards (`*/*`, `application/*`) and `q=0` are honoured.
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
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f64)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let pattern = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        let specificity = if pattern == media {
            3
        } else if pattern == format!("{kind}/*") {
            2
        } else if pattern == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, quality));
        }
    }
    best.is_some_and(|(_, q)| q > 0.0)
}

#[cfg(test)]
mod media_tests {
    use super::*;

    #[test]
    fn content_types_are_matched_without_parameters() {
        assert_eq!(
            ContentType::parse("application/json"),
            Some(ContentType::Json)
        );
        assert_eq!(
            ContentType::parse("Application/X-Protobuf; charset=binary"),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::parse("application/json; charset=utf-8"),
            Some(ContentType::Json)
        );
        assert_eq!(ContentType::parse("text/plain"), None);
    }

    #[test]
    fn accept_prefers_json_then_protobuf() {
        assert_eq!(ContentType::negotiate(None), Some(ContentType::Json));
        assert_eq!(ContentType::negotiate(Some("*/*")), Some(ContentType::Json));
        assert_eq!(
            ContentType::negotiate(Some("application/x-protobuf")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::negotiate(Some("application/*;q=0.5, application/json;q=0")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::negotiate(Some("application/*, application/json;q=0")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(ContentType::negotiate(Some("text/html")), None);
    }
}

/// Why a v1 API request is refused before its body is read: the HTTP
/// status, headers and words of Mesos's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 405, 400, 415 or 406.
    pub status: u16,
    /// Headers of the answer: `Allow: POST` with a 405.
    pub headers: Vec<(&'static str, &'static str)>,
    /// What Mesos answers.
    pub message: String,
}

/// The checks of a v1 API request before its body, in Mesos's order: a
/// POST (else 405), with a `Content-Type` (else 400) of ours (else 415).
/// Gives the body's encoding.
pub fn request_encoding(method: &str, content_type: Option<&str>) -> Result<ContentType, Refusal> {
    if method != "POST" {
        return Err(Refusal {
            status: 405,
            headers: vec![("Allow", "POST")],
            message: format!(
                "405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{method}'."
            ),
        });
    }
    let Some(content_type) = content_type else {
        return Err(Refusal {
            status: 400,
            headers: Vec::new(),
            message: "Expecting 'Content-Type' to be present".into(),
        });
    };
    ContentType::parse(content_type).ok_or_else(|| Refusal {
        status: 415,
        headers: Vec::new(),
        message: format!(
            "Expecting 'Content-Type' of {APPLICATION_JSON} or {APPLICATION_PROTOBUF}"
        ),
    })
}

/// The encoding of the event stream a SUBSCRIBE with `accept` gets, or
/// 406.
pub fn stream_encoding(accept: Option<&str>) -> Result<ContentType, Refusal> {
    ContentType::negotiate(accept).ok_or_else(|| Refusal {
        status: 406,
        headers: Vec::new(),
        message: format!(
            "Expecting 'Accept' to allow '{APPLICATION_PROTOBUF}' or '{APPLICATION_JSON}'"
        ),
    })
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
    POOL.get_or_init(|| DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

fn descriptor(name: &str) -> Result<prost_reflect::MessageDescriptor, String> {
    pool()
        .and_then(|p| p.get_message_by_name(name))
        .ok_or_else(|| format!("no descriptor for '{name}'"))
}

/// Reads `body`, a message of the v1 type named `v1_type` (e.g.
/// `mesos.v1.scheduler.Call`) in `content_type`, as `M`, its v0 twin.
/// Required fields must be there, nested ones included.
pub fn decode<M: Message + Default>(
    v1_type: &str,
    content_type: ContentType,
    body: &[u8],
) -> Result<M, DecodeError> {
    let descriptor = descriptor(v1_type).map_err(DecodeError::Convert)?;
    match content_type {
        ContentType::Protobuf => {
            let decoded = M::decode(body).map_err(|_| DecodeError::Protobuf)?;
            // A field whose wire type the v1 schema does not expect (a v0
            // field v1 dropped, such as `Subscribe.force`) is an unknown
            // field to protobuf's own parser, not an error; prost-reflect
            // refuses the message then, and only the required fields of
            // a message it reads are checked.
            if let Ok(message) = DynamicMessage::decode(descriptor, body) {
                if !missing_required(&message).is_empty() {
                    return Err(DecodeError::Protobuf);
                }
            }
            Ok(decoded)
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
            M::decode(message.encode_to_vec().as_slice())
                .map_err(|e| DecodeError::Convert(e.to_string()))
        }
    }
}

/// `message` as the v1 type named `v1_type`, in `content_type` (JSON
/// without a trailing newline).
pub fn encode<M: Message>(
    v1_type: &str,
    content_type: ContentType,
    message: &M,
) -> Result<Vec<u8>, String> {
    let bytes = message.encode_to_vec();
    match content_type {
        ContentType::Protobuf => Ok(bytes),
        ContentType::Json => {
            let message = DynamicMessage::decode(descriptor(v1_type)?, bytes.as_slice())
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

    #[test]
    fn records_are_length_prefixed() {
        assert_eq!(&record(b"hello")[..], b"5\nhello");
        assert_eq!(&record(b"")[..], b"0\n");
    }
}
