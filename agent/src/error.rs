//! The agent's error type. Each variant's message names what failed and
//! with what value.

use thiserror::Error;

/// Everything the agent can fail at outside a single message's handling.
#[derive(Debug, Error)]
pub enum Error {
    /// A flag's value is wrong (beyond what the flag loader checks).
    #[error("invalid flag --{flag}='{value}': {reason}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// Its value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// `--master` names no master the detector can find (Mesos's words).
    #[error("Failed to create a master detector: {0}")]
    MasterDetector(mesos_common::Error),

    /// A value from mesos-common (resources, attributes) did not parse.
    #[error(transparent)]
    Common(#[from] mesos_common::Error),

    /// A file under the work or meta directory could not be used.
    #[error("{action} '{path}': {source}")]
    Io {
        /// What was being done (`failed to write`).
        action: &'static str,
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },

    /// A checkpointed record does not decode.
    #[error("corrupt checkpoint '{path}': {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// The checkpointed agent does not match this one's flags.
    #[error("incompatible agent info detected: {0}; remove '{1}' (or use --recover=cleanup) to start as a new agent")]
    Incompatible(String, String),

    /// The libprocess runtime could not start.
    #[error("failed to start libprocess: {0}")]
    Runtime(#[from] libprocess::Error),

    /// A task or executor could not be launched.
    #[error("failed to launch container: {0}")]
    Launch(String),

    /// A URI could not be fetched into the sandbox.
    #[error("failed to fetch '{uri}': {reason}")]
    Fetch {
        /// The URI.
        uri: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// An I/O error with the path it happened on.
    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
