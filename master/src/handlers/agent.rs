//! Agents joining: `RegisterSlaveMessage`, `ReregisterSlaveMessage`,
//! `UpdateSlaveMessage`, and the registry writes they wait for.

use std::collections::{BTreeMap, HashMap, HashSet};

use libprocess::{Context, UPID};
use mesos_common::Resources;
use mesos_proto::internal::{
    MasterSlaveConnection, ReconcileTasksMessage, RegisterSlaveMessage, ReregisterSlaveMessage,
    ShutdownFrameworkMessage, ShutdownMessage, SlaveRegisteredMessage, SlaveReregisteredMessage,
    UpdateSlaveMessage,
};
use mesos_proto::mesos::{FrameworkId, SlaveId, SlaveInfo, Task, Uuid};

use crate::error::MasterError;
use crate::master::Master;
use crate::observer::SlaveObserver;
use crate::registrar::Operation;
use crate::state::{unix_now, Agent, Framework};
use crate::validation;

/// What an agent told us when it (re)registered, beyond its `SlaveInfo`.
pub(crate) struct Registration {
    pub pid: UPID,
    pub info: SlaveInfo,
    pub total: Resources,
    pub version: String,
    pub capabilities: Vec<mesos_proto::mesos::slave_info::Capability>,
    pub resource_version_uuid: Option<Uuid>,
}

impl Master {
    /// An agent asks to join: admit it in the registry under a new ID,
    /// then add it. A retry from an agent that is registered gets the
    /// registration again; one whose admission is under way is ignored.
    pub(crate) fn register_slave(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: RegisterSlaveMessage,
    ) {
        self.metrics.messages_register_slave += 1;
        if let Some(agent) = self.state.agent_by_pid(from) {
            tracing::info!(
                "agent {} at {from} is already registered; resending",
                agent.id
            );
            let reply = self.slave_registered(&agent.id.clone());
            ctx.send(from, &reply);
            return;
        }
        if self.state.registering.contains(from) {
            tracing::info!("ignoring registration of agent at {from}: already in progress");
            return;
        }
        let total = match validation::agent::registration(
            &message.slave,
            &message.checkpointed_resources,
        ) {
            Ok(total) => total,
            Err(error) => {
                self.metrics.invalid_agent_messages += 1;
                tracing::warn!("refusing registration of agent at {from}: {error}");
                ctx.send(
                    from,
                    &ShutdownMessage {
                        message: Some(error),
                    },
                );
                return;
            }
        };
        let mut info = message.slave;
        info.id = Some(SlaveId {
            value: self.ids.agent(),
        });
        let registration = Registration {
            pid: from.clone(),
            info: info.clone(),
            total,
            version: message.version.unwrap_or_default(),
            capabilities: message.agent_capabilities,
            resource_version_uuid: message.resource_version_uuid,
        };
        self.state.registering.insert(from.clone());
        ctx.defer(
            self.registrar.apply(Operation::AdmitSlave(info)),
            move |master, ctx, result| master.agent_admitted(ctx, registration, result),
        );
    }

    /// The registry admitted (or refused) a registering agent.
    fn agent_admitted(
        &mut self,
        ctx: &mut Context<Self>,
        registration: Registration,
        result: Result<bool, MasterError>,
    ) {
        self.state.registering.remove(&registration.pid);
        if let Err(error) = result {
            tracing::error!("could not admit agent at {}: {error}", registration.pid);
            return;
        }
        let pid = registration.pid.clone();
        let id = self.add_agent(ctx, registration, HashMap::new());
        self.metrics.slave_registrations += 1;
        tracing::info!("registered agent {id} at {pid}");
        let reply = self.slave_registered(&id);
        ctx.send(&pid, &reply);
    }

    fn connection(&self) -> MasterSlaveConnection {
        MasterSlaveConnection {
            total_ping_timeout_seconds: Some(
                self.flags.agent_ping_timeout.as_secs_f64()
                    * self.flags.max_agent_ping_timeouts as f64,
            ),
        }
    }

    fn slave_registered(&self, id: &str) -> SlaveRegisteredMessage {
        SlaveRegisteredMessage {
            slave_id: SlaveId { value: id.into() },
            connection: Some(self.connection()),
        }
    }

    /// Adds an admitted agent with what frameworks use there (`used`:
    /// framework ID → resources): starts its observer, links to it, and
    /// tells the allocator. Returns its ID.
    pub(crate) fn add_agent(
        &mut self,
        ctx: &mut Context<Self>,
        registration: Registration,
        used: HashMap<String, Resources>,
    ) -> String {
        let id = registration
            .info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let observer = SlaveObserver::new(
            registration.pid.clone(),
            id.clone(),
            ctx.handle(),
            self.flags.agent_ping_timeout.to_std(),
            self.flags.max_agent_ping_timeouts,
        );
        let observer_id = ctx.runtime().generate_id("slave-observer");
        let observer = match ctx.runtime().spawn(&observer_id, observer) {
            Ok(pid) => Some(pid),
            Err(error) => {
                tracing::error!("cannot observe agent {id}: {error}");
                None
            }
        };
        ctx.link(&registration.pid);
        let used_by_framework: BTreeMap<String, Resources> =
            used.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        self.allocator.add_slave(
            &id,
            &registration.capabilities,
            registration.total.clone(),
            used_by_framework,
        );
        self.state.insert_agent(Agent {
            id: id.clone(),
            info: registration.info,
            pid: registration.pid,
            version: registration.version,
            capabilities: registration
                .capabilities
                .iter()
                .filter_map(|c| c.r#type)
                .collect(),
            registered_time: unix_now(),
            reregistered_time: None,
            connected: true,
            active: true,
            total: registration.total,
            used,
            offered: Resources::new(),
            tasks: HashMap::new(),
            offers: HashSet::new(),
            observer,
            resource_version_uuid: registration.resource_version_uuid,
        });
        id
    }

    /// An agent with an ID comes back: after its own restart or
    /// disconnection, or after a master failover.
    pub(crate) fn reregister_slave(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ReregisterSlaveMessage,
    ) {
        self.metrics.messages_reregister_slave += 1;
        let total = match validation::agent::reregistration(&message) {
            Ok(total) => total,
            Err(error) => {
                self.metrics.invalid_agent_messages += 1;
                tracing::warn!("refusing reregistration of agent at {from}: {error}");
                ctx.send(
                    from,
                    &ShutdownMessage {
                        message: Some(error),
                    },
                );
                return;
            }
        };
        let id = message
            .slave
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        if self.state.gone_agents.contains_key(&id) {
            ctx.send(
                from,
                &ShutdownMessage {
                    message: Some("Agent has been marked gone".into()),
                },
            );
            return;
        }
        if self.state.reregistering.contains(&id) {
            tracing::info!("ignoring reregistration of agent {id}: already in progress");
            return;
        }
        if self.state.agents.contains_key(&id) {
            self.reregister_known_agent(ctx, from, &id, message);
            return;
        }
        let was_unreachable = self.state.unreachable_agents.contains_key(&id);
        self.state.reregistering.insert(id.clone());
        let operation = Operation::MarkSlaveReachable(message.slave.clone());
        let from = from.clone();
        ctx.defer(
            self.registrar.apply(operation),
            move |master, ctx, result| {
                master.agent_readmitted(ctx, from, message, total, was_unreachable, result)
            },
        );
    }

    /// A registered agent reregistered (a restarted agent process or a
    /// reconnection): adopt its new UPID, reconnect it, and let it
    /// reconcile the tasks we think it runs.
    fn reregister_known_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        id: &str,
        message: ReregisterSlaveMessage,
    ) {
        let Some(agent) = self.state.agents.get(id) else {
            return;
        };
        if agent.pid.ip() != from.ip() || agent.info.hostname != message.slave.hostname {
            tracing::warn!("agent {id} at {from} reregistered with a different IP or hostname");
            ctx.send(
                from,
                &ShutdownMessage {
                    message: Some(
                        "Agent attempted to reregister with different IP / hostname".into(),
                    ),
                },
            );
            return;
        }
        let was_active = agent.active;
        let observer = agent.observer.clone();
        self.state.set_agent_pid(id, from.clone());
        ctx.link(from);
        if let Some(observer) = observer {
            let pid = from.clone();
            observer.post(move |o, _| o.reconnect(pid));
        }
        // Tasks we know on the agent that it did not report: the agent
        // answers a reconciliation of them with their fate.
        let reported: HashSet<(&str, &str)> = message
            .tasks
            .iter()
            .map(|t| (t.framework_id.value.as_str(), t.task_id.value.as_str()))
            .collect();
        let mut reconciliations = Vec::new();
        if let Some(agent) = self.state.agents.get(id) {
            for (framework_id, task_ids) in &agent.tasks {
                let Some(framework) = self.state.frameworks.get(framework_id) else {
                    continue;
                };
                let statuses: Vec<_> = task_ids
                    .iter()
                    .filter(|t| !reported.contains(&(framework_id.as_str(), t.as_str())))
                    .filter_map(|t| framework.tasks.get(t))
                    .map(|t| crate::handlers::task::latest_status(t))
                    .collect();
                if !statuses.is_empty() {
                    reconciliations.push(ReconcileTasksMessage {
                        framework_id: FrameworkId {
                            value: framework_id.clone(),
                        },
                        statuses,
                        framework: Some(framework.info.clone()),
                    });
                }
            }
        }
        // Frameworks the agent runs that we have removed must go.
        for framework in &message.frameworks {
            if let Some(fid) = &framework.id {
                if self.state.is_completed_framework(&fid.value) {
                    ctx.send(
                        from,
                        &ShutdownFrameworkMessage {
                            framework_id: fid.clone(),
                        },
                    );
                }
            }
        }
        if let Some(agent) = self.state.agents.get_mut(id) {
            agent.connected = true;
            agent.active = true;
            agent.reregistered_time = Some(unix_now());
            agent.version = message.version.clone().unwrap_or_default();
        }
        if !was_active {
            self.allocator.activate_slave(id);
        }
        self.metrics.slave_reregistrations += 1;
        ctx.send(
            from,
            &SlaveReregisteredMessage {
                slave_id: SlaveId { value: id.into() },
                reconciliations,
                connection: Some(self.connection()),
            },
        );
    }

    /// The registry readmitted an agent we did not have registered
    /// (recovered after our failover, unreachable, or unknown): add it
    /// with the tasks it runs.
    fn agent_readmitted(
        &mut self,
        ctx: &mut Context<Self>,
        from: UPID,
        message: ReregisterSlaveMessage,
        total: Resources,
        was_unreachable: bool,
        result: Result<bool, MasterError>,
    ) {
        let id = message
            .slave
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        self.state.reregistering.remove(&id);
        if let Err(error) = result {
            tracing::error!("could not readmit agent {id} at {from}: {error}");
            return;
        }
        self.state.recovered_agents.remove(&id);
        self.state.unreachable_agents.remove(&id);

        // Frameworks the agent knows and we do not yet (we failed over):
        // keep them, disconnected, until their schedulers come back.
        for info in &message.frameworks {
            let Some(fid) = info.id.as_ref().map(|i| i.value.clone()) else {
                continue;
            };
            if !self.state.frameworks.contains_key(&fid) && !self.state.is_completed_framework(&fid)
            {
                let mut framework = Framework::new(fid.clone(), info.clone(), None, unix_now());
                framework.recovered = true;
                self.allocator.add_framework(
                    &fid,
                    info,
                    BTreeMap::new(),
                    false,
                    Default::default(),
                );
                self.state.insert_framework(framework);
            }
        }

        // Tasks of frameworks that were told these tasks were lost (not
        // partition-aware) are shut down rather than adopted.
        let mut shutdown = HashSet::new();
        let mut adopted: Vec<Task> = Vec::new();
        for task in message.tasks.iter() {
            let fid = &task.framework_id.value;
            let adopt = match self.state.frameworks.get(fid) {
                Some(f) => !was_unreachable || f.capabilities.partition_aware,
                None => false,
            };
            if adopt {
                adopted.push(task.clone());
            } else {
                shutdown.insert(fid.clone());
            }
        }
        for fid in &shutdown {
            ctx.send(
                &from,
                &ShutdownFrameworkMessage {
                    framework_id: FrameworkId { value: fid.clone() },
                },
            );
        }

        let mut used: HashMap<String, Resources> = HashMap::new();
        for task in &adopted {
            if !crate::state::is_terminal(task.state) {
                if let Ok(r) = Resources::from_proto(&task.resources) {
                    *used.entry(task.framework_id.value.clone()).or_default() += &r;
                }
            }
        }
        for executor in &message.executor_infos {
            let Some(fid) = executor.framework_id.as_ref().map(|f| f.value.clone()) else {
                continue;
            };
            if shutdown.contains(&fid) || !self.state.frameworks.contains_key(&fid) {
                continue;
            }
            if let Ok(r) = Resources::from_proto(&executor.resources) {
                *used.entry(fid.clone()).or_default() += &r;
            }
            if let Some(framework) = self.state.frameworks.get_mut(&fid) {
                framework
                    .executors
                    .entry(id.clone())
                    .or_default()
                    .insert(executor.executor_id.value.clone(), executor.clone());
                if let Ok(r) = Resources::from_proto(&executor.resources) {
                    framework.used += &r;
                }
            }
        }

        let registration = Registration {
            pid: from.clone(),
            info: message.slave.clone(),
            total,
            version: message.version.clone().unwrap_or_default(),
            capabilities: message.agent_capabilities.clone(),
            resource_version_uuid: message.resource_version_uuid.clone(),
        };
        self.add_agent(ctx, registration, used);
        if let Some(agent) = self.state.agents.get_mut(&id) {
            agent.reregistered_time = Some(unix_now());
        }
        for task in adopted {
            self.adopt_task(&id, task);
        }
        self.metrics.slave_reregistrations += 1;
        tracing::info!("reregistered agent {id} at {from}");
        ctx.send(
            &from,
            &SlaveReregisteredMessage {
                slave_id: SlaveId { value: id },
                reconciliations: Vec::new(),
                connection: Some(self.connection()),
            },
        );
    }

    /// Records a task an agent reported as running there.
    fn adopt_task(&mut self, agent_id: &str, task: Task) {
        let fid = task.framework_id.value.clone();
        let tid = task.task_id.value.clone();
        let Some(framework) = self.state.frameworks.get_mut(&fid) else {
            return;
        };
        if framework.tasks.contains_key(&tid) {
            return;
        }
        if crate::state::is_terminal(task.state) {
            return;
        }
        if let Ok(r) = Resources::from_proto(&task.resources) {
            framework.used += &r;
        }
        framework
            .tasks
            .insert(tid.clone(), std::sync::Arc::new(task));
        if let Some(agent) = self.state.agents.get_mut(agent_id) {
            agent.tasks.entry(fid).or_default().insert(tid);
        }
    }

    /// An agent's resources changed (oversubscription) or it reports its
    /// resource version.
    pub(crate) fn update_slave(
        &mut self,
        _ctx: &mut Context<Self>,
        from: &UPID,
        message: UpdateSlaveMessage,
    ) {
        self.metrics.messages_update_slave += 1;
        let id = message.slave_id.value.clone();
        let Some(agent) = self.state.agents.get_mut(&id) else {
            self.metrics.invalid_agent_messages += 1;
            tracing::warn!("ignoring update of unknown agent {id} from {from}");
            return;
        };
        if agent.pid != *from {
            self.metrics.invalid_agent_messages += 1;
            tracing::warn!("ignoring update of agent {id} from {from}: not its pid");
            return;
        }
        if message.resource_version_uuid.is_some() {
            agent.resource_version_uuid = message.resource_version_uuid.clone();
        }
        if message.update_oversubscribed_resources == Some(true) {
            let Ok(oversubscribed) = Resources::from_proto(&message.oversubscribed_resources)
            else {
                self.metrics.invalid_agent_messages += 1;
                tracing::warn!("ignoring update of agent {id}: invalid oversubscribed resources");
                return;
            };
            let mut total = agent.total.non_revocable();
            total += &oversubscribed;
            if total != agent.total {
                agent.total = total.clone();
                self.allocator.update_slave(&id, Some(total), None);
            }
        }
    }
}
