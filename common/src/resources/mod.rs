//! Resources and their arithmetic, with Mesos's semantics.
//!
//! A [`Resources`] is a bag of [`Resource`]s in which any two that
//! could be merged (same name, type, reservations and other metadata)
//! are merged: adding `cpus:1` to `cpus:2` gives `cpus:3`, while
//! `cpus(role1):1` stays apart from `cpus:2`. Scalars are exact to three
//! decimals, ranges stay coalesced, and a resource that becomes empty
//! (or negative, by over-subtraction) disappears, as in Mesos.
//!
//! Text and JSON parsing: [`Resources::parse`], [`Resources::from_json`],
//! [`parse_resource`].

mod parse;
pub mod proto;
mod resource;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

use serde_json::{json, Map as JsonMap, Value as Json};

use crate::bytes::Bytes;
use crate::values::{format_set, Ranges, Scalar, Value};

pub use parse::parse_resource;
pub use resource::{
    is_strict_subrole, validate_role, DiskInfo, DiskSource, DiskSourceType, Label, Persistence,
    ReservationInfo, ReservationType, Resource, VolumeMount, UNRESERVED_ROLE,
};

/// A collection of resources, merged as Mesos merges them.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    items: Vec<Resource>,
}

impl Resources {
    /// No resources.
    pub const fn new() -> Resources {
        Resources { items: Vec::new() }
    }

    /// The resources, in the order they were first added.
    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.items.iter()
    }

    /// How many distinct (unmergeable) resources there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds `resource`, merging it into a matching one when possible.
    /// Empty resources are ignored. The caller should have validated it
    /// (parsed resources always are).
    pub fn add_resource(&mut self, resource: &Resource) {
        if resource.is_empty() {
            return;
        }
        match self.items.iter_mut().find(|r| r.addable(resource)) {
            Some(existing) => existing.merge(resource),
            None => self.items.push(resource.clone()),
        }
    }

    /// Adds every resource of `other`.
    pub fn add_all(&mut self, other: &Resources) {
        for resource in &other.items {
            self.add_resource(resource);
        }
    }

    /// Takes `resource` out of the first resource it can be subtracted
    /// from; that resource is dropped if it becomes empty or negative.
    /// Subtracting what is not there changes nothing, as in Mesos.
    pub fn subtract_resource(&mut self, resource: &Resource) {
        if resource.is_empty() {
            return;
        }
        if let Some(i) = self.items.iter().position(|r| r.subtractable(resource)) {
            let existing = &mut self.items[i];
            existing.take(resource);
            let negative = existing.as_scalar().is_some_and(|s| s.as_millis() < 0);
            if negative || existing.is_empty() {
                self.items.remove(i);
            }
        }
    }

    /// Subtracts every resource of `other`.
    pub fn subtract_all(&mut self, other: &Resources) {
        for resource in &other.items {
            self.subtract_resource(resource);
        }
    }

    /// Whether all of `other` is here. Each resource of `other` must fit
    /// inside a single resource here, as in Mesos.
    pub fn contains(&self, other: &Resources) -> bool {
        let mut remaining = self.clone();
        for resource in &other.items {
            if !remaining.contains_resource(resource) {
                return false;
            }
            if resource.is_persistent_volume() {
                remaining.subtract_resource(resource);
            }
        }
        true
    }

    /// Whether one resource here holds all of `resource`; invalid
    /// resources are never contained.
    pub fn contains_resource(&self, resource: &Resource) -> bool {
        resource.validate().is_ok() && self.items.iter().any(|r| r.contains(resource))
    }

    /// The resources for which `keep` is true.
    pub fn filter(&self, keep: impl Fn(&Resource) -> bool) -> Resources {
        Resources {
            items: self.items.iter().filter(|r| keep(r)).cloned().collect(),
        }
    }

    /// Reserved resources; only those reserved to `role` when given.
    pub fn reserved(&self, role: Option<&str>) -> Resources {
        self.filter(|r| r.is_reserved(role))
    }

    /// Unreserved resources (role `*`).
    pub fn unreserved(&self) -> Resources {
        self.filter(Resource::is_unreserved)
    }

    /// The resources `role` may be offered: unreserved ones and those
    /// reserved to `role` or one of its ancestors.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| r.is_allocatable_to(role))
    }

    /// Revocable resources.
    pub fn revocable(&self) -> Resources {
        self.filter(|r| r.revocable)
    }

    /// Non-revocable resources.
    pub fn non_revocable(&self) -> Resources {
        self.filter(|r| !r.revocable)
    }

    /// Persistent volumes.
    pub fn persistent_volumes(&self) -> Resources {
        self.filter(Resource::is_persistent_volume)
    }

    /// Scalar resources only.
    pub fn scalars(&self) -> Resources {
        self.filter(|r| matches!(r.value, Value::Scalar(_)))
    }

    /// All resources named `name`, whatever their role.
    pub fn named(&self, name: &str) -> Resources {
        self.filter(|r| r.name == name)
    }

    /// These resources with every reservation removed, merged again.
    pub fn to_unreserved(&self) -> Resources {
        self.items
            .iter()
            .map(|r| Resource {
                reservations: Vec::new(),
                ..r.clone()
            })
            .collect()
    }

    /// Marks every resource as allocated to `role`.
    pub fn allocate(&mut self, role: &str) {
        let items = std::mem::take(&mut self.items);
        for mut r in items {
            r.allocation_role = Some(role.into());
            self.add_resource(&r);
        }
    }

    /// Clears every resource's allocation role.
    pub fn unallocate(&mut self) {
        let items = std::mem::take(&mut self.items);
        for mut r in items {
            r.allocation_role = None;
            self.add_resource(&r);
        }
    }

    /// The names present, sorted.
    pub fn names(&self) -> BTreeSet<String> {
        self.items.iter().map(|r| r.name.to_string()).collect()
    }

    /// The sum of every scalar resource named `name` across roles, or
    /// `None` when there is none.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalar_total(name).map(Scalar::value)
    }

    /// Like [`Resources::scalar`], in fixed point.
    pub fn scalar_total(&self, name: &str) -> Option<Scalar> {
        self.items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(Resource::as_scalar)
            .reduce(Scalar::saturating_add)
    }

    /// The union of every ranges resource named `name`.
    pub fn ranges(&self, name: &str) -> Option<Ranges> {
        self.items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| match &r.value {
                Value::Ranges(ranges) => Some(ranges.clone()),
                _ => None,
            })
            .reduce(|a, b| a.union(&b))
    }

    /// The union of every set resource named `name`.
    pub fn set(&self, name: &str) -> Option<BTreeSet<String>> {
        self.items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| match &r.value {
                Value::Set(set) => Some(set.clone()),
                _ => None,
            })
            .reduce(|mut a, b| {
                a.extend(b);
                a
            })
    }

    /// Total `cpus`.
    pub fn cpus(&self) -> Option<f64> {
        self.scalar("cpus")
    }

    /// Total `gpus`.
    pub fn gpus(&self) -> Option<f64> {
        self.scalar("gpus")
    }

    /// Total `mem`, whose scalar counts megabytes (fractions dropped).
    pub fn mem(&self) -> Option<Bytes> {
        self.scalar("mem")
            .map(|mb| Bytes::from_megabytes(mb as u64))
    }

    /// Total `disk`, whose scalar counts megabytes (fractions dropped).
    pub fn disk(&self) -> Option<Bytes> {
        self.scalar("disk")
            .map(|mb| Bytes::from_megabytes(mb as u64))
    }

    /// All `ports`.
    pub fn ports(&self) -> Option<Ranges> {
        self.ranges("ports")
    }

    /// The flat summary Mesos's HTTP endpoints show for resources:
    /// `cpus`, `gpus`, `mem` and `disk` always (0 when absent), every
    /// scalar as a number, ranges and sets as their print form, and
    /// revocable resources under `<name>_revocable`.
    pub fn to_json_summary(&self) -> Json {
        let mut scalars: BTreeMap<String, Scalar> = ["cpus", "gpus", "mem", "disk"]
            .iter()
            .map(|n| (n.to_string(), Scalar::ZERO))
            .collect();
        let mut ranges: BTreeMap<String, Ranges> = BTreeMap::new();
        let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in &self.items {
            let name = if r.revocable {
                format!("{}_revocable", r.name)
            } else {
                r.name.to_string()
            };
            match &r.value {
                Value::Scalar(s) => {
                    let total = scalars.entry(name).or_default();
                    *total = total.saturating_add(*s);
                }
                Value::Ranges(x) => {
                    let total = ranges.entry(name).or_default();
                    *total = total.union(x);
                }
                Value::Set(x) => sets.entry(name).or_default().extend(x.iter().cloned()),
                Value::Text(_) => {}
            }
        }
        let mut object = JsonMap::new();
        for (name, s) in scalars {
            object.insert(name, json!(s.value()));
        }
        for (name, r) in ranges {
            object.insert(name, json!(r.to_string()));
        }
        for (name, s) in sets {
            object.insert(name, json!(format_set(&s)));
        }
        Json::Object(object)
    }
}

impl PartialEq for Resources {
    /// Equal when each contains the other, whatever the order.
    fn eq(&self, other: &Resources) -> bool {
        self.contains(other) && other.contains(self)
    }
}

impl fmt::Display for Resources {
    /// Mesos's print form: resources joined by `; `, or `{}` when empty,
    /// e.g. `cpus:2; mem:1024; ports:[31000-32000]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.items.is_empty() {
            return f.write_str("{}");
        }
        for (i, r) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromIterator<Resource> for Resources {
    /// Adds each resource in turn (merging, skipping empty ones).
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Resources {
        let mut out = Resources::new();
        for r in iter {
            out.add_resource(&r);
        }
        out
    }
}

impl From<Resource> for Resources {
    fn from(r: Resource) -> Resources {
        std::iter::once(r).collect()
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a Resource;
    type IntoIter = std::slice::Iter<'a, Resource>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl IntoIterator for Resources {
    type Item = Resource;
    type IntoIter = std::vec::IntoIter<Resource>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, other: &Resources) {
        self.add_all(other);
    }
}

impl SubAssign<&Resources> for Resources {
    fn sub_assign(&mut self, other: &Resources) {
        self.subtract_all(other);
    }
}

impl AddAssign<&Resource> for Resources {
    fn add_assign(&mut self, other: &Resource) {
        self.add_resource(other);
    }
}

impl SubAssign<&Resource> for Resources {
    fn sub_assign(&mut self, other: &Resource) {
        self.subtract_resource(other);
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;

    fn add(self, other: &Resources) -> Resources {
        let mut out = self.clone();
        out.add_all(other);
        out
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;

    fn sub(self, other: &Resources) -> Resources {
        let mut out = self.clone();
        out.subtract_all(other);
        out
    }
}

#[cfg(test)]
mod tests;
