//! Conversions between [`Resource`]/[`Resources`] and the wire's
//! `mesos.Resource`, in one place for the master, the agent and the
//! drivers.
//!
//! Decoding takes both formats Mesos uses: the "pre-refinement" one of
//! old agents and frameworks (the legacy `role` field, plus `reservation`
//! for a dynamic reservation) and the "post-refinement" `reservations`
//! stack. Encoding writes the post-refinement stack, with `role: "*"` on
//! unreserved resources as a Mesos 1.11 agent sends them;
//! [`Resource::to_proto_pre_refinement`] writes the old format for peers
//! without `RESERVATION_REFINEMENT`.

use mesos_proto::mesos as pb;
use mesos_proto::mesos::resource::disk_info::source::Type as PbSourceType;
use mesos_proto::mesos::resource::reservation_info::Type as PbReservationType;
use mesos_proto::mesos::value::Type as PbValueType;
use mesos_proto::mesos::volume::Mode as PbMode;

use super::{
    DiskInfo, DiskSource, DiskSourceType, Label, Persistence, ReservationInfo, ReservationType,
    Resource, Resources, VolumeMount, UNRESERVED_ROLE,
};
use crate::error::{Error, Result};
use crate::values::{Ranges, Scalar, Value};

fn invalid(resource: &pb::Resource, reason: impl Into<String>) -> Error {
    Error::InvalidResource {
        resource: resource.name.clone(),
        reason: reason.into(),
    }
}

fn labels_from(labels: Option<&pb::Labels>) -> Vec<Label> {
    labels
        .map(|l| {
            l.labels
                .iter()
                .map(|x| Label {
                    key: x.key.clone(),
                    value: x.value.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn labels_to(labels: &[Label]) -> Option<pb::Labels> {
    (!labels.is_empty()).then(|| pb::Labels {
        labels: labels
            .iter()
            .map(|l| pb::Label {
                key: l.key.clone(),
                value: l.value.clone(),
            })
            .collect(),
    })
}

fn value_from(r: &pb::Resource) -> Result<Value> {
    match PbValueType::try_from(r.r#type) {
        Ok(PbValueType::Scalar) => {
            let s = r
                .scalar
                .as_ref()
                .ok_or_else(|| invalid(r, "a SCALAR resource has no scalar"))?;
            Scalar::validate_input(s.value).map_err(|e| invalid(r, e))?;
            Ok(Value::Scalar(Scalar::from_f64(s.value)))
        }
        Ok(PbValueType::Ranges) => {
            let ranges = r
                .ranges
                .as_ref()
                .ok_or_else(|| invalid(r, "a RANGES resource has no ranges"))?;
            let pairs = ranges.range.iter().map(|x| (x.begin, x.end));
            Ok(Value::Ranges(Ranges::from_pairs(pairs)?))
        }
        Ok(PbValueType::Set) => {
            let set = r
                .set
                .as_ref()
                .ok_or_else(|| invalid(r, "a SET resource has no set"))?;
            Ok(Value::Set(set.item.iter().cloned().collect()))
        }
        _ => Err(invalid(
            r,
            format!("unsupported resource type {}", r.r#type),
        )),
    }
}

fn reservation_from(
    r: &pb::Resource,
    x: &pb::resource::ReservationInfo,
) -> Result<ReservationInfo> {
    let kind = match x.r#type.map(PbReservationType::try_from) {
        Some(Ok(PbReservationType::Static)) => ReservationType::Static,
        Some(Ok(PbReservationType::Dynamic)) => ReservationType::Dynamic,
        _ => return Err(invalid(r, "a reservation has no valid type")),
    };
    let role = x
        .role
        .clone()
        .ok_or_else(|| invalid(r, "a reservation has no role"))?;
    Ok(ReservationInfo {
        kind,
        role,
        principal: x.principal.clone(),
        labels: labels_from(x.labels.as_ref()),
    })
}

fn disk_from(d: &pb::resource::DiskInfo) -> DiskInfo {
    DiskInfo {
        source: d.source.as_ref().map(|s| {
            let kind = match PbSourceType::try_from(s.r#type) {
                Ok(PbSourceType::Mount) => DiskSourceType::Mount,
                Ok(PbSourceType::Block) => DiskSourceType::Block,
                Ok(PbSourceType::Raw) => DiskSourceType::Raw,
                _ => DiskSourceType::Path,
            };
            let root = match kind {
                DiskSourceType::Path => s.path.as_ref().and_then(|p| p.root.clone()),
                DiskSourceType::Mount => s.mount.as_ref().and_then(|m| m.root.clone()),
                _ => None,
            };
            DiskSource { kind, root }
        }),
        persistence: d.persistence.as_ref().map(|p| Persistence {
            id: p.id.clone(),
            principal: p.principal.clone(),
        }),
        volume: d.volume.as_ref().map(|v| VolumeMount {
            container_path: v.container_path.clone(),
            host_path: v.host_path.clone(),
            read_write: match PbMode::try_from(v.mode) {
                Ok(PbMode::Rw) => Some(true),
                Ok(PbMode::Ro) => Some(false),
                _ => None,
            },
        }),
    }
}

fn disk_to(d: &DiskInfo) -> pb::resource::DiskInfo {
    use pb::resource::disk_info::{self, source};
    pb::resource::DiskInfo {
        persistence: d.persistence.as_ref().map(|p| disk_info::Persistence {
            id: p.id.clone(),
            principal: p.principal.clone(),
        }),
        volume: d.volume.as_ref().map(|v| pb::Volume {
            container_path: v.container_path.clone(),
            host_path: v.host_path.clone(),
            mode: match v.read_write {
                Some(false) => PbMode::Ro as i32,
                _ => PbMode::Rw as i32,
            },
            ..Default::default()
        }),
        source: d.source.as_ref().map(|s| {
            let (kind, path, mount) = match s.kind {
                DiskSourceType::Path => (
                    PbSourceType::Path,
                    Some(source::Path {
                        root: s.root.clone(),
                    }),
                    None,
                ),
                DiskSourceType::Mount => (
                    PbSourceType::Mount,
                    None,
                    Some(source::Mount {
                        root: s.root.clone(),
                    }),
                ),
                DiskSourceType::Block => (PbSourceType::Block, None, None),
                DiskSourceType::Raw => (PbSourceType::Raw, None, None),
            };
            disk_info::Source {
                r#type: kind as i32,
                path,
                mount,
                ..Default::default()
            }
        }),
    }
}

impl Resource {
    /// Decodes a wire resource in either reservation format and validates
    /// it. TEXT values and malformed messages are errors.
    #[allow(deprecated)]
    pub fn from_proto(r: &pb::Resource) -> Result<Resource> {
        let value = value_from(r)?;
        let mut reservations = Vec::with_capacity(r.reservations.len());
        if r.reservations.is_empty() {
            // Pre-refinement: the role field, and `reservation` if dynamic.
            let role = r.role.as_deref().unwrap_or(UNRESERVED_ROLE);
            if role != UNRESERVED_ROLE {
                reservations.push(match &r.reservation {
                    Some(x) => ReservationInfo {
                        kind: ReservationType::Dynamic,
                        role: role.to_string(),
                        principal: x.principal.clone(),
                        labels: labels_from(x.labels.as_ref()),
                    },
                    None => ReservationInfo::new_static(role),
                });
            }
        } else {
            for x in &r.reservations {
                reservations.push(reservation_from(r, x)?);
            }
        }
        let resource = Resource {
            name: r.name.clone(),
            value,
            reservations,
            allocation_role: r.allocation_info.as_ref().and_then(|a| a.role.clone()),
            disk: r.disk.as_ref().map(disk_from),
            revocable: r.revocable.is_some(),
            provider_id: r.provider_id.as_ref().map(|p| p.value.clone()),
        };
        resource.validate()?;
        Ok(resource)
    }

    /// Encodes in the post-refinement format (the `reservations` stack),
    /// with the legacy `role` set to `*` when unreserved.
    #[allow(deprecated)]
    pub fn to_proto(&self) -> pb::Resource {
        let mut out = self.proto_common();
        if self.reservations.is_empty() {
            out.role = Some(UNRESERVED_ROLE.to_string());
        }
        out.reservations = self
            .reservations
            .iter()
            .map(|x| pb::resource::ReservationInfo {
                principal: x.principal.clone(),
                labels: labels_to(&x.labels),
                role: Some(x.role.clone()),
                r#type: Some(match x.kind {
                    ReservationType::Static => PbReservationType::Static as i32,
                    ReservationType::Dynamic => PbReservationType::Dynamic as i32,
                }),
            })
            .collect();
        out
    }

    /// Encodes in the pre-refinement format (`role`, plus `reservation`
    /// when dynamic) for peers without `RESERVATION_REFINEMENT`; `None`
    /// when the reservation is refined and cannot be expressed so.
    #[allow(deprecated)]
    pub fn to_proto_pre_refinement(&self) -> Option<pb::Resource> {
        if self.reservations.len() > 1 {
            return None;
        }
        let mut out = self.proto_common();
        out.role = Some(self.role().to_string());
        if let Some(x) = self.reservations.first() {
            if x.kind == ReservationType::Dynamic {
                out.reservation = Some(pb::resource::ReservationInfo {
                    principal: x.principal.clone(),
                    labels: labels_to(&x.labels),
                    role: None,
                    r#type: None,
                });
            }
        }
        Some(out)
    }

    fn proto_common(&self) -> pb::Resource {
        let mut out = pb::Resource {
            name: self.name.clone(),
            ..Default::default()
        };
        match &self.value {
            Value::Scalar(s) => {
                out.r#type = PbValueType::Scalar as i32;
                out.scalar = Some(pb::value::Scalar { value: s.value() });
            }
            Value::Ranges(r) => {
                out.r#type = PbValueType::Ranges as i32;
                out.ranges = Some(pb::value::Ranges {
                    range: r
                        .intervals()
                        .iter()
                        .map(|&(begin, end)| pb::value::Range { begin, end })
                        .collect(),
                });
            }
            Value::Set(s) => {
                out.r#type = PbValueType::Set as i32;
                out.set = Some(pb::value::Set {
                    item: s.iter().cloned().collect(),
                });
            }
            // Resources never hold text (validation rejects it); the
            // type alone says what it was.
            Value::Text(_) => out.r#type = PbValueType::Text as i32,
        }
        out.allocation_info =
            self.allocation_role
                .as_ref()
                .map(|role| pb::resource::AllocationInfo {
                    role: Some(role.clone()),
                });
        out.disk = self.disk.as_ref().map(disk_to);
        out.revocable = self.revocable.then(pb::resource::RevocableInfo::default);
        out.provider_id = self
            .provider_id
            .as_ref()
            .map(|value| pb::ResourceProviderId {
                value: value.clone(),
            });
        out
    }
}

impl Resources {
    /// Decodes wire resources, merging them; the first invalid one is
    /// the error.
    pub fn from_proto<'a>(
        resources: impl IntoIterator<Item = &'a pb::Resource>,
    ) -> Result<Resources> {
        let mut out = Resources::new();
        for r in resources {
            out.add_resource(&Resource::from_proto(r)?);
        }
        Ok(out)
    }

    /// Encodes every resource in the post-refinement format.
    pub fn to_proto(&self) -> Vec<pb::Resource> {
        self.iter().map(Resource::to_proto).collect()
    }

    /// These resources with every allocation role set to `role` (or
    /// cleared), without copying: the same as [`Resources::allocate`] /
    /// [`Resources::unallocate`] when all of them share one allocation
    /// role already (e.g. none), which keeps them unmergeable.
    pub fn with_allocation_role(mut self, role: Option<&str>) -> Resources {
        let uniform = self
            .items
            .windows(2)
            .all(|w| w[0].allocation_role == w[1].allocation_role);
        if !uniform {
            match role {
                Some(role) => self.allocate(role),
                None => self.unallocate(),
            }
            return self;
        }
        let role = role.map(str::to_string);
        for r in &mut self.items {
            r.allocation_role = role.clone();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        volume.disk = Some(DiskInfo {
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
        });
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
        let encoded = static_one.iter().next().unwrap().to_proto();
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
        let message =
            mesos_proto::internal::RegisterSlaveMessage::decode(REGISTER_SLAVE_BODY).unwrap();
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
}
