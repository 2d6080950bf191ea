//! Status updates from agents to frameworks, their acknowledgements back,
//! and the messages executors and schedulers send each other through us.

use libprocess::{Context, UPID};
use mesos_proto::internal::{
    ExecutorToFrameworkMessage, ExitedExecutorMessage, FrameworkToExecutorMessage,
    StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::{FrameworkId, SlaveId, TaskId};

use crate::master::Master;
use crate::state::is_terminal;

impl Master {
    /// An agent reports a task's new status: record it and forward it to
    /// the framework, which acknowledges it to us.
    pub(crate) fn status_update(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: StatusUpdateMessage,
    ) {
        self.metrics.messages_status_update += 1;
        let update = message.update;
        let agent_id = update.slave_id.as_ref().map(|s| s.value.clone());
        let agent_ok = agent_id
            .as_ref()
            .and_then(|id| self.state.agents.get(id))
            .is_some_and(|a| a.pid == *from);
        if !agent_ok {
            self.metrics.invalid_status_updates += 1;
            tracing::warn!(
                "ignoring status update for task {} from {from}: not a registered agent",
                update.status.task_id.value
            );
            return;
        }
        if update.uuid.is_none() {
            self.metrics.invalid_status_updates += 1;
            tracing::warn!("ignoring status update from {from}: it has no UUID");
            return;
        }
        let framework_id = update.framework_id.value.clone();
        if !self.state.frameworks.contains_key(&framework_id) {
            self.metrics.invalid_status_updates += 1;
            tracing::warn!("ignoring status update for unknown framework {framework_id}");
            return;
        }
        let task_id = update.status.task_id.value.clone();
        self.update_task(&framework_id, &task_id, &update);
        self.metrics.valid_status_updates += 1;
        let agent = from.clone();
        self.forward_update(ctx, update, Some(&agent));
    }

    /// A framework acknowledges a status update: pass it to the agent,
    /// and retire the task once its terminal update is acknowledged.
    pub(crate) fn acknowledge(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        slave_id: SlaveId,
        task_id: TaskId,
        uuid: bytes::Bytes,
    ) {
        let Some(agent) = self.state.agents.get(&slave_id.value) else {
            self.metrics.invalid_status_update_acknowledgements += 1;
            tracing::warn!(
                "cannot forward acknowledgement for task {}: unknown agent {}",
                task_id.value,
                slave_id.value
            );
            return;
        };
        if !agent.connected {
            self.metrics.invalid_status_update_acknowledgements += 1;
            return;
        }
        let agent_pid = agent.pid.clone();
        let retire = self
            .state
            .frameworks
            .get(framework_id)
            .and_then(|f| f.tasks.get(&task_id.value))
            .is_some_and(|t| {
                t.status_update_state.is_some_and(is_terminal)
                    && t.status_update_uuid.as_ref() == Some(&uuid)
            });
        ctx.send(
            &agent_pid,
            &StatusUpdateAcknowledgementMessage {
                slave_id,
                framework_id: FrameworkId {
                    value: framework_id.into(),
                },
                task_id: task_id.clone(),
                uuid,
            },
        );
        self.metrics.valid_status_update_acknowledgements += 1;
        if retire {
            self.remove_task(framework_id, &task_id.value, false);
        }
    }

    /// Legacy acknowledgement message.
    pub(crate) fn status_update_acknowledgement(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: StatusUpdateAcknowledgementMessage,
    ) {
        self.metrics.messages_status_update_acknowledgement += 1;
        let Some(framework_id) = self.authorized_framework(from, &message.framework_id.value)
        else {
            self.metrics.invalid_status_update_acknowledgements += 1;
            return;
        };
        self.acknowledge(
            ctx,
            &framework_id,
            message.slave_id,
            message.task_id,
            message.uuid,
        );
    }

    /// An agent reports an executor exited: forget it and tell the
    /// framework.
    pub(crate) fn exited_executor(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ExitedExecutorMessage,
    ) {
        self.metrics.messages_exited_executor += 1;
        let agent_ok = self
            .state
            .agents
            .get(&message.slave_id.value)
            .is_some_and(|a| a.pid == *from);
        if !agent_ok {
            tracing::warn!("ignoring exited executor from {from}: not a registered agent");
            return;
        }
        let agent_id = message.slave_id.value.clone();
        let Some(framework) = self.state.frameworks.get_mut(&message.framework_id.value) else {
            return;
        };
        let removed = framework
            .executors
            .get_mut(&agent_id)
            .and_then(|e| e.remove(&message.executor_id.value));
        if let Some(executor) = removed {
            if let Ok(resources) = mesos_common::Resources::from_proto(&executor.resources) {
                framework.used -= &resources;
                if let Some(agent) = self.state.agents.get_mut(&agent_id) {
                    agent.release(&framework.id, &resources);
                }
                self.allocator
                    .release_resources(&framework.id, &agent_id, resources);
            }
        }
        if framework.connected {
            framework.send(ctx, &message);
        }
    }

    /// An executor's message for its scheduler.
    pub(crate) fn executor_message(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ExecutorToFrameworkMessage,
    ) {
        self.metrics.messages_executor_to_framework += 1;
        let agent_ok = self
            .state
            .agents
            .get(&message.slave_id.value)
            .is_some_and(|a| a.pid == *from);
        let framework = self
            .state
            .frameworks
            .get(&message.framework_id.value)
            .filter(|f| f.connected && f.connection.is_some());
        match (agent_ok, framework) {
            (true, Some(framework)) => {
                self.metrics.valid_executor_to_framework_messages += 1;
                framework.send(ctx, &message)
            }
            _ => {
                self.metrics.invalid_executor_to_framework_messages += 1;
                tracing::warn!("dropping executor message from {from}");
            }
        }
    }

    /// A scheduler's message for one of its executors, relayed through the
    /// executor's agent.
    pub(crate) fn framework_to_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        message: FrameworkToExecutorMessage,
    ) {
        match self.state.agents.get(&message.slave_id.value) {
            Some(agent) if agent.connected => {
                self.metrics.valid_framework_to_executor_messages += 1;
                ctx.send(&agent.pid.clone(), &message);
            }
            _ => {
                self.metrics.invalid_framework_to_executor_messages += 1;
                tracing::warn!(
                    "dropping message of framework {framework_id} for executor {}: agent {} is not connected",
                    message.executor_id.value,
                    message.slave_id.value
                );
            }
        }
    }

    /// Legacy `FrameworkToExecutorMessage`.
    pub(crate) fn framework_message(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: FrameworkToExecutorMessage,
    ) {
        self.metrics.messages_framework_to_executor += 1;
        let Some(framework_id) = self.authorized_framework(from, &message.framework_id.value)
        else {
            self.metrics.invalid_framework_to_executor_messages += 1;
            return;
        };
        self.framework_to_executor(ctx, &framework_id, message);
    }
}
