//! The Mesos agent: registers with a master, runs tasks' executors in
//! sandboxes, forwards their status updates reliably, checkpoints what it
//! promised and recovers it after a restart, and serves its state and the
//! sandboxes over HTTP. Wire-compatible with Mesos 1.11 masters.
//!
//! Modules:
//! - `agent`: starting an agent (runtime, `files`, `slave(1)`).
//! - `cli`: the `mesos-agent` binary's main.
//! - `slave`: the agent process: registration, tasks, executors, status
//!   updates, recovery, HTTP endpoints.
//! - `status_update_manager`: per-task streams, checkpointed and retried.
//! - `containerizer`: executors as processes (POSIX launcher), their
//!   environment, the URI fetcher, resource usage.
//! - `state`: checkpoint files under `meta/` and reading them back.
//! - `files`: `/files/*` over the sandboxes.
//! - `gc`: sandbox garbage collection.
//! - `metrics`: `slave/*` metrics.
//! - `monitor`: `/monitor/statistics`.
//! - `json`: `/state` rendering.
//! - `flags`: the flag table and checked settings.
//! - `detect`: total resources, detected and given.
//! - `paths`: the work directory layout.
//! - `testing`: a fake master for tests (a real one can replace it).
//! - `error`: the crate's error type.

pub mod agent;
pub mod cli;
pub mod containerizer;
pub mod detect;
pub mod error;
pub mod files;
pub mod flags;
pub mod gc;
pub mod json;
pub mod metrics;
pub mod monitor;
pub mod paths;
pub mod slave;
pub mod state;
pub mod status_update_manager;
pub mod testing;

pub use agent::{start, Agent};
pub use error::{Error, Result};
pub use flags::AgentFlags;
