//! Conversions between [`Resource`]/[`Resources`] and the wire's
//! `mesos.Resource`: the one conversion the master, the agent and the
//! drivers use.
//!
//! Decoding takes both formats Mesos uses: the "pre-refinement" one of
//! old agents and frameworks (the legacy `role` field, plus `reservation`
//! for a dynamic reservation) and the "post-refinement" `reservations`
//! stack. Encoding writes what the receiver expects, as a [`Format`]:
//! Mesos 1.11 peers differ in the reservation format, in whether
//! unreserved resources carry the legacy `role: "*"`, and in whether
//! `allocation_info` is sent (see the named formats on [`Format`]).

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

/// How resources are written for a receiver. The named constants are the
/// formats a real Mesos 1.11 cluster puts on the wire
/// (`compat/captures/real_mesos_1.11_master-agent-framework`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    /// Reserved resources as the `reservations` stack (peers with
    /// `RESERVATION_REFINEMENT`). Otherwise as `role`, plus `reservation`
    /// when dynamic; a refined reservation (more than one) cannot be
    /// written so and keeps the stack, as Mesos's downgrade leaves it.
    pub refined: bool,
    /// With `allocation_info` when the resource is allocated to a role
    /// (`MULTI_ROLE` frameworks, and agents).
    pub allocation_info: bool,
    /// Unreserved resources carry the legacy `role: "*"` even in the
    /// refined format. (The pre-refinement format always writes `role`.)
    pub legacy_unreserved_role: bool,
}

impl Format {
    /// What a Mesos 1.11 agent sends (`RegisterSlaveMessage`,
    /// `ReregisterSlaveMessage`, `UpdateSlaveMessage`): resources
    /// downgraded to the pre-refinement format where they can be, so
    /// unreserved ones carry `role: "*"`; allocation info on task and
    /// executor resources.
    pub const AGENT: Format = Format {
        refined: false,
        allocation_info: true,
        legacy_unreserved_role: true,
    };

    /// What the master sends a framework with `MULTI_ROLE` and
    /// `RESERVATION_REFINEMENT` (libmesos 1.x), and what it sends agents
    /// in `RunTaskMessage`: the `reservations` stack, no `role` on
    /// unreserved resources, `allocation_info` set.
    pub const REFINED_FRAMEWORK: Format = Format {
        refined: true,
        allocation_info: true,
        legacy_unreserved_role: false,
    };

    /// What the master sends a framework with neither capability (the
    /// pesos driver, pre-1.0 drivers): `role` and `reservation`, no
    /// allocation info.
    pub const LEGACY_FRAMEWORK: Format = Format {
        refined: false,
        allocation_info: false,
        legacy_unreserved_role: true,
    };

    /// The format for a framework with the given capabilities.
    pub const fn for_framework(reservation_refinement: bool, multi_role: bool) -> Format {
        Format {
            refined: reservation_refinement,
            allocation_info: multi_role,
            legacy_unreserved_role: !reservation_refinement,
        }
    }
}

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
            name: r.name.as_str().into(),
            value,
            reservations,
            allocation_role: r
                .allocation_info
                .as_ref()
                .and_then(|a| a.role.as_deref().map(Into::into)),
            disk: r.disk.as_deref().map(|d| Box::new(disk_from(d))),
            revocable: r.revocable.is_some(),
            provider_id: r.provider_id.as_ref().map(|p| p.value.clone()),
        };
        resource.validate()?;
        Ok(resource)
    }

    /// Encodes in [`Format::AGENT`], what a Mesos 1.11 agent sends; use
    /// [`Resource::to_proto_in`] for other receivers.
    pub fn to_proto(&self) -> pb::Resource {
        self.to_proto_in(Format::AGENT)
    }

    /// Encodes for a receiver that reads `format`.
    #[allow(deprecated)]
    pub fn to_proto_in(&self, format: Format) -> pb::Resource {
        let mut out = self.proto_common(format.allocation_info);
        match self.reservations.as_slice() {
            [] => {
                if format.legacy_unreserved_role || !format.refined {
                    out.role = Some(UNRESERVED_ROLE.to_string());
                }
            }
            [single] if !format.refined => {
                out.role = Some(single.role.clone());
                if single.kind == ReservationType::Dynamic {
                    out.reservation = Some(pb::resource::ReservationInfo {
                        principal: single.principal.clone(),
                        labels: labels_to(&single.labels),
                        role: None,
                        r#type: None,
                    });
                }
            }
            stack => {
                out.reservations = stack
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
            }
        }
        out
    }

    /// Encodes in the pre-refinement format (`role`, plus `reservation`
    /// when dynamic) for peers without `RESERVATION_REFINEMENT`; `None`
    /// when the reservation is refined and cannot be expressed so.
    pub fn to_proto_pre_refinement(&self) -> Option<pb::Resource> {
        (self.reservations.len() <= 1).then(|| {
            self.to_proto_in(Format {
                allocation_info: true,
                ..Format::LEGACY_FRAMEWORK
            })
        })
    }

    fn proto_common(&self, allocation_info: bool) -> pb::Resource {
        let mut out = pb::Resource {
            name: self.name.to_string(),
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
        if allocation_info {
            out.allocation_info =
                self.allocation_role
                    .as_ref()
                    .map(|role| pb::resource::AllocationInfo {
                        role: Some(role.to_string()),
                    });
        }
        out.disk = self.disk.as_deref().map(|d| Box::new(disk_to(d)));
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

    /// Encodes every resource in [`Format::AGENT`], what a Mesos 1.11
    /// agent sends.
    pub fn to_proto(&self) -> Vec<pb::Resource> {
        self.to_proto_in(Format::AGENT)
    }

    /// Encodes every resource for a receiver that reads `format`.
    pub fn to_proto_in(&self, format: Format) -> Vec<pb::Resource> {
        self.iter().map(|r| r.to_proto_in(format)).collect()
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
        let role = role.map(compact_str::CompactString::from);
        for r in &mut self.items {
            r.allocation_role = role.clone();
        }
        self
    }
}

#[cfg(test)]
#[path = "proto_tests.rs"]
mod tests;
