//! The executor side of Mesos: the executor driver library and the
//! command executor.
//!
//! An executor is a separate OS process the agent starts in a task's
//! sandbox. It implements [`Executor`]; a [`MesosExecutorDriver`] reads
//! the `MESOS_*` variables the agent set, starts a libprocess runtime,
//! registers with the agent using the legacy executor messages
//! (`RegisterExecutorMessage`, `RunTaskMessage`, `StatusUpdateMessage`,
//! ...), keeps status updates until the agent acknowledges them and, for
//! checkpointing frameworks, waits for a restarted agent to reconnect.
//! The `mesos-executor` binary is the command executor built on it.
//!
//! Modules:
//! - `driver`: the `Executor` trait, the `ExecutorDriver` handle and
//!   `MesosExecutorDriver`.
//! - `process`: the driver's libprocess process (the message routing).
//! - `env`: the `MESOS_*` environment an executor starts with.
//! - `command`: the command executor (task process, kill, health checks).
//! - `cli`: the `mesos-executor` binary's main, as a library function.
//! - `os`: process trees from `/proc`, `killtree`, exit statuses.
//! - `error`: the crate's error type.

pub mod cli;
pub mod command;
pub mod driver;
pub mod env;
pub mod error;
pub mod os;
pub mod process;

pub use driver::{DriverStatus, Executor, ExecutorDriver, MesosExecutorDriver};
pub use env::ExecutorEnv;
pub use error::{Error, Result};
pub use process::{is_terminal, now_secs};
