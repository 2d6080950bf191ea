//! The registrar: the one process that changes the registry (the durable
//! record of which agents are admitted, unreachable or gone). The master
//! asks it to apply an operation and acts only once the write is done.

mod operation;
mod store;

pub use operation::Operation;
pub use store::{Store, REGISTRY_FILE};

use libprocess::{Context, Pid, Process, Runtime};
use mesos_proto::internal::{registry, Registry};
use mesos_proto::mesos::MasterInfo;

use crate::error::MasterError;

/// The registrar process: holds the current registry and its store.
pub struct Registrar {
    registry: Registry,
    store: Store,
}

impl Process for Registrar {}

impl Registrar {
    /// Reads the stored registry (the master's recovery), records
    /// `master` as the current master, and stores it back.
    pub fn recover(
        store: Store,
        master: &MasterInfo,
    ) -> Result<(Registrar, Registry), MasterError> {
        let mut registry = store.fetch()?;
        let recovered = registry.clone();
        registry.master = Some(registry::Master {
            info: master.clone(),
        });
        store.store(&registry)?;
        Ok((Registrar { registry, store }, recovered))
    }

    fn apply(&mut self, operation: &Operation) -> Result<bool, MasterError> {
        let mut next = self.registry.clone();
        let changed = operation
            .apply(&mut next)
            .map_err(MasterError::RegistryRefused)?;
        if changed {
            self.store.store(&next)?;
            self.registry = next;
        }
        Ok(changed)
    }
}

/// A typed handle to the registrar.
#[derive(Clone)]
pub struct RegistrarHandle {
    pid: Pid<Registrar>,
}

impl RegistrarHandle {
    /// Spawns `registrar` as process `registrar(N)`.
    pub fn spawn(runtime: &Runtime, registrar: Registrar) -> Result<RegistrarHandle, MasterError> {
        let id = runtime.generate_id("registrar");
        Ok(RegistrarHandle {
            pid: runtime.spawn(&id, registrar)?,
        })
    }

    /// Applies `operation` and stores the result. Resolves to whether the
    /// registry changed, or why it could not be applied (then nothing
    /// changed).
    pub fn apply(
        &self,
        operation: Operation,
    ) -> impl std::future::Future<Output = Result<bool, MasterError>> + Send + 'static {
        let applied = self.pid.dispatch(
            move |registrar: &mut Registrar, _: &mut Context<Registrar>| {
                registrar.apply(&operation)
            },
        );
        async move { applied.await.map_err(|_| MasterError::RegistrarGone)? }
    }

    /// The current registry, as stored.
    pub fn registry(
        &self,
    ) -> impl std::future::Future<Output = Result<Registry, MasterError>> + Send + 'static {
        let registry = self.pid.dispatch(|r: &mut Registrar, _| r.registry.clone());
        async move { registry.await.map_err(|_| MasterError::RegistrarGone) }
    }

    /// Terminates the registrar.
    pub fn terminate(&self) {
        self.pid.terminate();
    }
}
