//! The processes every runtime hosts, serving libprocess's own endpoints:
//! `/__processes__`, `/metrics/snapshot`, `/help`, `/system/stats.json`
//! and `/logging/toggle`.

mod help;
mod logging;
mod metrics;
mod processes;
mod system;

use crate::error::Error;
use crate::runtime::Runtime;

pub use logging::{init as init_logging, level_from_mesos};

/// Spawns the built-in processes into `runtime`.
pub(crate) fn spawn_all(runtime: &Runtime) -> Result<(), Error> {
    runtime.spawn("__processes__", processes::Processes)?;
    runtime.spawn("metrics", metrics::Metrics)?;
    runtime.spawn("help", help::Help)?;
    runtime.spawn("system", system::System)?;
    runtime.spawn("logging", logging::Logging::default())?;
    Ok(())
}

/// Parses a duration query parameter (`timeout=5secs`) as Mesos does.
fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    mesos_common::duration::Duration::parse(value)
        .map(|d| d.to_std())
        .map_err(|e| e.to_string())
}
