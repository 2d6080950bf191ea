//! Bodies of the v1 executor API: a `mesos.v1.executor.Call` in
//! (protobuf or JSON) read as the agent's `executor::Call`, events out as
//! `mesos.v1.executor.Event`. The encodings themselves (media types,
//! JSON, RecordIO) are `mesos_proto::codec`'s, shared with the master's
//! scheduler API. The v0 and v1 executor messages share field numbers
//! (only names differ: `slave_info` is `agent_info` in v1).

use mesos_proto::codec;
pub use mesos_proto::codec::{
    record, ContentType, DecodeError, APPLICATION_JSON, APPLICATION_PROTOBUF,
};

use mesos_proto::executor::{Call, Event};

const V1_CALL: &str = "mesos.v1.executor.Call";
const V1_EVENT: &str = "mesos.v1.executor.Event";

/// Reads a v1 `Call` in `content_type` as the agent's `executor::Call`;
/// required fields must be there (Mesos's "Missing required fields").
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
    use mesos_proto::executor::{call, event};
    use mesos_proto::mesos::{SlaveInfo, TaskState};
    use prost::Message;

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
}
