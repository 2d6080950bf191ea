//! The errors of this crate.

/// What can go wrong when setting up a scheduler driver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--master` value names no master the detector can find (its
    /// form, its file, its host name), or needs ZooKeeper.
    #[error(transparent)]
    Detector(#[from] mesos_common::Error),
    /// A driver setting from the `MESOS_*` environment is invalid.
    #[error("invalid driver setting: {0}")]
    Config(String),
    /// The libprocess runtime could not be started or the driver's
    /// process could not be spawned.
    #[error("failed to start the driver's libprocess runtime: {0}")]
    Runtime(#[from] libprocess::Error),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
