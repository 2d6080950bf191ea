//! The JSON of the master's objects as Mesos 1.11's endpoints write them
//! (`src/common/http.cpp` and `src/master/readonly_handler.cpp` there):
//! pure functions from a snapshot's views to bytes, one file per object.
//! Field names, which fields are optional and their types are Mesos's;
//! order inside an object is not significant.
//!
//! - `task`: a task with its statuses.
//! - `framework`: a framework, in full and as a summary.
//! - `agent`: an agent, as `/master/state` and `/master/slaves` show it.

pub mod agent;
pub mod framework;
pub mod task;

use std::borrow::Cow;
use std::collections::BTreeSet;

use mesos_common::resources::Resources;
use mesos_common::values::{Ranges, Scalar, Value};
use mesos_proto::mesos::{self as pb, Attribute, Labels, MasterInfo};

use super::json::{self, ArrayWriter, ObjectWriter};

/// Resources as Mesos's summary object: `cpus`, `gpus`, `mem` and `disk`
/// always (0 when absent), other scalars as numbers, ranges and sets in
/// their print form (`"[31000-32000]"`, `"{a, b}"`), revocable ones under
/// `<name>_revocable`.
pub fn resources(out: &mut Vec<u8>, resources: &Resources) {
    let mut summary = Summary::new();
    for r in resources.iter() {
        let name = summary_name(&r.name, r.revocable);
        match &r.value {
            Value::Scalar(s) => summary.scalar(name, *s),
            Value::Ranges(x) => summary.ranges(name, x),
            Value::Set(x) => summary.set(name, x.iter().map(String::as_str)),
            Value::Text(_) => {}
        }
    }
    summary.write(out);
}

/// The summary of resources in their wire form (a task's, an executor's),
/// read as they are rather than decoded first; malformed ones are left
/// out.
pub fn resources_of(out: &mut Vec<u8>, list: &[pb::Resource]) {
    use pb::value::Type;
    let mut summary = Summary::new();
    for r in list {
        let name = summary_name(&r.name, r.revocable.is_some());
        match Type::try_from(r.r#type) {
            Ok(Type::Scalar) => {
                if let Some(s) = &r.scalar {
                    summary.scalar(name, Scalar::from_f64(s.value));
                }
            }
            Ok(Type::Ranges) => {
                let pairs = r.ranges.iter().flat_map(|x| &x.range);
                if let Ok(x) = Ranges::from_pairs(pairs.map(|x| (x.begin, x.end))) {
                    summary.ranges(name, &x);
                }
            }
            Ok(Type::Set) => {
                let items = r.set.iter().flat_map(|s| &s.item);
                summary.set(name, items.map(String::as_str));
            }
            _ => {}
        }
    }
    summary.write(out);
}

fn summary_name(name: &str, revocable: bool) -> Cow<'_, str> {
    if revocable {
        Cow::Owned(format!("{name}_revocable"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Totals by name, in the order names first appear.
struct Summary<'a> {
    scalars: Vec<(Cow<'a, str>, Scalar)>,
    ranges: Vec<(Cow<'a, str>, Ranges)>,
    sets: Vec<(Cow<'a, str>, BTreeSet<&'a str>)>,
}

impl<'a> Summary<'a> {
    fn new() -> Summary<'a> {
        Summary {
            scalars: ["cpus", "gpus", "mem", "disk"]
                .into_iter()
                .map(|n| (Cow::Borrowed(n), Scalar::ZERO))
                .collect(),
            ranges: Vec::new(),
            sets: Vec::new(),
        }
    }

    fn scalar(&mut self, name: Cow<'a, str>, s: Scalar) {
        match self.scalars.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total = total.saturating_add(s),
            None => self.scalars.push((name, s)),
        }
    }

    fn ranges(&mut self, name: Cow<'a, str>, x: &Ranges) {
        match self.ranges.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total = total.union(x),
            None => self.ranges.push((name, x.clone())),
        }
    }

    fn set(&mut self, name: Cow<'a, str>, items: impl Iterator<Item = &'a str>) {
        match self.sets.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => total.extend(items),
            None => self.sets.push((name, items.collect())),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        json::object(out, |o| {
            for (name, s) in &self.scalars {
                o.f64(name, s.value());
            }
            for (name, r) in &self.ranges {
                o.str(name, &r.to_string());
            }
            for (name, s) in &self.sets {
                o.str(name, &set_text(s.iter().copied()));
            }
        });
    }
}

/// A summary object member.
pub fn resources_member(o: &mut ObjectWriter, key: &str, list: &Resources) {
    let mut out = Vec::new();
    resources(&mut out, list);
    o.raw(key, &out);
}

/// Mesos's print form of a set: `{a, b}`.
fn set_text<'a>(items: impl Iterator<Item = &'a str>) -> String {
    format!("{{{}}}", items.collect::<Vec<_>>().join(", "))
}

/// Attributes as one object: name to number or text.
pub fn attributes(o: &mut ObjectWriter, key: &str, attributes: &[Attribute]) {
    o.object(key, |o| {
        for a in attributes {
            if let Some(s) = &a.scalar {
                o.f64(&a.name, s.value);
            } else if let Some(t) = &a.text {
                o.str(&a.name, &t.value);
            } else if let Some(r) = &a.ranges {
                let parts: Vec<String> = r
                    .range
                    .iter()
                    .map(|x| format!("{}-{}", x.begin, x.end))
                    .collect();
                o.str(&a.name, &format!("[{}]", parts.join(", ")));
            } else if let Some(s) = &a.set {
                o.str(&a.name, &set_text(s.item.iter().map(String::as_str)));
            }
        }
    });
}

/// Labels as an array of `{"key","value"}` (no `value` when unset).
pub fn labels(a: &mut ArrayWriter, labels: &Labels) {
    for label in &labels.labels {
        a.object(|o| {
            o.str("key", &label.key);
            if let Some(value) = &label.value {
                o.str("value", value);
            }
        });
    }
}

/// A `MasterInfo` as `leader_info` shows it.
pub fn master_info(o: &mut ObjectWriter, info: &MasterInfo) {
    o.str("id", &info.id);
    o.str("pid", info.pid.as_deref().unwrap_or_default());
    o.i64("port", i64::from(info.port));
    o.str("hostname", info.hostname.as_deref().unwrap_or_default());
    if let Some(domain) = &info.domain {
        let mut out = Vec::new();
        super::protobuf::write(&mut out, domain);
        o.raw("domain", &out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_common::resources::Resource;
    use serde_json::json;

    fn summary(text: &str) -> serde_json::Value {
        let mut out = Vec::new();
        resources(&mut out, &Resources::parse(text, "*").unwrap());
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn resource_summaries_as_mesos_prints_them() {
        assert_eq!(
            summary("cpus:2;mem:1024;ports:[31000-32000];cpus(web):1"),
            json!({"cpus": 3.0, "gpus": 0.0, "mem": 1024.0, "disk": 0.0, "ports": "[31000-32000]"})
        );
        assert_eq!(
            summary(""),
            json!({"cpus": 0.0, "gpus": 0.0, "mem": 0.0, "disk": 0.0})
        );
        let mut revocable = Resource::scalar("cpus", 0.5);
        revocable.revocable = true;
        let mut list = Resources::parse("zones:{b,a};bogus:1.5", "*").unwrap();
        list.add_resource(&revocable);
        let mut out = Vec::new();
        resources(&mut out, &list);
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["cpus_revocable"], 0.5);
        assert_eq!(parsed["cpus"], 0.0);
        assert_eq!(parsed["zones"], "{a, b}");
        assert_eq!(parsed["bogus"], 1.5);
    }

    #[test]
    fn the_wire_form_sums_up_the_same() {
        use mesos_common::resources::proto::Format;
        let mut list =
            Resources::parse("cpus:0.1;mem:32;ports:[31000-31001];cpus(web):0.2", "*").unwrap();
        let mut revocable = Resource::scalar("cpus", 0.5);
        revocable.revocable = true;
        list.add_resource(&revocable);
        let (mut decoded, mut wire) = (Vec::new(), Vec::new());
        resources(&mut decoded, &list);
        resources_of(&mut wire, &list.to_proto_in(Format::REFINED_FRAMEWORK));
        assert_eq!(decoded, wire);
        let parsed: serde_json::Value = serde_json::from_slice(&wire).unwrap();
        // Fixed-point sums: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
        assert_eq!(parsed["cpus"], 0.3);
        assert_eq!(parsed["cpus_revocable"], 0.5);
        assert_eq!(parsed["ports"], "[31000-31001]");
    }

    #[test]
    fn labels_leave_out_unset_values() {
        let list = Labels {
            labels: vec![
                pb::Label {
                    key: "k".into(),
                    value: Some("v".into()),
                },
                pb::Label {
                    key: "flag".into(),
                    value: None,
                },
            ],
        };
        let mut out = Vec::new();
        json::array(&mut out, |a| labels(a, &list));
        assert_eq!(out, br#"[{"key":"k","value":"v"},{"key":"flag"}]"#);
    }
}
