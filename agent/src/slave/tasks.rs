//! Tasks from the master: run one (validated first), kill one, shut a
//! framework down, and the framework's new scheduler address.

use std::time::Instant;

use libprocess::{Context, UPID};
use mesos_common::Resources;
use mesos_proto::internal::{
    KillTaskMessage, RunTaskGroupMessage, RunTaskMessage, ShutdownFrameworkMessage,
    ShutdownMessage, UpdateFrameworkMessage,
};
use mesos_proto::mesos::{
    task_status::Reason, CommandInfo, ExecutorId, ExecutorInfo, FrameworkInfo, Resource, TaskInfo,
    TaskState,
};

use super::types::{ExecutorPhase, Framework};
use super::{Phase, Slave};
use crate::paths::valid_component;

/// Resources added to a command executor, as Mesos's
/// `DEFAULT_EXECUTOR_CPUS` and `DEFAULT_EXECUTOR_MEM`.
const COMMAND_EXECUTOR_CPUS: f64 = 0.1;
const COMMAND_EXECUTOR_MEM_MB: f64 = 32.0;

/// Why a task cannot run, checked before anything is started (Mesos's
/// task validation, plus what this agent can actually run).
pub fn validate_task(task: &TaskInfo, framework: &FrameworkInfo) -> Result<(), String> {
    if !valid_component(&task.task_id.value) {
        return Err(format!("invalid task id '{}'", task.task_id.value));
    }
    let framework_id = framework
        .id
        .as_ref()
        .map(|i| i.value.as_str())
        .unwrap_or("");
    if !valid_component(framework_id) {
        return Err(format!("invalid framework id '{framework_id}'"));
    }
    match (&task.command, &task.executor) {
        (Some(_), Some(_)) => {
            return Err("TaskInfo must not have both CommandInfo and ExecutorInfo set".into())
        }
        (None, None) => {
            return Err("TaskInfo must have either CommandInfo or ExecutorInfo set".into())
        }
        (Some(command), None) => {
            let shell = command.shell.unwrap_or(true);
            if command.value.as_deref().unwrap_or("").trim().is_empty() {
                return Err(if shell {
                    "command task has an empty shell command ('value')".into()
                } else {
                    "command task has no executable ('value')".into()
                });
            }
        }
        (None, Some(executor)) => {
            if !valid_component(&executor.executor_id.value) {
                return Err(format!(
                    "invalid executor id '{}'",
                    executor.executor_id.value
                ));
            }
            if executor
                .command
                .as_ref()
                .and_then(|c| c.value.as_ref())
                .is_none()
            {
                return Err("ExecutorInfo has no command to run".into());
            }
        }
    }
    Resources::from_proto(&task.resources)
        .map_err(|e| format!("task resources are invalid: {e}"))?;
    if task.resources.is_empty() {
        return Err("task uses no resources".into());
    }
    Ok(())
}

fn scalar(name: &str, value: f64) -> Resource {
    mesos_common::Resource::scalar(name, value).to_proto()
}

/// The `ExecutorInfo` Mesos generates for a command task: the command
/// executor binary from `launcher_dir`, the task's URIs, environment and
/// user, and a small resource allowance.
#[allow(deprecated)]
pub fn command_executor_info(
    task: &TaskInfo,
    framework: &FrameworkInfo,
    launcher_dir: &std::path::Path,
) -> ExecutorInfo {
    let command = task.command.clone().unwrap_or_default();
    let value = command.value.clone().unwrap_or_default();
    let shown = if command.shell.unwrap_or(true) {
        let short = if value.chars().count() > 15 {
            format!("{}...", value.chars().take(12).collect::<String>())
        } else {
            value.clone()
        };
        format!("(Command: sh -c '{short}')")
    } else {
        let args = std::iter::once(value.clone())
            .chain(command.arguments.iter().cloned())
            .collect::<Vec<_>>()
            .join(", ");
        let short = if args.chars().count() > 15 {
            format!("{}...", args.chars().take(12).collect::<String>())
        } else {
            args
        };
        format!("(Command: [{short}])")
    };
    let binary = launcher_dir.join("mesos-executor");
    ExecutorInfo {
        executor_id: ExecutorId {
            value: task.task_id.value.clone(),
        },
        framework_id: framework.id.clone(),
        name: Some(format!(
            "Command Executor (Task: {}) {shown}",
            task.task_id.value
        )),
        source: Some(task.task_id.value.clone()),
        container: task.container.clone(),
        command: Some(CommandInfo {
            uris: command.uris.clone(),
            environment: command.environment.clone(),
            user: command.user.clone(),
            shell: Some(false),
            value: Some(binary.display().to_string()),
            arguments: vec![
                "mesos-executor".into(),
                format!("--launcher_dir={}", launcher_dir.display()),
            ],
        }),
        resources: vec![
            scalar("cpus", COMMAND_EXECUTOR_CPUS),
            scalar("mem", COMMAND_EXECUTOR_MEM_MB),
        ],
        labels: task.labels.clone(),
        discovery: task.discovery.clone(),
        ..Default::default()
    }
}

impl Slave {
    /// Resources in use by every live executor and task.
    pub(crate) fn used_resources(&self) -> Resources {
        let mut used = Resources::new();
        for framework in self.frameworks.values() {
            for executor in framework.executors.values() {
                if executor.phase == ExecutorPhase::Terminated {
                    continue;
                }
                if let Ok(r) = Resources::from_proto(&executor.resources()) {
                    used.add_all(&r.with_allocation_role(None));
                }
            }
        }
        used
    }

    #[allow(deprecated)]
    pub(crate) fn run_task(&mut self, ctx: &mut Context<Self>, from: &UPID, m: RunTaskMessage) {
        if *from != self.master {
            tracing::warn!("ignoring run task message from {from}: not the master");
            return;
        }
        if self.phase != Phase::Running {
            tracing::warn!("ignoring run task message: agent is {:?}", self.phase);
            return;
        }
        let mut framework_info = m.framework.clone();
        if framework_info.id.is_none() {
            framework_info.id = m.framework_id.clone();
        }
        let pid = m.pid.as_deref().and_then(|p| p.parse::<UPID>().ok());
        let task = m.task;
        let framework_id = framework_info.id.clone().unwrap_or_default().value;
        tracing::info!(
            "got assigned task '{}' for framework {framework_id}",
            task.task_id.value
        );
        self.launch_started
            .insert(task.task_id.value.clone(), Slave::now(ctx));

        if let Err(reason) = validate_task(&task, &framework_info) {
            tracing::warn!("refusing task '{}': {reason}", task.task_id.value);
            self.task_error(
                ctx,
                &framework_id,
                &task,
                TaskState::TaskError,
                Reason::TaskInvalid,
                &reason,
            );
            return;
        }
        let executor_info = match &task.executor {
            Some(executor) => {
                let mut executor = executor.clone();
                executor.framework_id = framework_info.id.clone();
                executor
            }
            None => command_executor_info(&task, &framework_info, &self.flags.launcher_dir),
        };

        // The master allocates; the agent only refuses what it could never
        // run: more than its total. The command executor's allowance is an
        // overcommit the master does not see (as in Mesos), so only a
        // custom executor's resources count.
        let mut needed = Resources::from_proto(&task.resources)
            .map(|r| r.with_allocation_role(None))
            .unwrap_or_default();
        let executor_exists = self
            .frameworks
            .get(&framework_id)
            .is_some_and(|f| f.executors.contains_key(&executor_info.executor_id.value));
        if task.executor.is_some() && !executor_exists {
            if let Ok(r) = Resources::from_proto(&executor_info.resources) {
                needed.add_all(&r.with_allocation_role(None));
            }
        }
        let total = self.total.to_unreserved();
        if !total.contains(&needed.to_unreserved()) {
            let reason = format!(
                "task '{}' needs {} but this agent has only {} in total",
                task.task_id.value, needed, total
            );
            tracing::warn!("{reason}");
            self.task_error(
                ctx,
                &framework_id,
                &task,
                TaskState::TaskError,
                Reason::TaskInvalid,
                &reason,
            );
            return;
        }

        // The framework, new or known. One that was done here comes back
        // from the completed list with its history, as in Mesos, so that
        // it is never both running and completed.
        if !self.frameworks.contains_key(&framework_id) {
            let mut framework = Framework::new(framework_info.clone(), pid.clone());
            if let Some(pos) = self
                .completed_frameworks
                .iter()
                .position(|f| f.id == framework_id)
            {
                if let Some(old) = self.completed_frameworks.remove(pos) {
                    framework.completed_executors = old.completed_executors;
                }
            }
            self.frameworks.insert(framework_id.clone(), framework);
        }
        let Some(framework) = self.frameworks.get_mut(&framework_id) else {
            return;
        };
        if framework.terminating {
            let reason = "framework is terminating".to_string();
            self.task_error(
                ctx,
                &framework_id,
                &task,
                TaskState::TaskLost,
                Reason::FrameworkRemoved,
                &reason,
            );
            return;
        }
        framework.info = framework_info;
        if pid.is_some() {
            framework.pid = pid;
        }
        self.checkpoint_framework(&framework_id);

        let executor_id = executor_info.executor_id.value.clone();
        let phase = self
            .frameworks
            .get(&framework_id)
            .and_then(|f| f.executors.get(&executor_id))
            .map(|e| e.phase);
        match phase {
            None => {
                let command_executor = task.executor.is_none();
                self.launch_executor(ctx, &framework_id, executor_info, command_executor, task);
            }
            Some(ExecutorPhase::Registering) => self.queue_task(&framework_id, &executor_id, task),
            Some(ExecutorPhase::Running) => self.send_task(ctx, &framework_id, &executor_id, task),
            Some(ExecutorPhase::Terminating) | Some(ExecutorPhase::Terminated) => {
                let reason = format!("executor '{executor_id}' is terminating");
                self.task_error(
                    ctx,
                    &framework_id,
                    &task,
                    TaskState::TaskLost,
                    Reason::ExecutorTerminated,
                    &reason,
                );
            }
        }
    }

    pub(crate) fn run_task_group(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: RunTaskGroupMessage,
    ) {
        if *from != self.master {
            return;
        }
        let framework_id = m.framework.id.clone().unwrap_or_default().value;
        for task in &m.task_group.tasks {
            self.task_error(
                ctx,
                &framework_id,
                task,
                TaskState::TaskError,
                Reason::TaskGroupInvalid,
                "task groups need the default executor, which this agent does not support yet",
            );
        }
    }

    /// Reports a task that will not run, reliably, through the status
    /// update manager.
    pub(crate) fn task_error(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        task: &TaskInfo,
        state: TaskState,
        reason: Reason,
        message: &str,
    ) {
        self.launch_started.remove(&task.task_id.value);
        let update = self.agent_update(framework_id, &task.task_id, None, state, reason, message);
        self.status_update(ctx, update, None);
    }

    pub(crate) fn kill_task(&mut self, ctx: &mut Context<Self>, from: &UPID, m: KillTaskMessage) {
        let framework_id = m.framework_id.value.clone();
        let task_id = m.task_id.value.clone();
        tracing::info!("asked to kill task {task_id} of framework {framework_id} by {from}");
        let Some(framework) = self.frameworks.get_mut(&framework_id) else {
            tracing::warn!("cannot kill task {task_id}: no such framework {framework_id}");
            return;
        };
        let partition_aware = framework.partition_aware();
        let Some(executor) = framework.executor_of_mut(&task_id) else {
            let state = if partition_aware {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            let update = self.agent_update(
                &framework_id,
                &m.task_id,
                None,
                state,
                Reason::ExecutorTerminated,
                "Cannot find executor",
            );
            self.status_update(ctx, update, None);
            return;
        };
        let executor_id = executor.id.clone();
        let queued = executor.queued.iter().any(|t| t.task_id.value == task_id);
        match executor.phase {
            _ if queued => {
                let update = self.agent_update(
                    &framework_id,
                    &m.task_id,
                    Some(&executor_id),
                    TaskState::TaskKilled,
                    Reason::TaskKilledDuringLaunch,
                    "Killed before delivery to the executor",
                );
                self.status_update(ctx, update, None);
                self.shutdown_if_idle(ctx, &framework_id, &executor_id);
            }
            ExecutorPhase::Running => executor.send(ctx, &m),
            phase => tracing::warn!("ignoring kill of task {task_id}: executor is {phase:?}"),
        }
    }

    /// Shuts down a command executor that was left without tasks (its
    /// only task was killed before it registered).
    fn shutdown_if_idle(&mut self, ctx: &mut Context<Self>, framework_id: &str, executor_id: &str) {
        let idle = self
            .frameworks
            .get(framework_id)
            .and_then(|f| f.executors.get(executor_id))
            .is_some_and(|e| e.command_executor && e.queued.is_empty() && e.launched.is_empty());
        if idle {
            self.shutdown_executor(ctx, framework_id, executor_id);
        }
    }

    pub(crate) fn shutdown_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: ShutdownFrameworkMessage,
    ) {
        if *from != self.master {
            tracing::warn!("ignoring shutdown framework from {from}: not the master");
            return;
        }
        let framework_id = m.framework_id.value;
        let Some(framework) = self.frameworks.get_mut(&framework_id) else {
            return;
        };
        tracing::info!("shutting down framework {framework_id}");
        framework.terminating = true;
        let executors: Vec<String> = framework.executors.keys().cloned().collect();
        self.updates.cleanup(&framework_id);
        for executor_id in executors {
            self.shutdown_executor(ctx, &framework_id, &executor_id);
        }
        self.remove_framework_if_idle(&framework_id);
    }

    pub(crate) fn update_framework(&mut self, from: &UPID, m: UpdateFrameworkMessage) {
        if *from != self.master {
            return;
        }
        let id = m.framework_id.value.clone();
        let Some(framework) = self.frameworks.get_mut(&id) else {
            return;
        };
        // An empty UPID (`@0.0.0.0:0`, an HTTP scheduler's) or none at
        // all: executor messages go through the master from now on.
        framework.pid = m
            .pid
            .as_deref()
            .and_then(|p| p.parse::<UPID>().ok())
            .filter(|pid| !pid.id().is_empty() && pid.port() != 0);
        if let Some(info) = m.framework_info {
            framework.info = info;
        }
        self.checkpoint_framework(&id);
    }

    pub(crate) fn shutdown_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: ShutdownMessage,
    ) {
        if *from != self.master {
            tracing::warn!("ignoring shutdown from {from}: not the master");
            return;
        }
        tracing::info!(
            "agent asked to shut down by {from}: {}",
            m.message.unwrap_or_default()
        );
        self.phase = Phase::Terminating;
        let frameworks: Vec<String> = self.frameworks.keys().cloned().collect();
        for framework_id in frameworks {
            let executors: Vec<String> = self.frameworks[&framework_id]
                .executors
                .keys()
                .cloned()
                .collect();
            for executor_id in executors {
                self.shutdown_executor(ctx, &framework_id, &executor_id);
            }
        }
    }

    /// Checkpoints a checkpointing framework's info and pid.
    pub(crate) fn checkpoint_framework(&self, framework_id: &str) {
        let Some(framework) = self.frameworks.get(framework_id) else {
            return;
        };
        if !framework.checkpoint() {
            return;
        }
        let dir = self.layout.framework_meta(&self.id(), framework_id);
        let mut result =
            crate::state::checkpoint::write_record(&dir.join("framework.info"), &framework.info);
        if let (Ok(()), Some(pid)) = (&result, &framework.pid) {
            result =
                crate::state::checkpoint::write_text(&dir.join("framework.pid"), &pid.to_string());
        }
        if let Err(error) = result {
            tracing::error!("failed to checkpoint framework {framework_id}: {error}");
        }
    }

    /// When the task's `RunTaskMessage` arrived, for the launch latency.
    pub(crate) fn task_launch_elapsed(
        &mut self,
        task_id: &str,
        now: Instant,
    ) -> Option<std::time::Duration> {
        self.launch_started
            .remove(task_id)
            .map(|at| now.saturating_duration_since(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{FrameworkId, TaskId};

    fn framework() -> FrameworkInfo {
        FrameworkInfo {
            id: Some(FrameworkId { value: "F".into() }),
            ..Default::default()
        }
    }

    fn task(command: Option<&str>) -> TaskInfo {
        TaskInfo {
            task_id: TaskId { value: "t".into() },
            resources: vec![scalar("cpus", 0.1)],
            command: command.map(|c| CommandInfo {
                value: Some(c.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn malformed_tasks_are_refused_with_reasons() {
        assert!(validate_task(&task(Some("true")), &framework()).is_ok());
        assert_eq!(
            validate_task(&task(None), &framework()).unwrap_err(),
            "TaskInfo must have either CommandInfo or ExecutorInfo set"
        );
        assert!(validate_task(&task(Some("  ")), &framework())
            .unwrap_err()
            .contains("empty shell command"));
        let mut bad_id = task(Some("true"));
        bad_id.task_id.value = "../x".into();
        assert!(validate_task(&bad_id, &framework()).is_err());
        let mut no_resources = task(Some("true"));
        no_resources.resources.clear();
        assert!(validate_task(&no_resources, &framework()).is_err());
    }

    #[test]
    fn command_executor_is_named_as_mesos_names_it() {
        let info = command_executor_info(
            &task(Some("sleep 1000 && echo done")),
            &framework(),
            std::path::Path::new("/opt/mesos"),
        );
        assert_eq!(info.executor_id.value, "t");
        assert_eq!(
            info.name.as_deref(),
            Some("Command Executor (Task: t) (Command: sh -c 'sleep 1000 &...')")
        );
        let command = info.command.unwrap();
        assert_eq!(command.value.as_deref(), Some("/opt/mesos/mesos-executor"));
        assert_eq!(command.shell, Some(false));
    }
}
