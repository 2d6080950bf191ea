//! Frameworks: subscription (registration, reregistration, failover),
//! disconnection and the failover timeout, deactivation, and removal.

use std::collections::BTreeSet;

use libprocess::{Context, UPID};
use mesos_proto::internal::{
    DeactivateFrameworkMessage, FrameworkErrorMessage, FrameworkRegisteredMessage,
    FrameworkReregisteredMessage, RegisterFrameworkMessage, ReregisterFrameworkMessage,
    ShutdownFrameworkMessage, UnregisterFrameworkMessage, UpdateFrameworkMessage,
};
use mesos_proto::mesos::task_status::Reason;
use mesos_proto::mesos::{FrameworkId, FrameworkInfo, TaskState};

use crate::master::Master;
use crate::scheduler_api::Connection;
use crate::state::{unix_now, Framework};
use crate::validation;

impl Master {
    /// The framework registered with `framework_id` whose scheduler is
    /// `from`, or None (logged) when the sender is not that scheduler.
    pub(crate) fn authorized_framework(&self, from: &UPID, framework_id: &str) -> Option<String> {
        match self.state.frameworks.get(framework_id) {
            Some(f) if f.pid() == Some(from) => Some(f.id.clone()),
            Some(_) => {
                tracing::warn!(
                    "ignoring message for framework {framework_id} from {from}: not its scheduler"
                );
                None
            }
            None => {
                tracing::warn!("ignoring message from {from} for unknown framework {framework_id}");
                None
            }
        }
    }

    /// Refuses a subscription: the scheduler hears why (an HTTP one on its
    /// stream, which then ends).
    fn framework_error(&mut self, ctx: &mut Context<Self>, to: Connection, message: String) {
        tracing::warn!("refusing framework at {to}: {message}");
        to.send(ctx, &FrameworkErrorMessage { message });
    }

    /// Legacy registration.
    pub(crate) fn register_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: RegisterFrameworkMessage,
    ) {
        self.metrics.messages_register_framework += 1;
        let mut info = message.framework;
        if info.id.as_ref().is_some_and(|id| !id.value.is_empty()) {
            // Mesos treats a registration with an ID as a reregistration.
            info.id = info.id.filter(|id| !id.value.is_empty());
        }
        self.subscribe(
            ctx,
            Connection::Pid(from.clone()),
            info,
            false,
            BTreeSet::new(),
        );
    }

    /// Legacy reregistration (`failover` is a scheduler failover).
    pub(crate) fn reregister_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ReregisterFrameworkMessage,
    ) {
        self.metrics.messages_reregister_framework += 1;
        let from = Connection::Pid(from.clone());
        if message
            .framework
            .id
            .as_ref()
            .is_none_or(|id| id.value.is_empty())
        {
            self.framework_error(ctx, from, "Framework reregistering without an 'id'".into());
            return;
        }
        self.subscribe(
            ctx,
            from,
            message.framework,
            message.failover,
            BTreeSet::new(),
        );
    }

    /// A scheduler at `from` subscribes with `info`: a new framework when
    /// `info.id` is empty, otherwise a reregistration (`force`: a failed
    /// over scheduler replacing the old one). An HTTP scheduler always
    /// takes over, as in Mesos: its new stream replaces the old
    /// connection, whichever kind it was.
    pub(crate) fn subscribe(
        &mut self,
        ctx: &mut Context<Self>,
        from: Connection,
        info: FrameworkInfo,
        force: bool,
        suppressed_roles: BTreeSet<String>,
    ) {
        if let Err(error) = validation::framework::validate(&info, self.flags.roles.as_deref()) {
            self.metrics.invalid_framework_messages += 1;
            self.framework_error(ctx, from, error);
            return;
        }
        let force = force || matches!(from, Connection::Http(_));
        let id = info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let by_pid = from
            .pid()
            .and_then(|pid| self.state.framework_by_pid(pid))
            .map(|f| f.id.clone());
        if id.is_empty() {
            if let Some(existing) = by_pid {
                let reply = FrameworkRegisteredMessage {
                    framework_id: FrameworkId { value: existing },
                    master_info: self.info.clone(),
                };
                from.send(ctx, &reply);
                return;
            }
            let id = self.ids.framework();
            let mut info = info;
            info.id = Some(FrameworkId { value: id.clone() });
            self.add_framework(ctx, from.clone(), id.clone(), info, suppressed_roles);
            from.send(
                ctx,
                &FrameworkRegisteredMessage {
                    framework_id: FrameworkId { value: id.clone() },
                    master_info: self.info.clone(),
                },
            );
            self.watch_http_connection(ctx, &id);
            return;
        }

        if self.state.is_completed_framework(&id) {
            self.framework_error(ctx, from, "Framework has been removed".into());
            return;
        }
        if let Some(other) = by_pid.filter(|other| *other != id) {
            tracing::warn!("ignoring subscription of {id}: {from} is already framework {other}");
            return;
        }
        let Some(framework) = self.state.frameworks.get(&id) else {
            // A framework we do not know (we failed over): take it back.
            self.add_framework(ctx, from.clone(), id.clone(), info, suppressed_roles);
            self.send_reregistered(ctx, &from, &id);
            self.watch_http_connection(ctx, &id);
            self.send_framework_updates(ctx, &id);
            return;
        };
        if let Err(error) = validation::framework::validate_update(&framework.info, &info) {
            self.framework_error(ctx, from, error);
            return;
        }
        let recovered = framework.recovered;
        let same = framework
            .connection
            .as_ref()
            .is_some_and(|c| c.same_as(&from));
        if !recovered && !same && !force {
            self.framework_error(ctx, from, "Framework failed over".into());
            return;
        }
        self.update_framework_info(&id, info, Some(suppressed_roles));
        let offers: Vec<String> = self.state.frameworks[&id].offers.iter().cloned().collect();
        let old = self.reconnect_framework(ctx, &id, from.clone());
        let replaced = old.filter(|old| !old.same_as(&from));
        if let Some(old) = &replaced {
            // The replaced scheduler hears it lost; an old stream ends.
            old.send(
                ctx,
                &FrameworkErrorMessage {
                    message: "Framework failed over".into(),
                },
            );
        }
        for offer in offers {
            if replaced.is_some() {
                // Offers of the replaced scheduler go back quietly, as in
                // Mesos: the new one never saw them.
                self.remove_offer(ctx, &offer, Some(None));
            } else {
                self.rescind_offer(ctx, &offer, true);
            }
        }
        if force && !recovered {
            self.metrics.frameworks_failed_over += 1;
            from.send(
                ctx,
                &FrameworkRegisteredMessage {
                    framework_id: FrameworkId { value: id.clone() },
                    master_info: self.info.clone(),
                },
            );
        } else {
            self.send_reregistered(ctx, &from, &id);
        }
        self.watch_http_connection(ctx, &id);
        self.send_framework_updates(ctx, &id);
    }

    /// Tells every registered agent the framework's current info and
    /// where its scheduler is (`UpdateFrameworkMessage`), as Mesos does
    /// after each resubscription: an agent sends executor messages and
    /// status updates of the framework there, and an agent may run one of
    /// its executors without any of its tasks, so all of them hear it.
    pub(crate) fn send_framework_updates(&self, ctx: &mut Context<Self>, id: &str) {
        let Some(framework) = self.state.frameworks.get(id) else {
            return;
        };
        let message = update_framework_message(framework);
        for agent in self.state.agents.values() {
            ctx.send(&agent.pid, &message);
        }
    }

    fn send_reregistered(&self, ctx: &mut Context<Self>, to: &Connection, id: &str) {
        to.send(
            ctx,
            &FrameworkReregisteredMessage {
                framework_id: FrameworkId { value: id.into() },
                master_info: self.info.clone(),
            },
        );
    }

    fn add_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: Connection,
        id: String,
        info: FrameworkInfo,
        suppressed_roles: BTreeSet<String>,
    ) {
        tracing::info!("registered framework {id} ({}) at {from}", info.name);
        if let Some(pid) = from.pid() {
            ctx.link(pid);
        }
        self.allocator.add_framework(
            &id,
            &info,
            Default::default(),
            true,
            suppressed_roles.clone(),
        );
        let mut framework = Framework::new(id.clone(), info, Some(from), unix_now());
        framework.suppressed_roles = suppressed_roles.into_iter().collect();
        self.state.insert_framework(framework);
    }

    /// Replaces a framework's info (keeping what may not change) and tells
    /// the allocator.
    pub(crate) fn update_framework_info(
        &mut self,
        id: &str,
        mut info: FrameworkInfo,
        suppressed_roles: Option<BTreeSet<String>>,
    ) {
        let Some(framework) = self.state.frameworks.get_mut(id) else {
            return;
        };
        info.id = Some(FrameworkId { value: id.into() });
        // The principal and user cannot change; the checkpoint flag either.
        info.user = framework.info.user.clone();
        info.checkpoint = framework.info.checkpoint;
        info.principal = framework.info.principal.clone();
        let suppressed = suppressed_roles
            .unwrap_or_else(|| framework.suppressed_roles.iter().cloned().collect());
        self.allocator
            .update_framework(id, &info, suppressed.clone());
        framework.suppressed_roles = suppressed.into_iter().collect();
        framework.update_info(info);
    }

    /// The framework's scheduler is (back) at `to`: link, cancel the
    /// failover timeout, and resume offers. Returns the connection it
    /// replaces.
    fn reconnect_framework(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        to: Connection,
    ) -> Option<Connection> {
        if let Some(pid) = to.pid() {
            ctx.link(pid);
        }
        let framework = self.state.frameworks.get_mut(id)?;
        if let Some(timer) = framework.failover_timer.take() {
            ctx.cancel(timer);
        }
        framework.connected = true;
        framework.recovered = false;
        framework.reregistered_time = Some(unix_now());
        if !framework.active {
            framework.active = true;
            self.allocator.activate_framework(id);
        }
        self.state.set_framework_connection(id, Some(to))
    }

    /// The scheduler's connection broke: stop offers and give it
    /// `failover_timeout` to come back before tearing it down.
    pub(crate) fn framework_disconnected(&mut self, ctx: &mut Context<Self>, id: &str) {
        let Some(framework) = self.state.frameworks.get_mut(id) else {
            return;
        };
        if !framework.connected {
            return;
        }
        tracing::info!(
            "framework {id} at {} disconnected",
            framework
                .connection
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        framework.connected = false;
        let failover = framework.info.failover_timeout.unwrap_or(0.0);
        let failover = if failover.is_finite() && failover > 0.0 {
            std::time::Duration::from_secs_f64(failover.min(1e9))
        } else {
            std::time::Duration::ZERO
        };
        self.deactivate(ctx, id);
        let timer_id = id.to_string();
        let timer = ctx.delay(failover, move |master, ctx| {
            master.failover_timed_out(ctx, &timer_id)
        });
        if let Some(framework) = self.state.frameworks.get_mut(id) {
            framework.failover_timer = Some(timer);
        }
    }

    fn failover_timed_out(&mut self, ctx: &mut Context<Self>, id: &str) {
        let Some(framework) = self.state.frameworks.get(id) else {
            return;
        };
        if framework.connected {
            return;
        }
        tracing::info!("framework {id} did not fail over in time; removing it");
        self.remove_framework(ctx, id);
    }

    /// Stops offers to a framework and takes its offers back.
    fn deactivate(&mut self, ctx: &mut Context<Self>, id: &str) {
        let Some(framework) = self.state.frameworks.get_mut(id) else {
            return;
        };
        if framework.active {
            framework.active = false;
            self.allocator.deactivate_framework(id);
        }
        let offers: Vec<String> = framework.offers.iter().cloned().collect();
        for offer in offers {
            self.rescind_offer(ctx, &offer, true);
        }
    }

    /// Legacy `DeactivateFrameworkMessage`: the scheduler stops but may fail
    /// over (its tasks keep running).
    pub(crate) fn deactivate_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: DeactivateFrameworkMessage,
    ) {
        self.metrics.messages_deactivate_framework += 1;
        if let Some(id) = self.authorized_framework(from, &message.framework_id.value) {
            self.deactivate(ctx, &id);
        }
    }

    /// Legacy `UnregisterFrameworkMessage`: the framework is done.
    pub(crate) fn unregister_framework(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: UnregisterFrameworkMessage,
    ) {
        self.metrics.messages_unregister_framework += 1;
        if let Some(id) = self.authorized_framework(from, &message.framework_id.value) {
            self.remove_framework(ctx, &id);
        }
    }

    /// Tears a framework down: its agents shut it down, its tasks are
    /// killed, its offers rescinded, and it moves to the completed ones.
    pub(crate) fn remove_framework(&mut self, ctx: &mut Context<Self>, id: &str) {
        let Some(framework) = self.state.frameworks.get(id) else {
            return;
        };
        tracing::info!("removing framework {id} ({})", framework.info.name);
        let agents: BTreeSet<String> = framework
            .tasks
            .values()
            .map(|t| t.slave_id.value.clone())
            .chain(framework.executors.keys().cloned())
            .collect();
        let shutdown = ShutdownFrameworkMessage {
            framework_id: FrameworkId { value: id.into() },
        };
        for agent in &agents {
            if let Some(agent) = self.state.agents.get(agent) {
                ctx.send(&agent.pid, &shutdown);
            }
        }
        self.deactivate(ctx, id);
        let tasks: Vec<String> = self.state.frameworks[id].tasks.keys().cloned().collect();
        for task_id in tasks {
            let update = crate::handlers::task::master_update(
                id,
                None,
                &task_id,
                TaskState::TaskKilled,
                "Framework removed",
                Reason::FrameworkRemoved,
                None,
                None,
            );
            self.update_task(id, &task_id, &update);
            self.remove_task(id, &task_id, false);
        }
        let Some(mut framework) = self.state.remove_framework(id) else {
            return;
        };
        for agent_id in framework.executors.keys() {
            if let Some(agent) = self.state.agents.get_mut(agent_id) {
                agent.resources_mut().used.remove(id);
            }
        }
        if let Some(timer) = framework.failover_timer.take() {
            ctx.cancel(timer);
        }
        framework.executors.clear();
        // An HTTP scheduler's stream ends here.
        framework.connection = None;
        framework.connected = false;
        framework.active = false;
        framework.unregistered_time = Some(unix_now());
        self.allocator.remove_framework(id);
        self.metrics.frameworks_removed += 1;
        let limit = self.flags.max_completed_frameworks;
        if limit > 0 {
            while self.state.completed_frameworks.len() >= limit {
                self.state.completed_frameworks.pop_front();
            }
            self.state.completed_frameworks.push_back(framework);
        }
    }
}

/// What an agent is told of `framework`: its info, and its scheduler's
/// UPID. A scheduler without one (an HTTP scheduler, or none connected
/// since we failed over) is sent as the empty UPID, `@0.0.0.0:0`, which a
/// Mesos agent reads as "no UPID": it then relays the framework's executor
/// messages through us.
pub(crate) fn update_framework_message(framework: &Framework) -> UpdateFrameworkMessage {
    UpdateFrameworkMessage {
        framework_id: FrameworkId {
            value: framework.id.clone(),
        },
        pid: Some(
            framework
                .pid()
                .map(ToString::to_string)
                .unwrap_or_else(|| NO_UPID.to_string()),
        ),
        framework_info: Some(framework.info.clone()),
    }
}

/// How libprocess writes a default-constructed UPID.
const NO_UPID: &str = "@0.0.0.0:0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_learn_the_scheduler_upid_or_none() {
        let info = FrameworkInfo {
            name: "f".into(),
            id: Some(FrameworkId { value: "F".into() }),
            ..Default::default()
        };
        let pid: UPID = "scheduler-2@127.0.0.1:4000".parse().unwrap();
        let driver = Framework::new("F".into(), info.clone(), Some(Connection::Pid(pid)), 0.0);
        let message = update_framework_message(&driver);
        assert_eq!(message.framework_id.value, "F");
        assert_eq!(message.pid.as_deref(), Some("scheduler-2@127.0.0.1:4000"));
        assert_eq!(message.framework_info.map(|i| i.name).as_deref(), Some("f"));

        let recovered = Framework::new("F".into(), info, None, 0.0);
        assert_eq!(
            update_framework_message(&recovered).pid.as_deref(),
            Some("@0.0.0.0:0")
        );
    }
}
