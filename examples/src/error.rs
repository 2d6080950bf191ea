//! The errors of the example frameworks.

/// What keeps an example framework from running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag value that does not make sense.
    #[error("invalid --{name} '{value}': {reason}")]
    Flag {
        /// The flag, without dashes.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A local cluster could not be set up or started.
    #[error("{0}")]
    Config(String),
    /// The flags did not load (unknown flag, wrong type, missing one).
    #[error("{0}")]
    Flags(#[from] mesos_common::Error),
    /// The `--master` value cannot be used.
    #[error(transparent)]
    Master(#[from] mesos_scheduler::Error),
    /// The framework's state file could not be read or written.
    #[error("failed to {action} state file '{path}': {reason}")]
    State {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Results of the example frameworks.
pub type Result<T> = std::result::Result<T, Error>;
