//! The registrar: the one process that changes the registry (the durable
//! record of which agents are admitted, unreachable or gone). The master
//! asks it to apply an operation and acts only once the write is done.
//!
//! As in Mesos, operations that arrive while a store is in flight queue
//! up; when it completes, all of them are applied and stored at once, and
//! each completes, in order, when that one store does. Admitting thousands
//! of agents thus costs a handful of writes. A batch that changes nothing
//! completes without a write.
//!
//! Modules:
//! - `index`: the registry kept indexed by agent ID, with each entry's
//!   encoding, and the journal that undoes a batch whose store failed.
//! - `operation`: the operations and how each changes the registry.
//! - `store`: where the registry is kept (memory, a file, a `Storage`).

mod index;
mod operation;
mod store;

pub use operation::Operation;
pub use store::{Storage, Store, REGISTRY_FILE};

use std::collections::VecDeque;
use std::time::Instant;

use libprocess::{Context, Pid, Process, Runtime};
use mesos_proto::internal::Registry;
use mesos_proto::mesos::MasterInfo;

use crate::error::MasterError;
use index::{IndexedRegistry, Journal};

/// What an operation's caller is told once it is stored (or refused).
type Done = Box<dyn FnOnce(Result<bool, MasterError>) + Send>;

/// An operation waiting for its batch, with whom to tell. Dropped
/// unanswered (the registrar terminated), it answers `RegistrarGone`.
struct Pending {
    operation: Operation,
    done: Option<Done>,
}

impl Pending {
    fn complete(mut self, result: Result<bool, MasterError>) {
        if let Some(done) = self.done.take() {
            done(result);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done(Err(MasterError::RegistrarGone));
        }
    }
}

/// A batch being stored: its operations with their results, and how to
/// undo it if the store fails.
struct Batch {
    applied: Vec<(Pending, Result<bool, String>)>,
    journal: Journal,
    started: Instant,
}

/// The registrar process: holds the current registry and its store.
pub struct Registrar {
    registry: IndexedRegistry,
    store: Store,
    /// Operations that arrived while a store was in flight.
    pending: VecDeque<Pending>,
    storing: bool,
    /// Stores finished or failed since the registrar started (recovery's
    /// excluded).
    stores: u64,
}

impl Process for Registrar {}

impl Registrar {
    /// Reads the stored registry (the master's recovery), records
    /// `master` as the current master, and stores it back.
    pub fn recover(
        store: Store,
        master: &MasterInfo,
    ) -> Result<(Registrar, Registry), MasterError> {
        let started = Instant::now();
        let recovered = store.fetch()?;
        metrics::histogram!("registrar/state_fetch_ms")
            .record(started.elapsed().as_secs_f64() * 1000.0);
        let mut registry = IndexedRegistry::from(recovered.clone());
        registry.set_master(master);
        store.store_pieces(&registry.pieces())?;
        let registrar = Registrar {
            registry,
            store,
            pending: VecDeque::new(),
            storing: false,
            stores: 0,
        };
        Ok((registrar, recovered))
    }

    /// Queues an operation; starts a batch unless one is being stored.
    fn enqueue(&mut self, ctx: &mut Context<Registrar>, pending: Pending) {
        self.pending.push_back(pending);
        if !self.storing {
            self.update(ctx);
        }
    }

    /// Applies every queued operation, in order, and stores the result
    /// once; completes them at once if none changed anything.
    fn update(&mut self, ctx: &mut Context<Registrar>) {
        if self.pending.is_empty() {
            return;
        }
        let mut journal = Journal::default();
        let applied: Vec<_> = self
            .pending
            .drain(..)
            .map(|pending| {
                let result = pending.operation.perform(&mut self.registry, &mut journal);
                (pending, result)
            })
            .collect();
        if journal.is_empty() || self.store.is_in_memory() {
            complete(applied, Ok(()));
            return;
        }
        tracing::debug!(
            "applied {} registry operations; storing the registry",
            applied.len()
        );
        self.storing = true;
        let started = Instant::now();
        let pieces = self.registry.pieces();
        let store = self.store.clone();
        let batch = Batch {
            applied,
            journal,
            started,
        };
        ctx.defer(
            async move {
                tokio::task::spawn_blocking(move || store.store_pieces(&pieces))
                    .await
                    .unwrap_or_else(|e| {
                        Err(MasterError::RegistryRefused(format!(
                            "the registry store did not finish: {e}"
                        )))
                    })
            },
            move |registrar: &mut Registrar, ctx, stored| registrar.stored(ctx, batch, stored),
        );
    }

    /// A batch's store finished: complete its operations (undoing them
    /// all if the store failed), then store what queued up meanwhile.
    fn stored(
        &mut self,
        ctx: &mut Context<Registrar>,
        batch: Batch,
        stored: Result<(), MasterError>,
    ) {
        self.storing = false;
        self.stores += 1;
        metrics::histogram!("registrar/state_store_ms")
            .record(batch.started.elapsed().as_secs_f64() * 1000.0);
        if let Err(error) = &stored {
            tracing::error!("failed to update the registry: {error}");
            self.registry.undo(batch.journal);
        }
        complete(batch.applied, stored);
        self.update(ctx);
    }
}

/// Tells each operation of a batch its result, in order: its own refusal,
/// or the store's failure, or whether it changed the registry.
fn complete(applied: Vec<(Pending, Result<bool, String>)>, stored: Result<(), MasterError>) {
    for (pending, result) in applied {
        let result = match (result, &stored) {
            (Err(refused), _) => Err(MasterError::RegistryRefused(refused)),
            (Ok(_), Err(MasterError::Registry { path, reason })) => Err(MasterError::Registry {
                path: path.clone(),
                reason: reason.clone(),
            }),
            (Ok(_), Err(other)) => Err(MasterError::RegistryRefused(other.to_string())),
            (Ok(changed), Ok(())) => Ok(changed),
        };
        pending.complete(result);
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
        let pid = runtime.spawn(&id, registrar)?;
        libprocess::metrics::pull_gauge("registrar/queued_operations", &pid, |r: &Registrar| {
            r.pending.len() as f64
        });
        libprocess::metrics::pull_gauge("registrar/registry_size_bytes", &pid, |r: &Registrar| {
            r.registry.encoded_len() as f64
        });
        Ok(RegistrarHandle { pid })
    }

    /// Applies `operation` and stores the result. Resolves to whether the
    /// registry changed, or why it could not be applied (then nothing
    /// changed).
    pub fn apply(
        &self,
        operation: Operation,
    ) -> impl std::future::Future<Output = Result<bool, MasterError>> + Send + 'static {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.apply_then(operation, move |result| {
            let _ = tx.send(result);
        });
        async move { rx.await.unwrap_or(Err(MasterError::RegistrarGone)) }
    }

    /// Applies `operation` and calls `done` with what `apply` resolves to,
    /// from the registrar: operations applied one after the other are
    /// answered in that order (posting into the caller's process from
    /// `done` keeps that order, which separate futures do not promise).
    pub fn apply_then(
        &self,
        operation: Operation,
        done: impl FnOnce(Result<bool, MasterError>) + Send + 'static,
    ) {
        let pending = Pending {
            operation,
            done: Some(Box::new(done)),
        };
        // If the registrar is gone, dropping `pending` answers it.
        self.pid
            .post(move |registrar: &mut Registrar, ctx| registrar.enqueue(ctx, pending));
    }

    /// The current registry, with the changes of a batch being stored.
    pub fn registry(
        &self,
    ) -> impl std::future::Future<Output = Result<Registry, MasterError>> + Send + 'static {
        let registry = self
            .pid
            .dispatch(|r: &mut Registrar, _| r.registry.to_registry());
        async move { registry.await.map_err(|_| MasterError::RegistrarGone) }
    }

    /// How many stores the registrar has finished (or failed) since it
    /// started: one per batch that changed something, with a durable
    /// store.
    pub fn stores(
        &self,
    ) -> impl std::future::Future<Output = Result<u64, MasterError>> + Send + 'static {
        let stores = self.pid.dispatch(|r: &mut Registrar, _| r.stores);
        async move { stores.await.map_err(|_| MasterError::RegistrarGone) }
    }

    /// Terminates the registrar.
    pub fn terminate(&self) {
        self.pid.terminate();
    }
}
