//! The v1 HTTP scheduler API, `/api/v1/scheduler`: HTTP schedulers POST
//! `mesos.v1.scheduler.Call`s and read `mesos.v1.scheduler.Event`s from
//! the stream their SUBSCRIBE opened. Calls are devolved into the
//! `scheduler::Call` the master already handles for libprocess drivers,
//! and whatever the master sends a scheduler is evolved into an event when
//! that scheduler is an HTTP one.
//!
//! Modules:
//! - `endpoint`: the route: request checks, then SUBSCRIBE or a call.
//! - `codec`: calls in and events out, in `mesos_proto::codec`'s encodings.
//! - `evolve`: the event for each message the master sends a scheduler.
//! - `connection`: how a scheduler is reached (UPID or HTTP stream).
//! - `stream`: heartbeats and the scheduler closing its stream.

pub mod codec;
pub mod connection;
pub mod endpoint;
pub mod evolve;
pub mod stream;

pub use connection::{Connection, HttpConnection};
pub use evolve::SchedulerMessage;
