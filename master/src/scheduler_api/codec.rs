//! Bodies of the v1 scheduler API: a `mesos.v1.scheduler.Call` in, as
//! protobuf or JSON, read as the `scheduler::Call` the master handles;
//! events out as `mesos.v1.scheduler.Event`. The encodings themselves are
//! `mesos_proto::codec`'s, shared with the agent's executor API.

use mesos_proto::codec::{self, ContentType, DecodeError};
use mesos_proto::scheduler::{Call, Event};

pub use mesos_proto::codec::record;

const V1_CALL: &str = "mesos.v1.scheduler.Call";
const V1_EVENT: &str = "mesos.v1.scheduler.Event";

/// Reads a v1 `Call` in `content_type` as the master's `scheduler::Call`.
pub fn decode_call(content_type: ContentType, body: &[u8]) -> Result<Call, DecodeError> {
    codec::decode(V1_CALL, content_type, body)
}

/// A v1 `Event` in `content_type` (JSON without a trailing newline).
pub fn encode_event(content_type: ContentType, event: &Event) -> Result<Vec<u8>, String> {
    codec::encode(V1_EVENT, content_type, event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::scheduler::call::Type;
    use prost::Message;

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
}
