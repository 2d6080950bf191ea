//! A simulated framework: speaks the scheduler side as libmesos 1.11's
//! driver does over libprocess (`mesos.scheduler.Call` out; the master's
//! `FrameworkRegisteredMessage`, `ResourceOffersMessage`,
//! `StatusUpdateMessage` in). On each offer it launches as many tasks of
//! its task size as fit (up to a cap) in one ACCEPT, or declines; it
//! acknowledges every update that carries a uuid, and records each task's
//! ACCEPT → TASK_FINISHED latency and each agent's offer round trip.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libprocess::{Context, Process, UPID};
use mesos_proto::internal::{
    FrameworkErrorMessage, FrameworkRegisteredMessage, FrameworkReregisteredMessage,
    ResourceOffersMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::{Resource, TaskState};

use crate::tally::Tally;
use crate::wire;

const SUBSCRIBE_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const PAUSED_REFUSE_SECONDS: f64 = 1.0;

/// What the frameworks of a run do.
pub struct FrameworkSettings {
    /// The master's UPID.
    pub master: UPID,
    /// The role frameworks subscribe in.
    pub role: String,
    /// One task's resources.
    pub task: wire::Scalars,
    /// Most tasks launched on one offer.
    pub max_tasks_per_offer: usize,
    /// Labels on each task.
    pub labels: usize,
    /// Most tasks of one framework launched and not yet terminal; offers
    /// beyond it are declined.
    pub max_in_flight: usize,
    /// Seconds a declined offer's resources are refused.
    pub refuse_seconds: f64,
    /// Where events are counted.
    pub tally: Arc<Tally>,
}

/// A simulated framework.
pub struct SimFramework {
    settings: Arc<FrameworkSettings>,
    name: String,
    task_resources: Vec<Resource>,
    id: Option<String>,
    subscribed: bool,
    attempt: u64,
    backoff: Duration,
    next_task: u64,
    /// Task ID → when its ACCEPT went out.
    accepted: HashMap<String, Instant>,
}

impl SimFramework {
    /// A framework named `name`; it subscribes once spawned.
    pub fn new(settings: Arc<FrameworkSettings>, name: String) -> SimFramework {
        let task_resources = settings.task.task_resources(&settings.role);
        SimFramework {
            settings,
            name,
            task_resources,
            id: None,
            subscribed: false,
            attempt: 0,
            backoff: SUBSCRIBE_BACKOFF,
            next_task: 0,
            accepted: HashMap::new(),
        }
    }

    /// A (new) master was detected: subscribe again, with our ID.
    pub fn detected(&mut self, ctx: &mut Context<Self>) {
        self.subscribed = false;
        self.backoff = SUBSCRIBE_BACKOFF;
        ctx.link(&self.settings.master);
        self.subscribe(ctx);
    }

    fn subscribe(&mut self, ctx: &mut Context<Self>) {
        if self.subscribed {
            return;
        }
        let info = wire::framework_info(&self.name, &self.settings.role, self.id.as_deref());
        ctx.send(&self.settings.master, &wire::subscribe(info));
        self.attempt += 1;
        let attempt = self.attempt;
        let backoff = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        ctx.delay(backoff, move |f: &mut SimFramework, ctx| {
            if f.attempt == attempt {
                f.subscribe(ctx);
            }
        });
    }

    fn registered(&mut self, id: String, reregistered: bool) {
        if self.subscribed {
            return;
        }
        self.id = Some(id);
        self.subscribed = true;
        self.attempt += 1;
        if reregistered {
            self.settings.tally.bump(|t| &t.resubscribed);
        } else {
            self.settings.tally.bump(|t| &t.subscribed);
        }
    }

    fn offers(&mut self, ctx: &mut Context<Self>, message: ResourceOffersMessage) {
        let Some(framework_id) = self.id.clone() else {
            return;
        };
        let tally = self.settings.tally.clone();
        let now = Instant::now();
        let mut declined = Vec::new();
        for offer in message.offers {
            tally.bump(|t| &t.offers);
            tally.offer_received(&offer.slave_id.value, now);
            let room = self
                .settings
                .max_in_flight
                .saturating_sub(self.accepted.len());
            let fit = if tally.launching() {
                wire::Scalars::of(&offer.resources)
                    .fits(&self.settings.task)
                    .min(self.settings.max_tasks_per_offer)
                    .min(room)
            } else {
                0
            };
            if fit == 0 {
                declined.push(offer.id);
                continue;
            }
            let tasks: Vec<_> = (0..fit)
                .map(|_| {
                    self.next_task += 1;
                    let id = format!("{}-{}", self.name, self.next_task);
                    self.accepted.insert(id.clone(), now);
                    wire::task_info(
                        id,
                        &offer.slave_id,
                        self.task_resources.clone(),
                        self.settings.labels,
                    )
                })
                .collect();
            tally.add(|t| &t.launched, fit as u64);
            tally.offer_accepted(&offer.slave_id.value, now);
            ctx.send(
                &self.settings.master,
                &wire::accept(&framework_id, offer.id, tasks),
            );
        }
        if !declined.is_empty() {
            tally.add(|t| &t.declined, declined.len() as u64);
            // While launching is paused, refuse briefly so that launching
            // resumes soon after it is turned back on.
            let refuse = if tally.launching() {
                self.settings.refuse_seconds
            } else {
                PAUSED_REFUSE_SECONDS
            };
            ctx.send(
                &self.settings.master,
                &wire::decline(&framework_id, declined, refuse),
            );
        }
    }

    fn update(&mut self, ctx: &mut Context<Self>, message: StatusUpdateMessage) {
        let Some(framework_id) = self.id.clone() else {
            return;
        };
        let update = message.update;
        let status = update.status;
        let tally = &self.settings.tally;
        let state = TaskState::try_from(status.state).unwrap_or(TaskState::TaskUnknown);
        match state {
            TaskState::TaskRunning => tally.bump(|t| &t.running),
            TaskState::TaskFinished => {
                tally.bump(|t| &t.finished);
                if let Some(at) = self.accepted.remove(&status.task_id.value) {
                    tally.task_latency(at.elapsed());
                }
            }
            TaskState::TaskStaging | TaskState::TaskStarting | TaskState::TaskKilling => {}
            _ => {
                tally.bump(|t| &t.failed);
                self.accepted.remove(&status.task_id.value);
            }
        }
        // As libmesos: updates the master generated carry no uuid and are
        // not acknowledged.
        if let (Some(uuid), Some(agent)) = (status.uuid, status.slave_id.or(update.slave_id)) {
            ctx.send(
                &self.settings.master,
                &wire::acknowledge(&framework_id, agent, status.task_id, uuid),
            );
        }
    }
}

impl Process for SimFramework {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<FrameworkRegisteredMessage, _>(|f, _, _, m| {
            f.registered(m.framework_id.value, false)
        });
        ctx.install::<FrameworkReregisteredMessage, _>(|f, _, _, m| {
            f.registered(m.framework_id.value, true)
        });
        ctx.install::<ResourceOffersMessage, _>(|f, ctx, _, m| f.offers(ctx, m));
        ctx.install::<StatusUpdateMessage, _>(|f, ctx, _, m| f.update(ctx, m));
        ctx.install::<FrameworkErrorMessage, _>(|f, _, _, m| {
            tracing::warn!("framework {} got an error: {}", f.name, m.message);
            f.settings.tally.bump(|t| &t.framework_errors);
        });
        ctx.install_raw(
            "mesos.internal.RescindResourceOfferMessage",
            |f: &mut SimFramework, _, _| f.settings.tally.bump(|t| &t.rescinded),
        );
        ctx.link(&self.settings.master);
        self.subscribe(ctx);
    }

    fn exited(&mut self, _ctx: &mut Context<Self>, pid: &UPID) {
        if *pid == self.settings.master {
            self.subscribed = false;
            self.attempt += 1;
        }
    }

    fn unhandled(&mut self, _ctx: &mut Context<Self>, _message: libprocess::Message) {}
}
