#![allow(deprecated)] // the legacy `role` field is what these tests check

use super::*;
use mesos_proto::internal::{RegisterSlaveMessage, ResourceOffersMessage, RunTaskMessage};
use mesos_proto::Message;

fn parse(text: &str) -> Resources {
    Resources::parse(text, "*").unwrap()
}

#[test]
fn round_trips_through_the_wire_format() {
    let mut resources = parse(
        "cpus:2;mem(web):512;ports:[31000-31005,31010-31020];disks:{a,b};\
         disk(ops):100",
    );
    let mut refined = Resource::scalar("cpus", 1.0)
        .reserved(ReservationInfo::new_static("eng"))
        .reserved(ReservationInfo {
            labels: vec![Label {
                key: "k".to_string(),
                value: Some("v".to_string()),
            }],
            ..ReservationInfo::new_dynamic("eng/ml", Some("bob".to_string()))
        });
    refined.revocable = true;
    refined.provider_id = Some("rp-1".to_string());
    resources.add_resource(&refined);
    let mut volume =
        Resource::scalar("disk", 64.0).reserved(ReservationInfo::new_dynamic("db", None));
    volume.disk = Some(Box::new(DiskInfo {
        source: Some(DiskSource {
            kind: DiskSourceType::Mount,
            root: Some("/mnt/1".to_string()),
        }),
        persistence: Some(Persistence {
            id: "vol-1".to_string(),
            principal: Some("carol".to_string()),
        }),
        volume: Some(VolumeMount {
            container_path: "data".to_string(),
            host_path: None,
            read_write: Some(true),
        }),
    }));
    resources.add_resource(&volume);
    resources.allocate("web");

    let wire = resources.to_proto();
    // Through bytes, as a peer would see them.
    let bytes: Vec<Vec<u8>> = wire.iter().map(|r| r.encode_to_vec()).collect();
    let decoded: Vec<pb::Resource> = bytes
        .iter()
        .map(|b| pb::Resource::decode(&b[..]).unwrap())
        .collect();
    let back = Resources::from_proto(&decoded).unwrap();
    assert_eq!(back, resources);
    assert_eq!(back.to_string(), resources.to_string());
}

#[test]
#[allow(deprecated)]
fn pre_refinement_format_decodes_and_encodes() {
    let legacy = pb::Resource {
        name: "cpus".to_string(),
        r#type: PbValueType::Scalar as i32,
        scalar: Some(pb::value::Scalar { value: 1.5 }),
        role: Some("web".to_string()),
        reservation: Some(pb::resource::ReservationInfo {
            principal: Some("ops".to_string()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let r = Resource::from_proto(&legacy).unwrap();
    assert_eq!(r.role(), "web");
    assert!(r.is_dynamically_reserved());
    assert_eq!(r.reservations[0].principal.as_deref(), Some("ops"));
    assert_eq!(r.to_proto_pre_refinement(), Some(legacy));

    let static_one = parse("mem(web):64");
    let encoded = static_one
        .iter()
        .next()
        .unwrap()
        .to_proto_in(Format::REFINED_FRAMEWORK);
    assert_eq!(encoded.role, None);
    assert_eq!(
        encoded.reservations[0].r#type,
        Some(PbReservationType::Static as i32)
    );
}

#[test]
fn malformed_wire_resources_are_errors() {
    let no_scalar = pb::Resource {
        name: "cpus".to_string(),
        r#type: PbValueType::Scalar as i32,
        ..Default::default()
    };
    assert!(Resource::from_proto(&no_scalar).is_err());
    let negative = pb::Resource {
        scalar: Some(pb::value::Scalar { value: -1.0 }),
        ..no_scalar.clone()
    };
    assert!(Resource::from_proto(&negative).is_err());
    let reserved_star = pb::Resource {
        scalar: Some(pb::value::Scalar { value: 1.0 }),
        reservations: vec![pb::resource::ReservationInfo {
            role: Some("*".to_string()),
            r#type: Some(PbReservationType::Static as i32),
            ..Default::default()
        }],
        ..no_scalar
    };
    assert!(Resource::from_proto(&reserved_star).is_err());
}

/// The `RegisterSlaveMessage` body a real Mesos 1.11 agent sent
/// (compat/captures/real_mesos_1.11_master-agent-framework).
#[rustfmt::skip]
const REGISTER_SLAVE_BODY: &[u8] = b"\
\x0aq\x0a\x09localhost\x1a\x16\x0a\x04cpus\x10\x00\x1a\x09\x09\x00\x00\x00\
\x00\x00\x00\x00\x402\x01\x2a\x1a\x15\x0a\x03mem\x10\x00\x1a\x09\x09\x00\x00\
\x00\x00\x40\x8a\xd6\x402\x01\x2a\x1a\x16\x0a\x04disk\x10\x00\x1a\x09\x09\
\x00\x00\x00\x00\x18\xdf\x0eA2\x01\x2a\x1a\x18\x0a\x05ports\x10\x01\x22\x0a\
\x0a\x08\x08\x98\xf2\x01\x10\x80\xfa\x012\x01\x2a8\x01\x40\xafv\x12\x061\x2e\
11\x2e0\x22\x02\x08\x01\x22\x02\x08\x02\x22\x02\x08\x03\x22\x02\x08\x04\x22\
\x02\x08\x05\x22\x02\x08\x06\x22\x02\x08\x07\x22\x02\x08\x08\x2a\x12\x0a\x10\
\x98\x03\xe68\x8f\xd1Gm\x829\xb4\x8f\x2a\x15e\x40";

#[test]
fn decodes_the_resources_of_a_real_mesos_agent() {
    let message = mesos_proto::internal::RegisterSlaveMessage::decode(REGISTER_SLAVE_BODY).unwrap();
    let info = message.slave;
    assert_eq!(info.hostname, "localhost");
    let resources = Resources::from_proto(&info.resources).unwrap();
    assert_eq!(
        resources,
        parse("cpus:2;mem:23081;disk:252899;ports:[31000-32000]")
    );
    // And back: what we send matches what the agent sent.
    assert_eq!(resources.to_proto(), info.resources);
}

#[test]
fn sets_allocation_roles_in_place() {
    let r = parse("cpus:1;mem:32").with_allocation_role(Some("web"));
    let mut expected = parse("cpus:1;mem:32");
    expected.allocate("web");
    assert_eq!(r, expected);
    assert!(r
        .iter()
        .all(|x| x.allocation_role.as_deref() == Some("web")));
    let back = r.with_allocation_role(None);
    assert!(back.iter().all(|x| x.allocation_role.is_none()));
}

// ---- the three formats against a real Mesos 1.11 cluster's bytes ----
//
// From compat/captures/real_mesos_1.11_master-agent-framework (one agent
// of cpus:2;mem:23081;disk:252899;ports:[31000-32000], and libmesos's
// test framework with MULTI_ROLE and RESERVATION_REFINEMENT). Each test
// decodes a captured body, re-encodes its resources in the format the
// receiver reads, re-encodes the whole message and compares bytes.

/// The `ResourceOffersMessage` the real master sent the libmesos
/// framework.
#[rustfmt::skip]
const RESOURCE_OFFERS_BODY: &[u8] = b"\
    \x0a\xaa\x02\x0a\x29\x0a\x270d572a1f\x2d36d1\x2d4189\x2dafe5\x2d16cd45ea4fc7\x2dO0\x12\
    \x2b\x0a\x290d572a1f\x2d36d1\x2d4189\x2dafe5\x2d16cd45ea4fc7\x2d0000\x1a\x29\x0a\x270d57\
    2a1f\x2d36d1\x2d4189\x2dafe5\x2d16cd45ea4fc7\x2dS0\x22\x09localhost\x2a\x1a\x0a\x05ports\
    \x10\x01\x22\x0a\x0a\x08\x08\x98\xf2\x01\x10\x80\xfa\x01Z\x03\x0a\x01\x2a\x2a\x18\x0a\
    \x04cpus\x10\x00\x1a\x09\x09\x00\x00\x00\x00\x00\x00\x00\x40Z\x03\x0a\x01\x2a\x2a\x17\
    \x0a\x03mem\x10\x00\x1a\x09\x09\x00\x00\x00\x00\x40\x8a\xd6\x40Z\x03\x0a\x01\x2a\x2a\x18\
    \x0a\x04disk\x10\x00\x1a\x09\x09\x00\x00\x00\x00\x18\xdf\x0eAZ\x03\x0a\x01\x2aB\x2c\x0a\
    \x04http\x12\x19\x0a\x09localhost\x12\x09127\x2e0\x2e0\x2e1\x18\xafv\x1a\x09\x2fslave\
    \x281\x29R\x03\x0a\x01\x2a\x12\x18slave\x281\x29\x40127\x2e0\x2e0\x2e1\x3a15151";

/// The `RunTaskMessage` the real master sent the agent for `Task 0`.
#[rustfmt::skip]
const RUN_TASK_BODY: &[u8] = b"\
    \x12j\x0a\x04root\x12\x14Test\x20Framework\x20\x28C\x2b\x2b\x29\x1a\x2b\x0a\x290d572a1f\
    \x2d36d1\x2d4189\x2dafe5\x2d16cd45ea4fc7\x2d0000\x28\x00\x3a\x02vmB\x0etest\x2dprincipal\
    R\x02\x08\x06R\x02\x08\x07b\x01\x2a\x1a\x3escheduler\x2d8f1f2c9f\x2d6e54\x2d43f2\x2d9c6f\
    \x2d90562b0a3fa3\x40127\x2e0\x2e0\x2e1\x3a15160\x22z\x0a\x06Task\x200\x12\x03\x0a\x010\
    \x1a\x29\x0a\x270d572a1f\x2d36d1\x2d4189\x2dafe5\x2d16cd45ea4fc7\x2dS0\x22\x18\x0a\x04cp\
    us\x10\x00\x1a\x09\x09\x9a\x99\x99\x99\x99\x99\xb9\x3fZ\x03\x0a\x01\x2a\x22\x17\x0a\x03m\
    em\x10\x00\x1a\x09\x09\x00\x00\x00\x00\x00\x00\x40\x40Z\x03\x0a\x01\x2a\x3a\x0d\x1a\x09s\
    leep\x200\x2e10\x01\x2a\x14\x12\x12\x0a\x10\x98\x03\xe68\x8f\xd1Gm\x829\xb4\x8f\x2a\x15e\
    \x400\x01";

#[test]
fn agent_format_is_what_a_real_agent_sends() {
    let mut message = RegisterSlaveMessage::decode(REGISTER_SLAVE_BODY).unwrap();
    let resources = Resources::from_proto(&message.slave.resources).unwrap();
    // Unreserved resources carry the legacy `role: "*"`, no allocation.
    message.slave.resources = resources.to_proto_in(Format::AGENT);
    assert!(message
        .slave
        .resources
        .iter()
        .all(|r| r.role.as_deref() == Some("*") && r.allocation_info.is_none()));
    assert_eq!(message.encode_to_vec(), REGISTER_SLAVE_BODY);
}

#[test]
fn refined_framework_format_is_what_a_real_master_offers() {
    let mut message = ResourceOffersMessage::decode(RESOURCE_OFFERS_BODY).unwrap();
    let offer = &mut message.offers[0];
    let resources = Resources::from_proto(&offer.resources).unwrap();
    let mut expected = parse("ports:[31000-32000];cpus:2;mem:23081;disk:252899");
    expected.allocate("*");
    assert_eq!(resources, expected);
    // No `role` on unreserved resources; `allocation_info {role: "*"}`.
    offer.resources = resources.to_proto_in(Format::REFINED_FRAMEWORK);
    assert!(offer.resources.iter().all(|r| r.role.is_none()
        && r.allocation_info.as_ref().and_then(|a| a.role.as_deref()) == Some("*")));
    assert_eq!(message.encode_to_vec(), RESOURCE_OFFERS_BODY);
    assert_eq!(Format::for_framework(true, true), Format::REFINED_FRAMEWORK);
}

#[test]
fn run_task_resources_go_to_agents_in_the_refined_format() {
    let mut message = RunTaskMessage::decode(RUN_TASK_BODY).unwrap();
    let resources = Resources::from_proto(&message.task.resources).unwrap();
    let mut expected = parse("cpus:0.1;mem:32");
    expected.allocate("*");
    assert_eq!(resources, expected);
    message.task.resources = resources.to_proto_in(Format::REFINED_FRAMEWORK);
    assert_eq!(message.encode_to_vec(), RUN_TASK_BODY);
}

#[test]
fn legacy_framework_format_is_what_a_real_master_offers_pesos() {
    // The v0 (pesos) session's offer of the same agent carries each
    // resource as the agent registered it: `role: "*"`, no allocation
    // info (real_mesos_1.11_v0_session). So the offer above, re-encoded
    // for a legacy framework, has the agent's bytes resource by resource.
    let agent = RegisterSlaveMessage::decode(REGISTER_SLAVE_BODY).unwrap();
    let offers = ResourceOffersMessage::decode(RESOURCE_OFFERS_BODY).unwrap();
    let resources = Resources::from_proto(&offers.offers[0].resources).unwrap();
    let legacy = resources.to_proto_in(Format::LEGACY_FRAMEWORK);
    assert_eq!(legacy.len(), agent.slave.resources.len());
    for r in &legacy {
        let registered = agent
            .slave
            .resources
            .iter()
            .find(|a| a.name == r.name)
            .unwrap();
        assert_eq!(r.encode_to_vec(), registered.encode_to_vec(), "{}", r.name);
    }
    assert_eq!(
        Format::for_framework(false, false),
        Format::LEGACY_FRAMEWORK
    );
    // MULTI_ROLE without RESERVATION_REFINEMENT: the legacy role and the
    // allocation.
    let multi_role = resources.to_proto_in(Format::for_framework(false, true));
    assert!(multi_role.iter().all(|r| r.role.as_deref() == Some("*")
        && r.allocation_info.as_ref().and_then(|a| a.role.as_deref()) == Some("*")));
}

#[test]
#[allow(deprecated)]
fn reservations_follow_the_format() {
    let mut resources = Resources::new();
    resources.add_resource(
        &Resource::scalar("cpus", 1.0)
            .reserved(ReservationInfo::new_dynamic("web", Some("ops".to_string()))),
    );
    let refined = Resource::scalar("mem", 64.0)
        .reserved(ReservationInfo::new_static("eng"))
        .reserved(ReservationInfo::new_dynamic("eng/ml", None));
    resources.add_resource(&refined);
    resources.allocate("web");

    // Pre-refinement: `role` + `reservation`; the refined one cannot be
    // downgraded and keeps its stack.
    let legacy = resources.to_proto_in(Format::LEGACY_FRAMEWORK);
    assert_eq!(legacy[0].role.as_deref(), Some("web"));
    assert_eq!(
        legacy[0].reservation.as_ref().unwrap().principal.as_deref(),
        Some("ops")
    );
    assert!(legacy[0].reservations.is_empty() && legacy[0].allocation_info.is_none());
    assert_eq!(legacy[1].role, None);
    assert_eq!(legacy[1].reservations.len(), 2);

    // Refined: the stack only.
    let current = resources.to_proto_in(Format::REFINED_FRAMEWORK);
    assert!(current
        .iter()
        .all(|r| r.role.is_none() && r.reservation.is_none()));
    assert_eq!(current[0].reservations.len(), 1);

    // Every format decodes back to the same resources (allocation info
    // aside, which the legacy format drops).
    for format in [Format::AGENT, Format::REFINED_FRAMEWORK] {
        let back = Resources::from_proto(&resources.to_proto_in(format)).unwrap();
        assert_eq!(back, resources, "{format:?}");
    }
    let mut plain = resources.clone();
    plain.unallocate();
    assert_eq!(Resources::from_proto(&legacy).unwrap(), plain);
}
