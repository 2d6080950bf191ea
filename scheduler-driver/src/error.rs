//! The errors of this crate.

/// What can go wrong when setting up a scheduler driver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--master` value is not one of the forms the driver detects.
    #[error("invalid master '{master}': {reason}")]
    InvalidMaster {
        /// The value given.
        master: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `file://` master whose file cannot be read.
    #[error("failed to read the master from file '{path}': {source}")]
    MasterFile {
        /// The file named after `file://`.
        path: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// A `zk://` master: ZooKeeper detection is not built yet.
    #[error(
        "master '{0}': ZooKeeper master detection (zk://) is not supported yet; \
         give the leading master as host:port"
    )]
    ZooKeeperUnsupported(String),
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
