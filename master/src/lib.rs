//! The Mesos master: registers frameworks and agents, runs the hierarchical
//! DRF allocator, forwards tasks and status updates, and serves the master's
//! HTTP endpoints.
//!
//! Not built yet: this crate holds the place the master issue fills.
