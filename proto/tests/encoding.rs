//! Encodings derived by hand from the schema.
//!
//! A protobuf tag byte is `(field_number << 3) | wire_type`, with wire types
//! 0 = varint, 1 = 64-bit, 2 = length-delimited. Each expected byte string
//! below is annotated field by field.

use mesos_proto::bytes::Bytes;
use mesos_proto::prost::Message;
use mesos_proto::{internal, mesos, scheduler};

fn id(s: &str) -> String {
    s.to_string()
}

#[test]
fn ping_slave_message() {
    let ping = internal::PingSlaveMessage { connected: true };
    // 08 = field 1 (connected), varint; 01 = true.
    assert_eq!(ping.encode_to_vec(), [0x08, 0x01]);
    // Required fields are always written, even when false.
    let ping = internal::PingSlaveMessage { connected: false };
    assert_eq!(ping.encode_to_vec(), [0x08, 0x00]);
    // PongSlaveMessage has no fields: the body is empty.
    assert!(internal::PongSlaveMessage {}.encode_to_vec().is_empty());
}

#[test]
fn framework_id() {
    let fid = mesos::FrameworkId { value: id("x") };
    // 0a = field 1 (value), length-delimited; 01 = length; 78 = 'x'.
    assert_eq!(fid.encode_to_vec(), [0x0a, 0x01, 0x78]);
}

#[test]
#[allow(deprecated)] // `Resource.role` is deprecated in Mesos but still sent by agents.
fn scalar_resource_as_an_agent_sends_it() {
    let cpus = mesos::Resource {
        name: id("cpus"),
        r#type: mesos::value::Type::Scalar as i32,
        scalar: Some(mesos::value::Scalar { value: 2.0 }),
        role: Some(id("*")),
        ..Default::default()
    };
    let expected = [
        0x0a, 0x04, b'c', b'p', b'u', b's', // field 1 (name), len 4, "cpus"
        0x10, 0x00, // field 2 (type), varint, SCALAR = 0 (required: always written)
        0x1a, 0x09, // field 3 (scalar), len 9:
        0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, //   field 1 (value), 64-bit, 2.0 little-endian
        0x32, 0x01, b'*', // field 6 (role), len 1, "*"
    ];
    assert_eq!(cpus.encode_to_vec(), expected);
    // The same bytes appear inside the RegisterSlaveMessage a real 1.11 agent sent.
    assert_eq!(mesos::Resource::decode(&expected[..]).unwrap(), cpus);
}

#[test]
#[allow(deprecated)]
fn ranges_resource() {
    let ports = mesos::Resource {
        name: id("ports"),
        r#type: mesos::value::Type::Ranges as i32,
        ranges: Some(mesos::value::Ranges {
            range: vec![mesos::value::Range {
                begin: 31000,
                end: 32000,
            }],
        }),
        role: Some(id("*")),
        ..Default::default()
    };
    let expected = [
        0x0a, 0x05, b'p', b'o', b'r', b't', b's', // field 1 (name), "ports"
        0x10, 0x01, // field 2 (type), RANGES = 1
        0x22, 0x0a, // field 4 (ranges), len 10:
        0x0a, 0x08, //   field 1 (range), len 8:
        0x08, 0x98, 0xf2, 0x01, //     field 1 (begin), varint 31000
        0x10, 0x80, 0xfa, 0x01, //     field 2 (end), varint 32000
        0x32, 0x01, b'*', // field 6 (role), "*"
    ];
    assert_eq!(ports.encode_to_vec(), expected);
}

#[test]
fn scheduler_teardown_call() {
    let call = scheduler::Call {
        framework_id: Some(mesos::FrameworkId { value: id("x") }),
        r#type: Some(scheduler::call::Type::Teardown as i32),
        ..Default::default()
    };
    let expected = [
        0x0a, 0x03, // field 1 (framework_id), len 3:
        0x0a, 0x01, b'x', //   field 1 (value), "x"
        0x10, 0x02, // field 2 (type), varint, TEARDOWN = 2
    ];
    assert_eq!(call.encode_to_vec(), expected);
}

#[test]
fn task_status_and_acknowledgement() {
    let status = mesos::TaskStatus {
        task_id: mesos::TaskId { value: id("t") },
        state: mesos::TaskState::TaskRunning as i32,
        ..Default::default()
    };
    let expected = [
        0x0a, 0x03, 0x0a, 0x01, b't', // field 1 (task_id) { field 1 (value) "t" }
        0x10, 0x01, // field 2 (state), TASK_RUNNING = 1
    ];
    assert_eq!(status.encode_to_vec(), expected);

    let ack = internal::StatusUpdateAcknowledgementMessage {
        slave_id: mesos::SlaveId { value: id("s") },
        framework_id: mesos::FrameworkId { value: id("f") },
        task_id: mesos::TaskId { value: id("t") },
        uuid: Bytes::from_static(&[0xab, 0xcd]),
    };
    let expected = [
        0x0a, 0x03, 0x0a, 0x01, b's', // field 1 (slave_id) { value "s" }
        0x12, 0x03, 0x0a, 0x01, b'f', // field 2 (framework_id) { value "f" }
        0x1a, 0x03, 0x0a, 0x01, b't', // field 3 (task_id) { value "t" }
        0x22, 0x02, 0xab, 0xcd, // field 4 (uuid), len 2, raw bytes
    ];
    assert_eq!(ack.encode_to_vec(), expected);
}

#[test]
fn explicitly_set_default_values_are_written() {
    // proto2 keeps presence: an optional field set to its default is still
    // written, as Mesos (C++) does (e.g. FrameworkInfo.checkpoint = false).
    let info = mesos::FrameworkInfo {
        user: id("u"),
        name: id("n"),
        checkpoint: Some(false),
        ..Default::default()
    };
    let expected = [
        0x0a, 0x01, b'u', // field 1 (user)
        0x12, 0x01, b'n', // field 2 (name)
        0x28, 0x00, // field 5 (checkpoint), varint, false
    ];
    assert_eq!(info.encode_to_vec(), expected);
}

#[test]
fn map_field_entries() {
    // map<string, OfferFilters> offer_filters = 13: each entry is a nested
    // message { 1: key, 2: value } under tag 0x6a (field 13, len-delimited).
    // C++ always writes both key and value:
    let cpp = [
        0x0a, 0x01, b'u', 0x12, 0x01, b'n', // user, name
        0x6a, 0x05, // field 13 (offer_filters entry), len 5:
        0x0a, 0x01, b'r', //   field 1 (key), "r"
        0x12, 0x00, //   field 2 (value), empty OfferFilters
    ];
    let info = mesos::FrameworkInfo::decode(&cpp[..]).unwrap();
    assert_eq!(info.offer_filters.len(), 1);
    assert_eq!(info.offer_filters["r"], mesos::OfferFilters::default());
    // prost leaves out a value equal to its default inside map entries; that
    // decodes to the same thing everywhere.
    let ours = info.encode_to_vec();
    assert_eq!(
        mesos::FrameworkInfo::decode(&ours[..]).unwrap(),
        info,
        "{ours:02x?}"
    );
}
