//! Resources between the wire (`mesos.Resource`) and `mesos_common`'s
//! `Resources`, in the two formats Mesos 1.11 speaks: "post reservation
//! refinement" (a `reservations` stack, for agents and frameworks with
//! RESERVATION_REFINEMENT) and the older `role` + `reservation` form.

use mesos_common::resources::{
    DiskInfo, Persistence, ReservationInfo, ReservationType, Resource, Resources,
};
use mesos_common::values::{Ranges, Scalar, Value};
use mesos_proto::mesos as proto;
use mesos_proto::mesos::resource as r;
use mesos_proto::mesos::value::Type;

/// Reads wire resources in either format. An invalid resource (a value
/// that does not match its type, a negative scalar) is an error naming it.
pub fn from_proto(resources: &[proto::Resource]) -> Result<Resources, String> {
    let mut out = Resources::new();
    for resource in resources {
        let one = resource_from_proto(resource)?;
        one.validate()
            .map_err(|e| format!("invalid resource '{}': {e}", resource.name))?;
        out.add_resource(&one);
    }
    Ok(out)
}

fn resource_from_proto(resource: &proto::Resource) -> Result<Resource, String> {
    let value = match Type::try_from(resource.r#type) {
        Ok(Type::Scalar) => {
            let v = resource
                .scalar
                .as_ref()
                .ok_or_else(|| format!("resource '{}' is SCALAR without a scalar", resource.name))?
                .value;
            if !v.is_finite() || v < 0.0 {
                return Err(format!(
                    "resource '{}' has invalid scalar {v}",
                    resource.name
                ));
            }
            Value::Scalar(Scalar::from_f64(v))
        }
        Ok(Type::Ranges) => {
            let ranges = resource
                .ranges
                .as_ref()
                .ok_or_else(|| format!("resource '{}' is RANGES without ranges", resource.name))?;
            Value::Ranges(
                Ranges::from_pairs(ranges.range.iter().map(|r| (r.begin, r.end)))
                    .map_err(|e| format!("resource '{}': {e}", resource.name))?,
            )
        }
        Ok(Type::Set) => Value::Set(
            resource
                .set
                .as_ref()
                .ok_or_else(|| format!("resource '{}' is SET without a set", resource.name))?
                .item
                .iter()
                .cloned()
                .collect(),
        ),
        _ => {
            return Err(format!(
                "resource '{}' has an unsupported type",
                resource.name
            ))
        }
    };
    let mut reservations: Vec<ReservationInfo> = if !resource.reservations.is_empty() {
        resource
            .reservations
            .iter()
            .map(reservation_from_proto)
            .collect()
    } else {
        // The older form: `role` (default `*`), plus `reservation` for a
        // dynamic one.
        let role = resource.role.clone().unwrap_or_else(|| "*".to_string());
        match (&resource.reservation, role.as_str()) {
            (Some(res), _) => vec![ReservationInfo {
                kind: ReservationType::Dynamic,
                role: role.clone(),
                principal: res.principal.clone(),
                labels: labels_from_proto(res.labels.as_ref()),
            }],
            (None, "*") => Vec::new(),
            (None, _) => vec![ReservationInfo::new_static(role.clone())],
        }
    };
    reservations.retain(|r| !(r.kind == ReservationType::Static && r.role == "*"));
    Ok(Resource {
        name: resource.name.clone(),
        value,
        reservations,
        allocation_role: resource
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.clone()),
        disk: resource.disk.as_ref().map(|d| DiskInfo {
            source: None,
            persistence: d.persistence.as_ref().map(|p| Persistence {
                id: p.id.clone(),
                principal: p.principal.clone(),
            }),
            volume: None,
        }),
        revocable: resource.revocable.is_some(),
        provider_id: resource.provider_id.as_ref().map(|p| p.value.clone()),
    })
}

fn labels_from_proto(labels: Option<&proto::Labels>) -> Vec<mesos_common::resources::Label> {
    labels
        .map(|l| {
            l.labels
                .iter()
                .map(|l| mesos_common::resources::Label {
                    key: l.key.clone(),
                    value: l.value.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn reservation_from_proto(res: &r::ReservationInfo) -> ReservationInfo {
    let dynamic = res.r#type != Some(r::reservation_info::Type::Static as i32);
    ReservationInfo {
        kind: if dynamic {
            ReservationType::Dynamic
        } else {
            ReservationType::Static
        },
        role: res.role.clone().unwrap_or_else(|| "*".to_string()),
        principal: res.principal.clone(),
        labels: labels_from_proto(res.labels.as_ref()),
    }
}

/// How to write resources for a receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// With the `reservations` stack (RESERVATION_REFINEMENT); otherwise
    /// with `role` and `reservation`.
    pub refined: bool,
    /// With `allocation_info` (MULTI_ROLE frameworks and agents).
    pub allocation_info: bool,
}

impl Format {
    /// What agents and current frameworks get.
    pub const CURRENT: Format = Format {
        refined: true,
        allocation_info: true,
    };
}

/// Writes `resources` for the wire in `format`.
pub fn to_proto(resources: &Resources, format: Format) -> Vec<proto::Resource> {
    resources
        .iter()
        .map(|r| resource_to_proto(r, format))
        .collect()
}

fn resource_to_proto(resource: &Resource, format: Format) -> proto::Resource {
    let mut out = proto::Resource {
        name: resource.name.clone(),
        ..Default::default()
    };
    match &resource.value {
        Value::Scalar(s) => {
            out.r#type = Type::Scalar as i32;
            out.scalar = Some(proto::value::Scalar { value: s.value() });
        }
        Value::Ranges(ranges) => {
            out.r#type = Type::Ranges as i32;
            out.ranges = Some(proto::value::Ranges {
                range: ranges
                    .intervals()
                    .iter()
                    .map(|&(begin, end)| proto::value::Range { begin, end })
                    .collect(),
            });
        }
        Value::Set(items) => {
            out.r#type = Type::Set as i32;
            out.set = Some(proto::value::Set {
                item: items.iter().cloned().collect(),
            });
        }
        Value::Text(_) => {
            // Resources are never text; `Resources` refuses such values.
            out.r#type = Type::Text as i32;
        }
    }
    let reservation = |res: &ReservationInfo, with_role: bool| r::ReservationInfo {
        r#type: with_role.then_some(match res.kind {
            ReservationType::Static => r::reservation_info::Type::Static as i32,
            ReservationType::Dynamic => r::reservation_info::Type::Dynamic as i32,
        }),
        role: with_role.then(|| res.role.clone()),
        principal: res.principal.clone(),
        labels: (!res.labels.is_empty()).then(|| proto::Labels {
            labels: res
                .labels
                .iter()
                .map(|l| proto::Label {
                    key: l.key.clone(),
                    value: l.value.clone(),
                })
                .collect(),
        }),
    };
    if format.refined {
        out.reservations = resource
            .reservations
            .iter()
            .map(|res| reservation(res, true))
            .collect();
    } else {
        out.role = Some(resource.role().to_string());
        if let Some(top) = resource.reservations.last() {
            if top.kind == ReservationType::Dynamic {
                out.reservation = Some(reservation(top, false));
            }
        }
    }
    if format.allocation_info {
        if let Some(role) = &resource.allocation_role {
            out.allocation_info = Some(r::AllocationInfo {
                role: Some(role.clone()),
            });
        }
    }
    if resource.revocable {
        out.revocable = Some(r::RevocableInfo {});
    }
    if let Some(disk) = &resource.disk {
        out.disk = Some(r::DiskInfo {
            persistence: disk
                .persistence
                .as_ref()
                .map(|p| r::disk_info::Persistence {
                    id: p.id.clone(),
                    principal: p.principal.clone(),
                }),
            ..Default::default()
        });
    }
    if let Some(provider) = &resource.provider_id {
        out.provider_id = Some(proto::ResourceProviderId {
            value: provider.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(name: &str, v: f64, role: Option<&str>) -> proto::Resource {
        proto::Resource {
            name: name.into(),
            r#type: Type::Scalar as i32,
            scalar: Some(proto::value::Scalar { value: v }),
            role: role.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn agent_resources_round_trip_in_both_formats() {
        let wire = vec![
            scalar("cpus", 2.0, Some("*")),
            scalar("mem", 1024.0, Some("a")),
        ];
        let resources = from_proto(&wire).unwrap();
        assert_eq!(
            resources.to_string(),
            "cpus:2; mem(reservations: [(STATIC,a)]):1024"
        );
        let old = to_proto(
            &resources,
            Format {
                refined: false,
                allocation_info: false,
            },
        );
        assert_eq!(old, wire);
        let new = to_proto(&resources, Format::CURRENT);
        assert!(new[0].role.is_none() && new[0].reservations.is_empty());
        assert_eq!(new[1].reservations[0].role.as_deref(), Some("a"));
        assert_eq!(from_proto(&new).unwrap(), resources);
    }

    #[test]
    fn invalid_resources_are_refused() {
        assert!(from_proto(&[scalar("cpus", -1.0, None)]).is_err());
        let mut no_value = scalar("cpus", 1.0, None);
        no_value.scalar = None;
        assert!(from_proto(&[no_value]).is_err());
    }
}
