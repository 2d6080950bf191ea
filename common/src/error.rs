//! The one error type of this crate.
//!
//! Each variant's doc comment is its message. Messages say what failed
//! and with what value. Flag-loading errors keep Apache Mesos's own
//! wording (`Failed to load unknown flag 'foo'`), because operators and
//! scripts know those lines from Mesos; everything else is lower case.

use thiserror::Error;

/// Everything that can go wrong while parsing or combining the values
/// this crate models.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// invalid duration '{value}': {reason}
    #[error("invalid duration '{value}': {reason}")]
    InvalidDuration {
        /// The text that failed to parse.
        value: String,
        /// Why it failed.
        reason: String,
    },

    /// invalid bytes '{value}': {reason}
    #[error("invalid bytes '{value}': {reason}")]
    InvalidBytes {
        /// The text that failed to parse.
        value: String,
        /// Why it failed.
        reason: String,
    },

    /// Failed to load unknown flag '{name}' (via '{via}' when negated).
    #[error("Failed to load unknown flag '{name}'{}", via.as_ref().map(|v| format!(" via '{v}'")).unwrap_or_default())]
    UnknownFlag {
        /// The flag name, without any `no-` prefix.
        name: String,
        /// The name as given, when it was a `no-` form.
        via: Option<String>,
    },

    /// Flag '{name}' is already loaded via name '{loaded_via}'
    #[error("Flag '{name}' is already loaded via name '{loaded_via}'")]
    DuplicateFlag {
        /// The name given the second time.
        name: String,
        /// The name (the flag's or its alias) it was first loaded by.
        loaded_via: String,
    },

    /// Failed to load non-boolean flag '{name}' via '{via}'
    #[error("Failed to load non-boolean flag '{name}' via '{via}'")]
    NegatedNonBoolean {
        /// The flag name.
        name: String,
        /// The `no-` form that was given.
        via: String,
    },

    /// Failed to load non-boolean flag '{name}': Missing value
    #[error("Failed to load non-boolean flag '{name}': Missing value")]
    MissingFlagValue {
        /// The flag name.
        name: String,
    },

    /// Failed to load boolean flag '{name}' via '{via}' with value '{value}'
    #[error("Failed to load boolean flag '{name}' via '{via}' with value '{value}'")]
    NegatedWithValue {
        /// The flag name.
        name: String,
        /// The `no-` form that was given.
        via: String,
        /// The value that must not be there.
        value: String,
    },

    /// Failed to load flag '{name}': Failed to load value '{value}': {reason}
    #[error("Failed to load flag '{name}': Failed to load value '{value}': {reason}")]
    InvalidFlagValue {
        /// The flag name.
        name: String,
        /// The value as given (a `file://` URI stays as given).
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// Flag '{name}' is required, but it was not provided
    #[error("Flag '{name}' is required, but it was not provided")]
    RequiredFlag {
        /// The flag name.
        name: String,
    },

    /// Invalid value for flag '{name}': {reason} (a table validator said no)
    #[error("Invalid value for flag '{name}': {reason}")]
    FlagValidation {
        /// The flag name.
        name: String,
        /// The validator's message.
        reason: String,
    },

    /// invalid value '{value}': {reason} (scalar, ranges or set text)
    #[error("invalid value '{value}': {reason}")]
    InvalidValue {
        /// The value text.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// invalid resources '{text}': {reason}
    #[error("invalid resources '{text}': {reason}")]
    InvalidResources {
        /// The whole resources text (or one token of it).
        text: String,
        /// Why it was rejected.
        reason: String,
    },

    /// invalid resource '{resource}': {reason}
    #[error("invalid resource '{resource}': {reason}")]
    InvalidResource {
        /// The resource, as Mesos prints it.
        resource: String,
        /// Why it was rejected.
        reason: String,
    },

    /// invalid role '{role}': {reason}
    #[error("invalid role '{role}': {reason}")]
    InvalidRole {
        /// The role name.
        role: String,
        /// Why it was rejected.
        reason: String,
    },

    /// invalid attributes '{text}': {reason}
    #[error("invalid attributes '{text}': {reason}")]
    InvalidAttributes {
        /// The attribute text (one `name:value` pair or the whole list).
        text: String,
        /// Why it was rejected.
        reason: String,
    },

    /// invalid master '{master}': {reason} (a `--master` value)
    #[error("invalid master '{master}': {reason}")]
    InvalidMaster {
        /// The value given (trimmed).
        master: String,
        /// What is wrong with it.
        reason: String,
    },

    /// failed to read the master from file '{path}': {reason}
    #[error("failed to read the master from file '{path}': {reason}")]
    MasterFile {
        /// The file named after `file://`.
        path: String,
        /// Why it gave no master (the OS error, or that it is empty).
        reason: String,
    },

    /// master '{0}': ZooKeeper master detection (zk://) is not supported yet
    #[error(
        "master '{0}': ZooKeeper master detection (zk://) is not supported yet; \
         give the leading master as host:port"
    )]
    ZooKeeperUnsupported(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
