//! Fitting a task's resources into an offer: what Mesos's `Resources::find`
//! does for the example frameworks. The task gets pieces of the offered
//! resources themselves (same reservations and allocation role), so the
//! master accepts them as coming from the offer.

use mesos_common::{Ranges, Resources, Scalar, Value};
use mesos_proto::mesos::{value, Resource};

use crate::error::{Error, Result};

/// Parses a resource request such as `cpus:1;mem:128;ports:[31000-31000]`.
/// Only unreserved scalars, ranges and sets are meaningful to ask for.
pub fn parse_request(text: &str) -> Result<Resources> {
    let parsed = Resources::parse(text, "*").map_err(|e| Error::Flag {
        name: "resources",
        value: text.to_string(),
        reason: e.to_string(),
    })?;
    if parsed.is_empty() {
        return Err(Error::Flag {
            name: "resources",
            value: text.to_string(),
            reason: "asks for no resources".to_string(),
        });
    }
    Ok(parsed)
}

/// What is left of one offer's resources while tasks are fitted into it.
#[derive(Debug, Clone)]
pub struct OfferPool {
    remaining: Vec<Resource>,
}

impl OfferPool {
    /// The pool of an offer's resources. Revocable, shared and persistent
    /// resources are left out: the examples never use them.
    pub fn new(offered: &[Resource]) -> OfferPool {
        let remaining = offered
            .iter()
            .filter(|r| {
                r.revocable.is_none()
                    && r.shared.is_none()
                    && r.disk.as_ref().is_none_or(|d| d.persistence.is_none())
            })
            .cloned()
            .collect();
        OfferPool { remaining }
    }

    /// Takes `wanted` out of the pool and returns the resources to put in
    /// the task, or `None` (and takes nothing) when the pool is short.
    pub fn take(&mut self, wanted: &Resources) -> Option<Vec<Resource>> {
        let mut remaining = self.remaining.clone();
        let mut taken = Vec::new();
        for want in wanted {
            match &want.value {
                Value::Scalar(amount) => {
                    take_scalar(&mut remaining, &want.name, *amount, &mut taken)?
                }
                Value::Ranges(ranges) => {
                    take_ranges(&mut remaining, &want.name, ranges, &mut taken)?
                }
                Value::Set(items) => {
                    let index = remaining.iter().position(|r| {
                        r.name == want.name
                            && r.set
                                .as_ref()
                                .is_some_and(|s| items.iter().all(|i| s.item.contains(i)))
                    })?;
                    let mut piece = remaining[index].clone();
                    piece.set = Some(value::Set {
                        item: items.iter().cloned().collect(),
                    });
                    if let Some(set) = remaining[index].set.as_mut() {
                        set.item.retain(|i| !items.contains(i));
                    }
                    taken.push(piece);
                }
                Value::Text(_) => return None,
            }
        }
        remaining.retain(|r| !is_empty(r));
        self.remaining = remaining;
        Some(taken)
    }
}

fn scalar_of(resource: &Resource) -> Option<Scalar> {
    (resource.r#type == value::Type::Scalar as i32)
        .then(|| resource.scalar.map(|s| Scalar::from_f64(s.value)))
        .flatten()
}

fn take_scalar(
    remaining: &mut [Resource],
    name: &str,
    amount: Scalar,
    taken: &mut Vec<Resource>,
) -> Option<()> {
    let mut needed = amount;
    for resource in remaining.iter_mut().filter(|r| r.name == name) {
        if needed <= Scalar::ZERO {
            break;
        }
        let Some(available) = scalar_of(resource) else {
            continue;
        };
        let piece = needed.min(available);
        if piece <= Scalar::ZERO {
            continue;
        }
        let mut part = resource.clone();
        part.scalar = Some(value::Scalar {
            value: piece.value(),
        });
        taken.push(part);
        resource.scalar = Some(value::Scalar {
            value: available.saturating_sub(piece).value(),
        });
        needed = needed.saturating_sub(piece);
    }
    (needed <= Scalar::ZERO).then_some(())
}

fn ranges_of(resource: &Resource) -> Option<Ranges> {
    let ranges = resource.ranges.as_ref()?;
    Ranges::from_pairs(ranges.range.iter().map(|r| (r.begin, r.end))).ok()
}

fn to_proto_ranges(ranges: &Ranges) -> value::Ranges {
    value::Ranges {
        range: ranges
            .intervals()
            .iter()
            .map(|&(begin, end)| value::Range { begin, end })
            .collect(),
    }
}

fn take_ranges(
    remaining: &mut [Resource],
    name: &str,
    wanted: &Ranges,
    taken: &mut Vec<Resource>,
) -> Option<()> {
    let resource = remaining
        .iter_mut()
        .find(|r| r.name == name && ranges_of(r).is_some_and(|have| have.contains(wanted)))?;
    let have = ranges_of(resource)?;
    let mut piece = resource.clone();
    piece.ranges = Some(to_proto_ranges(wanted));
    taken.push(piece);
    resource.ranges = Some(to_proto_ranges(&have.difference(wanted)));
    Some(())
}

fn is_empty(resource: &Resource) -> bool {
    match (&resource.scalar, &resource.ranges, &resource.set) {
        (Some(s), _, _) => Scalar::from_f64(s.value) <= Scalar::ZERO,
        (_, Some(r), _) => r.range.is_empty(),
        (_, _, Some(s)) => s.item.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::resource::{AllocationInfo, ReservationInfo};

    fn scalar(name: &str, value: f64, role: Option<&str>) -> Resource {
        Resource {
            name: name.into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value }),
            reservations: role
                .map(|r| ReservationInfo {
                    role: Some(r.into()),
                    ..ReservationInfo::default()
                })
                .into_iter()
                .collect(),
            allocation_info: Some(AllocationInfo {
                role: Some("web".into()),
            }),
            ..Resource::default()
        }
    }

    fn ports(begin: u64, end: u64) -> Resource {
        Resource {
            name: "ports".into(),
            r#type: value::Type::Ranges as i32,
            ranges: Some(value::Ranges {
                range: vec![value::Range { begin, end }],
            }),
            ..Resource::default()
        }
    }

    #[test]
    fn takes_tasks_until_the_offer_runs_out() {
        let mut pool = OfferPool::new(&[scalar("cpus", 0.3, None), scalar("mem", 100.0, None)]);
        let wanted = parse_request("cpus:0.1;mem:32").unwrap();
        let first = pool.take(&wanted).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].scalar.unwrap().value, 0.1);
        // The allocation role of the offer is kept.
        assert_eq!(
            first[0].allocation_info.as_ref().unwrap().role.as_deref(),
            Some("web")
        );
        assert!(pool.take(&wanted).is_some());
        assert!(pool.take(&wanted).is_some());
        // 0.3 cpus gave three tasks; 96 of 100 mem is used: nothing left.
        assert!(pool.take(&wanted).is_none());
    }

    #[test]
    fn a_request_spans_reserved_and_unreserved_pieces() {
        let mut pool =
            OfferPool::new(&[scalar("cpus", 0.5, Some("web")), scalar("cpus", 1.0, None)]);
        let taken = pool.take(&parse_request("cpus:1").unwrap()).unwrap();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].scalar.unwrap().value, 0.5);
        assert_eq!(taken[0].reservations[0].role.as_deref(), Some("web"));
        assert_eq!(taken[1].scalar.unwrap().value, 0.5);
        assert!(pool.take(&parse_request("cpus:0.6").unwrap()).is_none());
        // A failed take changes nothing.
        assert!(pool.take(&parse_request("cpus:0.5").unwrap()).is_some());
    }

    #[test]
    fn ports_come_out_of_the_offered_ranges() {
        let mut pool = OfferPool::new(&[ports(31000, 31010), scalar("cpus", 1.0, None)]);
        let taken = pool
            .take(&parse_request("cpus:0.5;ports:[31005-31005]").unwrap())
            .unwrap();
        let port = taken.iter().find(|r| r.name == "ports").unwrap();
        assert_eq!(
            port.ranges.as_ref().unwrap().range,
            vec![value::Range {
                begin: 31005,
                end: 31005
            }]
        );
        assert!(pool
            .take(&parse_request("ports:[31005-31005]").unwrap())
            .is_none());
        assert!(pool
            .take(&parse_request("ports:[31006-31010]").unwrap())
            .is_some());
    }

    #[test]
    fn bad_requests_are_clear_errors() {
        let error = parse_request("cpus:lots").unwrap_err().to_string();
        assert!(error.contains("--resources"), "{error}");
        assert!(error.contains("cpus:lots"), "{error}");
        assert!(parse_request("").is_err());
    }
}
