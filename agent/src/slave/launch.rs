//! Launching an executor: its sandbox and checkpoints, the URI fetch,
//! and the fork (with the environment Mesos sets), or the failure that
//! ends its tasks.

use libprocess::Context;
use mesos_proto::mesos::{task_status::Reason, ExecutorInfo, TaskInfo, TaskState};

use super::types::{new_task, Executor, ExecutorPhase, PendingTermination};
use super::Slave;
use crate::containerizer::{self, environment::EnvironmentSpec};
use crate::state::checkpoint::{link_latest, write_record, write_text};

impl Slave {
    /// Creates the executor (REGISTERING) with `task` queued, makes its
    /// sandbox, checkpoints it, and fetches its URIs before forking it.
    pub(crate) fn launch_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        info: ExecutorInfo,
        command_executor: bool,
        task: TaskInfo,
    ) {
        let agent = self.id();
        let executor_id = info.executor_id.value.clone();
        let container_id = uuid::Uuid::new_v4().to_string();
        let directory = self
            .layout
            .sandbox(&agent, framework_id, &executor_id, &container_id);
        let checkpoint = self.frameworks[framework_id].checkpoint();
        let executor = Executor {
            id: executor_id.clone(),
            info: info.clone(),
            framework_id: framework_id.to_string(),
            container_id: container_id.clone(),
            directory: directory.clone(),
            phase: ExecutorPhase::Registering,
            pid: None,
            http: None,
            os_pid: None,
            command_executor,
            checkpoint,
            recovered: false,
            queued: vec![task.clone()],
            launched: Default::default(),
            terminated: Default::default(),
            completed: Default::default(),
            pending_termination: None,
            registration_timer: None,
            exit_status: None,
        };
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            framework.executors.insert(executor_id.clone(), executor);
        }
        tracing::info!(
            "launching executor '{executor_id}' of framework {framework_id} in '{}'",
            directory.display()
        );
        if let Err(error) = std::fs::create_dir_all(&directory) {
            let message = format!(
                "failed to create sandbox '{}': {error}",
                directory.display()
            );
            self.launch_failed(ctx, framework_id, &executor_id, &container_id, message);
            return;
        }
        if checkpoint {
            self.checkpoint_executor(framework_id, &executor_id);
            self.checkpoint_task(framework_id, &executor_id, &task);
        }
        if let Some(files) = &self.files {
            let dir = directory.clone();
            files.post(move |f, _| f.attach(dir));
        }
        let timeout = self.flags.executor_registration_timeout;
        let (fw, ex, cid) = (
            framework_id.to_string(),
            executor_id.clone(),
            container_id.clone(),
        );
        let timer = ctx.delay(timeout, move |p, ctx| {
            p.registration_timeout(ctx, &fw, &ex, &cid)
        });
        if let Some(e) = self.executor_mut(framework_id, &executor_id) {
            e.registration_timer = Some(timer);
        }

        let uris = info
            .command
            .as_ref()
            .map(|c| c.uris.clone())
            .unwrap_or_default();
        let (fw, ex, cid) = (framework_id.to_string(), executor_id, container_id);
        if uris.is_empty() {
            self.fork_executor(ctx, &fw, &ex, &cid);
            return;
        }
        let sandbox = directory;
        ctx.defer(
            async move {
                tokio::task::spawn_blocking(move || {
                    containerizer::fetcher::fetch_all(&uris, &sandbox)
                })
                .await
                .map_err(|e| crate::error::Error::Launch(e.to_string()))
                .and_then(|r| r)
            },
            move |p, ctx, result| match result {
                Ok(()) => p.fork_executor(ctx, &fw, &ex, &cid),
                Err(error) => p.launch_failed(ctx, &fw, &ex, &cid, error.to_string()),
            },
        );
    }

    fn checkpoint_executor(&self, framework_id: &str, executor_id: &str) {
        let Some(executor) = self.executor(framework_id, executor_id) else {
            return;
        };
        let agent = self.id();
        let dir = self.layout.executor_meta(&agent, framework_id, executor_id);
        let result = write_record(&dir.join("executor.info"), &executor.info).and_then(|_| {
            std::fs::create_dir_all(dir.join("runs").join(&executor.container_id))
                .map_err(|e| crate::error::Error::io("failed to create", &dir, e))?;
            link_latest(
                &dir.join("runs").join(crate::paths::LATEST),
                &executor.container_id,
            )
        });
        if let Err(error) = result {
            tracing::error!("failed to checkpoint executor '{executor_id}': {error}");
        }
    }

    /// Checkpoints `task` (as a STAGING `Task`) under its executor's run.
    pub(crate) fn checkpoint_task(&self, framework_id: &str, executor_id: &str, task: &TaskInfo) {
        let Some(executor) = self.executor(framework_id, executor_id) else {
            return;
        };
        let agent = self.id();
        let path = self
            .layout
            .task_meta(
                &agent,
                framework_id,
                executor_id,
                &executor.container_id,
                &task.task_id.value,
            )
            .join("task.info");
        let record = new_task(
            task,
            framework_id,
            executor_id,
            &agent,
            executor.command_executor,
        );
        if let Err(error) = write_record(&path, &record) {
            tracing::error!(
                "failed to checkpoint task '{}': {error}",
                task.task_id.value
            );
        }
    }

    /// Forks the executor process (URIs are in place).
    fn fork_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
    ) {
        let Some(executor) = self.executor(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id || executor.phase != ExecutorPhase::Registering {
            // Killed or shut down while fetching.
            return;
        }
        let user = executor
            .info
            .command
            .as_ref()
            .and_then(|c| c.user.clone())
            .or_else(|| {
                self.frameworks
                    .get(framework_id)
                    .map(|f| f.info.user.clone())
            })
            .unwrap_or_default();
        let run_as = if self.flags.switch_user {
            match containerizer::resolve_user(&user) {
                Ok(run_as) => run_as,
                Err(error) => {
                    let message = error.to_string();
                    self.launch_failed(ctx, framework_id, executor_id, container_id, message);
                    return;
                }
            }
        } else {
            None
        };
        let libprocess_ip = ctx.self_pid().ip();
        let env = containerizer::executor_environment(&EnvironmentSpec {
            executor: &executor.info,
            sandbox: &executor.directory,
            agent_id: &self.id(),
            agent_pid: ctx.self_pid(),
            checkpoint: executor.checkpoint,
            recovery_timeout: self.flags.recovery_timeout,
            shutdown_grace_period: self.grace_period(&executor.info),
            reregistration_timeout: self.flags.executor_reregistration_timeout,
            libprocess_ip: Some(libprocess_ip.to_string()),
        });
        if let Some(run_as) = &run_as {
            let _ = nix::unistd::chown(
                &executor.directory,
                Some(nix::unistd::Uid::from_raw(run_as.uid)),
                Some(nix::unistd::Gid::from_raw(run_as.gid)),
            );
        }
        let child =
            containerizer::launch(&executor.info, &executor.directory, &env, run_as.as_ref());
        let mut child = match child {
            Ok(child) => child,
            Err(error) => {
                let message = error.to_string();
                self.launch_failed(ctx, framework_id, executor_id, container_id, message);
                return;
            }
        };
        let os_pid = child.id().map(|p| p as i32);
        let checkpoint = executor.checkpoint;
        if let Some(e) = self.executor_mut(framework_id, executor_id) {
            e.os_pid = os_pid;
        }
        if checkpoint {
            if let Some(pid) = os_pid {
                let path = self
                    .layout
                    .run_meta(&self.id(), framework_id, executor_id, container_id)
                    .join("pids")
                    .join("forked.pid");
                if let Err(error) = write_text(&path, &pid.to_string()) {
                    tracing::error!("failed to checkpoint the executor pid: {error}");
                }
            }
        }
        let (fw, ex, cid) = (
            framework_id.to_string(),
            executor_id.to_string(),
            container_id.to_string(),
        );
        ctx.defer(
            async move { child.wait().await.ok() },
            move |p, ctx, status| {
                let raw = status.as_ref().map(mesos_executor::os::raw_wait_status);
                let text = status
                    .as_ref()
                    .map(mesos_executor::os::describe_exit)
                    .unwrap_or_else(|| "ended with unknown status".into());
                tracing::info!("executor '{ex}' of framework {fw} {text}");
                p.executor_exited(ctx, &fw, &ex, &cid, raw);
            },
        );
    }

    /// The container could not be launched: its tasks fail.
    fn launch_failed(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        message: String,
    ) {
        tracing::error!("container launch for executor '{executor_id}' failed: {message}");
        self.counters.container_launch_errors += 1;
        if let Some(e) = self.executor_mut(framework_id, executor_id) {
            e.pending_termination = Some(PendingTermination {
                state: TaskState::TaskFailed,
                reason: Reason::ContainerLaunchFailed,
                message: format!("Failed to launch container: {message}"),
            });
        }
        self.executor_exited(ctx, framework_id, executor_id, container_id, None);
    }
}
