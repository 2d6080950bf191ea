//! Agents leaving: disconnection, ping timeouts, unregistration, and
//! agents that do not come back after a master failover.

use std::collections::BTreeSet;

use libprocess::{Context, UPID};
use mesos_common::Resources;
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
            tracing::warn!(
                "agent {id} did not reregister within {} after master failover; \
                 marking it unreachable",
                self.flags.agent_reregister_timeout
            );
            self.metrics.slave_unreachable_scheduled += 1;
            self.state.reregistering.insert(id.clone());
            let time = unix_now();
            let operation = Operation::MarkSlaveUnreachable {
                slave_id: SlaveId { value: id.clone() },
                time_nanos: (time * 1e9) as i64,
            };
            ctx.defer(
                self.registrar.apply(operation),
                move |master, ctx, result| {
                    master.recovered_agent_marked_unreachable(ctx, id, time, result)
                },
            );
        }
    }

    /// A recovered agent that never reregistered is now unreachable in
    /// the registry. We know none of its tasks, so frameworks only hear
    /// that the agent is lost.
    fn recovered_agent_marked_unreachable(
        &mut self,
        ctx: &mut Context<Self>,
        id: String,
        time: f64,
        result: Result<bool, MasterError>,
    ) {
        self.state.reregistering.remove(&id);
        if let Err(error) = result {
            tracing::error!("could not mark agent {id} unreachable: {error}");
            return;
        }
        self.state.recovered_agents.remove(&id);
        self.state.unreachable_agents.insert(id.clone(), time);
        self.metrics.slave_unreachable_completed += 1;
        self.metrics.slave_removals += 1;
        self.metrics.slave_removals_reason_unhealthy += 1;
        let lost = LostSlaveMessage {
            slave_id: SlaveId { value: id },
        };
        for framework in self.state.frameworks.values() {
            if framework.connected {
                framework.send(ctx, &lost);
            }
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

    /// The connection to an agent broke. As in Mesos, it stays registered
    /// but is deactivated: no more offers, and its outstanding ones are
    /// rescinded. Tasks of checkpointing frameworks keep running there
    /// (the agent recovers them if it restarts); those of frameworks that
    /// do not checkpoint would die with a restarted agent, so they become
    /// TASK_LOST now and their executors are forgotten. The agent then has
    /// `--agent_reregister_timeout` to reregister before it is marked
    /// unreachable (its observer's pings may give up on it sooner).
    pub(crate) fn agent_disconnected(&mut self, ctx: &mut Context<Self>, pid: &UPID) {
        let Some(id) = self.state.agent_pids.get(pid).cloned() else {
            return;
        };
        let Some(agent) = self.state.agents.get_mut(&id) else {
            return;
        };
        if !agent.connected {
            // A restarted agent keeps its UPID, so a second `exited` for
            // a link we made again is possible.
            tracing::info!("ignoring another disconnection of agent {id} at {pid}");
            return;
        }
        tracing::info!("agent {id} at {pid} disconnected");
        agent.connected = false;
        agent.active = false;
        if let Some(observer) = &agent.observer {
            observer.post(|o, _| o.disconnected());
        }
        let hostname = agent.info.hostname.clone();
        let epoch = agent.reregistered_time;
        let mut framework_ids: BTreeSet<String> = agent.tasks.keys().cloned().collect();
        self.allocator.deactivate_slave(&id);
        let offers: Vec<String> = agent.offers.iter().cloned().collect();
        for offer in offers {
            self.rescind_offer(ctx, &offer, true);
        }

        framework_ids.extend(
            self.state
                .frameworks
                .values()
                .filter(|f| f.executors.contains_key(&id))
                .map(|f| f.id.clone()),
        );
        for framework_id in framework_ids {
            let checkpoints = self
                .state
                .frameworks
                .get(&framework_id)
                .map(|f| f.info.checkpoint.unwrap_or(false));
            if checkpoints == Some(false) {
                tracing::info!(
                    "removing framework {framework_id} from disconnected agent {id}: \
                     it does not checkpoint"
                );
                self.remove_framework_from_agent(ctx, &id, &framework_id, &hostname);
            }
        }

        let timeout = self.flags.agent_reregister_timeout;
        ctx.delay(timeout.to_std(), move |master, ctx| {
            master.agent_reregister_timed_out(ctx, &id, epoch)
        });
    }

    /// Fails the tasks of framework `framework_id` on disconnected agent
    /// `agent_id` (TASK_LOST, REASON_SLAVE_DISCONNECTED) and forgets its
    /// executors there; their resources go back.
    fn remove_framework_from_agent(
        &mut self,
        ctx: &mut Context<Self>,
        agent_id: &str,
        framework_id: &str,
        hostname: &str,
    ) {
        let tasks: Vec<String> = self
            .state
            .agents
            .get(agent_id)
            .and_then(|a| a.tasks.get(framework_id))
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        let message = format!("Agent {hostname} disconnected");
        for task_id in tasks {
            self.fail_task(
                ctx,
                framework_id,
                &task_id,
                TaskState::TaskLost,
                Reason::SlaveDisconnected,
                &message,
                None,
            );
        }
        let executors: Vec<String> = self
            .state
            .frameworks
            .get(framework_id)
            .and_then(|f| f.executors.get(agent_id))
            .map(|e| e.keys().cloned().collect())
            .unwrap_or_default();
        for executor_id in executors {
            self.remove_executor(agent_id, framework_id, &executor_id);
        }
    }

    /// Forgets executor `executor_id` of framework `framework_id` on agent
    /// `agent_id`; what it used goes back to the allocator.
    pub(crate) fn remove_executor(
        &mut self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
    ) {
        let Some(framework) = self.state.frameworks.get_mut(framework_id) else {
            return;
        };
        let Some(executors) = framework.executors.get_mut(agent_id) else {
            return;
        };
        let Some(executor) = executors.remove(executor_id) else {
            return;
        };
        if executors.is_empty() {
            framework.executors.remove(agent_id);
        }
        let resources = Resources::from_proto(&executor.resources).unwrap_or_default();
        framework.used -= &resources;
        if let Some(agent) = self.state.agents.get_mut(agent_id) {
            agent.release(framework_id, &resources);
        }
        self.allocator
            .release_resources(framework_id, agent_id, resources);
    }

    /// `--agent_reregister_timeout` after agent `id` disconnected: unless
    /// it has reregistered since (`epoch` is its reregistration time when
    /// it disconnected), it is marked unreachable. This catches an agent
    /// that answers pings but never comes back (one hung in recovery).
    fn agent_reregister_timed_out(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        epoch: Option<f64>,
    ) {
        let Some(agent) = self.state.agents.get(id) else {
            return;
        };
        if agent.connected || agent.reregistered_time != epoch {
            return;
        }
        self.metrics.slave_unreachable_scheduled += 1;
        let reason = format!(
            "agent did not reregister within {} after disconnecting",
            self.flags.agent_reregister_timeout
        );
        self.mark_unreachable(ctx, id, &reason);
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
