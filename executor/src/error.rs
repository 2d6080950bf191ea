//! The crate's error type. Each variant's message says what failed and
//! with what value.

use thiserror::Error;

/// Everything the driver and the command executor can fail at.
#[derive(Debug, Error)]
pub enum Error {
    /// A required `MESOS_*` variable is not set.
    #[error("expecting '{0}' to be set in the environment")]
    MissingEnv(&'static str),

    /// A `MESOS_*` variable has a value that does not parse.
    #[error("invalid '{name}' value '{value}': {reason}")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// The driver's libprocess runtime could not start.
    #[error("failed to start the executor's libprocess runtime: {0}")]
    Runtime(#[from] libprocess::Error),

    /// The driver was started twice, or used before `start`.
    #[error("the driver is {0}")]
    DriverState(&'static str),

    /// A task's command cannot be run.
    #[error("invalid command for task '{task}': {reason}")]
    InvalidCommand {
        /// The task id.
        task: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Starting a process failed.
    #[error("failed to launch '{command}': {source}")]
    Launch {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
