//! Reading resources from the agent's `--resources` text or JSON.
//!
//! Two forms are accepted, as by Mesos's `Resources::parse`. When the
//! text is a JSON array it is read as `Resource` messages in protobuf
//! JSON (`[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]`);
//! otherwise it is the `;`-separated `name(role):value` list
//! (`cpus:2;mem:1024;ports:[31000-32000];cpus(role1):1`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::{
    DiskInfo, DiskSource, DiskSourceType, Label, Persistence, ReservationInfo, ReservationType,
    Resource, Resources, VolumeMount, UNRESERVED_ROLE,
};
use crate::error::{Error, Result};
use crate::values::{parse_value, tokenize, Ranges, Scalar, Value};

impl Resources {
    /// Parses resources as given on the command line: text or a JSON
    /// array (see the module docs). Resources without a role get
    /// `default_role` (usually `*`). Every resource is validated; then,
    /// as for Mesos's command line, persistent volumes, revocable
    /// resources, dynamic reservations and one name with two types are
    /// rejected. Empty resources (`gpus:0`) are dropped; repeated ones
    /// are merged.
    pub fn parse(text: &str, default_role: &str) -> Result<Resources> {
        let list = match serde_json::from_str::<Json>(text) {
            Ok(Json::Array(items)) => from_json_items(&items, default_role)?,
            _ => from_simple_text(text, default_role)?,
        };
        let mut out = Resources::new();
        let mut types: BTreeMap<&str, &'static str> = BTreeMap::new();
        for resource in &list {
            resource.validate()?;
            let rejected = if resource.is_persistent_volume() {
                Some("persistent volumes cannot be specified at the command line")
            } else if resource.revocable {
                Some("revocable resources cannot be specified at the command line")
            } else if resource.is_dynamically_reserved() {
                Some("dynamic reservations cannot be specified at the command line")
            } else {
                None
            };
            if let Some(reason) = rejected {
                return Err(Error::InvalidResource {
                    resource: resource.to_string(),
                    reason: reason.to_string(),
                });
            }
            let kind = resource.value.type_name();
            if *types.entry(&resource.name).or_insert(kind) != kind {
                return Err(Error::InvalidResources {
                    text: text.to_string(),
                    reason: format!(
                        "resources with the same name ('{}') but different types are not allowed",
                        resource.name
                    ),
                });
            }
            out.add_resource(resource);
        }
        Ok(out)
    }

    /// Reads resources from a parsed JSON array of protobuf-JSON
    /// `Resource` objects, validating each; resources without a role
    /// or reservations get `default_role`. Unlike [`Resources::parse`],
    /// dynamic reservations, revocable resources and volumes are kept.
    pub fn from_json(json: &Json, default_role: &str) -> Result<Resources> {
        let Json::Array(items) = json else {
            return Err(Error::InvalidResources {
                text: json.to_string(),
                reason: "expecting a JSON array of resources".to_string(),
            });
        };
        let list = from_json_items(items, default_role)?;
        for resource in &list {
            resource.validate()?;
        }
        Ok(list.into_iter().collect())
    }
}

/// Parses one `name(role):value` pair's parts into a resource: `role`
/// `*` means unreserved, any other a static reservation. The value must
/// be a scalar, ranges or a set.
pub fn parse_resource(name: &str, value: &str, role: &str) -> Result<Resource> {
    let parsed = parse_value(value).map_err(|e| Error::InvalidResources {
        text: format!("{name}:{value}"),
        reason: e.to_string(),
    })?;
    if let Value::Text(_) = parsed {
        return Err(Error::InvalidResources {
            text: format!("{name}:{value}"),
            reason: "expecting a scalar, ranges or set value".to_string(),
        });
    }
    Ok(Resource::new(name, parsed).reserved(ReservationInfo::new_static(role)))
}

fn from_simple_text(text: &str, default_role: &str) -> Result<Vec<Resource>> {
    let bad = |reason: String| Error::InvalidResources {
        text: text.to_string(),
        reason,
    };
    let mut out = Vec::new();
    for token in tokenize(text, &[';']) {
        let pair = tokenize(token, &[':']);
        if pair.len() != 2 {
            return Err(bad(format!("missing or extra ':' in '{token}'")));
        }
        let (name, role) = match pair[0].find('(') {
            None => (pair[0].trim(), default_role),
            Some(open) => match pair[0].find(')') {
                Some(close) if close > open => {
                    (pair[0][..open].trim(), pair[0][open + 1..close].trim())
                }
                _ => return Err(bad(format!("mismatched parentheses in '{token}'"))),
            },
        };
        out.push(parse_resource(name, pair[1], role)?);
    }
    Ok(out)
}

fn from_json_items(items: &[Json], default_role: &str) -> Result<Vec<Resource>> {
    items
        .iter()
        .map(|item| {
            from_json_item(item, default_role).map_err(|reason| Error::InvalidResources {
                text: item.to_string(),
                reason,
            })
        })
        .collect()
}

type JsonResult<T> = std::result::Result<T, String>;

fn from_json_item(item: &Json, default_role: &str) -> JsonResult<Resource> {
    let object = item
        .as_object()
        .ok_or("expecting a JSON object for each resource")?;
    let name = string_field(item, "name")?.ok_or("missing required field 'name'")?;
    let kind = object.get("type").ok_or("missing required field 'type'")?;
    let kind = match kind {
        Json::String(s) => s.as_str(),
        Json::Number(n) => match n.as_u64() {
            Some(0) => "SCALAR",
            Some(1) => "RANGES",
            Some(2) => "SET",
            Some(3) => "TEXT",
            _ => return Err(format!("unknown value type {n}")),
        },
        other => return Err(format!("unknown value type {other}")),
    };

    let present = |key: &str| object.get(key).is_some_and(|v| !v.is_null());
    let exactly = |key: &str| {
        ["scalar", "ranges", "set"]
            .iter()
            .all(|k| present(k) == (*k == key))
    };
    let value = match kind {
        "SCALAR" if exactly("scalar") => {
            let v = item["scalar"]["value"]
                .as_f64()
                .ok_or("invalid scalar resource: expecting a numeric 'scalar.value'")?;
            Scalar::validate_input(v).map_err(|e| format!("invalid scalar resource: {e}"))?;
            let scalar = Scalar::from_f64(v);
            if v != 0.0 && scalar == Scalar::ZERO {
                return Err("invalid scalar resource: value <= 0".to_string());
            }
            Value::Scalar(scalar)
        }
        "RANGES" if exactly("ranges") => Value::Ranges(json_ranges(&item["ranges"])?),
        "SET" if exactly("set") => {
            let mut set = BTreeSet::new();
            for entry in array_field(&item["set"], "item")? {
                let entry = entry.as_str().ok_or("set items must be strings")?;
                if !set.insert(entry.to_string()) {
                    return Err("invalid set resource: duplicated elements".to_string());
                }
            }
            Value::Set(set)
        }
        "SCALAR" | "RANGES" | "SET" => {
            return Err(format!("invalid {} resource", kind.to_lowercase()))
        }
        other => return Err(format!("unsupported resource type '{other}'")),
    };

    if present("shared") {
        return Err("shared resources are not supported".to_string());
    }

    let mut resource = Resource::new(name, value);
    resource.revocable = present("revocable");
    resource.allocation_role = string_field(&item["allocation_info"], "role")?.map(Into::into);
    resource.provider_id = string_field(&item["provider_id"], "value")?;
    if present("disk") {
        resource.disk = Some(Box::new(json_disk(&item["disk"])?));
    }
    resource.reservations = json_reservations(item, default_role)?;
    Ok(resource)
}

/// Turns the `role`, `reservation` and `reservations` fields into one
/// reservation stack, as Mesos's upgrade to the refinement format does.
fn json_reservations(item: &Json, default_role: &str) -> JsonResult<Vec<ReservationInfo>> {
    let role = string_field(item, "role")?;
    let legacy = match &item["reservation"] {
        Json::Null => None,
        r => Some(json_reservation(r, ReservationType::Dynamic)?),
    };
    let mut stack = Vec::new();
    for r in array_field(item, "reservations")? {
        let kind = match r["type"].as_str() {
            Some("STATIC") => ReservationType::Static,
            Some("DYNAMIC") => ReservationType::Dynamic,
            Some(other) => return Err(format!("unsupported reservation type '{other}'")),
            None => return Err("invalid reservation: 'type' must be set".to_string()),
        };
        if r["role"].as_str().is_none() {
            return Err("invalid reservation: 'role' must be set".to_string());
        }
        stack.push(json_reservation(r, kind)?);
    }

    if !stack.is_empty() {
        if stack.len() > 1 && (role.is_some() || legacy.is_some()) {
            return Err(
                "'role' and 'reservation' must not be set with more than one reservation"
                    .to_string(),
            );
        }
        if let Some(role) = role {
            if role != stack[0].role {
                return Err(format!(
                    "'role' field with '{role}' does not match the role '{}' in 'reservations'",
                    stack[0].role
                ));
            }
        }
        return Ok(stack);
    }

    let role = role.unwrap_or_else(|| default_role.to_string());
    match legacy {
        Some(_) if role == UNRESERVED_ROLE => {
            Err("role \"*\" cannot be dynamically reserved".to_string())
        }
        Some(mut reservation) => {
            reservation.role = role;
            Ok(vec![reservation])
        }
        None if role == UNRESERVED_ROLE => Ok(Vec::new()),
        None => Ok(vec![ReservationInfo::new_static(role)]),
    }
}

fn json_reservation(r: &Json, kind: ReservationType) -> JsonResult<ReservationInfo> {
    let mut labels = Vec::new();
    for label in array_field(&r["labels"], "labels")? {
        labels.push(Label {
            key: string_field(label, "key")?.ok_or("a label needs a 'key'")?,
            value: string_field(label, "value")?,
        });
    }
    Ok(ReservationInfo {
        kind,
        role: string_field(r, "role")?.unwrap_or_default(),
        principal: string_field(r, "principal")?,
        labels,
    })
}

fn json_ranges(ranges: &Json) -> JsonResult<Ranges> {
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for range in array_field(ranges, "range")? {
        let begin = json_u64(&range["begin"]).ok_or("range 'begin' must be an unsigned integer")?;
        let end = json_u64(&range["end"]).ok_or("range 'end' must be an unsigned integer")?;
        if begin > end {
            return Err("invalid ranges resource: begin > end".to_string());
        }
        if pairs.iter().any(|(b, e)| begin <= *e && *b <= end) {
            return Err("invalid ranges resource: overlapping ranges".to_string());
        }
        pairs.push((begin, end));
    }
    Ranges::from_pairs(pairs).map_err(|e| e.to_string())
}

fn json_disk(disk: &Json) -> JsonResult<DiskInfo> {
    let source = match &disk["source"] {
        Json::Null => None,
        s => {
            let (kind, root_key) = match s["type"].as_str() {
                Some("PATH") => (DiskSourceType::Path, Some("path")),
                Some("MOUNT") => (DiskSourceType::Mount, Some("mount")),
                Some("BLOCK") => (DiskSourceType::Block, None),
                Some("RAW") => (DiskSourceType::Raw, None),
                _ => return Err("unsupported disk source type".to_string()),
            };
            let root = match root_key {
                Some(key) => string_field(&s[key], "root")?,
                None => None,
            };
            Some(DiskSource { kind, root })
        }
    };
    let persistence = match &disk["persistence"] {
        Json::Null => None,
        p => Some(Persistence {
            id: string_field(p, "id")?.ok_or("a persistence needs an 'id'")?,
            principal: string_field(p, "principal")?,
        }),
    };
    let volume = match &disk["volume"] {
        Json::Null => None,
        v => Some(VolumeMount {
            container_path: string_field(v, "container_path")?
                .ok_or("a volume needs a 'container_path'")?,
            host_path: string_field(v, "host_path")?,
            read_write: match v["mode"].as_str() {
                Some("RW") => Some(true),
                Some("RO") => Some(false),
                Some(other) => return Err(format!("unknown volume mode '{other}'")),
                None => None,
            },
        }),
    };
    Ok(DiskInfo {
        source,
        persistence,
        volume,
    })
}

/// `object[key]` as a string: `None` when absent, an error when it is
/// something else.
fn string_field(object: &Json, key: &str) -> JsonResult<Option<String>> {
    match &object[key] {
        Json::Null => Ok(None),
        Json::String(s) => Ok(Some(s.clone())),
        other => Err(format!("field '{key}' must be a string, not {other}")),
    }
}

/// `object[key]` as an array; absent means empty.
fn array_field<'a>(object: &'a Json, key: &str) -> JsonResult<&'a [Json]> {
    match &object[key] {
        Json::Null => Ok(&[]),
        Json::Array(items) => Ok(items),
        other => Err(format!("field '{key}' must be an array, not {other}")),
    }
}

/// An unsigned integer given as a JSON number or a decimal string (as
/// protobuf JSON writes 64-bit integers).
fn json_u64(value: &Json) -> Option<u64> {
    match value {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}
