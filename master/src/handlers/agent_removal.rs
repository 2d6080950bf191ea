//! Agents leaving: disconnection, ping timeouts, unregistration, and
//! agents that do not come back after a master failover.

use libprocess::{Context, UPID};
use mesos_proto::internal::{LostSlaveMessage, UnregisterSlaveMessage};
use mesos_proto::mesos::task_status::Reason;
use mesos_proto::mesos::{SlaveId, TaskState};

use crate::error::MasterError;
use crate::master::Master;
use crate::registrar::Operation;
use crate::state::unix_now;

/// How an agent left, which decides what its tasks become.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Departure {
    /// It stopped answering (unreachable since this Unix time).
    Unreachable(f64),
    /// It unregistered, or an operator removed it.
    Removed,
}

impl Master {
    /// Starts the `--agent_reregister_timeout` for agents the registry
    /// remembers: those that have not reregistered by then are marked
    /// unreachable.
    pub(crate) fn recover(&mut self, ctx: &mut Context<Self>) {
        if self.state.recovered_agents.is_empty() {
            return;
        }
        tracing::info!(
            "waiting {} for {} agents to reregister",
            self.flags.agent_reregister_timeout,
            self.state.recovered_agents.len()
        );
        ctx.delay(
            self.flags.agent_reregister_timeout.to_std(),
            |master, ctx| master.recovered_agents_timed_out(ctx),
        );
    }

    fn recovered_agents_timed_out(&mut self, ctx: &mut Context<Self>) {
        let ids: Vec<String> = self.state.recovered_agents.keys().cloned().collect();
        for id in ids {
            if self.state.reregistering.contains(&id) {
                continue;
            }
            tracing::warn!("agent {id} did not reregister in time; marking it unreachable");
            self.state.reregistering.insert(id.clone());
            let time = unix_now();
            let operation = Operation::MarkSlaveUnreachable {
                slave_id: SlaveId { value: id.clone() },
                time_nanos: (time * 1e9) as i64,
            };
            ctx.defer(
                self.registrar.apply(operation),
                move |master, _ctx, result| {
                    master.state.reregistering.remove(&id);
                    match result {
                        Ok(_) => {
                            master.state.recovered_agents.remove(&id);
                            master.state.unreachable_agents.insert(id, time);
                            master.metrics.slave_unreachable_completed += 1;
                        }
                        Err(error) => {
                            tracing::error!("could not mark agent {id} unreachable: {error}")
                        }
                    }
                },
            );
        }
    }

    /// The observer of agent `id` gave up on it.
    pub(crate) fn agent_ping_timed_out(&mut self, ctx: &mut Context<Self>, id: &str) {
        self.metrics.slave_unreachable_scheduled += 1;
        self.mark_unreachable(ctx, id, "health check timed out");
    }

    /// Marks agent `id` unreachable in the registry, then removes it.
    pub(crate) fn mark_unreachable(&mut self, ctx: &mut Context<Self>, id: &str, reason: &str) {
        if !self.state.agents.contains_key(id) || self.state.reregistering.contains(id) {
            return;
        }
        self.state.reregistering.insert(id.to_string());
        let time = unix_now();
        let operation = Operation::MarkSlaveUnreachable {
            slave_id: SlaveId { value: id.into() },
            time_nanos: (time * 1e9) as i64,
        };
        let (id, reason) = (id.to_string(), reason.to_string());
        ctx.defer(
            self.registrar.apply(operation),
            move |master, ctx, result| {
                master.agent_marked_unreachable(ctx, &id, &reason, time, result)
            },
        );
    }

    fn agent_marked_unreachable(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        reason: &str,
        time: f64,
        result: Result<bool, MasterError>,
    ) {
        self.state.reregistering.remove(id);
        if let Err(error) = result {
            tracing::error!("could not mark agent {id} unreachable: {error}");
            return;
        }
        tracing::warn!("agent {id} is unreachable: {reason}");
        self.metrics.slave_unreachable_completed += 1;
        self.metrics.slave_removals_reason_unhealthy += 1;
        self.remove_agent(
            ctx,
            id,
            Departure::Unreachable(time),
            &format!("Agent {id} is unreachable: {reason}"),
        );
        self.state.unreachable_agents.insert(id.to_string(), time);
    }

    /// An agent leaves for good: `UnregisterSlaveMessage`.
    pub(crate) fn unregister_slave(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: UnregisterSlaveMessage,
    ) {
        self.metrics.messages_unregister_slave += 1;
        let id = message.slave_id.value.clone();
        match self.state.agents.get(&id) {
            Some(agent) if agent.pid == *from => {}
            _ => {
                self.metrics.invalid_agent_messages += 1;
                tracing::warn!("ignoring unregistration of agent {id} from {from}");
                return;
            }
        }
        if !self.state.reregistering.insert(id.clone()) {
            return;
        }
        ctx.defer(
            self.registrar
                .apply(Operation::RemoveSlave(message.slave_id)),
            move |master, ctx, result| {
                master.state.reregistering.remove(&id);
                if let Err(error) = result {
                    tracing::error!("could not remove agent {id}: {error}");
                    return;
                }
                master.metrics.slave_removals_reason_unregistered += 1;
                master.remove_agent(ctx, &id, Departure::Removed, "Agent unregistered");
            },
        );
    }

    /// The connection to an agent broke. It stays registered (its tasks
    /// keep running) but gets no offers; the observer's pings decide
    /// whether it is gone.
    pub(crate) fn agent_disconnected(&mut self, ctx: &mut Context<Self>, pid: &UPID) {
        let Some(id) = self.state.agent_pids.get(pid).cloned() else {
            return;
        };
        let Some(agent) = self.state.agents.get_mut(&id) else {
            return;
        };
        if !agent.connected {
            return;
        }
        tracing::info!("agent {id} at {pid} disconnected");
        agent.connected = false;
        agent.active = false;
        if let Some(observer) = &agent.observer {
            observer.post(|o, _| o.disconnected());
        }
        self.allocator.deactivate_slave(&id);
        let offers: Vec<String> = agent.offers.iter().cloned().collect();
        for offer in offers {
            self.rescind_offer(ctx, &offer, true);
        }
    }

    /// Removes agent `id`: its tasks become TASK_UNREACHABLE (partition
    /// aware frameworks) or TASK_LOST, its offers are rescinded, and every
    /// framework hears `LostSlaveMessage`.
    pub(crate) fn remove_agent(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        departure: Departure,
        message: &str,
    ) {
        // First the allocator, so it does not offer what is going away.
        self.allocator.remove_slave(id);
        let Some(agent) = self.state.agents.get(id) else {
            return;
        };
        let offers: Vec<String> = agent.offers.iter().cloned().collect();
        let tasks: Vec<(String, String)> = agent
            .tasks
            .iter()
            .flat_map(|(f, ts)| ts.iter().map(move |t| (f.clone(), t.clone())))
            .collect();
        for offer in offers {
            self.rescind_offer(ctx, &offer, false);
        }
        for (framework_id, task_id) in tasks {
            let partition_aware = self
                .state
                .frameworks
                .get(&framework_id)
                .is_some_and(|f| f.capabilities.partition_aware);
            let (state, reason) = match (departure, partition_aware) {
                (_, false) => (TaskState::TaskLost, Reason::SlaveRemoved),
                (Departure::Unreachable(_), true) => {
                    (TaskState::TaskUnreachable, Reason::SlaveRemoved)
                }
                (Departure::Removed, true) => (
                    TaskState::TaskGoneByOperator,
                    Reason::SlaveRemovedByOperator,
                ),
            };
            let unreachable_time = match departure {
                Departure::Unreachable(t) => Some(t),
                Departure::Removed => None,
            };
            self.fail_task(
                ctx,
                &framework_id,
                &task_id,
                state,
                reason,
                message,
                unreachable_time,
            );
        }
        for framework in self.state.frameworks.values_mut() {
            if let Some(executors) = framework.executors.remove(id) {
                for executor in executors.values() {
                    if let Ok(r) = mesos_common::Resources::from_proto(&executor.resources) {
                        framework.used -= &r;
                    }
                }
            }
        }
        if let Some(agent) = self.state.remove_agent(id) {
            if let Some(observer) = agent.observer {
                observer.terminate();
            }
        }
        self.metrics.slave_removals += 1;
        let lost = LostSlaveMessage {
            slave_id: SlaveId { value: id.into() },
        };
        for framework in self.state.frameworks.values() {
            if framework.connected {
                framework.send(ctx, &lost);
            }
        }
    }
}
