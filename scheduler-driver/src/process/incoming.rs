//! What the master (and agents) send the driver: registration answers,
//! offers, status updates, losses, messages and errors, as libmesos 1.11
//! handles them. Every handler first drops what arrives while the driver
//! is not running, and what does not come from the registered master.

use libprocess::{Context, UPID};
use mesos_proto::internal::StatusUpdate;
use mesos_proto::mesos::{ExecutorId, FrameworkId, MasterInfo, Offer, OfferId, SlaveId};
use mesos_proto::scheduler::{event, Event};

use super::SchedulerProcess;
use crate::calls;
use crate::driver::{MesosSchedulerDriver, SchedulerDriver};
use crate::updates;

impl SchedulerProcess {
    /// `mesos.scheduler.Event`s, which a master may send instead of the
    /// legacy messages: each is mapped onto the matching handler.
    pub(super) fn receive(&mut self, ctx: &mut Context<Self>, from: &UPID, event: Event) {
        let kind = event.r#type.and_then(|t| event::Type::try_from(t).ok());
        let drop = |what: &str| tracing::warn!("dropping {kind:?} event from {from}: {what}");
        match kind {
            Some(event::Type::Subscribed) => {
                let (Some(subscribed), Some(master)) = (event.subscribed, self.master.clone())
                else {
                    return drop("expecting 'subscribed' and a detected master");
                };
                self.cancel_registration(ctx);
                let info = subscribed.master_info.unwrap_or(master.info);
                if !calls::has_id(&self.framework) || self.failover {
                    self.registered(ctx, from, subscribed.framework_id, &info);
                } else {
                    self.reregistered(ctx, from, subscribed.framework_id, &info);
                }
            }
            Some(event::Type::Offers) => {
                let Some(offers) = event.offers else {
                    return drop("expecting 'offers'");
                };
                let pids: Vec<String> = offers.offers.iter().map(agent_pid_from_url).collect();
                self.resource_offers(from, offers.offers, &pids);
            }
            Some(event::Type::Rescind) => match event.rescind {
                Some(rescind) => self.rescind_offer(from, &rescind.offer_id),
                None => drop("expecting 'rescind'"),
            },
            Some(event::Type::Update) => {
                let Some(update) = event.update else {
                    return drop("expecting 'update'");
                };
                let status = update.status;
                let update = StatusUpdate {
                    framework_id: self.framework_id(),
                    executor_id: status.executor_id.clone(),
                    slave_id: status.slave_id.clone(),
                    timestamp: status.timestamp.unwrap_or_default(),
                    uuid: status.uuid.clone(),
                    status,
                    latest_state: None,
                };
                // No agent PID: the uuid alone decides acknowledgement.
                self.status_update(ctx, Some(from), &update, None);
            }
            Some(event::Type::Message) => match event.message {
                Some(m) => self.framework_message(&m.slave_id, &m.executor_id, &m.data),
                None => drop("expecting 'message'"),
            },
            Some(event::Type::Failure) => match event.failure {
                Some(event::Failure {
                    slave_id: Some(slave_id),
                    executor_id: Some(executor_id),
                    status,
                }) => self.lost_executor(from, &executor_id, &slave_id, status.unwrap_or_default()),
                Some(event::Failure {
                    slave_id: Some(slave_id),
                    ..
                }) => self.lost_slave(from, &slave_id),
                _ => drop("expecting 'slave_id'"),
            },
            Some(event::Type::Error) => match event.error {
                Some(error) => self.error(ctx, &error.message),
                None => drop("expecting 'error'"),
            },
            Some(
                event::Type::InverseOffers
                | event::Type::RescindInverseOffer
                | event::Type::Heartbeat
                | event::Type::UpdateOperationStatus,
            ) => {}
            Some(event::Type::Unknown) | None => drop("unknown event"),
        }
    }

    /// FrameworkRegisteredMessage: first registration, or a failover
    /// that replaced the previous scheduler instance.
    pub(super) fn registered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        framework_id: FrameworkId,
        master_info: &MasterInfo,
    ) {
        if !self.accepts_registration(from, "framework registered message") {
            return;
        }
        tracing::info!("framework registered with {}", framework_id.value);
        self.framework.id = Some(framework_id.clone());
        self.on_connected(ctx);
        self.callback(|s, d| s.registered(d, &framework_id, master_info));
    }

    /// FrameworkReregisteredMessage: registered again with a master that
    /// knew the framework.
    pub(super) fn reregistered(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        framework_id: FrameworkId,
        master_info: &MasterInfo,
    ) {
        if !self.accepts_registration(from, "framework reregistered message") {
            return;
        }
        if self.framework.id.as_ref() != Some(&framework_id) {
            tracing::warn!(
                "ignoring framework reregistered message for framework {}: this is {}",
                framework_id.value,
                self.framework_id().value
            );
            return;
        }
        tracing::info!("framework reregistered with {}", framework_id.value);
        self.on_connected(ctx);
        self.callback(|s, d| s.reregistered(d, master_info));
    }

    fn accepts_registration(&self, from: &UPID, what: &str) -> bool {
        if !self.running() {
            tracing::debug!("ignoring {what}: the driver is not running");
            return false;
        }
        if self.connected {
            tracing::debug!("ignoring {what}: the driver is already connected");
            return false;
        }
        match &self.master {
            Some(master) if master.pid == *from => true,
            other => {
                tracing::warn!(
                    "ignoring {what} from {from}: the leading master is '{}'",
                    other.as_ref().map_or(String::new(), |m| m.pid.to_string())
                );
                false
            }
        }
    }

    fn on_connected(&mut self, ctx: &mut Context<Self>) {
        self.connected = true;
        self.failover = false;
        self.cancel_registration(ctx);
        if std::mem::take(&mut self.send_update_framework_on_connect) {
            self.send_update_framework(ctx);
        }
    }

    /// ResourceOffersMessage: offers, with the PID of each offer's agent
    /// (kept so framework messages can go straight to it).
    pub(super) fn resource_offers(&mut self, from: &UPID, offers: Vec<Offer>, pids: &[String]) {
        if !self.running() || !self.sent_by_registered_master(from, "resource offers") {
            return;
        }
        // Inverse offers alone come as an empty offer list.
        if offers.is_empty() {
            return;
        }
        if pids.len() != offers.len() {
            tracing::warn!(
                "resource offers from {from} carry {} agent PIDs for {} offers",
                pids.len(),
                offers.len()
            );
        }
        for (offer, pid) in offers.iter().zip(pids) {
            match pid.parse::<UPID>() {
                Ok(pid) => {
                    self.saved_offers
                        .entry(offer.id.value.clone())
                        .or_default()
                        .insert(offer.slave_id.value.clone(), pid);
                }
                Err(error) => tracing::debug!("not saving agent PID of offer: {error}"),
            }
        }
        tracing::debug!("received {} offers", offers.len());
        self.callback(|s, d| s.resource_offers(d, &offers));
    }

    /// RescindResourceOfferMessage: an offer is no longer valid.
    pub(super) fn rescind_offer(&mut self, from: &UPID, offer_id: &OfferId) {
        if !self.running() || !self.sent_by_registered_master(from, "rescind offer") {
            return;
        }
        self.saved_offers.remove(&offer_id.value);
        self.callback(|s, d| s.offer_rescinded(d, offer_id));
    }

    /// StatusUpdateMessage (`from` is `None` for updates the driver made
    /// up): tell the scheduler, then acknowledge if acknowledgements are
    /// implicit and the update needs one.
    pub(super) fn status_update(
        &mut self,
        ctx: &mut Context<Self>,
        from: Option<&UPID>,
        update: &StatusUpdate,
        pid: Option<&str>,
    ) {
        if !self.running() {
            return;
        }
        if let Some(from) = from {
            if !self.sent_by_registered_master(from, "status update") {
                return;
            }
        }
        if self.framework.id.as_ref() != Some(&update.framework_id) {
            tracing::warn!(
                "dropping status update for task '{}' of framework '{}': this is framework '{}'",
                update.status.task_id.value,
                update.framework_id.value,
                self.framework_id().value
            );
            return;
        }
        let delivery = updates::delivery(update, from.is_none(), pid);
        self.callback(|s, d| s.status_update(d, &delivery.status));

        // Stopped or aborted from the callback: no acknowledgement.
        if !self.implicit_acknowledgements || !self.running() || !self.connected {
            return;
        }
        if let Some(uuid) = delivery.acknowledge {
            let call = calls::acknowledge(
                &self.framework_id(),
                &update.slave_id.clone().unwrap_or_default(),
                &update.status.task_id,
                &uuid,
            );
            self.send_call(ctx, &call);
        }
    }

    /// LostSlaveMessage: an agent is gone.
    pub(super) fn lost_slave(&mut self, from: &UPID, slave_id: &SlaveId) {
        if !self.running() || !self.sent_by_registered_master(from, "lost agent") {
            return;
        }
        self.saved_slave_pids.remove(&slave_id.value);
        self.callback(|s, d| s.slave_lost(d, slave_id));
    }

    /// ExitedExecutorMessage: an executor is gone.
    pub(super) fn lost_executor(
        &mut self,
        from: &UPID,
        executor_id: &ExecutorId,
        slave_id: &SlaveId,
        status: i32,
    ) {
        if !self.running() || !self.sent_by_registered_master(from, "lost executor") {
            return;
        }
        self.callback(|s, d| s.executor_lost(d, executor_id, slave_id, status));
    }

    /// ExecutorToFrameworkMessage: comes straight from the agent, so it is
    /// not checked against the master.
    pub(super) fn framework_message(
        &mut self,
        slave_id: &SlaveId,
        executor_id: &ExecutorId,
        data: &[u8],
    ) {
        if !self.running() {
            return;
        }
        self.callback(|s, d| s.framework_message(d, executor_id, slave_id, data));
    }

    /// FrameworkErrorMessage (and errors the driver finds itself): abort
    /// the driver, then tell the scheduler.
    pub(super) fn error(&mut self, _ctx: &mut Context<Self>, message: &str) {
        if !self.running() {
            return;
        }
        tracing::info!("got error '{message}'");
        let Some(driver) = MesosSchedulerDriver::from_weak(&self.driver) else {
            return;
        };
        driver.abort();
        self.scheduler.error(&driver, message);
    }
}

/// The agent PID an `Event::Offers` offer names through its URL
/// (`http://ip:port/slave(1)` → `slave(1)@ip:port`); empty when the URL
/// does not name one.
fn agent_pid_from_url(offer: &Offer) -> String {
    let Some(url) = &offer.url else {
        return String::new();
    };
    let id = url.path.as_deref().unwrap_or("").trim_matches('/');
    let ip = url.address.ip.as_deref().unwrap_or("");
    format!("{id}@{ip}:{}", url.address.port)
}
