//! `mesos.scheduler.Call` from libmesos 1.x drivers, and the legacy
//! messages that map onto the same actions.

use std::collections::BTreeSet;

use libprocess::{Context, UPID};
use mesos_proto::internal::{
    FrameworkErrorMessage, FrameworkToExecutorMessage, KillTaskMessage, LaunchTasksMessage,
    ResourceRequestMessage, ReviveOffersMessage,
};
use mesos_proto::mesos::offer::{self, operation};
use mesos_proto::mesos::{TaskGroupInfo, TaskStatus};
use mesos_proto::scheduler::call::Type;
use mesos_proto::scheduler::Call;

use crate::master::Master;
use crate::scheduler_api::Connection;
use crate::validation;

impl Master {
    /// One `Call` from a libprocess driver: checked as Mesos checks it (the
    /// right sub-message for the type, a framework ID except for SUBSCRIBE,
    /// sent by that framework's scheduler), then handled. A refused
    /// UPDATE_FRAMEWORK is answered with a `FrameworkErrorMessage`.
    pub(crate) fn receive_call(&mut self, ctx: &mut Context<Self>, from: &UPID, call: Call) {
        if let Err(error) = validation::call::validate(&call) {
            self.metrics.invalid_framework_messages += 1;
            tracing::warn!("dropping invalid call from {from}: {error}");
            return;
        }
        let kind = Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(Type::Unknown);
        if kind == Type::Subscribe {
            self.metrics.messages_register_framework += 1;
            let Some(subscribe) = call.subscribe else {
                return;
            };
            let force = subscribe.force.unwrap_or(false);
            let suppressed = subscribe.suppressed_roles.into_iter().collect();
            let from = Connection::Pid(from.clone());
            self.subscribe(ctx, from, subscribe.framework_info, force, suppressed);
            return;
        }
        let framework_id = call
            .framework_id
            .as_ref()
            .map(|f| f.value.clone())
            .unwrap_or_default();
        let Some(framework_id) = self.authorized_framework(from, &framework_id) else {
            self.metrics.invalid_framework_messages += 1;
            return;
        };
        if let Err(message) = self.handle_call(ctx, &framework_id, call) {
            ctx.send(from, &FrameworkErrorMessage { message });
        }
    }

    /// A valid non-SUBSCRIBE `call` of framework `framework_id`, whose
    /// sender has been checked (by UPID, or by HTTP stream ID). Only
    /// UPDATE_FRAMEWORK can be refused; the error says why.
    pub(crate) fn handle_call(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        call: Call,
    ) -> Result<(), String> {
        let kind = Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(Type::Unknown);
        let framework_id = framework_id.to_string();
        match kind {
            Type::Teardown => {
                self.metrics.messages_unregister_framework += 1;
                self.remove_framework(ctx, &framework_id);
            }
            Type::Accept => {
                self.metrics.messages_launch_tasks += 1;
                if let Some(accept) = call.accept {
                    self.accept(
                        ctx,
                        &framework_id,
                        &accept.offer_ids,
                        accept.operations,
                        accept.filters.as_ref(),
                    );
                }
            }
            Type::Decline => {
                self.metrics.messages_decline_offers += 1;
                if let Some(decline) = call.decline {
                    self.decline(
                        ctx,
                        &framework_id,
                        &decline.offer_ids,
                        decline.filters.as_ref(),
                    );
                }
            }
            Type::Revive => {
                self.metrics.messages_revive_offers += 1;
                let roles = call.revive.map(|r| r.roles).unwrap_or_default();
                self.revive(&framework_id, roles);
            }
            Type::Suppress => {
                self.metrics.messages_suppress_offers += 1;
                let roles = call.suppress.map(|s| s.roles).unwrap_or_default();
                self.suppress(&framework_id, roles);
            }
            Type::Kill => {
                self.metrics.messages_kill_task += 1;
                if let Some(kill) = call.kill {
                    self.kill(
                        ctx,
                        &framework_id,
                        kill.task_id,
                        kill.slave_id,
                        kill.kill_policy,
                    );
                }
            }
            Type::Acknowledge => {
                self.metrics.messages_status_update_acknowledgement += 1;
                if let Some(ack) = call.acknowledge {
                    self.acknowledge(ctx, &framework_id, ack.slave_id, ack.task_id, ack.uuid);
                }
            }
            Type::Reconcile => {
                self.metrics.messages_reconcile_tasks += 1;
                let statuses = call
                    .reconcile
                    .map(|r| r.tasks)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| TaskStatus {
                        task_id: t.task_id,
                        slave_id: t.slave_id,
                        ..Default::default()
                    })
                    .collect();
                self.reconcile(ctx, &framework_id, statuses);
            }
            Type::Message => {
                self.metrics.messages_framework_to_executor += 1;
                if let Some(message) = call.message {
                    let message = FrameworkToExecutorMessage {
                        slave_id: message.slave_id,
                        framework_id: mesos_proto::mesos::FrameworkId {
                            value: framework_id.clone(),
                        },
                        executor_id: message.executor_id,
                        data: message.data,
                    };
                    self.framework_to_executor(ctx, &framework_id, message);
                }
            }
            Type::Request => {
                self.metrics.messages_resource_request += 1;
                // Requests are advisory; the hierarchical allocator, as
                // Mesos's, ignores them.
            }
            Type::UpdateFramework => {
                self.metrics.messages_update_framework += 1;
                if let Some(update) = call.update_framework {
                    return self.update_framework(&framework_id, update);
                }
            }
            Type::Shutdown
            | Type::AcceptInverseOffers
            | Type::DeclineInverseOffers
            | Type::AcknowledgeOperationStatus
            | Type::ReconcileOperations => {
                tracing::warn!(
                    "ignoring {} call of framework {framework_id}: not supported",
                    kind.as_str_name()
                );
            }
            Type::Subscribe | Type::Unknown => {}
        }
        Ok(())
    }

    /// UPDATE_FRAMEWORK: new roles, capabilities or suppressed roles.
    fn update_framework(
        &mut self,
        framework_id: &str,
        update: mesos_proto::scheduler::call::UpdateFramework,
    ) -> Result<(), String> {
        let info = update.framework_info;
        if info.id.as_ref().map(|i| i.value.as_str()) != Some(framework_id) {
            return Err("'framework_id' differs from 'framework_info.id'".into());
        }
        let checked =
            validation::framework::validate(&info, self.flags.roles.as_deref()).and_then(|()| {
                let current = &self.state.frameworks[framework_id].info;
                validation::framework::validate_update(current, &info)
            });
        checked?;
        let suppressed = update.suppressed_roles.into_iter().collect();
        self.update_framework_info(framework_id, info, Some(suppressed));
        Ok(())
    }

    fn revive(&mut self, framework_id: &str, roles: Vec<String>) {
        let roles: BTreeSet<String> = roles.into_iter().collect();
        if let Some(framework) = self.state.frameworks.get_mut(framework_id) {
            if roles.is_empty() {
                framework.suppressed_roles.clear();
            } else {
                framework.suppressed_roles.retain(|r| !roles.contains(r));
            }
        }
        self.allocator.revive_offers(framework_id, roles);
    }

    fn suppress(&mut self, framework_id: &str, roles: Vec<String>) {
        let roles: BTreeSet<String> = roles.into_iter().collect();
        if let Some(framework) = self.state.frameworks.get_mut(framework_id) {
            let all = if roles.is_empty() {
                framework.roles.clone()
            } else {
                roles.iter().cloned().collect()
            };
            for role in all {
                if !framework.suppressed_roles.contains(&role) {
                    framework.suppressed_roles.push(role);
                }
            }
        }
        self.allocator.suppress_offers(framework_id, roles);
    }

    /// Legacy `LaunchTasksMessage`: an ACCEPT with one LAUNCH (or a decline
    /// when there are no tasks).
    pub(crate) fn launch_tasks(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: LaunchTasksMessage,
    ) {
        self.metrics.messages_launch_tasks += 1;
        let Some(framework_id) = self.authorized_framework(from, &message.framework_id.value)
        else {
            self.metrics.invalid_framework_messages += 1;
            return;
        };
        let operations = vec![offer::Operation {
            r#type: Some(operation::Type::Launch as i32),
            launch: Some(operation::Launch {
                task_infos: message.tasks,
            }),
            ..Default::default()
        }];
        self.accept(
            ctx,
            &framework_id,
            &message.offer_ids,
            operations,
            Some(&message.filters),
        );
    }

    /// Legacy `KillTaskMessage`.
    pub(crate) fn kill_task(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: KillTaskMessage,
    ) {
        self.metrics.messages_kill_task += 1;
        let Some(framework_id) = self.authorized_framework(from, &message.framework_id.value)
        else {
            self.metrics.invalid_framework_messages += 1;
            return;
        };
        self.kill(
            ctx,
            &framework_id,
            message.task_id,
            None,
            message.kill_policy,
        );
    }

    /// Legacy `ReviveOffersMessage`.
    pub(crate) fn revive_offers(
        &mut self,
        _ctx: &mut Context<Self>,
        from: &UPID,
        message: ReviveOffersMessage,
    ) {
        self.metrics.messages_revive_offers += 1;
        if let Some(framework_id) = self.authorized_framework(from, &message.framework_id.value) {
            self.revive(&framework_id, message.roles);
        }
    }

    /// Legacy `ResourceRequestMessage`: advisory, ignored by the allocator.
    pub(crate) fn resource_request(
        &mut self,
        _ctx: &mut Context<Self>,
        from: &UPID,
        message: ResourceRequestMessage,
    ) {
        self.metrics.messages_resource_request += 1;
        let _ = self.authorized_framework(from, &message.framework_id.value);
    }

    /// LAUNCH_GROUP: not supported by this master yet; its tasks fail.
    pub(crate) fn launch_group(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        _agent_id: &str,
        _role: &str,
        group: operation::LaunchGroup,
        _available: &mut mesos_common::Resources,
    ) {
        let TaskGroupInfo { tasks } = group.task_group;
        for task in tasks {
            let update = crate::handlers::task::master_update(
                framework_id,
                Some(&task.slave_id.value),
                &task.task_id.value,
                mesos_proto::mesos::TaskState::TaskError,
                "LAUNCH_GROUP is not supported by this master",
                mesos_proto::mesos::task_status::Reason::TaskGroupInvalid,
                None,
                None,
            );
            self.forward_update(ctx, update, None);
        }
    }
}
