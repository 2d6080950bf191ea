//! The executor driver: the `Executor` trait an executor implements, the
//! `ExecutorDriver` handle its callbacks use, and `MesosExecutorDriver`,
//! which starts the libprocess runtime and the process that talks to the
//! agent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use bytes::Bytes;
use libprocess::{Config, Pid, Runtime};
use mesos_proto::mesos::{
    ExecutorInfo, FrameworkInfo, SlaveInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};

use crate::env::ExecutorEnv;
use crate::error::{Error, Result};
use crate::process::ExecutorProcess;

/// Where a driver stands, as Mesos's `Status` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverStatus {
    /// Created, not started.
    NotStarted,
    /// Started and not yet stopped or aborted.
    Running,
    /// Aborted (by `abort`, an error, or the agent going away for good).
    Aborted,
    /// Stopped by `stop`.
    Stopped,
}

/// What an executor implements. Callbacks run one at a time on the
/// driver's process, in the order the agent's messages arrived; they
/// must not block for long. Use `driver` to answer.
pub trait Executor: Send + 'static {
    /// The executor registered with the agent.
    fn registered(
        &mut self,
        _driver: &ExecutorDriver,
        _executor_info: ExecutorInfo,
        _framework_info: FrameworkInfo,
        _slave_info: SlaveInfo,
    ) {
    }

    /// The executor re-registered with a restarted agent.
    fn reregistered(&mut self, _driver: &ExecutorDriver, _slave_info: SlaveInfo) {}

    /// The agent went away; a checkpointing framework's executor waits
    /// for it to come back (`reregistered`) until the recovery timeout.
    fn disconnected(&mut self, _driver: &ExecutorDriver) {}

    /// Run `task`; report its progress with `send_status_update`.
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo);

    /// Kill the task; report its end with a terminal status update.
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: TaskId);

    /// The framework sent `data`.
    fn framework_message(&mut self, _driver: &ExecutorDriver, _data: Bytes) {}

    /// The agent asks the executor to end all its tasks and exit. Unless
    /// it runs in the agent's own OS process, the executor's process group
    /// is killed after the shutdown grace period.
    fn shutdown(&mut self, _driver: &ExecutorDriver) {}

    /// The driver hit an unrecoverable error and is aborting.
    fn error(&mut self, _driver: &ExecutorDriver, _message: &str) {}
}

/// State the driver handle and the process share.
pub(crate) struct Shared {
    status: Mutex<DriverStatus>,
    changed: Condvar,
    /// Set once aborted or shut down: the process ignores every message
    /// from then on, as Mesos's driver does.
    pub(crate) aborted: AtomicBool,
}

impl Shared {
    pub(crate) fn status(&self) -> DriverStatus {
        *self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_status(&self, status: DriverStatus) {
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
        self.changed.notify_all();
    }

    fn wait_while_running(&self) -> DriverStatus {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        while *status == DriverStatus::Running {
            status = self.changed.wait(status).unwrap_or_else(|e| e.into_inner());
        }
        *status
    }
}

/// The handle executors use to talk to their agent. Cheap to clone;
/// usable from any thread.
#[derive(Clone)]
pub struct ExecutorDriver {
    pub(crate) pid: Pid<ExecutorProcess>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) runtime: Runtime,
}

impl ExecutorDriver {
    /// Sends `status` to the agent, which forwards it reliably to the
    /// framework. The driver fills in the ids, timestamp and UUID and
    /// resends it after an agent restart until acknowledged. Sending
    /// `TASK_STAGING` is an error that aborts the driver, as in Mesos.
    pub fn send_status_update(&self, status: TaskStatus) -> DriverStatus {
        let current = self.shared.status();
        if current != DriverStatus::Running {
            return current;
        }
        if status.state == TaskState::TaskStaging as i32 {
            let message = "attempted to send TASK_STAGING status update".to_string();
            self.pid
                .post(move |process, ctx| process.fail(ctx, &message));
            return self.abort();
        }
        self.pid
            .post(move |process, ctx| process.send_status_update(ctx, status));
        current
    }

    /// Sends `data` to the framework's scheduler (best effort).
    pub fn send_framework_message(&self, data: Bytes) -> DriverStatus {
        let current = self.shared.status();
        if current == DriverStatus::Running {
            self.pid
                .post(move |process, ctx| process.send_framework_message(ctx, data));
        }
        current
    }

    /// Stops the driver: `join` returns. The executor process exits when
    /// its `main` returns.
    pub fn stop(&self) -> DriverStatus {
        let current = self.shared.status();
        if current != DriverStatus::Running && current != DriverStatus::Aborted {
            return current;
        }
        let aborted = current == DriverStatus::Aborted;
        self.pid.terminate();
        let status = if aborted {
            DriverStatus::Aborted
        } else {
            DriverStatus::Stopped
        };
        self.shared.set_status(status);
        status
    }

    /// Aborts the driver: no callback runs from now on and `join`
    /// returns `Aborted`.
    pub fn abort(&self) -> DriverStatus {
        let current = self.shared.status();
        if current != DriverStatus::Running {
            return current;
        }
        self.shared.aborted.store(true, Ordering::SeqCst);
        self.shared.set_status(DriverStatus::Aborted);
        DriverStatus::Aborted
    }

    /// Where the driver stands.
    pub fn status(&self) -> DriverStatus {
        self.shared.status()
    }

    /// The runtime the driver runs on: executors may spawn their own
    /// processes and timers on it.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }
}

/// Mesos's `MesosExecutorDriver`: owns the executor until `start`, then
/// the runtime the executor's process lives on.
pub struct MesosExecutorDriver {
    executor: Option<Box<dyn Executor>>,
    env: Option<ExecutorEnv>,
    config: Option<Config>,
    shared: Arc<Shared>,
    handle: Option<ExecutorDriver>,
}

impl MesosExecutorDriver {
    /// A driver for `executor` that reads its settings from the
    /// environment (`MESOS_*`, `LIBPROCESS_*`) when started.
    pub fn new(executor: impl Executor) -> MesosExecutorDriver {
        MesosExecutorDriver {
            executor: Some(Box::new(executor)),
            env: None,
            config: None,
            shared: Arc::new(Shared {
                status: Mutex::new(DriverStatus::NotStarted),
                changed: Condvar::new(),
                aborted: AtomicBool::new(false),
            }),
            handle: None,
        }
    }

    /// A driver with explicit settings instead of the environment
    /// (tests, embedding).
    pub fn with_settings(
        executor: impl Executor,
        env: ExecutorEnv,
        config: Config,
    ) -> MesosExecutorDriver {
        let mut driver = MesosExecutorDriver::new(executor);
        driver.env = Some(env);
        driver.config = Some(config);
        driver
    }

    /// Starts the runtime and registers with the agent.
    pub fn start(&mut self) -> Result<DriverStatus> {
        if self.shared.status() != DriverStatus::NotStarted {
            return Err(Error::DriverState("already started"));
        }
        let env = match self.env.take() {
            Some(env) => env,
            None => ExecutorEnv::from_env()?,
        };
        let config = match self.config.take() {
            Some(config) => config,
            None => Config::from_env()?,
        };
        let executor = self
            .executor
            .take()
            .ok_or(Error::DriverState("without an executor"))?;
        let runtime = Runtime::start(config)?;
        self.shared.set_status(DriverStatus::Running);
        let id = runtime.generate_id("executor");
        let process = ExecutorProcess::new(executor, env, self.shared.clone());
        let pid = runtime.spawn(&id, process)?;
        self.handle = Some(ExecutorDriver {
            pid,
            shared: self.shared.clone(),
            runtime,
        });
        Ok(DriverStatus::Running)
    }

    /// Waits until the driver is stopped or aborted.
    pub fn join(&self) -> DriverStatus {
        if self.shared.status() == DriverStatus::NotStarted {
            return DriverStatus::NotStarted;
        }
        self.shared.wait_while_running()
    }

    /// `start` then `join`.
    pub fn run(&mut self) -> Result<DriverStatus> {
        self.start()?;
        Ok(self.join())
    }

    /// The handle callbacks get, once started.
    pub fn handle(&self) -> Option<&ExecutorDriver> {
        self.handle.as_ref()
    }

    /// See [`ExecutorDriver::stop`].
    pub fn stop(&self) -> DriverStatus {
        match &self.handle {
            Some(handle) => handle.stop(),
            None => self.shared.status(),
        }
    }

    /// See [`ExecutorDriver::abort`].
    pub fn abort(&self) -> DriverStatus {
        match &self.handle {
            Some(handle) => handle.abort(),
            None => self.shared.status(),
        }
    }

    /// See [`ExecutorDriver::send_status_update`].
    pub fn send_status_update(&self, status: TaskStatus) -> DriverStatus {
        match &self.handle {
            Some(handle) => handle.send_status_update(status),
            None => self.shared.status(),
        }
    }

    /// See [`ExecutorDriver::send_framework_message`].
    pub fn send_framework_message(&self, data: Bytes) -> DriverStatus {
        match &self.handle {
            Some(handle) => handle.send_framework_message(data),
            None => self.shared.status(),
        }
    }
}

impl Drop for MesosExecutorDriver {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.runtime.shutdown();
        }
    }
}
