//! The v1 executor HTTP API, `/slave(1)/api/v1/executor` (and
//! `/api/v1/executor`, the agent being its runtime's delegate): HTTP
//! executors POST `mesos.v1.executor.Call`s and read
//! `mesos.v1.executor.Event`s from the stream their SUBSCRIBE opened. The
//! agent treats them as it treats libprocess executors: the same handlers
//! run, and whatever it sends an executor becomes an event on the stream
//! when that executor is an HTTP one.
//!
//! Modules:
//! - `endpoint`: the route: request checks in Mesos's order, then the call.
//! - `codec`: media types, calls in (JSON or protobuf), events out, RecordIO.
//! - `validation`: Mesos's checks of a call that need no agent state.
//! - `events`: the event for each message the agent sends an executor.
//! - `connection`: an HTTP executor's stream, and the one send path to
//!   any executor.
//! - `subscribe`: SUBSCRIBE, heartbeats, and the executor closing its stream.
//! - `update`: UPDATE (through the status update manager) and MESSAGE.

pub mod codec;
pub mod connection;
pub mod endpoint;
pub mod events;
mod subscribe;
pub mod update;
pub mod validation;

pub use connection::HttpConnection;

/// The file in an executor run's meta directory saying the executor is an
/// HTTP one (Mesos's `http.marker`): after a restart the agent waits for it
/// to subscribe again instead of asking it to re-register.
pub const HTTP_MARKER: &str = "http.marker";
