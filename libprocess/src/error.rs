//! The errors of this crate.

use std::net::SocketAddr;

/// A string that is not a valid `id@ip:port`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid upid '{input}': {reason}")]
pub struct UpidError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// What can go wrong when starting a runtime or spawning a process.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("failed to bind {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// A runtime thread or the HTTP server could not be started.
    #[error("failed to start the runtime: {0}")]
    Start(String),
    /// A process with this id is already running.
    #[error("a process with id '{0}' already exists")]
    DuplicateId(String),
    /// A process id that cannot be addressed.
    #[error("invalid process id '{0}': must be non-empty without '/', '@' or whitespace")]
    InvalidId(String),
    /// A configuration value (flag or `LIBPROCESS_*` variable) is invalid.
    #[error("invalid {name} '{value}': {reason}")]
    Config {
        /// Which setting.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The process a dispatch was sent to terminated before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("process terminated before the dispatch ran")]
pub struct Terminated;
