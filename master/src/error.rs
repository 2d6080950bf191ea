//! The master crate's errors.

use thiserror::Error;

/// What can go wrong in the master, worded for its log and its users.
#[derive(Debug, Error)]
pub enum MasterError {
    /// A flag value the master cannot run with.
    #[error("invalid flag --{name}: {reason}")]
    Flag {
        /// The flag.
        name: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The runtime could not start or spawn a process.
    #[error("libprocess: {0}")]
    Runtime(#[from] libprocess::Error),
    /// The registry could not be read or written.
    #[error("registry at '{path}': {reason}")]
    Registry {
        /// Where the registry lives.
        path: String,
        /// What failed.
        reason: String,
    },
    /// A registry operation did not apply (e.g. admitting an agent twice).
    #[error("registry operation refused: {0}")]
    RegistryRefused(String),
    /// The registrar process is gone.
    #[error("the registrar has terminated")]
    RegistrarGone,
}
