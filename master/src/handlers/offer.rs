//! Offers: turning the allocator's decisions into `ResourceOffersMessage`s,
//! and their ends: accepted, declined, timed out or rescinded.

use std::collections::BTreeMap;
use std::sync::Arc;

use libprocess::Context;
use mesos_common::resources::proto::Format;
use mesos_common::Resources;
use mesos_proto::internal::{
    FrameworkErrorMessage, RescindResourceOfferMessage, ResourceOffersMessage,
};
use mesos_proto::mesos::offer::operation::Type as OperationType;
use mesos_proto::mesos::task_status::Reason;
use mesos_proto::mesos::{
    offer, resource, Address, ExecutorId, Filters, FrameworkId, Offer as OfferInfo, OfferId,
    OperationId, OperationState, OperationStatus, SlaveId, TaskState, Url,
};
use mesos_proto::scheduler::{event, Event};

use crate::allocator::refuse_duration;
use crate::master::Master;
use crate::state::Offer;
use crate::validation;

use super::task::master_update;

impl Master {
    /// The allocator offers `framework_id` resources: role → agent →
    /// resources. What cannot be offered (the framework or agent went
    /// away meanwhile) goes straight back.
    pub(crate) fn offer(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: String,
        offered: BTreeMap<String, BTreeMap<String, Arc<Resources>>>,
    ) {
        let framework_ok = self
            .state
            .frameworks
            .get(&framework_id)
            .is_some_and(|f| f.active && f.connection.is_some());
        let mut message = ResourceOffersMessage::default();
        for (role, agents) in offered {
            for (agent_id, resources) in agents {
                let agent_ok = self
                    .state
                    .agents
                    .get(&agent_id)
                    .is_some_and(|a| a.active && a.connected);
                if !framework_ok || !agent_ok {
                    self.allocator.offer_closed();
                    self.allocator.recover_resources(
                        &framework_id,
                        &agent_id,
                        Arc::unwrap_or_clone(resources),
                        None,
                    );
                    continue;
                }
                let (offer, pid) = self.new_offer(ctx, &framework_id, &agent_id, &role, resources);
                message.offers.push(offer);
                message.pids.push(pid);
            }
        }
        if message.offers.is_empty() {
            return;
        }
        self.metrics.outstanding_offers_sent += message.offers.len() as u64;
        if let Some(framework) = self.state.frameworks.get(&framework_id) {
            framework.send(ctx, &message);
        }
    }

    /// Records a new offer and starts its `--offer_timeout`; returns it as
    /// the framework sees it, with the agent's UPID.
    fn new_offer(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        agent_id: &str,
        role: &str,
        resources: Arc<Resources>,
    ) -> (OfferInfo, String) {
        let id = self.ids.offer();
        let (Some(framework), Some(agent)) = (
            self.state.frameworks.get_mut(framework_id),
            self.state.agents.get_mut(agent_id),
        ) else {
            return (OfferInfo::default(), String::new());
        };
        let caps = framework.capabilities;
        let format = Format::for_framework(caps.reservation_refinement, caps.multi_role);
        let executor_ids: Vec<ExecutorId> = framework
            .executors
            .get(agent_id)
            .map(|e| e.values().map(|e| e.executor_id.clone()).collect())
            .unwrap_or_default();
        let info = OfferInfo {
            id: OfferId { value: id.clone() },
            framework_id: FrameworkId {
                value: framework_id.into(),
            },
            slave_id: SlaveId {
                value: agent_id.into(),
            },
            hostname: agent.info.hostname.clone(),
            resources: resources.to_proto_in(format),
            executor_ids,
            attributes: agent.info.attributes.clone(),
            url: Some(Url {
                scheme: "http".into(),
                address: Address {
                    hostname: Some(agent.info.hostname.clone()),
                    ip: Some(agent.pid.ip().to_string()),
                    port: i32::from(agent.pid.address().port()),
                },
                path: Some(format!("/{}", agent.pid.id())),
                query: Vec::new(),
                fragment: None,
            }),
            unavailability: None,
            allocation_info: caps.multi_role.then(|| resource::AllocationInfo {
                role: Some(role.into()),
            }),
            domain: agent.info.domain.clone(),
        };
        framework.offers.insert(id.clone());
        framework.offered += &*resources;
        agent.offers.insert(id.clone());
        agent.resources_mut().offered += &*resources;
        let agent_pid = agent.pid.to_string();
        let timer = self.flags.offer_timeout.map(|timeout| {
            let offer_id = id.clone();
            ctx.delay(timeout.to_std(), move |master, ctx| {
                master.offer_timed_out(ctx, &offer_id)
            })
        });
        self.state.offers.insert(
            id,
            Offer {
                info: info.clone(),
                resources,
                role: role.into(),
                framework_id: framework_id.into(),
                agent_id: agent_id.into(),
                timer,
            },
        );
        (info, agent_pid)
    }

    fn offer_timed_out(&mut self, ctx: &mut Context<Self>, offer_id: &str) {
        if self.state.offers.contains_key(offer_id) {
            tracing::info!("offer {offer_id} timed out; rescinding it");
            self.metrics.offers_timed_out += 1;
            self.rescind_offer(ctx, offer_id, true);
        }
    }

    /// Removes an offer; its resources go back to the allocator when
    /// `recover` (not when the agent is being removed).
    pub(crate) fn remove_offer(
        &mut self,
        ctx: &mut Context<Self>,
        offer_id: &str,
        recover: Option<Option<std::time::Duration>>,
    ) -> Option<Offer> {
        let offer = self.state.offers.remove(offer_id)?;
        self.allocator.offer_closed();
        if let Some(timer) = offer.timer {
            ctx.cancel(timer);
        }
        if let Some(framework) = self.state.frameworks.get_mut(&offer.framework_id) {
            framework.offers.remove(offer_id);
            framework.offered -= &*offer.resources;
        }
        if let Some(agent) = self.state.agents.get_mut(&offer.agent_id) {
            agent.offers.remove(offer_id);
            agent.resources_mut().offered -= &*offer.resources;
        }
        if let Some(refuse) = recover {
            self.allocator.recover_resources(
                &offer.framework_id,
                &offer.agent_id,
                Resources::clone(&offer.resources),
                refuse,
            );
        }
        Some(offer)
    }

    /// Takes an offer back from its framework (`RescindResourceOfferMessage`).
    pub(crate) fn rescind_offer(&mut self, ctx: &mut Context<Self>, offer_id: &str, recover: bool) {
        let Some(offer) = self.remove_offer(ctx, offer_id, recover.then_some(None)) else {
            return;
        };
        self.metrics.offers_rescinded += 1;
        if let Some(framework) = self.state.frameworks.get(&offer.framework_id) {
            framework.send(
                ctx,
                &RescindResourceOfferMessage {
                    offer_id: OfferId {
                        value: offer_id.into(),
                    },
                },
            );
        }
    }

    /// The framework declines offers; `filters` keep them away for
    /// `refuse_seconds` (5 by default).
    pub(crate) fn decline(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        offer_ids: &[OfferId],
        filters: Option<&Filters>,
    ) {
        // An absent `filters` reads as the default one (5 seconds), as
        // protobuf's accessor gives Mesos.
        let refuse = refuse_duration(Some(filters.unwrap_or(&Filters::default())));
        for id in offer_ids {
            let ours = self
                .state
                .offers
                .get(&id.value)
                .is_some_and(|o| o.framework_id == framework_id);
            if ours {
                self.metrics.offers_declined += 1;
                self.remove_offer(ctx, &id.value, Some(refuse));
            } else {
                tracing::warn!("ignoring decline of offer {}: no longer valid", id.value);
            }
        }
    }

    /// The framework accepts offers with operations. Invalid offers fail
    /// every task (TASK_LOST, or TASK_DROPPED for partition-aware
    /// frameworks) and give valid ones back; otherwise each operation is
    /// applied in order and what is left goes back with `filters`.
    pub(crate) fn accept(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        offer_ids: &[OfferId],
        operations: Vec<offer::Operation>,
        filters: Option<&Filters>,
    ) {
        let Some(framework) = self.state.frameworks.get(framework_id) else {
            return;
        };
        let partition_aware = framework.capabilities.partition_aware;
        if let Err(error) = validation::offer::validate(offer_ids, &self.state, framework_id) {
            for id in offer_ids {
                if self.state.offers.contains_key(&id.value)
                    && self.state.offers[&id.value].framework_id == framework_id
                {
                    self.remove_offer(ctx, &id.value, Some(None));
                }
            }
            let state = if partition_aware {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            for task in launched_tasks(&operations) {
                if partition_aware {
                    self.metrics.tasks_dropped += 1;
                } else {
                    self.metrics.tasks_lost += 1;
                }
                let update = master_update(
                    framework_id,
                    Some(&task.slave_id.value),
                    &task.task_id.value,
                    state,
                    &format!("Task launched with invalid offers: {error}"),
                    Reason::InvalidOffers,
                    None,
                    None,
                );
                self.forward_update(ctx, update, None);
            }
            return;
        }

        let mut available = Resources::new();
        let mut agent_id = String::new();
        let mut role = String::new();
        for id in offer_ids {
            if let Some(offer) = self.remove_offer(ctx, &id.value, None) {
                available += &*offer.resources;
                agent_id = offer.agent_id;
                role = offer.role;
            }
        }
        self.metrics.offers_accepted += offer_ids.len() as u64;
        let agent_ok = self
            .state
            .agents
            .get(&agent_id)
            .is_some_and(|a| a.connected);
        if !agent_ok {
            let state = if partition_aware {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            for task in launched_tasks(&operations) {
                let update = master_update(
                    framework_id,
                    Some(&task.slave_id.value),
                    &task.task_id.value,
                    state,
                    "Agent disconnected",
                    Reason::SlaveDisconnected,
                    None,
                    None,
                );
                self.forward_update(ctx, update, None);
            }
            self.allocator
                .recover_resources(framework_id, &agent_id, available, None);
            return;
        }

        for operation in operations {
            match OperationType::try_from(operation.r#type.unwrap_or_default())
                .unwrap_or(OperationType::Unknown)
            {
                OperationType::Launch => {
                    for task in operation.launch.map(|l| l.task_infos).unwrap_or_default() {
                        self.launch_task(ctx, framework_id, &agent_id, &role, task, &mut available);
                    }
                }
                OperationType::LaunchGroup => {
                    if let Some(group) = operation.launch_group {
                        self.launch_group(
                            ctx,
                            framework_id,
                            &agent_id,
                            &role,
                            group,
                            &mut available,
                        );
                    }
                }
                kind @ (OperationType::Reserve
                | OperationType::Unreserve
                | OperationType::Create
                | OperationType::Destroy
                | OperationType::GrowVolume
                | OperationType::ShrinkVolume
                | OperationType::CreateDisk
                | OperationType::DestroyDisk) => {
                    // What it would have used stays in `available`.
                    self.refuse_operation(ctx, framework_id, kind, &operation);
                }
                OperationType::Unknown => {
                    tracing::warn!("ignoring unknown operation of framework {framework_id}");
                }
            }
        }
        self.allocator.recover_resources(
            framework_id,
            &agent_id,
            available,
            refuse_duration(Some(filters.unwrap_or(&Filters::default()))),
        );
    }

    /// An operation this master cannot perform yet. The framework always
    /// hears it was dropped, in the words Mesos uses for an operation it
    /// drops: an operation with an `id` from an HTTP scheduler gets an
    /// OPERATION_ERROR status update; a libprocess driver may not set an
    /// `id` (Mesos answers with an error that aborts the driver); and an
    /// operation without an `id`, for which Mesos has no status update to
    /// send, gets an error naming it (an ERROR event on an HTTP stream),
    /// since a scheduler left waiting for a reservation or a volume that
    /// never comes would wait forever.
    fn refuse_operation(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        kind: OperationType,
        operation: &offer::Operation,
    ) {
        let Some(framework) = self.state.frameworks.get(framework_id) else {
            return;
        };
        let message = format!(
            "Operation {} is not supported by this master",
            kind.as_str_name()
        );
        tracing::warn!(
            "dropping {} operation from framework {framework_id}: {message}",
            kind.as_str_name()
        );
        match (&operation.id, framework.http()) {
            (Some(id), Some(http)) => {
                http.send(&operation_error(id, &message));
            }
            (Some(_), None) => framework.send(
                ctx,
                &FrameworkErrorMessage {
                    message: NO_FEEDBACK_FOR_DRIVERS.into(),
                },
            ),
            (None, _) => framework.send(ctx, &FrameworkErrorMessage { message }),
        }
    }
}

/// Mesos's answer to a libprocess driver that asks for operation feedback.
const NO_FEEDBACK_FOR_DRIVERS: &str = "The 'id' field was set in an offer operation, but \
     operation feedback is not supported for the SchedulerDriver API; please use the HTTP \
     scheduler API for this feature";

/// The UPDATE_OPERATION_STATUS event telling an HTTP scheduler that
/// operation `id` was dropped. Like Mesos, it names no agent: a dropped
/// operation may not have a valid one.
fn operation_error(id: &OperationId, message: &str) -> Event {
    Event {
        r#type: Some(event::Type::UpdateOperationStatus as i32),
        update_operation_status: Some(event::UpdateOperationStatus {
            status: OperationStatus {
                operation_id: Some(id.clone()),
                state: OperationState::OperationError as i32,
                message: Some(message.into()),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// Every task a list of operations would launch.
fn launched_tasks(operations: &[offer::Operation]) -> Vec<&mesos_proto::mesos::TaskInfo> {
    let mut tasks = Vec::new();
    for operation in operations {
        if let Some(launch) = &operation.launch {
            tasks.extend(launch.task_infos.iter());
        }
        if let Some(group) = &operation.launch_group {
            tasks.extend(group.task_group.tasks.iter());
        }
    }
    tasks
}
