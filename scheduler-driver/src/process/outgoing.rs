//! The operations the framework calls through its driver, as they run in
//! the driver's process: each becomes a `Call` to the master, or is
//! dropped with a log line while disconnected (a launch is answered with
//! a made-up `TASK_LOST`/`TASK_DROPPED` instead, so no task is left
//! hanging).

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use libprocess::Context;
use mesos_proto::internal::FrameworkToExecutorMessage;
use mesos_proto::mesos::{
    framework_info, offer, ExecutorId, Filters, FrameworkInfo, OfferId, Request, SlaveId, TaskId,
    TaskStatus,
};
use mesos_proto::scheduler::OfferConstraints;

use super::SchedulerProcess;
use crate::{calls, updates};

fn is_launch(operation: &offer::Operation) -> bool {
    operation.r#type == Some(offer::operation::Type::Launch as i32)
}

impl SchedulerProcess {
    fn disconnected_drop(&self, what: &str) -> bool {
        if !self.connected {
            tracing::debug!("ignoring {what}: the master is disconnected");
        }
        !self.connected
    }

    pub(crate) fn request_resources(&mut self, ctx: &mut Context<Self>, requests: &[Request]) {
        if self.disconnected_drop("request resources") {
            return;
        }
        let call = calls::request(&self.framework_id(), requests);
        self.send_call(ctx, &call);
    }

    pub(crate) fn kill_task(&mut self, ctx: &mut Context<Self>, task_id: &TaskId) {
        if self.disconnected_drop("kill task") {
            return;
        }
        let call = calls::kill(&self.framework_id(), task_id);
        self.send_call(ctx, &call);
    }

    pub(crate) fn accept_offers(
        &mut self,
        ctx: &mut Context<Self>,
        offer_ids: &[OfferId],
        operations: &[offer::Operation],
        filters: &Filters,
    ) {
        if !self.connected {
            tracing::debug!("answering launches with TASK_LOST: the master is disconnected");
            let partition_aware =
                self.framework.capabilities.iter().any(|c| {
                    c.r#type == Some(framework_info::capability::Type::PartitionAware as i32)
                });
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default();
            let framework_id = self.framework_id();
            for operation in operations.iter().filter(|o| is_launch(o)) {
                for task in operation.launch.iter().flat_map(|l| &l.task_infos) {
                    let update = updates::launch_while_disconnected(
                        &framework_id,
                        &task.task_id,
                        partition_aware,
                        now,
                    );
                    self.status_update(ctx, None, &update, None);
                }
            }
            return;
        }
        if operations.iter().any(|o| o.id.is_some()) {
            // libmesos aborts the program here; we refuse the call.
            tracing::error!(
                "ignoring accept of offers {:?}: an operation sets 'id', which the \
                 scheduler driver does not allow (it cannot deliver operation status updates)",
                offer_ids.iter().map(|o| &o.value).collect::<Vec<_>>()
            );
            return;
        }
        for offer_id in offer_ids {
            let Some(agents) = self.saved_offers.remove(&offer_id.value) else {
                tracing::warn!("attempting to accept an unknown offer {}", offer_id.value);
                continue;
            };
            let tasks = operations
                .iter()
                .filter(|o| is_launch(o))
                .flat_map(|o| o.launch.iter().flat_map(|l| &l.task_infos));
            for task in tasks {
                match agents.get(&task.slave_id.value) {
                    Some(pid) => {
                        self.saved_slave_pids
                            .insert(task.slave_id.value.clone(), pid.clone());
                    }
                    None => tracing::warn!(
                        "attempting to launch task {} with the wrong agent id {}",
                        task.task_id.value,
                        task.slave_id.value
                    ),
                }
            }
        }
        let call = calls::accept(&self.framework_id(), offer_ids, operations, filters);
        self.send_call(ctx, &call);
    }

    pub(crate) fn decline_offer(
        &mut self,
        ctx: &mut Context<Self>,
        offer_id: &OfferId,
        filters: &Filters,
    ) {
        if self.disconnected_drop("decline offer") {
            return;
        }
        if self.saved_offers.remove(&offer_id.value).is_none() {
            tracing::warn!("attempting to decline an unknown offer {}", offer_id.value);
        }
        let call = calls::decline(&self.framework_id(), offer_id, filters);
        self.send_call(ctx, &call);
    }

    pub(crate) fn revive_offers(&mut self, ctx: &mut Context<Self>, roles: &[String]) {
        if roles.is_empty() {
            self.suppressed_roles.clear();
        } else {
            for role in roles {
                self.suppressed_roles.remove(role);
            }
        }
        if !self.connected {
            // The new suppressed roles reach the master on registration.
            self.send_update_framework_on_connect = true;
            return;
        }
        let call = calls::revive(&self.framework_id(), roles);
        self.send_call(ctx, &call);
    }

    pub(crate) fn suppress_offers(&mut self, ctx: &mut Context<Self>, roles: &[String]) {
        if roles.is_empty() {
            self.suppressed_roles = self.framework.roles.iter().cloned().collect();
        } else {
            self.suppressed_roles.extend(roles.iter().cloned());
        }
        if !self.connected {
            self.send_update_framework_on_connect = true;
            return;
        }
        let call = calls::suppress(&self.framework_id(), roles);
        self.send_call(ctx, &call);
    }

    /// Explicit acknowledgement. Runs even after `stop`/`abort`, so
    /// acknowledgements asked for before are still sent.
    pub(crate) fn acknowledge_status_update(
        &mut self,
        ctx: &mut Context<Self>,
        status: &TaskStatus,
    ) {
        if self.disconnected_drop("explicit acknowledgement") {
            return;
        }
        // Master- and driver-made updates carry no uuid: nothing to ack.
        if let (Some(uuid), Some(slave_id)) = (&status.uuid, &status.slave_id) {
            let call = calls::acknowledge(&self.framework_id(), slave_id, &status.task_id, uuid);
            self.send_call(ctx, &call);
        }
    }

    /// Goes straight to the agent when its PID is known from an accepted
    /// offer (as libmesos 1.11 does), through the master otherwise.
    pub(crate) fn send_framework_message(
        &mut self,
        ctx: &mut Context<Self>,
        executor_id: &ExecutorId,
        slave_id: &SlaveId,
        data: Bytes,
    ) {
        if self.disconnected_drop("send framework message") {
            return;
        }
        match self.saved_slave_pids.get(&slave_id.value) {
            Some(agent) => {
                let message = FrameworkToExecutorMessage {
                    slave_id: slave_id.clone(),
                    framework_id: self.framework_id(),
                    executor_id: executor_id.clone(),
                    data,
                };
                ctx.send(agent, &message);
            }
            None => {
                let call = calls::message(&self.framework_id(), slave_id, executor_id, &data);
                self.send_call(ctx, &call);
            }
        }
    }

    pub(crate) fn reconcile_tasks(&mut self, ctx: &mut Context<Self>, statuses: &[TaskStatus]) {
        if self.disconnected_drop("task reconciliation") {
            return;
        }
        let call = calls::reconcile(&self.framework_id(), statuses);
        self.send_call(ctx, &call);
    }

    pub(crate) fn update_framework(
        &mut self,
        ctx: &mut Context<Self>,
        framework: FrameworkInfo,
        suppressed_roles: BTreeSet<String>,
        offer_constraints: OfferConstraints,
    ) {
        if !calls::has_id(&self.framework) {
            return self.error(
                ctx,
                "MesosSchedulerDriver::updateFramework() must not be called \
                 prior to registration with the master",
            );
        }
        if framework.id != self.framework.id {
            let message = format!(
                "The 'FrameworkInfo.id' provided to MesosSchedulerDriver::updateFramework() \
                 ({}) must be equal to the value known to the MesosSchedulerDriver ({})",
                framework.id.as_ref().map_or("", |id| id.value.as_str()),
                self.framework_id().value
            );
            return self.error(ctx, &message);
        }
        self.framework = framework;
        self.suppressed_roles = suppressed_roles;
        self.offer_constraints = offer_constraints;
        if self.connected {
            self.send_update_framework(ctx);
        } else {
            self.send_update_framework_on_connect = true;
        }
    }
}
