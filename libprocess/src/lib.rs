//! A libprocess-style actor runtime, wire-compatible with Mesos's
//! libprocess: processes addressed by UPIDs (`id@ip:port`) exchange named
//! messages carried as HTTP requests over persistent connections, serve
//! HTTP routes, link to each other, and run timers on a clock that tests
//! can pause.
//!
//! Modules:
//! - `upid`: process addresses, `id@ip:port`.
//! - `config`: what a runtime binds and advertises (`LIBPROCESS_*`).
//! - `runtime`: the runtime: the processes it hosts, spawn, send, link.
//! - `process`: the `Process` trait, its `Context`, and `Pid` handles.
//! - `mailbox`: the per-process event queue and its run loop.
//! - `message`: messages and their libprocess wire encoding.
//! - `http`: requests and responses as routes see them.
//! - `server`: the listening side (hyper): messages vs. plain HTTP.
//! - `connection`: outgoing persistent connections and links.
//! - `clock`: the pausable clock every timer goes through.
//! - `metrics`: the recorder behind the `metrics` facade, pull gauges.
//! - `testing`: test hooks to await or drop messages by name.
//! - `builtin`: `/__processes__`, `/metrics/snapshot`, `/help`,
//!   `/system/stats.json`, `/logging/toggle`.
//!
//! Processes run on tokio tasks with a mailbox of our own rather than as
//! actix actors, because `/__processes__` must list each process's queued
//! events and actix mailboxes cannot be inspected; HTTP is served by hyper
//! on the same threads (see `server` for why not actix-web).

pub mod builtin;
pub mod clock;
pub mod config;
mod connection;
pub mod error;
pub mod http;
mod mailbox;
pub mod message;
pub mod metrics;
pub mod process;
pub mod runtime;
mod server;
pub mod testing;
pub mod upid;

pub use clock::{Clock, Timer};
pub use config::{Config, READER_NICE};
pub use error::{Error, Terminated, UpidError};
pub use http::{Body, Reply, Request, Response, StreamWriter};
pub use message::Message;
pub use process::{Context, Pid, Process};
pub use runtime::{set_own_nice, Runtime};
pub use upid::UPID;
