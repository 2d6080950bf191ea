//! Example frameworks, each a library function its binary's `main`
//! calls (so tests and `mesos-local` can run them in-process):
//!
//! - `test_framework`: `test-framework`, runs N command tasks to
//!   completion, surviving its own restart with `--state_file`.
//! - `long_running`: `long-running-framework`, keeps K instances of a
//!   command running, relaunching lost ones and reconciling on failover.
//! - `execute`: `mesos-execute`, runs one command task and exits with its
//!   result.
//! - `local`: `mesos-local`, a master and N agents in one OS process.
//!
//! And what they share:
//! - `framework`: common flags, `FrameworkInfo` and driver building,
//!   task state helpers.
//! - `resources`: fitting a task's resources into an offer.
//! - `state`: the JSON state file a framework resumes from.
//! - `error`: the crate's error type.

pub mod error;
pub mod execute;
pub mod framework;
pub mod local;
pub mod long_running;
pub mod resources;
pub mod state;
pub mod test_framework;

pub use error::{Error, Result};
