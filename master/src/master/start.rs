//! Starting a master in a runtime: recover the registry, spawn the
//! registrar, the allocator and the master, and make the master the
//! runtime's delegate.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use libprocess::{Pid, Runtime, UPID};
use mesos_proto::internal::Registry;
use mesos_proto::mesos::{master_info, Address, MasterInfo};

use super::Master;
use crate::allocator::{AllocatorHandle, AllocatorOptions};
use crate::error::MasterError;
use crate::flags::{MasterFlags, RegistryKind};
use crate::metrics::Metrics;
use crate::registrar::{Registrar, RegistrarHandle, Store};
use crate::state::{unix_now, IdGenerator, State};

/// The Mesos version we speak.
pub const VERSION: &str = mesos_common::build::MESOS_VERSION;

/// What a master starts with besides its flags.
#[derive(Debug, Clone, Default)]
pub struct MasterOptions {
    /// The master's flags.
    pub flags: MasterFlags,
}

/// A running master: its process and the processes it owns.
#[derive(Clone)]
pub struct MasterHandle {
    pid: Pid<Master>,
    registrar: RegistrarHandle,
    allocator: AllocatorHandle,
}

impl MasterHandle {
    /// Starts a master in `runtime` as process `master`, the runtime's
    /// delegate. Fails when the registry cannot be read or the process
    /// cannot be spawned.
    pub fn start(runtime: &Runtime, options: MasterOptions) -> Result<MasterHandle, MasterError> {
        let flags = options.flags;
        let info = master_info(runtime, &flags);
        let store = match &flags.registry {
            RegistryKind::InMemory => Store::InMemory,
            RegistryKind::Durable(dir) => Store::file(dir)?,
        };
        let (registrar, recovered) = Registrar::recover(store, &info)?;
        let registrar = RegistrarHandle::spawn(runtime, registrar)?;

        // The allocator calls back with offers; they go to the master's
        // mailbox, which exists only once the master is spawned.
        let master_slot: Arc<OnceLock<Pid<Master>>> = Arc::new(OnceLock::new());
        let slot = master_slot.clone();
        let allocator = AllocatorHandle::spawn(
            runtime,
            AllocatorOptions {
                allocation_interval: flags.allocation_interval.to_std(),
                weights: flags.weights.clone(),
                filter_gpu_resources: flags.filter_gpu_resources,
                ..AllocatorOptions::default()
            },
            Arc::new(move |framework_id, resources| {
                if let Some(master) = slot.get() {
                    master.post(move |master, ctx| master.offer(ctx, framework_id, resources));
                }
            }),
        )?;

        let now = unix_now();
        let master = Master {
            ids: IdGenerator::new(&info.id),
            info,
            state: State::default(),
            allocator: allocator.clone(),
            registrar: registrar.clone(),
            metrics: Metrics::default(),
            start_time: now,
            elected_time: now,
            reads: Default::default(),
            flags,
        };
        let master = master.with_recovered(&recovered);
        let pid = runtime.spawn("master", master)?;
        let _ = master_slot.set(pid.clone());
        runtime.set_delegate("master");
        Ok(MasterHandle {
            pid,
            registrar,
            allocator,
        })
    }

    /// The master's UPID (`master@ip:port`).
    pub fn upid(&self) -> &UPID {
        self.pid.upid()
    }

    /// The master process, to dispatch into (tests read its state so).
    pub fn pid(&self) -> &Pid<Master> {
        &self.pid
    }

    /// Stops the master and the processes it owns.
    pub fn stop(&self) {
        self.pid.terminate();
        self.registrar.terminate();
        self.allocator.terminate();
    }
}

impl Master {
    /// Seeds the state with what the registry remembers: admitted agents
    /// wait for reregistration; unreachable and gone ones are listed.
    fn with_recovered(mut self, registry: &Registry) -> Master {
        for slave in registry.slaves.iter().flat_map(|s| &s.slaves) {
            if let Some(id) = &slave.info.id {
                self.state
                    .recovered_agents
                    .insert(id.value.clone(), slave.info.clone());
            }
        }
        for slave in registry.unreachable.iter().flat_map(|s| &s.slaves) {
            self.state.unreachable_agents.insert(
                slave.id.value.clone(),
                slave.timestamp.nanoseconds as f64 / 1e9,
            );
        }
        for slave in registry.gone.iter().flat_map(|s| &s.slaves) {
            self.state.gone_agents.insert(
                slave.id.value.clone(),
                slave.timestamp.nanoseconds as f64 / 1e9,
            );
        }
        self
    }
}

/// Our `MasterInfo`: a fresh UUID, the address we are reached on, and
/// Mesos 1.11's capabilities.
fn master_info(runtime: &Runtime, flags: &MasterFlags) -> MasterInfo {
    let address = runtime.address();
    let ip = address.ip();
    let hostname = flags.hostname.clone().unwrap_or_else(|| {
        if !flags.hostname_lookup {
            ip.to_string()
        } else if ip.is_loopback() {
            "localhost".to_string()
        } else {
            libprocess::config::hostname()
        }
    });
    let pid = runtime.upid("master");
    MasterInfo {
        id: uuid::Uuid::new_v4().to_string(),
        ip: match ip {
            // Mesos stores the address in network byte order in a uint32
            // read on a little-endian host.
            IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
            IpAddr::V6(_) => 0,
        },
        port: u32::from(address.port()),
        pid: Some(pid.to_string()),
        hostname: Some(hostname.clone()),
        version: Some(VERSION.to_string()),
        address: Some(Address {
            hostname: Some(hostname),
            ip: Some(ip.to_string()),
            port: i32::from(address.port()),
        }),
        domain: None,
        capabilities: [
            master_info::capability::Type::AgentUpdate,
            master_info::capability::Type::AgentDraining,
            master_info::capability::Type::QuotaV2,
        ]
        .into_iter()
        .map(|t| master_info::Capability {
            r#type: Some(t as i32),
        })
        .collect(),
    }
}
