//! Mesos wire schema (being written).
