//! `SchedulerDriver`, the operations a framework calls, and
//! `MesosSchedulerDriver`, the handle that runs them on the driver's
//! libprocess process.
//!
//! The handle keeps the driver's `Status` and enforces its transitions
//! exactly as libmesos does: operations only act while `DRIVER_RUNNING`
//! and otherwise return the current status unchanged; `stop` and `abort`
//! wake `join`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use bytes::Bytes;
use libprocess::{Config, Pid, Runtime};
use mesos_proto::mesos::{
    offer, Credential, ExecutorId, Filters, FrameworkInfo, OfferId, Request, SlaveId, Status,
    TaskId, TaskInfo, TaskStatus,
};
use mesos_proto::scheduler::OfferConstraints;

use crate::config::DriverConfig;
use crate::detector;
use crate::process::{SchedulerProcess, Setup};
use crate::scheduler::Scheduler;

/// The operations of Mesos's `SchedulerDriver`. Each returns the driver's
/// status: `DRIVER_RUNNING` when the operation was taken, otherwise the
/// status that kept it from being taken. Operations are asynchronous:
/// they are sent once the driver's process gets to them, and dropped
/// (with a log line) while the driver is disconnected from the master.
pub trait SchedulerDriver: Send + Sync {
    /// Starts the driver: detects the master and registers with it.
    fn start(&self) -> Status;
    /// Stops the driver. Without `failover` the framework is torn down at
    /// the master (its tasks are killed); with it the master keeps the
    /// framework for its `failover_timeout`, for a new scheduler instance
    /// to take over with the same framework id.
    fn stop(&self, failover: bool) -> Status;
    /// Stops talking to the master without tearing the framework down (the
    /// master deactivates it); `join` returns. `stop` may follow.
    fn abort(&self) -> Status;
    /// Blocks until the driver is stopped or aborted. Never call it from a
    /// scheduler callback.
    fn join(&self) -> Status;
    /// `start` then `join`.
    fn run(&self) -> Status;
    /// Asks the allocator for resources (advisory).
    fn request_resources(&self, requests: &[Request]) -> Status;
    /// Launches `tasks` on the resources of `offer_ids` (all from one
    /// agent); what is left of the offers is declined with `filters`.
    fn launch_tasks(&self, offer_ids: &[OfferId], tasks: &[TaskInfo], filters: &Filters) -> Status;
    /// Applies `operations` to `offer_ids`. Operations must not set `id`
    /// (the driver cannot deliver operation status updates).
    fn accept_offers(
        &self,
        offer_ids: &[OfferId],
        operations: &[offer::Operation],
        filters: &Filters,
    ) -> Status;
    /// Declines `offer_id`; `filters` say for how long not to re-offer it.
    fn decline_offer(&self, offer_id: &OfferId, filters: &Filters) -> Status;
    /// Kills task `task_id`.
    fn kill_task(&self, task_id: &TaskId) -> Status;
    /// Removes offer filters and un-suppresses `roles` (all roles if empty).
    fn revive_offers(&self, roles: &[String]) -> Status;
    /// Stops offers for `roles` (all of the framework's roles if empty).
    fn suppress_offers(&self, roles: &[String]) -> Status;
    /// Acknowledges `status` (explicit acknowledgements only). Updates
    /// without a `uuid` need none and are ignored.
    fn acknowledge_status_update(&self, status: &TaskStatus) -> Status;
    /// Sends `data` to executor `executor_id` on `slave_id` (best effort).
    fn send_framework_message(
        &self,
        executor_id: &ExecutorId,
        slave_id: &SlaveId,
        data: &[u8],
    ) -> Status;
    /// Asks the master for the state of the tasks in `statuses` (of every
    /// task it knows for the framework when empty); answers arrive as
    /// status updates.
    fn reconcile_tasks(&self, statuses: &[TaskStatus]) -> Status;
    /// Replaces the framework's `FrameworkInfo` (same id), suppressed
    /// roles and offer constraints, at the master too.
    fn update_framework(
        &self,
        framework: &FrameworkInfo,
        suppressed_roles: &[String],
        offer_constraints: &OfferConstraints,
    ) -> Status;
}

/// The scheduler driver: runs a `Scheduler` against a Mesos master over
/// libprocess. Cheap to clone; clones are handles to the same driver,
/// usable from any thread and from inside callbacks.
///
/// Dropping the last handle terminates the driver's process and, if the
/// driver started its own libprocess runtime, shuts that down.
#[derive(Clone)]
pub struct MesosSchedulerDriver {
    inner: Arc<Inner>,
}

/// What is needed to build a driver beyond the defaults of
/// [`MesosSchedulerDriver::new`].
pub struct DriverBuilder {
    scheduler: Box<dyn Scheduler>,
    framework: FrameworkInfo,
    master: String,
    implicit_acknowledgements: bool,
    credential: Option<Credential>,
    suppressed_roles: Vec<String>,
    runtime: Option<Runtime>,
    config: Option<DriverConfig>,
}

impl DriverBuilder {
    /// Whether the driver acknowledges status updates itself once
    /// `status_update` returns (default true).
    pub fn implicit_acknowledgements(mut self, implicit: bool) -> DriverBuilder {
        self.implicit_acknowledgements = implicit;
        self
    }

    /// The credential to authenticate with. Authentication is not built
    /// yet: the credential is kept (and its principal is the framework's
    /// if that has none) but the driver registers without authenticating.
    pub fn credential(mut self, credential: Credential) -> DriverBuilder {
        self.credential = Some(credential);
        self
    }

    /// Roles to register with offers suppressed.
    pub fn suppressed_roles(mut self, roles: Vec<String>) -> DriverBuilder {
        self.suppressed_roles = roles;
        self
    }

    /// Runs the driver's process in `runtime` instead of starting a
    /// runtime of its own from the `LIBPROCESS_*` environment (tests and
    /// `mesos-local` share one runtime this way).
    pub fn runtime(mut self, runtime: Runtime) -> DriverBuilder {
        self.runtime = Some(runtime);
        self
    }

    /// Uses `config` instead of reading the `MESOS_*` environment.
    pub fn config(mut self, config: DriverConfig) -> DriverBuilder {
        self.config = Some(config);
        self
    }

    /// The driver, not started yet.
    pub fn build(self) -> MesosSchedulerDriver {
        let mut framework = self.framework;
        fill_missing_framework_fields(&mut framework);
        let scheduler_id = format!("scheduler-{}", uuid::Uuid::new_v4());
        let shared = Arc::new(Shared {
            running: AtomicBool::new(false),
            done: Mutex::new(false),
            done_changed: Condvar::new(),
        });
        MesosSchedulerDriver {
            inner: Arc::new(Inner {
                master: self.master,
                implicit_acknowledgements: self.implicit_acknowledgements,
                scheduler_id,
                shared,
                state: Mutex::new(State {
                    status: Status::DriverNotStarted,
                    process: None,
                    framework: framework.clone(),
                    pending: Some(Pending {
                        scheduler: self.scheduler,
                        framework,
                        credential: self.credential,
                        suppressed_roles: self.suppressed_roles,
                    }),
                    runtime: self.runtime.map(|r| (r, false)),
                    config: self.config,
                }),
            }),
        }
    }
}

/// How the driver's process refers back to its driver without keeping
/// it alive.
pub(crate) type DriverRef = Weak<Inner>;

/// What the driver's process and its handles share: whether events are
/// still handled, and the latch `join` waits on.
pub(crate) struct Shared {
    pub(crate) running: AtomicBool,
    done: Mutex<bool>,
    done_changed: Condvar,
}

impl Shared {
    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Wakes `join`: the driver was stopped or aborted.
    pub(crate) fn trigger(&self) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.done_changed.notify_all();
    }

    fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = self
                .done_changed
                .wait(done)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The driver's state behind its handles.
pub(crate) struct Inner {
    master: String,
    implicit_acknowledgements: bool,
    scheduler_id: String,
    shared: Arc<Shared>,
    state: Mutex<State>,
}

struct State {
    status: Status,
    process: Option<Pid<SchedulerProcess>>,
    /// The latest `FrameworkInfo` given (for `update_framework`).
    framework: FrameworkInfo,
    /// What `start` hands to the process.
    pending: Option<Pending>,
    /// The runtime, and whether the driver started (and so owns) it.
    runtime: Option<(Runtime, bool)>,
    config: Option<DriverConfig>,
}

struct Pending {
    scheduler: Box<dyn Scheduler>,
    framework: FrameworkInfo,
    credential: Option<Credential>,
    suppressed_roles: Vec<String>,
}

impl MesosSchedulerDriver {
    /// A driver for `scheduler` registering `framework` with the master
    /// at `master` (`host:port`, `master@host:port` or `file:///path`),
    /// with implicit acknowledgements and no credential. An empty
    /// `framework.user` becomes the current user, an empty hostname this
    /// host's name.
    pub fn new(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        master: impl Into<String>,
    ) -> MesosSchedulerDriver {
        MesosSchedulerDriver::builder(scheduler, framework, master).build()
    }

    /// A builder for a driver with other settings than `new`'s.
    pub fn builder(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        master: impl Into<String>,
    ) -> DriverBuilder {
        DriverBuilder {
            scheduler: Box::new(scheduler),
            framework,
            master: master.into(),
            implicit_acknowledgements: true,
            credential: None,
            suppressed_roles: Vec::new(),
            runtime: None,
            config: None,
        }
    }

    /// The driver's current status.
    pub fn status(&self) -> Status {
        self.state().status
    }

    /// The UPID of the driver's process (`scheduler-<uuid>@ip:port`),
    /// once started.
    pub fn pid(&self) -> Option<libprocess::UPID> {
        self.state().process.as_ref().map(|p| p.upid().clone())
    }

    /// The libprocess runtime the driver runs in, once started.
    pub fn runtime(&self) -> Option<Runtime> {
        self.state().runtime.as_ref().map(|(r, _)| r.clone())
    }

    /// A handle from the weak reference the driver's process holds; none
    /// once every handle is gone.
    pub(crate) fn from_weak(weak: &DriverRef) -> Option<MesosSchedulerDriver> {
        weak.upgrade().map(|inner| MesosSchedulerDriver { inner })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in the driver's process if the driver is running.
    fn dispatch(
        &self,
        f: impl FnOnce(&mut SchedulerProcess, &mut libprocess::Context<SchedulerProcess>)
            + Send
            + 'static,
    ) -> Status {
        let state = self.state();
        if state.status != Status::DriverRunning {
            return state.status;
        }
        if let Some(process) = &state.process {
            process.post(f);
        }
        state.status
    }

    /// Fails `start`: the driver is aborted and the scheduler hears why.
    fn fail_start(&self, mut state: MutexGuard<'_, State>, message: String) -> Status {
        tracing::error!("{message}");
        state.status = Status::DriverAborted;
        let pending = state.pending.take();
        drop(state);
        if let Some(mut pending) = pending {
            pending.scheduler.error(self, &message);
            self.state().pending = Some(pending);
        }
        Status::DriverAborted
    }
}

impl SchedulerDriver for MesosSchedulerDriver {
    fn start(&self) -> Status {
        let mut state = self.state();
        if state.status != Status::DriverNotStarted {
            return state.status;
        }
        let master = match detector::detect(&self.inner.master) {
            Ok(master) => master,
            Err(error) => {
                let message = format!(
                    "Failed to create a master detector for '{}': {error}",
                    self.inner.master
                );
                return self.fail_start(state, message);
            }
        };
        let config = match state.config.clone().map_or_else(DriverConfig::from_env, Ok) {
            Ok(config) => config,
            Err(error) => return self.fail_start(state, error.to_string()),
        };
        let runtime = match &state.runtime {
            Some((runtime, _)) => runtime.clone(),
            None => match Config::from_env().and_then(Runtime::start) {
                Ok(runtime) => {
                    state.runtime = Some((runtime.clone(), true));
                    runtime
                }
                Err(error) => {
                    let message = crate::Error::Runtime(error).to_string();
                    return self.fail_start(state, message);
                }
            },
        };
        if runtime.address().ip().is_loopback() && !master.pid.ip().is_loopback() {
            tracing::warn!(
                "scheduler driver bound to loopback interface: it cannot talk to master {}; \
                 set LIBPROCESS_IP to a routable address",
                master.pid
            );
        }
        let Some(pending) = state.pending.take() else {
            return state.status;
        };
        let setup = Setup {
            scheduler: pending.scheduler,
            framework: pending.framework,
            suppressed_roles: pending.suppressed_roles.into_iter().collect(),
            credential: pending.credential,
            implicit_acknowledgements: self.inner.implicit_acknowledgements,
            master,
            config,
            shared: self.inner.shared.clone(),
            driver: Arc::downgrade(&self.inner),
        };
        self.inner.shared.running.store(true, Ordering::SeqCst);
        match runtime.spawn(&self.inner.scheduler_id, SchedulerProcess::new(setup)) {
            Ok(pid) => {
                state.process = Some(pid);
                state.status = Status::DriverRunning;
                Status::DriverRunning
            }
            Err(error) => {
                self.inner.shared.running.store(false, Ordering::SeqCst);
                let message = crate::Error::Runtime(error).to_string();
                self.fail_start(state, message)
            }
        }
    }

    fn stop(&self, failover: bool) -> Status {
        let mut state = self.state();
        if state.status != Status::DriverRunning && state.status != Status::DriverAborted {
            return state.status;
        }
        if let Some(process) = &state.process {
            self.inner.shared.running.store(false, Ordering::SeqCst);
            let shared = self.inner.shared.clone();
            if !process.post(move |p, ctx| p.stop(ctx, failover)) {
                // The process is gone already; nobody else will wake join.
                shared.trigger();
            }
        }
        let aborted = state.status == Status::DriverAborted;
        state.status = Status::DriverStopped;
        if aborted {
            Status::DriverAborted
        } else {
            Status::DriverStopped
        }
    }

    fn abort(&self) -> Status {
        let mut state = self.state();
        if state.status != Status::DriverRunning {
            return state.status;
        }
        self.inner.shared.running.store(false, Ordering::SeqCst);
        if let Some(process) = &state.process {
            let shared = self.inner.shared.clone();
            if !process.post(|p, ctx| p.abort(ctx)) {
                shared.trigger();
            }
        }
        state.status = Status::DriverAborted;
        Status::DriverAborted
    }

    fn join(&self) -> Status {
        {
            let state = self.state();
            if state.process.is_none() {
                return state.status;
            }
        }
        self.inner.shared.wait();
        self.state().status
    }

    fn run(&self) -> Status {
        match self.start() {
            Status::DriverRunning => self.join(),
            other => other,
        }
    }

    fn request_resources(&self, requests: &[Request]) -> Status {
        let requests = requests.to_vec();
        self.dispatch(move |p, ctx| p.request_resources(ctx, &requests))
    }

    fn launch_tasks(&self, offer_ids: &[OfferId], tasks: &[TaskInfo], filters: &Filters) -> Status {
        let operation = crate::calls::launch(tasks);
        self.accept_offers(offer_ids, &[operation], filters)
    }

    fn accept_offers(
        &self,
        offer_ids: &[OfferId],
        operations: &[offer::Operation],
        filters: &Filters,
    ) -> Status {
        let (offer_ids, operations, filters) = (offer_ids.to_vec(), operations.to_vec(), *filters);
        self.dispatch(move |p, ctx| p.accept_offers(ctx, &offer_ids, &operations, &filters))
    }

    fn decline_offer(&self, offer_id: &OfferId, filters: &Filters) -> Status {
        let (offer_id, filters) = (offer_id.clone(), *filters);
        self.dispatch(move |p, ctx| p.decline_offer(ctx, &offer_id, &filters))
    }

    fn kill_task(&self, task_id: &TaskId) -> Status {
        let task_id = task_id.clone();
        self.dispatch(move |p, ctx| p.kill_task(ctx, &task_id))
    }

    fn revive_offers(&self, roles: &[String]) -> Status {
        let roles = roles.to_vec();
        self.dispatch(move |p, ctx| p.revive_offers(ctx, &roles))
    }

    fn suppress_offers(&self, roles: &[String]) -> Status {
        let roles = roles.to_vec();
        self.dispatch(move |p, ctx| p.suppress_offers(ctx, &roles))
    }

    fn acknowledge_status_update(&self, status: &TaskStatus) -> Status {
        if self.inner.implicit_acknowledgements {
            // libmesos aborts the whole program here; we refuse the call.
            let current = self.status();
            if current == Status::DriverRunning {
                tracing::error!(
                    "ignoring acknowledge_status_update for task '{}': \
                     implicit acknowledgements are enabled",
                    status.task_id.value
                );
            }
            return current;
        }
        let status = status.clone();
        self.dispatch(move |p, ctx| p.acknowledge_status_update(ctx, &status))
    }

    fn send_framework_message(
        &self,
        executor_id: &ExecutorId,
        slave_id: &SlaveId,
        data: &[u8],
    ) -> Status {
        let (executor_id, slave_id) = (executor_id.clone(), slave_id.clone());
        let data = Bytes::copy_from_slice(data);
        self.dispatch(move |p, ctx| p.send_framework_message(ctx, &executor_id, &slave_id, data))
    }

    fn reconcile_tasks(&self, statuses: &[TaskStatus]) -> Status {
        let statuses = statuses.to_vec();
        self.dispatch(move |p, ctx| p.reconcile_tasks(ctx, &statuses))
    }

    fn update_framework(
        &self,
        framework: &FrameworkInfo,
        suppressed_roles: &[String],
        offer_constraints: &OfferConstraints,
    ) -> Status {
        let mut framework = framework.clone();
        fill_missing_framework_fields(&mut framework);
        let roles: BTreeSet<String> = suppressed_roles.iter().cloned().collect();
        if roles.len() != suppressed_roles.len() {
            tracing::warn!("update_framework: duplicate suppressed roles given; using each once");
        }
        let constraints = offer_constraints.clone();
        let mut state = self.state();
        if state.status != Status::DriverRunning {
            return state.status;
        }
        state.framework = framework.clone();
        if let Some(process) = &state.process {
            process.post(move |p, ctx| p.update_framework(ctx, framework, roles, constraints));
        }
        state.status
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        let process = state.process.take();
        if let Some(process) = &process {
            // After what is queued, so a `stop` just asked for still runs.
            process.post(|_, ctx| ctx.terminate());
        }
        if let Some((runtime, true)) = state.runtime.take() {
            // Shutting down lets the driver's process finish what is queued
            // (a `stop`'s TEARDOWN) and writes it before the runtime ends.
            // It waits for the runtime's threads, which must not happen on
            // one of them (a callback dropping the last handle).
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || runtime.shutdown());
            } else {
                runtime.shutdown();
            }
        }
    }
}

/// Fills what libmesos fills in an incomplete `FrameworkInfo`: the current
/// user when `user` is empty, this host's name when `hostname` is.
pub fn fill_missing_framework_fields(framework: &mut FrameworkInfo) {
    if framework.user.is_empty() {
        framework.user = crate::user::current_user();
    }
    if framework.hostname.as_deref().unwrap_or("").is_empty() {
        framework.hostname = Some(libprocess::config::hostname());
    }
}
