//! Compiles the `.proto` files under `proto/` without a system `protoc`:
//! `protox` parses them into a descriptor set and `prost-build` turns that
//! into Rust code in `OUT_DIR` (one file per protobuf package).

use std::path::PathBuf;

/// Every schema file we compile, relative to `proto/`.
const FILES: &[&str] = &[
    "mesos/mesos.proto",
    "mesos/scheduler.proto",
    "mesos/executor.proto",
    "mesos/allocator.proto",
    "mesos/maintenance.proto",
    "mesos/quota.proto",
    "mesos/resource_provider.proto",
    "mesos/resource_provider_registry.proto",
    "mesos/master.proto",
    "mesos/agent.proto",
    "mesos/internal/authentication.proto",
    "mesos/internal/messages.proto",
    "mesos/internal/registry.proto",
    "mesos/internal/state.proto",
    "mesos/internal/slave_state.proto",
    "mesos/v1/mesos.proto",
    "mesos/v1/scheduler.proto",
    "mesos/v1/executor.proto",
    "mesos/v1/allocator.proto",
    "mesos/v1/maintenance.proto",
    "mesos/v1/quota.proto",
    "mesos/v1/resource_provider.proto",
    "mesos/v1/master.proto",
    "mesos/v1/agent.proto",
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("proto");
    println!("cargo:rerun-if-changed={}", root.display());
    for f in FILES {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }

    let fds = protox::compile(FILES, [&root]).unwrap_or_else(|e| panic!("protox: {e:?}"));

    // The descriptors themselves, for JSON mapping at run time (the v1 HTTP
    // APIs speak the proto3 JSON of these messages).
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(
        out.join("file_descriptor_set.bin"),
        prost::Message::encode_to_vec(&fds),
    )
    .expect("write file_descriptor_set.bin");

    prost_build::Config::new()
        // `bytes` fields become `bytes::Bytes`, so relaying payloads is copy-free.
        .bytes(["."])
        // `impl prost::Name` for every message: `full_name()` is the wire name.
        .enable_type_names()
        // Maps are `BTreeMap`s so encoding and iteration order are deterministic.
        .btree_map(["."])
        // A `Resource` is 1,176 bytes inline, most of it the `DiskInfo`
        // few resources carry; boxed it is ~400. A master keeps every
        // agent's resources.
        .boxed(".mesos.Resource.disk")
        // A `Task` was 1,360 bytes inline, mostly the container, discovery
        // and health check most tasks lack; a master keeps every task,
        // live and completed.
        .boxed(".mesos.Task.container")
        .boxed(".mesos.Task.discovery")
        .boxed(".mesos.Task.health_check")
        .compile_fds(fds)
        .expect("prost-build");
}
