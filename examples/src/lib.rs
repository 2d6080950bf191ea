//! Example frameworks (`test-framework`, `long-running-framework`,
//! `mesos-execute`) and `mesos-local`.
//!
//! Not built yet: this crate holds the place the quick-start issue fills.
