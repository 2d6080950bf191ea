//! The master's message handlers, one message family per file. Each is a
//! set of `impl Master` methods; the routing table is in
//! `Master::initialize`.

pub mod agent;
pub mod agent_removal;
pub mod call;
pub mod framework;
pub mod offer;
pub mod status_update;
pub mod task;
