//! The scheduler driver for Rust frameworks: a [`Scheduler`] trait with
//! the callbacks of Mesos's `Scheduler`, and [`MesosSchedulerDriver`] with
//! the operations of Mesos's `SchedulerDriver`, returning Mesos's driver
//! [`Status`] values. The driver speaks the protocol of libmesos 1.11 over
//! libprocess: `mesos.scheduler.Call`s to the master, the legacy
//! `mesos.internal.*` messages (and `mesos.scheduler.Event`s) back, with
//! reliable (re)registration, failover with a framework id, and implicit
//! or explicit status update acknowledgements. It works against a Mesos
//! 1.11 master as well as ours.
//!
//! Modules:
//! - `scheduler`: the [`Scheduler`] trait (callbacks).
//! - `driver`: the [`SchedulerDriver`] trait (operations) and
//!   [`MesosSchedulerDriver`], the handle that keeps the driver's status.
//! - `process`: the driver's libprocess process, `scheduler-<uuid>`: its
//!   routing table, registration, and the handlers of each message.
//! - `calls`: the `Call`s the driver sends, built as pure functions.
//! - `updates`: acknowledgement decisions and driver-made updates.
//! - `detector`: the master's UPID and `MasterInfo`, from common's
//!   detector (`host:port`, `master@host:port`, `file:///path`).
//! - `config`: `MESOS_*` driver settings and the registration backoff.
//! - `user`: the current user's name, for `FrameworkInfo.user`.
//! - `error`: the crate's error type.

pub mod calls;
pub mod config;
pub mod detector;
pub mod driver;
pub mod error;
mod process;
pub mod scheduler;
pub mod updates;
mod user;

pub use config::DriverConfig;
pub use detector::{detect, DetectedMaster};
pub use driver::{
    fill_missing_framework_fields, DriverBuilder, MesosSchedulerDriver, SchedulerDriver,
};
pub use error::{Error, Result};
pub use mesos_proto::mesos::Status;
pub use process::SchedulerProcess;
pub use scheduler::Scheduler;
