//! `/version` (and `/master/version`): which build this is. `version` is
//! the Mesos protocol version we speak (tools check it); the rest is our
//! own build, stamped by `build.rs`.

use libprocess::{Context, Reply, Request};
use serde_json::{Map, Value};

use super::json_reply;
use crate::master::Master;

/// Help for `/version`.
pub const HELP: &str = "Provides version information.";

/// The build fields shared by `/version` and `/master/state`.
pub fn build_info() -> Map<String, Value> {
    mesos_common::build::info()
}

/// `GET /version`: `{"build_date","build_time","build_user","git_sha","git_tag","version"}`.
pub fn version(_: &mut Master, _: &mut Context<Master>, request: Request) -> Reply {
    json_reply(&request, Value::Object(build_info()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days since 1970-01-01 of a civil date.
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[test]
    fn reports_our_build_with_mesos_field_types() {
        let info = build_info();
        assert_eq!(info["version"], "1.11.0");
        assert!(info["build_user"].is_string());
        // The date and the time are the same instant.
        let time = info["build_time"].as_f64().unwrap();
        assert!(time > 1.5e9, "{time}");
        let date = info["build_date"].as_str().unwrap();
        let n: Vec<i64> = date
            .split(['-', ' ', ':'])
            .map(|p| p.parse().unwrap())
            .collect();
        let secs = days_from_civil(n[0], n[1], n[2]) * 86_400 + n[3] * 3_600 + n[4] * 60 + n[5];
        assert_eq!(secs as f64, time, "{date}");
        // Our commit, not the one of the Mesos build we were compared with.
        let sha = info["git_sha"].as_str().unwrap();
        assert!(
            sha == "unknown" || (sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit())),
            "{sha}"
        );
        assert_ne!(sha, "04bc7ee1984d86fbb0bd782ccc69ce44c13ae4b9");
        assert!(!info["git_tag"].as_str().unwrap().is_empty());
    }
}
