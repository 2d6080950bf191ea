//! Which build this is, as `build.rs` stamped it, and the Mesos version we
//! speak: the fields Mesos reports in `/version`, `/master/state` and an
//! agent's `/state`.

use serde_json::{json, Map, Value};

/// The Mesos protocol version we speak; tools check it.
pub const MESOS_VERSION: &str = "1.11.0";

/// When it was built, `YYYY-MM-DD HH:MM:SS` UTC.
pub const DATE: &str = env!("MESOS_BUILD_DATE");
/// When it was built, Unix seconds (text, as stamped).
pub const TIME: &str = env!("MESOS_BUILD_TIME");
/// Who built it (`$USER`), possibly empty.
pub const USER: &str = env!("MESOS_BUILD_USER");
/// Our commit (`unknown` when not built from a git checkout).
pub const GIT_SHA: &str = env!("MESOS_BUILD_GIT_SHA");
/// The tag on our commit, the nearest tag, or our crate version.
pub const GIT_TAG: &str = env!("MESOS_BUILD_GIT_TAG");

/// `version`, `git_sha`, `git_tag`, `build_date`, `build_time` and
/// `build_user`, with Mesos's names and types.
pub fn info() -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("version".into(), json!(MESOS_VERSION));
    o.insert("git_sha".into(), json!(GIT_SHA));
    o.insert("git_tag".into(), json!(GIT_TAG));
    o.insert("build_date".into(), json!(DATE));
    o.insert(
        "build_time".into(),
        json!(TIME.parse::<f64>().unwrap_or(0.0)),
    );
    o.insert("build_user".into(), json!(USER));
    o
}
