//! The Apache Mesos 1.11 wire schema as Rust types.
//!
//! Our own `.proto` files under `proto/` describe the same schema as Mesos
//! 1.11 (same packages, message names, field numbers, types, labels, defaults
//! and enum values), so bytes produced by Mesos decode into these types and
//! re-encode identically. They are compiled at build time by `protox` and
//! `prost-build`; no system `protoc` is needed.
//!
//! The module tree mirrors the protobuf package tree, rooted at [`mesos`]:
//!
//! | package | module |
//! |---|---|
//! | `mesos` | [`mesos`] (core v0 types: `FrameworkInfo`, `TaskInfo`, `Resource`, ...) |
//! | `mesos.internal` | [`internal`] (libprocess messages, authentication, registry) |
//! | `mesos.internal.state` | [`internal::state`] (replicated state store entries) |
//! | `mesos.internal.slave` | [`internal::slave`] (agent checkpoint records) |
//! | `mesos.scheduler`, `mesos.executor` | [`scheduler`], [`executor`] (v0 `Call`/`Event`) |
//! | `mesos.master`, `mesos.agent` | [`master`], [`agent`] (v0 operator API) |
//! | `mesos.allocator`, `mesos.maintenance`, `mesos.quota` | [`allocator`], [`maintenance`], [`quota`] |
//! | `mesos.resource_provider` (+ `.registry`) | [`resource_provider`] |
//! | `mesos.v1` and its sub-packages | [`v1`], [`v1::scheduler`], [`v1::executor`], [`v1::master`], ... |
//!
//! Every message implements [`prost::Name`]; its `full_name()` is the
//! protobuf full name that Mesos uses as the libprocess message name, e.g.
//! `<internal::RegisterSlaveMessage as Name>::full_name()` is
//! `"mesos.internal.RegisterSlaveMessage"` and nested messages include
//! their parents (`"mesos.scheduler.Call.Subscribe"`). Use [`full_name`] as
//! a shorthand. `bytes` fields are [`bytes::Bytes`], so relaying payloads
//! does not copy them.
//!
//! [`codec`] holds the encodings of the v1 HTTP APIs (media types, JSON,
//! RecordIO), shared by the master's scheduler API and the agent's
//! executor API.

pub use bytes;
pub use prost;
pub use prost::{Message, Name};

/// The encoded `google.protobuf.FileDescriptorSet` of every schema file, for
/// reflection (e.g. the JSON mapping of `mesos.v1.*` messages).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));

pub mod codec;

/// Generated code, one nested module per protobuf package.
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    rustdoc::all,
    deprecated,
    non_camel_case_types
)]
pub mod mesos {
    include!(concat!(env!("OUT_DIR"), "/mesos.rs"));

    /// Package `mesos.scheduler`: v0 scheduler API.
    pub mod scheduler {
        include!(concat!(env!("OUT_DIR"), "/mesos.scheduler.rs"));
    }

    /// Package `mesos.executor`: v0 executor API.
    pub mod executor {
        include!(concat!(env!("OUT_DIR"), "/mesos.executor.rs"));
    }

    /// Package `mesos.allocator`.
    pub mod allocator {
        include!(concat!(env!("OUT_DIR"), "/mesos.allocator.rs"));
    }

    /// Package `mesos.maintenance`.
    pub mod maintenance {
        include!(concat!(env!("OUT_DIR"), "/mesos.maintenance.rs"));
    }

    /// Package `mesos.quota`.
    pub mod quota {
        include!(concat!(env!("OUT_DIR"), "/mesos.quota.rs"));
    }

    /// Package `mesos.resource_provider`.
    pub mod resource_provider {
        include!(concat!(env!("OUT_DIR"), "/mesos.resource_provider.rs"));

        /// Package `mesos.resource_provider.registry`.
        pub mod registry {
            include!(concat!(
                env!("OUT_DIR"),
                "/mesos.resource_provider.registry.rs"
            ));
        }
    }

    /// Package `mesos.master`: v0 master operator API.
    pub mod master {
        include!(concat!(env!("OUT_DIR"), "/mesos.master.rs"));
    }

    /// Package `mesos.agent`: v0 agent operator API.
    pub mod agent {
        include!(concat!(env!("OUT_DIR"), "/mesos.agent.rs"));
    }

    /// Package `mesos.internal`: libprocess messages, authentication and
    /// the master registry.
    pub mod internal {
        include!(concat!(env!("OUT_DIR"), "/mesos.internal.rs"));

        /// Package `mesos.internal.state`: replicated state store records.
        pub mod state {
            include!(concat!(env!("OUT_DIR"), "/mesos.internal.state.rs"));
        }

        /// Package `mesos.internal.slave`: agent checkpoint records.
        pub mod slave {
            include!(concat!(env!("OUT_DIR"), "/mesos.internal.slave.rs"));
        }
    }

    /// Package `mesos.v1`: the HTTP API schema.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));

        /// Package `mesos.v1.scheduler`.
        pub mod scheduler {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
        }

        /// Package `mesos.v1.executor`.
        pub mod executor {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.executor.rs"));
        }

        /// Package `mesos.v1.allocator`.
        pub mod allocator {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.allocator.rs"));
        }

        /// Package `mesos.v1.maintenance`.
        pub mod maintenance {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.maintenance.rs"));
        }

        /// Package `mesos.v1.quota`.
        pub mod quota {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.quota.rs"));
        }

        /// Package `mesos.v1.resource_provider`.
        pub mod resource_provider {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.resource_provider.rs"));
        }

        /// Package `mesos.v1.master`.
        pub mod master {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.master.rs"));
        }

        /// Package `mesos.v1.agent`.
        pub mod agent {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.agent.rs"));
        }
    }
}

pub use mesos::{
    agent, allocator, executor, internal, maintenance, master, quota, resource_provider, scheduler,
    v1,
};

/// The protobuf full name of message type `M`, which is also its
/// libprocess message name (e.g. `"mesos.internal.PingSlaveMessage"`).
pub fn full_name<M: Name>() -> String {
    M::full_name()
}
