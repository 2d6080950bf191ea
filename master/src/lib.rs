//! The Mesos master: registers frameworks and agents, runs the hierarchical
//! DRF allocator, forwards tasks and status updates, and serves the master's
//! HTTP endpoints, wire-compatible with Mesos 1.11.
//!
//! Modules:
//! - `flags`: the flag table of `mesos-master` and the typed flags.
//! - `cli`: what the `mesos-master` binary runs.
//! - `master`: the master process, its routing table, and starting it.
//! - `handlers`: message handlers (agents, frameworks, offers, tasks,
//!   status updates, scheduler calls).
//! - `state`: the master's model of frameworks, agents, tasks and offers.
//! - `validation`: pure checks of what agents and frameworks send.
//! - `observer`: the per-agent ping process (`slave-observer(N)`).
//! - `registrar`: the registry, its durable store, and its process.
//! - `allocator`: the hierarchical DRF allocator.
//! - `http`: the master's endpoints and their JSON.
//! - `scheduler_api`: the v1 HTTP scheduler API (`/api/v1/scheduler`).
//! - `metrics`: `master/...` metrics.
//! - `error`: the crate's error type.

// The wire still carries fields the schema marks deprecated (the legacy
// `role` of resources and frameworks, `RunTaskMessage.framework_id`):
// peers older than refinement need them.
#![allow(deprecated)]

pub mod allocator;
pub mod cli;
pub mod error;
pub mod flags;
pub mod handlers;
pub mod http;
pub mod master;
pub mod metrics;
pub mod observer;
pub mod registrar;
pub mod scheduler_api;
pub mod state;
pub mod validation;

pub use error::MasterError;
pub use flags::MasterFlags;
pub use master::{Master, MasterHandle, MasterOptions};
