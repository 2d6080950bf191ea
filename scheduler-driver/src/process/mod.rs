//! `SchedulerProcess`: the driver's libprocess process (`scheduler-<uuid>`).
//! It owns the framework's state as the driver sees it: the detected
//! master, whether it is registered, the offers it holds, and the
//! scheduler whose callbacks it runs.
//!
//! Its routing table is `initialize`; the handlers for what the master
//! sends live in `incoming`, the operations the framework calls in
//! `outgoing`. Registration, failover and disconnection live here.

mod incoming;
mod outgoing;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use libprocess::{Context, Process, Timer, UPID};
use mesos_proto::internal::{
    DeactivateFrameworkMessage, ExecutorToFrameworkMessage, ExitedExecutorMessage,
    FrameworkErrorMessage, FrameworkRegisteredMessage, FrameworkReregisteredMessage,
    LostSlaveMessage, RescindResourceOfferMessage, ResourceOffersMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::{Credential, FrameworkId, FrameworkInfo};
use mesos_proto::scheduler::{Call, Event, OfferConstraints};

use crate::calls;
use crate::config::{random_fraction, registration_retry, DriverConfig};
use crate::detector::DetectedMaster;
use crate::driver::{DriverRef, MesosSchedulerDriver, SchedulerDriver, Shared};
use crate::scheduler::Scheduler;

/// Everything the process starts from, handed over by `start`.
pub(crate) struct Setup {
    pub(crate) scheduler: Box<dyn Scheduler>,
    pub(crate) framework: FrameworkInfo,
    pub(crate) suppressed_roles: BTreeSet<String>,
    pub(crate) credential: Option<Credential>,
    pub(crate) implicit_acknowledgements: bool,
    pub(crate) master: DetectedMaster,
    pub(crate) config: DriverConfig,
    pub(crate) shared: Arc<Shared>,
    pub(crate) driver: DriverRef,
}

/// The driver's process. Only the driver creates it.
pub struct SchedulerProcess {
    scheduler: Box<dyn Scheduler>,
    driver: DriverRef,
    shared: Arc<Shared>,
    framework: FrameworkInfo,
    suppressed_roles: BTreeSet<String>,
    offer_constraints: OfferConstraints,
    /// Kept for authentication, which a later issue adds.
    credential: Option<Credential>,
    implicit_acknowledgements: bool,
    config: DriverConfig,
    /// What the detector found; standalone detection never changes it.
    detected: DetectedMaster,
    /// The master registered with, or being registered with.
    master: Option<DetectedMaster>,
    /// Whether the next SUBSCRIBE asks to replace a running instance:
    /// true when started with a framework id, until registered.
    failover: bool,
    /// Whether registered with `master`.
    connected: bool,
    /// Suppression or the `FrameworkInfo` changed while disconnected: send
    /// UPDATE_FRAMEWORK once registered.
    send_update_framework_on_connect: bool,
    registration_timer: Option<Timer>,
    /// Offer id → agent id → agent PID, from the offers held.
    saved_offers: HashMap<String, HashMap<String, UPID>>,
    /// Agent id → PID, for agents that run tasks launched here, so
    /// framework messages can go straight to them.
    saved_slave_pids: HashMap<String, UPID>,
}

impl SchedulerProcess {
    pub(crate) fn new(setup: Setup) -> SchedulerProcess {
        let failover = calls::has_id(&setup.framework);
        SchedulerProcess {
            scheduler: setup.scheduler,
            driver: setup.driver,
            shared: setup.shared,
            framework: setup.framework,
            suppressed_roles: setup.suppressed_roles,
            offer_constraints: OfferConstraints::default(),
            credential: setup.credential,
            implicit_acknowledgements: setup.implicit_acknowledgements,
            config: setup.config,
            detected: setup.master,
            master: None,
            failover,
            connected: false,
            send_update_framework_on_connect: false,
            registration_timer: None,
            saved_offers: HashMap::new(),
            saved_slave_pids: HashMap::new(),
        }
    }

    /// Runs a scheduler callback with a driver handle; nothing when every
    /// handle to the driver is gone.
    fn callback(&mut self, f: impl FnOnce(&mut dyn Scheduler, &dyn SchedulerDriver)) {
        if let Some(driver) = MesosSchedulerDriver::from_weak(&self.driver) {
            f(&mut *self.scheduler, &driver);
        }
    }

    fn running(&self) -> bool {
        self.shared.is_running()
    }

    /// The framework's id (empty before the first registration).
    fn framework_id(&self) -> FrameworkId {
        self.framework.id.clone().unwrap_or_default()
    }

    /// Sends `call` to the master, if one is known.
    fn send_call(&self, ctx: &mut Context<Self>, call: &Call) {
        if let Some(master) = &self.master {
            ctx.send(&master.pid, call);
        }
    }

    /// Whether `from` is the master this driver is registered with.
    fn sent_by_registered_master(&self, from: &UPID, what: &str) -> bool {
        if !self.connected {
            tracing::debug!("ignoring {what}: the driver is disconnected");
            return false;
        }
        match &self.master {
            Some(master) if master.pid == *from => true,
            other => {
                tracing::debug!(
                    "ignoring {what} from {from}: the leading master is {}",
                    other.as_ref().map_or(String::new(), |m| m.pid.to_string())
                );
                false
            }
        }
    }

    /// A (new) master was detected, or none is: disconnect from the old
    /// one and register with the new one.
    fn detected(&mut self, ctx: &mut Context<Self>, master: Option<DetectedMaster>) {
        if !self.running() {
            return;
        }
        if self.connected {
            self.callback(|s, d| s.disconnected(d));
        }
        self.connected = false;
        self.master = master;
        let Some(master) = &self.master else {
            tracing::info!("no master detected");
            return;
        };
        tracing::info!("new master detected at {}", master.pid);
        ctx.link(&master.pid);
        self.cancel_registration(ctx);
        if self.credential.is_some() {
            tracing::warn!(
                "a credential was given but authentication is not supported yet; \
                 registering without authenticating"
            );
        }
        self.do_reliable_registration(ctx, self.config.registration_backoff_factor);
    }

    /// Sends SUBSCRIBE and schedules a retry with a random, doubling
    /// backoff, until registered. Each attempt links to the master again,
    /// so a master that comes back is watched again.
    fn do_reliable_registration(&mut self, ctx: &mut Context<Self>, max_backoff: Duration) {
        self.registration_timer = None;
        if !self.running() || self.connected {
            return;
        }
        let Some(master) = &self.master else {
            return;
        };
        let pid = master.pid.clone();
        tracing::debug!("sending SUBSCRIBE call to {pid}");
        ctx.link(&pid);
        let call = calls::subscribe(
            &self.framework,
            &self.suppressed_roles,
            &self.offer_constraints,
            self.failover,
        );
        ctx.send(&pid, &call);
        let (delay, next) = registration_retry(
            max_backoff,
            self.framework.failover_timeout,
            random_fraction(),
        );
        tracing::debug!("will retry registration in {delay:?} if necessary");
        self.registration_timer =
            Some(ctx.delay(delay, move |p, ctx| p.do_reliable_registration(ctx, next)));
    }

    fn cancel_registration(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.registration_timer.take() {
            ctx.cancel(timer);
        }
    }

    /// Sends UPDATE_FRAMEWORK with the current framework, suppressed roles
    /// and offer constraints.
    fn send_update_framework(&mut self, ctx: &mut Context<Self>) {
        let call = calls::update_framework(
            &self.framework,
            &self.suppressed_roles,
            &self.offer_constraints,
        );
        self.send_call(ctx, &call);
    }

    /// `stop`: tears the framework down unless failing over, then ends
    /// the process and wakes `join`.
    pub(crate) fn stop(&mut self, ctx: &mut Context<Self>, failover: bool) {
        tracing::info!("stopping framework {}", self.framework_id().value);
        if self.connected && !failover {
            let call = calls::teardown(&self.framework_id());
            self.send_call(ctx, &call);
        }
        self.cancel_registration(ctx);
        ctx.terminate();
        self.shared.trigger();
    }

    /// `abort`: tells the master to stop sending (it deactivates the
    /// framework) and wakes `join`. The process stays for a later `stop`.
    pub(crate) fn abort(&mut self, ctx: &mut Context<Self>) {
        tracing::info!("aborting framework {}", self.framework_id().value);
        if self.connected {
            if let Some(master) = &self.master {
                let message = DeactivateFrameworkMessage {
                    framework_id: self.framework_id(),
                };
                ctx.send(&master.pid, &message);
            }
        }
        self.cancel_registration(ctx);
        self.shared.trigger();
    }
}

impl Process for SchedulerProcess {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<Event, _>(|p, ctx, from, event| p.receive(ctx, from, event));
        ctx.install::<FrameworkRegisteredMessage, _>(|p, ctx, from, m| {
            p.registered(ctx, from, m.framework_id, &m.master_info)
        });
        ctx.install::<FrameworkReregisteredMessage, _>(|p, ctx, from, m| {
            p.reregistered(ctx, from, m.framework_id, &m.master_info)
        });
        ctx.install::<ResourceOffersMessage, _>(|p, _ctx, from, m| {
            p.resource_offers(from, m.offers, &m.pids)
        });
        ctx.install::<RescindResourceOfferMessage, _>(|p, _ctx, from, m| {
            p.rescind_offer(from, &m.offer_id)
        });
        ctx.install::<StatusUpdateMessage, _>(|p, ctx, from, m| {
            p.status_update(ctx, Some(from), &m.update, m.pid.as_deref())
        });
        ctx.install::<LostSlaveMessage, _>(|p, _ctx, from, m| p.lost_slave(from, &m.slave_id));
        ctx.install::<ExitedExecutorMessage, _>(|p, _ctx, from, m| {
            p.lost_executor(from, &m.executor_id, &m.slave_id, m.status)
        });
        ctx.install::<ExecutorToFrameworkMessage, _>(|p, _ctx, _from, m| {
            p.framework_message(&m.slave_id, &m.executor_id, &m.data)
        });
        ctx.install::<FrameworkErrorMessage, _>(|p, ctx, _from, m| p.error(ctx, &m.message));

        // Standalone detection: the master is known at once and for good.
        let master = self.detected.clone();
        self.detected(ctx, Some(master));
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &UPID) {
        if !self.running() || self.master.as_ref().is_none_or(|m| m.pid != *pid) {
            return;
        }
        if !self.connected {
            // Registration is being retried already; each retry links anew.
            return;
        }
        tracing::warn!("lost the connection to master {pid}; re-registering");
        self.connected = false;
        self.callback(|s, d| s.disconnected(d));
        self.cancel_registration(ctx);
        self.do_reliable_registration(ctx, self.config.registration_backoff_factor);
    }
}
