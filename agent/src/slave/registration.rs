//! Registering with the master: `RegisterSlaveMessage` the first time,
//! `ReregisterSlaveMessage` (with every task and executor, and the
//! frameworks that are done here) after that, retried with randomized
//! exponential backoff until answered; the master's answer may ask us to
//! reconcile tasks we did not report. Pings keep the registration alive,
//! and a lost master (broken link, missed pings, or a ping saying we are
//! disconnected) starts it over.

use std::time::Duration;

use libprocess::{Context, UPID};
use mesos_proto::internal::{
    PingSlaveMessage, PongSlaveMessage, ReconcileTasksMessage, RegisterSlaveMessage,
    ReregisterSlaveMessage, SlaveRegisteredMessage, SlaveReregisteredMessage,
};
use mesos_proto::mesos::{
    slave_info, task_status::Reason, FrameworkInfo, SlaveId, TaskState, Uuid,
};

use super::types::{new_task, partition_aware};
use super::{Phase, Slave};
use crate::state::checkpoint::{link_latest, write_record};

/// Ping timeout when the master does not say (Mesos's default 75s).
pub const DEFAULT_MASTER_PING_TIMEOUT: Duration = Duration::from_secs(75);

/// The longest wait between registration attempts.
pub const REGISTER_RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// The version this agent reports.
pub const VERSION: &str = mesos_common::build::MESOS_VERSION;

/// The state a task unknown here is reconciled to: `TASK_DROPPED` for a
/// partition-aware framework, `TASK_LOST` otherwise (also when the master
/// did not say what the framework is, as masters before 1.1 did not).
pub fn unknown_task_state(framework: Option<&FrameworkInfo>) -> TaskState {
    if framework.is_some_and(partition_aware) {
        TaskState::TaskDropped
    } else {
        TaskState::TaskLost
    }
}

/// A random duration in `[0, max)`.
fn random_below(max: Duration) -> Duration {
    let fraction = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    max.mul_f64(fraction)
}

/// The capabilities this agent announces.
fn capabilities() -> Vec<slave_info::Capability> {
    use slave_info::capability::Type;
    [
        Type::MultiRole,
        Type::HierarchicalRole,
        Type::ReservationRefinement,
    ]
    .into_iter()
    .map(|t| slave_info::Capability {
        r#type: Some(t as i32),
    })
    .collect()
}

impl Slave {
    /// The master is (again) there to register with: register after a
    /// random delay below `--registration_backoff_factor`.
    pub(crate) fn detected(&mut self, ctx: &mut Context<Self>) {
        if self.phase == Phase::Terminating {
            return;
        }
        self.phase = Phase::Disconnected;
        self.updates.pause();
        if let Some(timer) = self.registration_timer.take() {
            ctx.cancel(timer);
        }
        let factor = self.flags.registration_backoff_factor;
        let delay = random_below(factor);
        self.registration_timer = Some(ctx.delay(delay, move |p, ctx| {
            p.do_reliable_registration(ctx, factor * 2)
        }));
    }

    /// Sends one (re-)registration and schedules the next attempt.
    fn do_reliable_registration(&mut self, ctx: &mut Context<Self>, max_backoff: Duration) {
        if self.phase != Phase::Disconnected {
            return;
        }
        ctx.link(&self.master);
        if self.info.id.is_none() {
            let message = RegisterSlaveMessage {
                slave: self.info.clone(),
                version: Some(VERSION.into()),
                checkpointed_resources: Vec::new(),
                agent_capabilities: capabilities(),
                resource_version_uuid: Some(self.resource_version()),
            };
            ctx.send(&self.master, &message);
        } else {
            let message = self.reregister_message();
            ctx.send(&self.master, &message);
        }
        let max_backoff = max_backoff.min(REGISTER_RETRY_INTERVAL_MAX);
        let delay = random_below(max_backoff);
        self.registration_timer = Some(ctx.delay(delay, move |p, ctx| {
            p.do_reliable_registration(ctx, max_backoff * 2)
        }));
    }

    fn resource_version(&self) -> Uuid {
        Uuid {
            value: bytes::Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes()),
        }
    }

    /// Everything the master needs to rebuild its view of this agent.
    pub(crate) fn reregister_message(&self) -> ReregisterSlaveMessage {
        let agent = self.id();
        let mut tasks = Vec::new();
        let mut executor_infos = Vec::new();
        let mut frameworks = Vec::new();
        for framework in self.frameworks.values() {
            frameworks.push(framework.info.clone());
            for executor in framework.executors.values() {
                tasks.extend(executor.launched.values().cloned());
                tasks.extend(executor.terminated.values().cloned());
                for queued in &executor.queued {
                    let mut task = new_task(
                        queued,
                        &framework.id,
                        &executor.id,
                        &agent,
                        executor.command_executor,
                    );
                    task.state = TaskState::TaskStaging as i32;
                    tasks.push(task);
                }
                if !executor.command_executor
                    && executor.phase != super::types::ExecutorPhase::Terminated
                {
                    executor_infos.push(executor.info.clone());
                }
            }
        }
        ReregisterSlaveMessage {
            slave: self.info.clone(),
            tasks,
            executor_infos,
            completed_frameworks: self
                .completed_frameworks
                .iter()
                .map(|f| f.archive())
                .collect(),
            version: Some(VERSION.into()),
            checkpointed_resources: Vec::new(),
            frameworks,
            agent_capabilities: capabilities(),
            resource_version_uuid: Some(self.resource_version()),
        }
    }

    pub(crate) fn registered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: SlaveRegisteredMessage,
    ) {
        if *from != self.master {
            tracing::warn!(
                "ignoring registration from {from}: not the master {}",
                self.master
            );
            return;
        }
        match self.phase {
            Phase::Disconnected => {
                tracing::info!(
                    "registered with master {from}; given agent ID {}",
                    m.slave_id.value
                );
                self.info.id = Some(m.slave_id.clone());
                self.checkpoint_agent_info();
                self.connected(ctx, m.connection.and_then(|c| c.total_ping_timeout_seconds));
            }
            Phase::Running => {
                if self.info.id.as_ref() != Some(&m.slave_id) {
                    tracing::error!(
                        "registered but got wrong id {} (expected {}); exiting",
                        m.slave_id.value,
                        self.id()
                    );
                    std::process::exit(1);
                }
                tracing::warn!("already registered with master {from}");
            }
            _ => tracing::warn!("ignoring registration while {:?}", self.phase),
        }
    }

    pub(crate) fn reregistered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        m: SlaveReregisteredMessage,
    ) {
        if *from != self.master {
            tracing::warn!(
                "ignoring re-registration from {from}: not the master {}",
                self.master
            );
            return;
        }
        if self.info.id.as_ref() != Some(&m.slave_id) {
            tracing::error!(
                "re-registered but got wrong id {} (expected {}); exiting",
                m.slave_id.value,
                self.id()
            );
            std::process::exit(1);
        }
        if self.phase != Phase::Disconnected {
            tracing::warn!("ignoring re-registration while {:?}", self.phase);
            return;
        }
        tracing::info!("re-registered with master {from}");
        self.connected(ctx, m.connection.and_then(|c| c.total_ping_timeout_seconds));
        for reconciliation in m.reconciliations {
            self.reconcile(ctx, reconciliation);
        }
    }

    /// The master knows tasks it thinks run here and that we did not
    /// report (their launch was lost on the way, e.g. we restarted). A
    /// task we do know needs nothing: its updates reach the master
    /// anyway. One we do not know gets a terminal update, sent reliably,
    /// so the master and the framework stop waiting for it.
    fn reconcile(&mut self, ctx: &mut Context<Self>, reconciliation: ReconcileTasksMessage) {
        let framework_id = reconciliation.framework_id.value.clone();
        let state = unknown_task_state(reconciliation.framework.as_ref());
        for status in &reconciliation.statuses {
            let known = self
                .frameworks
                .get(&framework_id)
                .and_then(|f| f.executor_of(&status.task_id.value))
                .is_some();
            if known {
                continue;
            }
            tracing::warn!(
                "reconciling task {} of framework {framework_id} as {}: task unknown to the agent",
                status.task_id.value,
                state.as_str_name()
            );
            let update = self.agent_update(
                &framework_id,
                &status.task_id,
                None,
                state,
                Reason::Reconciliation,
                "Reconciliation: task unknown to the agent",
            );
            self.status_update(ctx, update, None);
        }
    }

    /// Now registered: resume status updates and watch for pings.
    fn connected(&mut self, ctx: &mut Context<Self>, ping_timeout: Option<f64>) {
        self.phase = Phase::Running;
        if let Some(timer) = self.registration_timer.take() {
            ctx.cancel(timer);
        }
        self.ping_timeout = ping_timeout
            .filter(|s| *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_MASTER_PING_TIMEOUT);
        self.master_hostname = Some(self.master.ip().to_string());
        self.reset_ping_timer(ctx);
        let now = Slave::now(ctx);
        for update in self.updates.resume(now) {
            self.forward(ctx, update);
        }
    }

    fn checkpoint_agent_info(&self) {
        let id = self.id();
        let result = write_record(&self.layout.agent_info(&id), &self.info)
            .and_then(|_| link_latest(&self.layout.latest_agent_link(), &id));
        if let Err(error) = result {
            tracing::error!("failed to checkpoint the agent info: {error}");
        }
    }

    fn reset_ping_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.ping_timer.take() {
            ctx.cancel(timer);
        }
        self.ping_timer = Some(ctx.delay(self.ping_timeout, |p, ctx| {
            p.ping_timer = None;
            if p.phase == Phase::Running {
                tracing::info!("no pings from the master within {:?}", p.ping_timeout);
                p.detected(ctx);
            }
        }));
    }

    pub(crate) fn ping(&mut self, ctx: &mut Context<Self>, from: &UPID, m: PingSlaveMessage) {
        if !m.connected && self.phase == Phase::Running {
            tracing::info!("master marked this agent disconnected; re-registering");
            self.detected(ctx);
        }
        if self.phase == Phase::Running {
            self.reset_ping_timer(ctx);
        }
        ctx.send(from, &PongSlaveMessage {});
    }

    /// The link to the master broke: it restarted or is unreachable.
    /// Start re-registering (with backoff) rather than wait for the ping
    /// timeout, as there is no leader detector to tell us.
    pub(crate) fn master_exited(&mut self, ctx: &mut Context<Self>) {
        if self.phase == Phase::Running {
            tracing::warn!("master disconnected; re-registering");
            self.detected(ctx);
        }
    }

    /// The agent id as a `SlaveId`.
    pub(crate) fn slave_id(&self) -> SlaveId {
        self.info.id.clone().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::framework_info::{capability::Type, Capability};

    #[test]
    fn unknown_tasks_are_dropped_only_for_partition_aware_frameworks() {
        let plain = FrameworkInfo::default();
        let aware = FrameworkInfo {
            capabilities: vec![Capability {
                r#type: Some(Type::PartitionAware as i32),
            }],
            ..Default::default()
        };
        assert_eq!(unknown_task_state(None), TaskState::TaskLost);
        assert_eq!(unknown_task_state(Some(&plain)), TaskState::TaskLost);
        assert_eq!(unknown_task_state(Some(&aware)), TaskState::TaskDropped);
    }
}
