//! Code the master, the agent, the executors and the drivers share.
//!
//! These are pure types and functions, with no I/O beyond reading a
//! flag's `file://` value and resolving a master's host name: Mesos's
//! value syntaxes (durations, byte sizes, resources, attributes) with the
//! same parsing, printing and arithmetic as Apache Mesos 1.11, the
//! table-driven command-line flag loader every binary uses, and master
//! detection from `--master`. Nothing here depends on the protobuf
//! types; conversions to and from them belong next to those types.
//!
//! - [`error`]: the crate's one error enum.
//! - [`duration`]: [`Duration`], stout's `5secs` / `1.5mins` syntax.
//! - [`bytes`]: [`Bytes`], stout's `512MB` / `1GB` syntax.
//! - [`flags`]: flag tables, loading from `--name=value` and `MESOS_*`,
//!   `--help` text and the `/flags` JSON.
//! - [`values`]: scalar, ranges, set and text values and their syntax.
//! - [`resources`]: [`Resource`] and [`Resources`] with Mesos's arithmetic.
//! - [`attributes`]: agent attributes such as `rack:a;zone:b`.
//! - [`build`]: which build this is, and the Mesos version we speak.
//! - [`master_detector`]: where the master is, from `--master`
//!   (`host:port`, `master@host:port`, `file:///path`).

pub mod attributes;
pub mod build;
pub mod bytes;
pub mod duration;
pub mod error;
pub mod flags;
pub mod master_detector;
mod numfmt;
pub mod resources;
pub mod values;

pub use attributes::{Attribute, Attributes};
pub use bytes::Bytes;
pub use duration::Duration;
pub use error::{Error, Result};
pub use flags::{FlagKind, FlagSet, FlagSpec, FlagValue, Flags};
pub use master_detector::MasterPid;
pub use resources::{Resource, Resources};
pub use values::{Ranges, Scalar, Value};
