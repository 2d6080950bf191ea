//! Messages rendered field by field from their schema, as Mesos's
//! `JSON::Protobuf` renders the ones its endpoints print whole (a task's
//! `container`, `discovery` and `health_check`, a container's ID, a full
//! resource): the fields that are set, plus unset optional fields with an
//! explicit default unless deprecated, in schema order; field names as in
//! the `.proto`; enums by name; bytes in base64; 64-bit integers as
//! numbers; maps as objects. Driven by the schema's descriptors
//! (`prost-reflect`), not by a converter per message.

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value,
};

use super::json::{self, ArrayWriter, ObjectWriter};

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(mesos_proto::FILE_DESCRIPTOR_SET)
            .inspect_err(|e| tracing::error!("cannot load the protobuf descriptors: {e}"))
            .ok()
    })
    .as_ref()
}

/// `message` as a JSON object into `out`. A message the schema does not
/// describe (which the build rules out) is written as `{}`.
pub fn write<M: Message + prost::Name>(out: &mut Vec<u8>, message: &M) {
    let dynamic = pool()
        .and_then(|p| p.get_message_by_name(&M::full_name()))
        .and_then(|d| DynamicMessage::decode(d, message.encode_to_vec().as_slice()).ok());
    match dynamic {
        Some(dynamic) => json::object(out, |o| fields(o, &dynamic)),
        None => out.extend_from_slice(b"{}"),
    }
}

/// `message` as a JSON object on its own.
pub fn to_vec<M: Message + prost::Name>(message: &M) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, message);
    out
}

fn printed(message: &DynamicMessage, field: &FieldDescriptor) -> bool {
    if field.is_list() || field.is_map() {
        return message.has_field(field);
    }
    let proto = field.field_descriptor_proto();
    let deprecated = proto
        .options
        .as_ref()
        .and_then(|o| o.deprecated)
        .unwrap_or(false);
    message.has_field(field) || (proto.default_value.is_some() && !deprecated)
}

fn fields(o: &mut ObjectWriter, message: &DynamicMessage) {
    for field in message.descriptor().fields() {
        if !printed(message, &field) {
            continue;
        }
        let value = message.get_field(&field);
        match value.as_ref() {
            Value::List(items) => o.array(field.name(), |a| {
                for item in items {
                    element(a, &field, item);
                }
            }),
            Value::Map(entries) => o.object(field.name(), |m| {
                // Sorted, so that the same map renders the same text.
                let mut entries: Vec<_> = entries.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let value_field = match field.kind() {
                    Kind::Message(entry) => entry.map_entry_value_field(),
                    _ => return,
                };
                for (key, value) in entries {
                    let key = match key {
                        MapKey::Bool(b) => b.to_string(),
                        MapKey::I32(n) => n.to_string(),
                        MapKey::I64(n) => n.to_string(),
                        MapKey::U32(n) => n.to_string(),
                        MapKey::U64(n) => n.to_string(),
                        MapKey::String(s) => s.clone(),
                    };
                    member(m, &key, &value_field, value);
                }
            }),
            single => member(o, field.name(), &field, single),
        }
    }
}

fn member(o: &mut ObjectWriter, key: &str, field: &FieldDescriptor, value: &Value) {
    match value {
        Value::Bool(b) => o.bool(key, *b),
        Value::I32(n) => o.i64(key, i64::from(*n)),
        Value::I64(n) => o.i64(key, *n),
        Value::U32(n) => o.i64(key, i64::from(*n)),
        Value::U64(n) => o.f64(key, *n as f64),
        Value::F32(x) => o.f64(key, f64::from(*x)),
        Value::F64(x) => o.f64(key, *x),
        Value::String(s) => o.str(key, s),
        Value::Bytes(b) => o.str(key, &base64(b)),
        Value::EnumNumber(n) => o.str(key, &enum_name(field, *n)),
        Value::Message(m) => o.object(key, |inner| fields(inner, m)),
        Value::List(_) | Value::Map(_) => {}
    }
}

fn element(a: &mut ArrayWriter, field: &FieldDescriptor, value: &Value) {
    match value {
        Value::Bool(b) => a.raw(if *b { b"true" } else { b"false" }),
        Value::I32(n) => a.raw(n.to_string().as_bytes()),
        Value::I64(n) => a.raw(n.to_string().as_bytes()),
        Value::U32(n) => a.raw(n.to_string().as_bytes()),
        Value::U64(n) => a.raw(n.to_string().as_bytes()),
        Value::F32(x) => a.raw(&json_number(f64::from(*x))),
        Value::F64(x) => a.raw(&json_number(*x)),
        Value::String(s) => a.str(s),
        Value::Bytes(b) => a.str(&base64(b)),
        Value::EnumNumber(n) => a.str(&enum_name(field, *n)),
        Value::Message(m) => a.object(|inner| fields(inner, m)),
        Value::List(_) | Value::Map(_) => {}
    }
}

fn json_number(x: f64) -> Vec<u8> {
    serde_json::to_vec(&x).unwrap_or_else(|_| b"null".to_vec())
}

fn enum_name(field: &FieldDescriptor, number: i32) -> String {
    match field.kind() {
        Kind::Enum(e) => e
            .get_value(number)
            .map(|v| v.name().to_string())
            .unwrap_or_else(|| number.to_string()),
        _ => number.to_string(),
    }
}

/// Standard base64 with padding, as Mesos prints `bytes` fields.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{
        container_info, health_check, value, ContainerId, ContainerInfo, HealthCheck, Resource,
    };
    use serde_json::json;

    fn parsed(bytes: Vec<u8>) -> serde_json::Value {
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn nested_messages_enums_and_unset_fields() {
        let id = ContainerId {
            value: "child".into(),
            parent: Some(Box::new(ContainerId {
                value: "parent".into(),
                parent: None,
            })),
        };
        assert_eq!(
            parsed(to_vec(&id)),
            json!({"value": "child", "parent": {"value": "parent"}})
        );

        let container = ContainerInfo {
            r#type: container_info::Type::Mesos as i32,
            hostname: Some("web".into()),
            ..Default::default()
        };
        let rendered = parsed(to_vec(&container));
        assert_eq!(rendered["type"], "MESOS");
        assert_eq!(rendered["hostname"], "web");
        // Unset repeated fields are left out.
        assert!(rendered.get("volumes").is_none(), "{rendered}");
    }

    #[test]
    fn unset_fields_with_a_default_are_printed() {
        // `HealthCheck.delay_seconds` and friends have defaults in the
        // schema; Mesos prints them even when unset.
        let check = HealthCheck {
            r#type: Some(health_check::Type::Command as i32),
            ..Default::default()
        };
        let rendered = parsed(to_vec(&check));
        assert_eq!(rendered["type"], "COMMAND");
        assert_eq!(rendered["delay_seconds"], 15.0, "{rendered}");
        assert_eq!(rendered["consecutive_failures"], 3, "{rendered}");
    }

    #[test]
    fn a_resource_as_mesos_prints_it_in_full() {
        #[allow(deprecated)]
        let cpus = Resource {
            name: "cpus".into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: 2.5 }),
            role: Some("*".into()),
            ..Default::default()
        };
        assert_eq!(
            parsed(to_vec(&cpus)),
            json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 2.5}, "role": "*"})
        );
    }

    #[test]
    fn base64_pads_as_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }
}
