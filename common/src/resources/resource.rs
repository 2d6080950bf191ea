//! One resource: a name, a value, and who may use it.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::{Error, Result};
use crate::values::{Ranges, Scalar, Value};
use compact_str::CompactString;

/// The role of resources nobody reserved.
pub const UNRESERVED_ROLE: &str = "*";

/// How a reservation was made (Mesos's `Resource.ReservationInfo.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationType {
    /// Reserved by the agent's `--resources` flag.
    Static,
    /// Reserved at runtime by a framework or operator.
    Dynamic,
}

impl ReservationType {
    /// `STATIC` or `DYNAMIC`, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ReservationType::Static => "STATIC",
            ReservationType::Dynamic => "DYNAMIC",
        }
    }
}

/// A key with an optional value, as Mesos's `Label`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    /// The key.
    pub key: String,
    /// The value, if any.
    pub value: Option<String>,
}

/// One level of a resource's reservation stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReservationInfo {
    /// Static or dynamic.
    pub kind: ReservationType,
    /// The role the resource is reserved for.
    pub role: String,
    /// Who made a dynamic reservation.
    pub principal: Option<String>,
    /// Free-form labels of a dynamic reservation.
    pub labels: Vec<Label>,
}

impl ReservationInfo {
    /// A static reservation for `role`.
    pub fn new_static(role: impl Into<String>) -> ReservationInfo {
        ReservationInfo {
            kind: ReservationType::Static,
            role: role.into(),
            principal: None,
            labels: Vec::new(),
        }
    }

    /// A dynamic reservation for `role` by `principal`.
    pub fn new_dynamic(role: impl Into<String>, principal: Option<String>) -> ReservationInfo {
        ReservationInfo {
            kind: ReservationType::Dynamic,
            role: role.into(),
            principal,
            labels: Vec::new(),
        }
    }
}

impl fmt::Display for ReservationInfo {
    /// `STATIC,role`, `DYNAMIC,role,principal,{k: v}` as Mesos prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.kind.name(), self.role)?;
        if let Some(principal) = &self.principal {
            write!(f, ",{principal}")?;
        }
        if !self.labels.is_empty() {
            let labels: Vec<String> = self
                .labels
                .iter()
                .map(|l| match &l.value {
                    Some(v) => format!("{}: {v}", l.key),
                    None => l.key.clone(),
                })
                .collect();
            write!(f, ",{{{}}}", labels.join(", "))?;
        }
        Ok(())
    }
}

/// The kind of disk a `disk` resource comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskSourceType {
    /// A directory on a shared filesystem; divisible.
    Path,
    /// A whole mounted filesystem; used exclusively.
    Mount,
    /// A block device; used exclusively.
    Block,
    /// A raw device.
    Raw,
}

/// Where a `disk` resource's space lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiskSource {
    /// The kind of source.
    pub kind: DiskSourceType,
    /// The root directory of a `PATH` or `MOUNT` source.
    pub root: Option<String>,
}

/// A persistent volume's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Persistence {
    /// The volume ID, unique per role and agent.
    pub id: String,
    /// Who created it.
    pub principal: Option<String>,
}

/// Where a volume is mounted in the container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VolumeMount {
    /// Path inside the container.
    pub container_path: String,
    /// Path on the host, if any.
    pub host_path: Option<String>,
    /// Read-write (`true`) or read-only (`false`), if given.
    pub read_write: Option<bool>,
}

/// Extra information of a `disk` resource (Mesos's `DiskInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DiskInfo {
    /// The disk the space comes from; absent for the agent's root disk.
    pub source: Option<DiskSource>,
    /// Set for a persistent volume.
    pub persistence: Option<Persistence>,
    /// How the volume is mounted.
    pub volume: Option<VolumeMount>,
}

impl fmt::Display for DiskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(source) = &self.source {
            let (kind, rooted) = match source.kind {
                DiskSourceType::Path => ("PATH", true),
                DiskSourceType::Mount => ("MOUNT", true),
                DiskSourceType::Block => ("BLOCK", false),
                DiskSourceType::Raw => ("RAW", false),
            };
            f.write_str(kind)?;
            if let (true, Some(root)) = (rooted, &source.root) {
                write!(f, ":{root}")?;
            }
        }
        if let Some(persistence) = &self.persistence {
            if self.source.is_some() {
                f.write_str(",")?;
            }
            f.write_str(&persistence.id)?;
        }
        if let Some(volume) = &self.volume {
            f.write_str(":")?;
            if let Some(host) = &volume.host_path {
                write!(f, "{host}:")?;
            }
            f.write_str(&volume.container_path)?;
            if volume.host_path.is_some() {
                match volume.read_write {
                    Some(true) => f.write_str(":rw")?,
                    Some(false) => f.write_str(":ro")?,
                    None => {}
                }
            }
        }
        Ok(())
    }
}

/// One resource, as Mesos's `Resource` message in its
/// "post-reservation-refinement" form: the role is the last entry of
/// the reservation stack, and an empty stack means unreserved (`*`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The resource name, e.g. `cpus`, `mem`, `ports`.
    pub name: CompactString,
    /// The amount: a scalar, ranges or a set (never text).
    pub value: Value,
    /// The reservation stack, outermost (static or oldest) first.
    pub reservations: Vec<ReservationInfo>,
    /// The role the resource is allocated to, once offered.
    pub allocation_role: Option<CompactString>,
    /// Disk details, for `disk` resources only.
    pub disk: Option<Box<DiskInfo>>,
    /// Whether the resource is revocable (oversubscribed).
    pub revocable: bool,
    /// The resource provider that owns it, if not the agent itself.
    pub provider_id: Option<String>,
}

impl Resource {
    /// An unreserved resource with no extra information.
    pub fn new(name: impl Into<CompactString>, value: Value) -> Resource {
        Resource {
            name: name.into(),
            value,
            reservations: Vec::new(),
            allocation_role: None,
            disk: None,
            revocable: false,
            provider_id: None,
        }
    }

    /// An unreserved scalar resource, rounded to thousandths.
    pub fn scalar(name: impl Into<CompactString>, value: f64) -> Resource {
        Resource::new(name, Value::Scalar(Scalar::from_f64(value)))
    }

    /// An unreserved ranges resource.
    pub fn ranges(name: impl Into<CompactString>, ranges: Ranges) -> Resource {
        Resource::new(name, Value::Ranges(ranges))
    }

    /// An unreserved set resource.
    pub fn set<I, S>(name: impl Into<CompactString>, items: I) -> Resource
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Resource::new(
            name,
            Value::Set(items.into_iter().map(Into::into).collect()),
        )
    }

    /// This resource with `reservation` pushed on its stack; a static
    /// reservation of `*` is the same as none and is not pushed.
    pub fn reserved(mut self, reservation: ReservationInfo) -> Resource {
        if !(reservation.kind == ReservationType::Static && reservation.role == UNRESERVED_ROLE) {
            self.reservations.push(reservation);
        }
        self
    }

    /// The role it is reserved for (the top of the stack), or `*`.
    pub fn role(&self) -> &str {
        self.reservations
            .last()
            .map(|r| r.role.as_str())
            .unwrap_or(UNRESERVED_ROLE)
    }

    /// Whether nobody reserved it.
    pub fn is_unreserved(&self) -> bool {
        self.reservations.is_empty()
    }

    /// Whether it is reserved, to `role` when one is given.
    pub fn is_reserved(&self, role: Option<&str>) -> bool {
        !self.is_unreserved() && role.is_none_or(|r| r == self.role())
    }

    /// Whether its newest reservation is dynamic.
    pub fn is_dynamically_reserved(&self) -> bool {
        self.reservations
            .last()
            .is_some_and(|r| r.kind == ReservationType::Dynamic)
    }

    /// Whether `role` may be offered it: it is unreserved, or reserved
    /// to `role` or to an ancestor of `role` in the role tree.
    pub fn is_allocatable_to(&self, role: &str) -> bool {
        self.is_unreserved() || role == self.role() || is_strict_subrole(role, self.role())
    }

    /// Whether it is a persistent volume.
    pub fn is_persistent_volume(&self) -> bool {
        self.disk.as_ref().is_some_and(|d| d.persistence.is_some())
    }

    /// Whether it holds nothing: a zero scalar, no ranges, or an empty set.
    pub fn is_empty(&self) -> bool {
        match &self.value {
            Value::Scalar(s) => *s == Scalar::ZERO,
            Value::Ranges(r) => r.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::Text(_) => false,
        }
    }

    /// The scalar amount, if it is a scalar.
    pub fn as_scalar(&self) -> Option<Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(*s),
            _ => None,
        }
    }

    /// Checks what Mesos's `Resources::validate` checks for this model:
    /// a name, a non-negative scalar, no text value, disk information
    /// only on `disk`, and a well-formed reservation stack (valid roles,
    /// never `*`, and each refinement dynamic and a strict sub-role of
    /// the one below it).
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Error::InvalidResource {
            resource: self.to_string(),
            reason,
        };
        if self.name.is_empty() {
            return Err(invalid("empty resource name".to_string()));
        }
        match &self.value {
            Value::Scalar(s) if s.as_millis() < 0 => {
                return Err(invalid("scalar value is negative".to_string()))
            }
            Value::Text(_) => return Err(invalid("unsupported resource type TEXT".to_string())),
            _ => {}
        }
        if self.disk.is_some() && self.name != "disk" {
            return Err(invalid(format!(
                "disk information must not be set for a '{}' resource",
                self.name
            )));
        }
        for (i, reservation) in self.reservations.iter().enumerate() {
            validate_role(&reservation.role)?;
            if reservation.role == UNRESERVED_ROLE {
                return Err(invalid("role '*' cannot be reserved".to_string()));
            }
            if i > 0 {
                let ancestor = &self.reservations[i - 1].role;
                if reservation.kind == ReservationType::Static {
                    return Err(invalid(
                        "a refined reservation cannot be STATIC".to_string(),
                    ));
                }
                if !is_strict_subrole(&reservation.role, ancestor) {
                    return Err(invalid(format!(
                        "role '{}' is not a refinement of '{ancestor}'",
                        reservation.role
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether `other` can be merged into this one by addition: the same
    /// name, type and metadata, and not an exclusive disk or a volume.
    pub(crate) fn addable(&self, other: &Resource) -> bool {
        if !self.same_metadata(other) {
            return false;
        }
        match &self.disk {
            Some(disk) => {
                let exclusive = disk.source.as_ref().is_some_and(|s| {
                    matches!(s.kind, DiskSourceType::Mount | DiskSourceType::Block)
                });
                !exclusive && disk.persistence.is_none()
            }
            None => true,
        }
    }

    /// Whether `other` can be taken out of this one: the same metadata,
    /// and for exclusive disks and volumes, the very same resource.
    pub(crate) fn subtractable(&self, other: &Resource) -> bool {
        if !self.same_metadata(other) {
            return false;
        }
        match &self.disk {
            Some(disk) => {
                let exclusive = disk.source.as_ref().is_some_and(|s| {
                    matches!(s.kind, DiskSourceType::Mount | DiskSourceType::Block)
                });
                !(exclusive || disk.persistence.is_some()) || self == other
            }
            None => true,
        }
    }

    fn same_metadata(&self, other: &Resource) -> bool {
        self.name == other.name
            && std::mem::discriminant(&self.value) == std::mem::discriminant(&other.value)
            && self.reservations == other.reservations
            && self.allocation_role == other.allocation_role
            && self.disk == other.disk
            && self.revocable == other.revocable
            && self.provider_id == other.provider_id
    }

    /// Whether this resource alone holds all of `other`.
    pub fn contains(&self, other: &Resource) -> bool {
        if !self.subtractable(other) {
            return false;
        }
        match (&self.value, &other.value) {
            (Value::Scalar(a), Value::Scalar(b)) => b <= a,
            (Value::Ranges(a), Value::Ranges(b)) => a.contains(b),
            (Value::Set(a), Value::Set(b)) => b.is_subset(a),
            _ => false,
        }
    }

    /// Adds `other`'s amount into this one; the caller checked `addable`.
    pub(crate) fn merge(&mut self, other: &Resource) {
        match (&mut self.value, &other.value) {
            (Value::Scalar(a), Value::Scalar(b)) => *a = a.saturating_add(*b),
            (Value::Ranges(a), Value::Ranges(b)) => *a = a.union(b),
            (Value::Set(a), Value::Set(b)) => a.extend(b.iter().cloned()),
            _ => {}
        }
    }

    /// Takes `other`'s amount out of this one; the caller checked
    /// `subtractable`. A scalar may go negative here.
    pub(crate) fn take(&mut self, other: &Resource) {
        match (&mut self.value, &other.value) {
            (Value::Scalar(a), Value::Scalar(b)) => *a = a.saturating_sub(*b),
            (Value::Ranges(a), Value::Ranges(b)) => *a = a.difference(b),
            (Value::Set(a), Value::Set(b)) => {
                let rest: BTreeSet<String> = a.difference(b).cloned().collect();
                *a = rest;
            }
            _ => {}
        }
    }
}

impl fmt::Display for Resource {
    /// Mesos's print form, e.g. `cpus:2`,
    /// `cpus(reservations: [(STATIC,role1)]):1`, `disk[MOUNT:/mnt]:100`,
    /// `cpus(allocated: web){REV}:0.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(role) = &self.allocation_role {
            write!(f, "(allocated: {role})")?;
        }
        if !self.reservations.is_empty() {
            let stack: Vec<String> = self.reservations.iter().map(|r| format!("({r})")).collect();
            write!(f, "(reservations: [{}])", stack.join(","))?;
        }
        if let Some(disk) = &self.disk {
            write!(f, "[{disk}]")?;
        }
        if self.revocable {
            f.write_str("{REV}")?;
        }
        write!(f, ":{}", self.value)
    }
}

/// Whether `role` lies strictly below `ancestor` in the role tree
/// (`a/b` is below `a`).
pub fn is_strict_subrole(role: &str, ancestor: &str) -> bool {
    role.len() > ancestor.len() + 1
        && role.starts_with(ancestor)
        && role.as_bytes()[ancestor.len()] == b'/'
}

/// Checks a role name as Mesos does: `*`, or `/`-separated components
/// that are not empty, `.`, `..` or `*`, do not start with `-`, and
/// hold no whitespace or backspace.
pub fn validate_role(role: &str) -> Result<()> {
    if role == UNRESERVED_ROLE {
        return Ok(());
    }
    let invalid = |reason: &str| {
        Err(Error::InvalidRole {
            role: role.to_string(),
            reason: reason.to_string(),
        })
    };
    if role.is_empty() {
        return invalid("role names cannot be empty");
    }
    if role.starts_with('/') {
        return invalid("cannot start with a slash");
    }
    if role.ends_with('/') {
        return invalid("cannot end with a slash");
    }
    if role.contains("//") {
        return invalid("cannot contain two adjacent slashes");
    }
    for component in role.split('/') {
        match component {
            "." => return invalid("cannot include '.' as a component"),
            ".." => return invalid("cannot include '..' as a component"),
            "*" => return invalid("cannot include '*' as a component"),
            _ => {}
        }
        if component.starts_with('-') {
            return invalid("a component cannot start with a dash");
        }
        if component
            .chars()
            .any(|c| matches!(c, '\x08' | ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'))
        {
            return invalid("a component cannot contain backspace or whitespace");
        }
    }
    Ok(())
}
