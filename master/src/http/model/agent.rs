//! An agent: the members every endpoint shows (Mesos's `SlaveWriter`),
//! the full resources `/master/slaves` adds, and an agent recovered from
//! the registry (Mesos's `json(ObjectWriter*, const SlaveInfo&)`).

use std::collections::BTreeMap;

use mesos_common::resources::proto::Format;
use mesos_common::Resources;
use mesos_proto::mesos::slave_info::capability::Type as Capability;
use mesos_proto::mesos::{self as pb, Attribute, DomainInfo};

use super::super::json::{self, ObjectWriter};
use super::super::protobuf;
use super::super::snapshot::{AgentView, RecoveredAgentView};
use super::{attributes, resources_member};

/// Reserved resources by the role they are reserved to.
fn reservations(total: &Resources) -> BTreeMap<&str, Resources> {
    let mut by_role: BTreeMap<&str, Resources> = BTreeMap::new();
    for r in total.iter().filter(|r| !r.is_unreserved()) {
        by_role.entry(r.role()).or_default().add_resource(r);
    }
    by_role
}

fn info(o: &mut ObjectWriter, id: &str, hostname: &str, port: i32, attrs: &[Attribute]) {
    o.str("id", id);
    o.str("hostname", hostname);
    o.i64("port", i64::from(port));
    attributes(o, "attributes", attrs);
}

fn domain(o: &mut ObjectWriter, domain: Option<&DomainInfo>) {
    if let Some(domain) = domain {
        o.raw("domain", &protobuf::to_vec(domain));
    }
}

/// The members of an agent's object, without braces.
pub fn members(a: &AgentView) -> Vec<u8> {
    json::members(|o| {
        info(o, &a.id, &a.hostname, a.port, &a.attributes);
        domain(o, a.domain.as_ref());
        o.str("pid", &a.pid.to_string());
        o.f64("registered_time", a.registered_time);
        if let Some(t) = a.reregistered_time {
            o.f64("reregistered_time", t);
        }
        resources_member(o, "resources", &a.resources.total);
        resources_member(o, "used_resources", &a.used);
        resources_member(o, "offered_resources", &a.resources.offered);
        o.object("reserved_resources", |o| {
            for (role, reserved) in reservations(&a.resources.total) {
                resources_member(o, role, &reserved);
            }
        });
        resources_member(o, "unreserved_resources", &a.resources.total.unreserved());
        o.bool("active", a.active);
        // Agents are deactivated only by maintenance, which we lack.
        o.bool("deactivated", false);
        o.str("version", &a.version);
        o.array("capabilities", |arr| {
            for c in &a.capabilities {
                if let Ok(t) = Capability::try_from(*c) {
                    arr.str(t.as_str_name());
                }
            }
        });
    })
}

/// The `*_full` members `/master/slaves` adds, without braces: every
/// resource whole, in Mesos's endpoint format.
pub fn full_members(a: &AgentView) -> Vec<u8> {
    json::members(|o| {
        o.object("reserved_resources_full", |o| {
            for (role, reserved) in reservations(&a.resources.total) {
                o.array(role, |arr| full_list(arr, &reserved));
            }
        });
        o.array("unreserved_resources_full", |arr| {
            full_list(arr, &a.resources.total.unreserved())
        });
        o.array("used_resources_full", |arr| full_list(arr, &a.used));
        o.array("offered_resources_full", |arr| {
            full_list(arr, &a.resources.offered)
        });
    })
}

fn full_list(arr: &mut json::ArrayWriter, resources: &Resources) {
    for r in resources.to_proto_in(Format::REFINED_FRAMEWORK) {
        arr.raw(&protobuf::to_vec(&endpoint_format(r)));
    }
}

/// Mesos's endpoint format of a resource: the `reservations` stack, and,
/// when there is at most one reservation, also the older `role` (and
/// `reservation` for a dynamic one).
#[allow(deprecated)]
fn endpoint_format(mut r: pb::Resource) -> pb::Resource {
    use pb::resource::reservation_info::Type;
    match r.reservations.as_slice() {
        [] => r.role = Some("*".into()),
        [single] => {
            if single.r#type == Some(Type::Dynamic as i32) {
                r.reservation = Some(pb::resource::ReservationInfo {
                    principal: single.principal.clone(),
                    labels: single.labels.clone(),
                    ..Default::default()
                });
            }
            r.role = single.role.clone();
        }
        _ => {}
    }
    r
}

/// An agent the registry knows that has not reregistered yet.
pub fn recovered(o: &mut ObjectWriter, a: &RecoveredAgentView) {
    info(o, &a.id, &a.hostname, a.port, &a.attributes);
    domain(o, a.domain.as_ref());
}

#[cfg(test)]
mod tests {
    use super::*;
    use libprocess::UPID;
    use serde_json::{json, Value};

    fn view() -> AgentView {
        AgentView {
            id: "S0".into(),
            hostname: "host".into(),
            port: 5051,
            attributes: Vec::new(),
            domain: None,
            pid: "slave(1)@127.0.0.1:5051".parse::<UPID>().unwrap(),
            registered_time: 1.0,
            reregistered_time: None,
            resources: std::sync::Arc::new(crate::state::AgentResources {
                total: Resources::parse("cpus:4;mem:1024;cpus(web):2;mem(web):512", "*").unwrap(),
                ..Default::default()
            }),
            used: Resources::new(),
            active: true,
            version: "1.11.0".into(),
            capabilities: vec![Capability::MultiRole as i32],
        }
    }

    fn object(members: Vec<u8>) -> Value {
        let mut out = b"{".to_vec();
        out.extend(members);
        out.push(b'}');
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn reservations_are_grouped_by_role() {
        let agent = object(members(&view()));
        assert_eq!(agent["pid"], "slave(1)@127.0.0.1:5051");
        assert_eq!(agent["resources"]["cpus"], 6.0);
        assert_eq!(
            agent["reserved_resources"],
            json!({"web": {"cpus": 2.0, "gpus": 0.0, "mem": 512.0, "disk": 0.0}})
        );
        assert_eq!(agent["unreserved_resources"]["mem"], 1024.0);
        assert_eq!(agent["capabilities"], json!(["MULTI_ROLE"]));
        // `/master/state` shows no full resources.
        assert!(agent.get("unreserved_resources_full").is_none());
    }

    #[test]
    fn full_resources_in_the_endpoint_format() {
        let full = object(full_members(&view()));
        assert_eq!(
            full["unreserved_resources_full"][0],
            json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}, "role": "*"})
        );
        let reserved = &full["reserved_resources_full"]["web"][0];
        assert_eq!(reserved["role"], "web");
        assert_eq!(reserved["reservations"][0]["role"], "web");
        assert_eq!(reserved["reservations"][0]["type"], "STATIC");
        assert_eq!(full["used_resources_full"], json!([]));
    }
}
