//! The runtime: one listening socket per OS process (or per test node),
//! the processes it hosts, and delivery of messages to them, locally or
//! over the network.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::oneshot;

use crate::builtin;
use crate::clock::Clock;
use crate::config::Config;
use crate::connection::Connections;
use crate::error::Error;
use crate::mailbox::{self, Mailbox, Slot};
use crate::message::Message;
use crate::process::{Pid, Process};
use crate::server;
use crate::testing::Filters;
use crate::upid::UPID;

/// How long `shutdown` waits for processes to finish their queues, and then
/// for connections to write theirs.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A running runtime. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    address: SocketAddr,
    bound: SocketAddr,
    config: Config,
    processes: RwLock<HashMap<Arc<str>, Arc<dyn Slot>>>,
    /// Local process id → the local processes linked to it.
    linkers: Mutex<HashMap<Arc<str>, Vec<UPID>>>,
    delegate: RwLock<Option<String>>,
    generated_ids: Mutex<HashMap<String, u64>>,
    clock: Clock,
    connections: Connections,
    tasks: tokio::runtime::Handle,
    /// The runtime serving readers (see `Config::reader_threads`).
    readers: Option<tokio::runtime::Handle>,
    stop: Mutex<Option<Stop>>,
    filters: RwLock<Option<Arc<Filters>>>,
}

struct Stop {
    tokio: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    /// The readers' runtime, when there is one.
    readers: Option<(oneshot::Sender<()>, std::thread::JoinHandle<()>)>,
    /// The accept loop, which owns the listening socket.
    server: tokio::task::JoinHandle<()>,
}

impl Runtime {
    /// Binds the listening socket, starts the threads that run processes
    /// and serve HTTP (the same threads), and spawns the built-in processes (`__processes__`,
    /// `metrics`, `help`, `system`, `logging`).
    pub fn start(config: Config) -> Result<Runtime, Error> {
        let listener =
            std::net::TcpListener::bind(config.bind_address()).map_err(|source| Error::Bind {
                address: config.bind_address(),
                source,
            })?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::Start(e.to_string()))?;
        let address = config.advertised_address(bound.port());

        listener
            .set_nonblocking(true)
            .map_err(|e| Error::Start(e.to_string()))?;
        let (tasks, tokio_stop, tokio_thread) =
            start_tokio(config.worker_threads, "libprocess", None)?;
        let (readers, readers_stop) = match config.reader_threads {
            0 => (None, None),
            n => {
                let (handle, stop, thread) =
                    start_tokio(n, "lp-reader", Some(crate::config::READER_NICE))?;
                (Some(handle), Some((stop, thread)))
            }
        };
        let listener = {
            let _entered = tasks.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|e| Error::Start(e.to_string()))?
        };
        let inner = Arc::new(Inner {
            address,
            bound,
            config: config.clone(),
            processes: RwLock::new(HashMap::new()),
            linkers: Mutex::new(HashMap::new()),
            delegate: RwLock::new(None),
            generated_ids: Mutex::new(HashMap::new()),
            clock: Clock::new(),
            connections: Connections::default(),
            tasks,
            readers,
            stop: Mutex::new(None),
            filters: RwLock::new(None),
        });
        let runtime = Runtime { inner };
        runtime.spawn_task(runtime.inner.clock.clone().run());

        let server = runtime.spawn_handle(server::serve(runtime.clone(), listener));
        *runtime.inner.stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(Stop {
            tokio: tokio_stop,
            thread: tokio_thread,
            readers: readers_stop,
            server,
        });
        crate::metrics::install();
        builtin::spawn_all(&runtime)?;
        Ok(runtime)
    }

    /// The address peers reach this runtime at (what goes in its UPIDs).
    pub fn address(&self) -> SocketAddr {
        self.inner.address
    }

    /// The address the listening socket is bound to.
    pub fn bound_address(&self) -> SocketAddr {
        self.inner.bound
    }

    /// The settings the runtime was started with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The runtime's clock, which every timer goes through.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The UPID process `id` would have here.
    pub fn upid(&self, id: &str) -> UPID {
        UPID::new(id, self.inner.address)
    }

    /// A fresh id `prefix(N)`, N counting from 1 per prefix, as libprocess
    /// names `slave(1)`, `slave(2)`.
    pub fn generate_id(&self, prefix: &str) -> String {
        let mut ids = self
            .inner
            .generated_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let n = ids.entry(prefix.to_string()).or_insert(0);
        *n += 1;
        format!("{prefix}({n})")
    }

    /// Starts `process` under `id`. Fails if the id is taken or cannot be
    /// addressed.
    pub fn spawn<P: Process>(&self, id: &str, process: P) -> Result<Pid<P>, Error> {
        if id.is_empty()
            || id
                .chars()
                .any(|c| c == '/' || c == '@' || c.is_whitespace())
        {
            return Err(Error::InvalidId(id.to_string()));
        }
        let mailbox = Arc::new(Mailbox::<P>::new(self.upid(id)));
        {
            let mut processes = self.processes_mut();
            if processes.contains_key(id) {
                return Err(Error::DuplicateId(id.to_string()));
            }
            processes.insert(Arc::from(id), mailbox.clone() as Arc<dyn Slot>);
        }
        self.spawn_task(mailbox::run(process, mailbox.clone(), self.clone()));
        Ok(Pid { mailbox })
    }

    /// Sends requests for unknown processes (and for `/`) to process `id`,
    /// as the master is the delegate of its OS process.
    pub fn set_delegate(&self, id: &str) {
        *self
            .inner
            .delegate
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(id.to_string());
    }

    pub(crate) fn delegate(&self) -> Option<String> {
        self.inner
            .delegate
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The test hooks of this runtime (installed on first use): await or
    /// drop messages on their way to this runtime's processes.
    pub fn filters(&self) -> Arc<Filters> {
        if let Some(filters) = self
            .inner
            .filters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return filters.clone();
        }
        self.inner
            .filters
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Default::default)
            .clone()
    }

    /// Delivers `message` to local process `slot`, unless a test filter
    /// drops it. Returns false when it was not queued.
    pub(crate) fn deliver_local(&self, slot: &dyn Slot, message: Message) -> bool {
        if let Some(filters) = self
            .inner
            .filters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            if !filters.admit(&message) {
                return true;
            }
        }
        slot.deliver(message)
    }

    /// Sends `message`: straight into the mailbox when the receiver lives
    /// in this runtime, otherwise over the persistent connection to its
    /// address. Never blocks; delivery is not confirmed.
    pub fn send(&self, message: Message) {
        if self.is_local(&message.to) {
            match self.lookup(message.to.id()) {
                Some(slot) => {
                    self.deliver_local(&*slot, message);
                }
                None => tracing::debug!(
                    "dropping '{}' from {}: no process {}",
                    message.name,
                    message.from,
                    message.to
                ),
            }
        } else {
            self.inner.connections.send(self, message);
        }
    }

    /// Links `linker` (a local process) to `to`; see `Context::link`.
    pub(crate) fn link(&self, linker: &UPID, to: &UPID) {
        if self.is_local(to) {
            if self.lookup(to.id()).is_none() {
                self.deliver_exited(linker, to);
                return;
            }
            let mut linkers = self.inner.linkers.lock().unwrap_or_else(|e| e.into_inner());
            let list = linkers.entry(Arc::from(to.id())).or_default();
            if !list.contains(linker) {
                list.push(linker.clone());
            }
        } else {
            self.inner.connections.link(self, linker, to);
        }
    }

    /// Links `linker` to `to` over a fresh connection; see
    /// `Context::relink`.
    pub(crate) fn relink(&self, linker: &UPID, to: &UPID) {
        if self.is_local(to) {
            self.link(linker, to);
        } else {
            self.inner.connections.relink(self, linker, to);
        }
    }

    /// Tells local process `linker` that `gone` can no longer be reached.
    pub(crate) fn deliver_exited(&self, linker: &UPID, gone: &UPID) {
        if let Some(slot) = self.lookup(linker.id()) {
            slot.exited(gone.clone());
        }
    }

    fn is_local(&self, pid: &UPID) -> bool {
        pid.address() == self.inner.address || pid.address() == self.inner.bound
    }

    pub(crate) fn lookup(&self, id: &str) -> Option<Arc<dyn Slot>> {
        self.inner
            .processes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn processes_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Arc<str>, Arc<dyn Slot>>> {
        self.inner
            .processes
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets a terminated process and tells the processes linked to it.
    pub(crate) fn remove_process(&self, pid: &UPID) {
        self.processes_mut().remove(pid.id());
        let linkers = self
            .inner
            .linkers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(pid.id())
            .unwrap_or_default();
        for linker in linkers {
            self.deliver_exited(&linker, pid);
        }
        self.inner.connections.forget_linker(pid);
    }

    /// Every live process, as `/__processes__` lists them.
    pub(crate) fn describe_processes(&self) -> Vec<serde_json::Value> {
        let slots: Vec<Arc<dyn Slot>> = self
            .inner
            .processes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut described: Vec<serde_json::Value> = slots.iter().map(|s| s.describe()).collect();
        described.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        described
    }

    /// Every live process id with its routes and their help.
    pub(crate) fn routes(&self) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
        let slots: Vec<Arc<dyn Slot>> = self
            .inner
            .processes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut routes: Vec<_> = slots
            .iter()
            .map(|s| (s.pid().id().to_string(), s.routes()))
            .collect();
        routes.sort();
        routes
    }

    /// Runs `future` on the runtime's threads.
    pub fn spawn_task(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.inner.tasks.spawn(future);
    }

    pub(crate) fn spawn_handle(
        &self,
        future: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.inner.tasks.spawn(future)
    }

    /// Runs `future` on the runtime's threads and waits for it from
    /// synchronous code (not from inside the runtime's own tasks).
    pub fn block_on<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        self.spawn_task(async move {
            let _ = tx.send(future.await);
        });
        rx.recv()
            .expect("the runtime stopped while blocking on a future")
    }

    /// Stops the runtime gracefully: every process handles what was queued
    /// for it before being told to terminate, then finalizes; every
    /// connection writes what was sent on it; then serving stops and the
    /// threads end. Each wait is bounded by `SHUTDOWN_GRACE`, after which
    /// what is left is dropped. Call it from outside the runtime's own
    /// tasks: it waits for their threads to end.
    pub fn shutdown(&self) {
        let Some(stop) = self
            .inner
            .stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        let slots: Vec<Arc<dyn Slot>> = self.processes_mut().values().cloned().collect();
        let runtime = self.clone();
        let server = stop.server;
        self.block_on(async move {
            let ended: Vec<_> = slots
                .iter()
                .map(|slot| {
                    slot.terminate_after_queued();
                    slot.terminated()
                })
                .collect();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, futures::future::join_all(ended)).await;
            runtime.inner.connections.drain(SHUTDOWN_GRACE).await;
            // Close the listening socket before returning, so that the port
            // can be bound again at once (a restarted master, say).
            server.abort();
            let _ = server.await;
        });
        let _ = stop.tokio.send(());
        let _ = stop.thread.join();
        if let Some((readers, thread)) = stop.readers {
            let _ = readers.send(());
            let _ = thread.join();
        }
    }

    /// Where reader connections are served, if not on the worker threads.
    pub(crate) fn readers(&self) -> Option<&tokio::runtime::Handle> {
        self.inner.readers.as_ref()
    }

    /// The peer addresses this runtime holds an outgoing connection to.
    pub fn connected_peers(&self) -> Vec<SocketAddr> {
        self.inner.connections.addresses()
    }

    pub(crate) fn connections(&self) -> &Connections {
        &self.inner.connections
    }
}

/// Starts a multi-threaded tokio runtime on a thread of its own that owns
/// it, so that it can be stopped (and dropped) from anywhere; its worker
/// threads are named `name` and run at `nice` when given.
fn start_tokio(
    workers: usize,
    name: &'static str,
    nice: Option<i32>,
) -> Result<
    (
        tokio::runtime::Handle,
        oneshot::Sender<()>,
        std::thread::JoinHandle<()>,
    ),
    Error,
> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(workers.max(1))
        .thread_name(name)
        .enable_all();
    if let Some(nice) = nice {
        builder.on_thread_start(move || set_own_nice(nice));
    }
    let runtime = builder.build().map_err(|e| Error::Start(e.to_string()))?;
    let handle = runtime.handle().clone();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("{name}-owner"))
        .spawn(move || {
            runtime.block_on(async {
                let _ = stop_rx.await;
            });
            // `Runtime::shutdown` has already drained what matters; blocking
            // tasks (a fetch, a read of stdin) must not hold the exit up.
            runtime.shutdown_background();
        })
        .map_err(|e| Error::Start(e.to_string()))?;
    Ok((handle, stop_tx, thread))
}

/// Sets the calling thread's nice value (not the whole process's, as
/// `setpriority` on a thread id does on Linux): how the reader threads
/// run at [`READER_NICE`](crate::READER_NICE), and any other thread that
/// serves readers can. Failing (no permission to change it) leaves the
/// thread as it was, which only costs priority.
pub fn set_own_nice(nice: i32) {
    // SAFETY: gettid has no preconditions; setpriority on our own thread
    // id changes that thread's nice value and nothing else.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice);
    }
}
