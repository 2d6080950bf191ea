//! Tasks: launching (from an accepted offer), killing, reconciling, and
//! the master's own status updates for tasks it fails.

use libprocess::{Context, UPID};
use mesos_common::resources::proto::Format;
use mesos_common::Resources;
use mesos_proto::internal::{
    KillTaskMessage, ReconcileTasksMessage, ResourceVersionUuid, RunTaskMessage, StatusUpdate,
    StatusUpdateMessage,
};
use mesos_proto::mesos::slave_info::capability::Type as AgentCapability;
use mesos_proto::mesos::task_status::{Reason, Source};
use mesos_proto::mesos::{
    ExecutorId, FrameworkId, SlaveId, Task, TaskId, TaskInfo, TaskState, TaskStatus, TimeInfo,
};

use crate::master::Master;
use crate::state::{is_terminal, unix_now};
use crate::validation;

/// A status update the master itself issues (no UUID: frameworks do not
/// acknowledge it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn master_update(
    framework_id: &str,
    slave_id: Option<&str>,
    task_id: &str,
    state: TaskState,
    message: &str,
    reason: Reason,
    executor_id: Option<ExecutorId>,
    unreachable_time: Option<f64>,
) -> StatusUpdate {
    let now = unix_now();
    let slave_id = slave_id.map(|s| SlaveId { value: s.into() });
    StatusUpdate {
        framework_id: FrameworkId {
            value: framework_id.into(),
        },
        executor_id: executor_id.clone(),
        slave_id: slave_id.clone(),
        status: TaskStatus {
            task_id: TaskId {
                value: task_id.into(),
            },
            state: state as i32,
            message: Some(message.into()),
            slave_id,
            timestamp: Some(now),
            executor_id,
            source: Some(Source::Master as i32),
            reason: Some(reason as i32),
            unreachable_time: unreachable_time.map(|t| TimeInfo {
                nanoseconds: (t * 1e9) as i64,
            }),
            ..Default::default()
        },
        timestamp: now,
        uuid: None,
        latest_state: None,
    }
}

/// The task record the master keeps for a launched `TaskInfo`.
fn new_task(
    task: &TaskInfo,
    framework_id: &str,
    user: Option<String>,
    resources: &Resources,
) -> Task {
    Task {
        name: task.name.clone(),
        task_id: task.task_id.clone(),
        framework_id: FrameworkId {
            value: framework_id.into(),
        },
        executor_id: task.executor.as_ref().map(|e| e.executor_id.clone()),
        slave_id: task.slave_id.clone(),
        state: TaskState::TaskStaging as i32,
        resources: resources.to_proto_in(Format::REFINED_FRAMEWORK),
        labels: task.labels.clone(),
        discovery: task.discovery.clone().map(Box::new),
        container: task.container.clone().map(Box::new),
        user,
        health_check: task.health_check.clone().map(Box::new),
        kill_policy: task.kill_policy,
        limits: task.limits.clone(),
        ..Default::default()
    }
}

impl Master {
    /// Sends `update` to the framework (if connected), recording its
    /// state and UUID on the task. `acknowledgee` is the agent the
    /// framework acknowledges to (none for the master's own updates).
    pub(crate) fn forward_update(
        &mut self,
        ctx: &mut Context<Self>,
        update: StatusUpdate,
        acknowledgee: Option<&UPID>,
    ) {
        let Some(framework) = self.state.frameworks.get_mut(&update.framework_id.value) else {
            return;
        };
        if let Some(task) = framework
            .tasks
            .get_mut(&update.status.task_id.value)
            .map(std::sync::Arc::make_mut)
        {
            if update.uuid.is_some() {
                task.status_update_state = Some(update.status.state);
                task.status_update_uuid = update.status.uuid.clone();
            }
        }
        let message = StatusUpdateMessage {
            update,
            pid: Some(acknowledgee.map(|p| p.to_string()).unwrap_or_default()),
        };
        match (&framework.connection, framework.connected) {
            (Some(connection), true) => connection.send(ctx, &message),
            _ => tracing::warn!(
                "dropping status update for task {} of disconnected framework {}",
                message.update.status.task_id.value,
                framework.id
            ),
        }
    }

    /// Fails a task the master knows (its agent went away, the framework
    /// is torn down): records the terminal state, tells the framework,
    /// and removes the task.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fail_task(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        task_id: &str,
        state: TaskState,
        reason: Reason,
        message: &str,
        unreachable_time: Option<f64>,
    ) {
        let Some(task) = self
            .state
            .frameworks
            .get(framework_id)
            .and_then(|f| f.tasks.get(task_id))
        else {
            return;
        };
        let update = master_update(
            framework_id,
            Some(&task.slave_id.value),
            task_id,
            state,
            message,
            reason,
            task.executor_id.clone(),
            unreachable_time,
        );
        self.update_task(framework_id, task_id, &update);
        self.forward_update(ctx, update, None);
        self.remove_task(framework_id, task_id, state == TaskState::TaskUnreachable);
    }

    /// Records `update` on the task: its latest state, and the status.
    /// A task entering a terminal state gives its resources back.
    pub(crate) fn update_task(&mut self, framework_id: &str, task_id: &str, update: &StatusUpdate) {
        let Some(framework) = self.state.frameworks.get_mut(framework_id) else {
            return;
        };
        let Some(task) = framework
            .tasks
            .get_mut(task_id)
            .map(std::sync::Arc::make_mut)
        else {
            return;
        };
        let was_terminal = is_terminal(task.state);
        // An agent's update says what the task's latest state is; any other
        // (the master's own, e.g. on teardown) never overrides a terminal
        // state already reached, as in Mesos.
        let new_state = match update.latest_state {
            Some(latest) => latest,
            None if was_terminal => task.state,
            None => update.status.state,
        };
        if task.state != new_state {
            self.metrics
                .task_state_changed(task.state, new_state, &update.status);
        }
        task.state = new_state;
        let mut status = update.status.clone();
        // A status of the state the task last reported replaces that one
        // (health checks resend TASK_RUNNING), as in Mesos, so a task's
        // history stays short.
        if task
            .statuses
            .last()
            .is_some_and(|last| last.state == status.state)
        {
            task.statuses.pop();
        }
        // Only the latest status keeps its (possibly large) data.
        if let Some(last) = task.statuses.last_mut() {
            last.data = None;
        }
        if status.data.as_ref().is_some_and(|d| d.len() > 4096) {
            status.data = None;
        }
        task.statuses.push(status);
        if !was_terminal && is_terminal(new_state) {
            let resources = Resources::from_proto(&task.resources).unwrap_or_default();
            let agent_id = task.slave_id.value.clone();
            framework.used -= &resources;
            if let Some(agent) = self.state.agents.get_mut(&agent_id) {
                agent.release(framework_id, &resources);
                self.allocator
                    .release_resources(framework_id, &agent_id, resources);
            }
        }
    }

    /// Moves a task out of the live set: to the unreachable or the
    /// completed tasks (bounded by the flags).
    pub(crate) fn remove_task(&mut self, framework_id: &str, task_id: &str, unreachable: bool) {
        let Some(framework) = self.state.frameworks.get_mut(framework_id) else {
            return;
        };
        let Some(task) = framework.tasks.remove(task_id) else {
            return;
        };
        if !is_terminal(task.state) && task.state != TaskState::TaskUnreachable as i32 {
            // Not yet accounted as finished: give the resources back now.
            let resources = Resources::from_proto(&task.resources).unwrap_or_default();
            framework.used -= &resources;
            if let Some(agent) = self.state.agents.get_mut(&task.slave_id.value) {
                agent.release(framework_id, &resources);
                self.allocator
                    .release_resources(framework_id, &task.slave_id.value, resources);
            }
        }
        if let Some(agent) = self.state.agents.get_mut(&task.slave_id.value) {
            if let Some(tasks) = agent.tasks.get_mut(framework_id) {
                tasks.remove(task_id);
                if tasks.is_empty() {
                    agent.tasks.remove(framework_id);
                }
            }
        }
        if unreachable {
            let limit = self.flags.max_unreachable_tasks_per_framework;
            framework.add_unreachable_task(task, limit);
        } else {
            let limit = self.flags.max_completed_tasks_per_framework;
            framework.add_completed_task(task, limit);
        }
    }

    /// Launches `task` from resources offered to `framework_id` on
    /// `agent_id` in `role`; `available` is what is left of the offers and
    /// shrinks by what the task and a new executor use. An invalid task
    /// gets TASK_ERROR with Mesos's message.
    pub(crate) fn launch_task(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        agent_id: &str,
        role: &str,
        task: TaskInfo,
        available: &mut Resources,
    ) {
        let (Some(framework), Some(agent)) = (
            self.state.frameworks.get(framework_id),
            self.state.agents.get(agent_id),
        ) else {
            return;
        };
        let checked = validation::task::validate(&task, framework, agent, role, available);
        let (task_resources, executor_resources) = match checked {
            Ok(resources) => resources,
            Err(error) => {
                self.metrics.tasks_error += 1;
                self.metrics
                    .count_reason(Source::Master, Reason::TaskInvalid);
                let update = master_update(
                    framework_id,
                    Some(&task.slave_id.value),
                    &task.task_id.value,
                    TaskState::TaskError,
                    &error,
                    Reason::TaskInvalid,
                    None,
                    None,
                );
                self.forward_update(ctx, update, None);
                return;
            }
        };
        // The task's own user, as Mesos records it: its command's, else
        // its executor's (not the framework's, which it runs as otherwise).
        let user = task
            .command
            .as_ref()
            .and_then(|c| c.user.clone())
            .or_else(|| {
                task.executor
                    .as_ref()
                    .and_then(|e| e.command.as_ref())
                    .and_then(|c| c.user.clone())
            });
        let framework_info = framework.info.clone();
        let scheduler = framework.pid().map(|p| p.to_string());
        let agent_pid = agent.pid.clone();
        let version = agent.resource_version_uuid.clone();
        // Agents without RESERVATION_REFINEMENT get resources downgraded,
        // as Mesos sends them.
        let agent_format = if agent
            .capabilities
            .contains(&(AgentCapability::ReservationRefinement as i32))
        {
            Format::REFINED_FRAMEWORK
        } else {
            Format::AGENT
        };

        let mut consumed = task_resources.clone();
        let mut task_info = task.clone();
        task_info.resources = task_resources.to_proto_in(agent_format);
        let mut launch_executor = None;
        if let (Some(executor), Some(executor_resources)) = (&task.executor, executor_resources) {
            let mut executor = executor.clone();
            executor.framework_id = Some(FrameworkId {
                value: framework_id.into(),
            });
            executor.resources = executor_resources.to_proto_in(agent_format);
            consumed += &executor_resources;
            launch_executor = Some(true);
            task_info.executor = Some(executor.clone());
            if let Some(framework) = self.state.frameworks.get_mut(framework_id) {
                framework
                    .executors
                    .entry(agent_id.to_string())
                    .or_default()
                    .insert(executor.executor_id.value.clone(), executor);
                framework.used += &executor_resources;
            }
        } else if task.executor.is_some() {
            launch_executor = Some(false);
        }
        *available -= &consumed;

        let record = new_task(&task, framework_id, user, &task_resources);
        let task_id = task.task_id.value.clone();
        if let Some(framework) = self.state.frameworks.get_mut(framework_id) {
            framework.used += &task_resources;
            framework
                .tasks
                .insert(task_id.clone(), std::sync::Arc::new(record));
        }
        if let Some(agent) = self.state.agents.get_mut(agent_id) {
            *agent
                .resources_mut()
                .used
                .entry(framework_id.to_string())
                .or_default() += &consumed;
            agent
                .tasks
                .entry(framework_id.to_string())
                .or_default()
                .insert(task_id);
        }
        self.metrics.tasks_staging += 1;
        ctx.send(
            &agent_pid,
            &RunTaskMessage {
                framework_id: None,
                framework: framework_info,
                pid: scheduler,
                task: task_info,
                resource_version_uuids: version
                    .map(|uuid| ResourceVersionUuid {
                        resource_provider_id: None,
                        uuid,
                    })
                    .into_iter()
                    .collect(),
                launch_executor: launch_executor.or(Some(true)),
            },
        );
    }

    /// A framework asks to kill a task. Unknown tasks are reconciled
    /// instead (the framework hears what the master knows of them).
    pub(crate) fn kill(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        task_id: TaskId,
        slave_id: Option<SlaveId>,
        kill_policy: Option<mesos_proto::mesos::KillPolicy>,
    ) {
        let Some(framework) = self.state.frameworks.get(framework_id) else {
            return;
        };
        let Some(task) = framework.tasks.get(&task_id.value) else {
            tracing::warn!(
                "cannot kill task {} of framework {framework_id}: unknown; reconciling",
                task_id.value
            );
            let status = TaskStatus {
                task_id,
                slave_id,
                ..Default::default()
            };
            self.reconcile(ctx, framework_id, vec![status]);
            return;
        };
        let Some(agent) = self.state.agents.get(&task.slave_id.value) else {
            return;
        };
        if !agent.connected {
            tracing::warn!(
                "cannot kill task {} now: its agent is disconnected",
                task_id.value
            );
            return;
        }
        ctx.send(
            &agent.pid,
            &KillTaskMessage {
                framework_id: FrameworkId {
                    value: framework_id.into(),
                },
                task_id,
                kill_policy,
            },
        );
    }

    /// Answers a reconciliation: with no statuses, the latest state of
    /// every task (implicit); otherwise each named task's state, or what
    /// the master can say about it (explicit).
    pub(crate) fn reconcile(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        statuses: Vec<TaskStatus>,
    ) {
        let Some(framework) = self.state.frameworks.get(framework_id) else {
            return;
        };
        let partition_aware = framework.capabilities.partition_aware;
        let mut updates = Vec::new();
        let latest = |task: &Task| {
            master_update(
                framework_id,
                Some(&task.slave_id.value),
                &task.task_id.value,
                TaskState::try_from(task.status_update_state.unwrap_or(task.state))
                    .unwrap_or(TaskState::TaskStaging),
                "Reconciliation: Latest task state",
                Reason::Reconciliation,
                task.executor_id.clone(),
                None,
            )
        };
        if statuses.is_empty() {
            updates.extend(framework.tasks.values().map(|t| latest(t)));
        } else {
            for status in statuses {
                let tid = status.task_id.value.as_str();
                let sid = status.slave_id.as_ref().map(|s| s.value.as_str());
                let pick = |aware, lost| if partition_aware { aware } else { lost };
                let update = if let Some(task) = framework.tasks.get(tid) {
                    Some(latest(task))
                } else if sid.map_or(!self.state.recovered_agents.is_empty(), |s| {
                    self.state.recovered_agents.contains_key(s)
                }) {
                    None
                } else if let Some(s) = sid.filter(|s| self.state.agents.contains_key(*s)) {
                    Some(master_update(
                        framework_id,
                        Some(s),
                        tid,
                        pick(TaskState::TaskGone, TaskState::TaskLost),
                        "Reconciliation: Task is unknown to the agent",
                        Reason::Reconciliation,
                        None,
                        None,
                    ))
                } else if let Some((s, t)) =
                    sid.and_then(|s| self.state.unreachable_agents.get(s).map(|t| (s, *t)))
                {
                    Some(master_update(
                        framework_id,
                        Some(s),
                        tid,
                        pick(TaskState::TaskUnreachable, TaskState::TaskLost),
                        "Reconciliation: Task is unreachable",
                        Reason::Reconciliation,
                        None,
                        Some(t),
                    ))
                } else if let Some(s) = sid.filter(|s| self.state.gone_agents.contains_key(*s)) {
                    Some(master_update(
                        framework_id,
                        Some(s),
                        tid,
                        pick(TaskState::TaskGoneByOperator, TaskState::TaskLost),
                        "Reconciliation: Task is gone",
                        Reason::Reconciliation,
                        None,
                        None,
                    ))
                } else {
                    Some(master_update(
                        framework_id,
                        sid,
                        tid,
                        pick(TaskState::TaskUnknown, TaskState::TaskLost),
                        "Reconciliation: Task is unknown",
                        Reason::Reconciliation,
                        None,
                        None,
                    ))
                };
                updates.extend(update);
            }
        }
        for update in updates {
            framework.send(ctx, &StatusUpdateMessage { update, pid: None });
        }
    }

    /// Legacy `ReconcileTasksMessage`.
    pub(crate) fn reconcile_tasks(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ReconcileTasksMessage,
    ) {
        self.metrics.messages_reconcile_tasks += 1;
        let Some(framework_id) = self.authorized_framework(from, &message.framework_id.value)
        else {
            return;
        };
        self.reconcile(ctx, &framework_id, message.statuses);
    }
}
