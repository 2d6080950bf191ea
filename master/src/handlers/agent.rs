//! Agents joining: `RegisterSlaveMessage` and the registry write it waits
//! for, adding an admitted agent, and `UpdateSlaveMessage`. Agents coming
//! back (`ReregisterSlaveMessage`) are in `reregistration`.

mod reregistration;

use std::collections::{BTreeMap, HashMap, HashSet};

use libprocess::{Context, UPID};
use mesos_common::Resources;
use mesos_proto::internal::{
    MasterSlaveConnection, RegisterSlaveMessage, ShutdownMessage, SlaveRegisteredMessage,
    UpdateSlaveMessage,
};
use mesos_proto::mesos::{SlaveId, SlaveInfo, Uuid};

use crate::error::MasterError;
use crate::master::Master;
use crate::observer::SlaveObserver;
use crate::registrar::Operation;
use crate::state::{unix_now, Agent};
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
            resources: std::sync::Arc::new(crate::state::AgentResources {
                total: registration.total,
                used,
                offered: Resources::new(),
            }),
            tasks: HashMap::new(),
            offers: HashSet::new(),
            observer,
            resource_version_uuid: registration.resource_version_uuid,
        });
        id
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
            let mut total = agent.resources.total.non_revocable();
            total += &oversubscribed;
            if total != agent.resources.total {
                agent.resources_mut().total = total.clone();
                self.allocator.update_slave(&id, Some(total), None);
            }
        }
    }
}
