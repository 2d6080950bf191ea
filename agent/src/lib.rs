//! The Mesos agent: registers with a master, launches executors in sandboxes,
//! checkpoints what it promised and recovers it after a restart.
//!
//! Not built yet: this crate holds the place the agent issue fills.
