//! The allocator actor: owns the [`HierarchicalAllocator`] and offers
//! what is available in batches, every agent once per
//! `--allocation_interval` on the runtime's clock, as Mesos does; a
//! declined or rescinded offer waits for its agent's next batch (what
//! ended tasks give back need not: below). Events that add resources or
//! offer takers (an agent, a framework, a revive) cause a cycle soon
//! after.
//! Events arriving together cause one cycle: the first marks a cycle
//! pending and queues it behind the events already in the mailbox, later
//! ones only widen it (the agents to look at, or all of them), as Mesos
//! batches its allocation candidates.
//!
//! Where Mesos's batch looks at every agent at the same instant, ours
//! rolls: the interval is cut into slices (at most one per
//! [`MIN_SLICE_GAP`], each of at least [`MIN_SLICE_AGENTS`] agents) and
//! each slice looks at the next agents in turn. Every agent still waits
//! at most one interval; but a busy cluster's offers, launches and
//! status updates come as a steady stream instead of one burst per
//! interval that queues up everything behind it.
//!
//! What ended tasks give back need not wait for the batch (Mesos's
//! MESOS-3078 asks for this): those agents are looked at again in a
//! slice of their own, one slice gap later, at no more than the batch's
//! own pace, and while the frameworks keep up with their offers (no more
//! offers open than a slice makes). When they fall behind, freed
//! resources wait in the allocator instead of piling up as offers in the
//! frameworks' queues, where every launch would wait behind them; a
//! framework that sits on its offers only brings back Mesos's own pace.
//!
//! Metrics (Mesos's names): `allocator/mesos/allocation_runs`,
//! `allocator/mesos/allocation_run_ms` (a timer),
//! `allocator/mesos/allocation_run_latency_ms` (from the event or tick
//! that asked for a cycle to its start), and after each cycle
//! `allocator/mesos/resources/<name>/total` and
//! `.../offered_or_allocated` for cpus, gpus, mem and disk.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexSet;
use libprocess::{Context, Process};
use mesos_common::resources::Resources;

use super::hierarchical::HierarchicalAllocator;
use super::spec::{AgentCapabilities, AllocatorError, AllocatorOptions, FrameworkSpec};
use super::OfferCallback;

/// The shortest gap between two slices of the rolling batch.
pub const MIN_SLICE_GAP: Duration = Duration::from_millis(10);
/// The fewest agents a slice of the rolling batch looks at.
pub const MIN_SLICE_AGENTS: usize = 16;

/// Which agents a pending cycle looks at.
#[derive(Debug)]
enum Candidates {
    All,
    Agents(BTreeSet<Arc<str>>),
}

impl Candidates {
    fn agent(id: &str) -> Candidates {
        Candidates::Agents(BTreeSet::from([Arc::from(id)]))
    }
}

/// The allocator process. Reach it through
/// [`AllocatorHandle`](super::AllocatorHandle).
pub struct AllocatorProcess {
    allocator: HierarchicalAllocator,
    offers: OfferCallback,
    pending: Option<(Candidates, Instant)>,
    /// Position of the first agent of the next slice of the batch.
    cursor: usize,
    /// Agents whose ended tasks gave resources back, in the order they
    /// did, waiting for a slice of freed agents.
    freed: IndexSet<Arc<str>>,
    /// Whether the next slice of freed agents is scheduled.
    freed_gap_pending: bool,
    /// Offers made and not yet closed by the master (see
    /// [`AllocatorHandle::offer_closed`](super::AllocatorHandle::offer_closed)).
    open_offers: Arc<AtomicUsize>,
}

impl AllocatorProcess {
    /// A process around a fresh allocator; `open_offers` counts the
    /// offers it made that the master has not closed yet.
    pub fn new(
        options: AllocatorOptions,
        offers: OfferCallback,
        open_offers: Arc<AtomicUsize>,
    ) -> AllocatorProcess {
        AllocatorProcess {
            allocator: HierarchicalAllocator::new(options),
            offers,
            pending: None,
            cursor: 0,
            freed: IndexSet::new(),
            freed_gap_pending: false,
            open_offers,
        }
    }

    /// The allocator state, for queries.
    pub fn allocator(&self) -> &HierarchicalAllocator {
        &self.allocator
    }

    fn interval(&self) -> Duration {
        self.allocator.options().allocation_interval
    }

    /// The batch tick: a cycle over the next slice of agents, then the
    /// next tick, timed so that a round over every agent takes one
    /// interval.
    fn tick(&mut self, ctx: &mut Context<Self>) {
        let interval = self.interval();
        let agents = self.allocator.counts().1;
        let slices = slices(agents, interval);
        if slices == 1 {
            self.cursor = 0;
            self.request(ctx, Candidates::All);
        } else {
            if self.cursor >= agents {
                self.cursor = 0;
            }
            let start = self.cursor;
            self.cursor += agents.div_ceil(slices);
            let slice = self.allocator.agent_ids(start..self.cursor);
            self.request(ctx, Candidates::Agents(slice.into_iter().collect()));
        }
        ctx.delay(interval / slices as u32, |p, ctx| p.tick(ctx));
    }

    /// How many agents a slice looks at.
    fn slice_agents(&self) -> usize {
        let agents = self.allocator.counts().1;
        agents
            .div_ceil(slices(agents, self.interval()))
            .max(MIN_SLICE_AGENTS)
    }

    /// How many freed agents a slice gap may look at: the batch's own
    /// pace (every agent once per interval), so that the two together
    /// at most double it. Unbounded, a cluster of very short tasks runs
    /// as a closed loop as fast as the machine goes, and every task
    /// waits behind all the others in flight.
    fn freed_per_gap(&self) -> usize {
        let agents = self.allocator.counts().1 as u128;
        let interval = self.interval().as_nanos().max(1);
        let pace = (agents * MIN_SLICE_GAP.as_nanos()).div_ceil(interval);
        pace.clamp(1, usize::MAX as u128) as usize
    }

    /// A slice of freed agents, if the frameworks have taken up the
    /// offers made so far; then again one slice gap later while agents
    /// are still waiting.
    fn offer_freed(&mut self, ctx: &mut Context<Self>) {
        self.freed_gap_pending = false;
        let slice = self.slice_agents();
        if !self.freed.is_empty() && self.open_offers.load(Ordering::Relaxed) <= slice {
            let take = self.freed_per_gap().min(self.freed.len());
            let agents = self.freed.drain(..take).collect();
            self.request(ctx, Candidates::Agents(agents));
        }
        self.await_freed_gap(ctx);
    }

    /// Schedules the next slice of freed agents, unless one is already
    /// scheduled or none are waiting.
    fn await_freed_gap(&mut self, ctx: &mut Context<Self>) {
        if !self.freed_gap_pending && !self.freed.is_empty() {
            self.freed_gap_pending = true;
            ctx.delay(MIN_SLICE_GAP, |p, ctx| p.offer_freed(ctx));
        }
    }

    /// Asks for a cycle over `wanted`, coalesced with any cycle already
    /// pending.
    fn request(&mut self, ctx: &mut Context<Self>, wanted: Candidates) {
        match (&mut self.pending, wanted) {
            (Some((Candidates::All, _)), _) => {}
            (Some((candidates, _)), Candidates::All) => *candidates = Candidates::All,
            (Some((Candidates::Agents(set), _)), Candidates::Agents(more)) => set.extend(more),
            (None, wanted) => {
                self.pending = Some((wanted, Instant::now()));
                ctx.handle().post(|p, ctx| p.run_pending(ctx));
            }
        }
    }

    fn run_pending(&mut self, ctx: &mut Context<Self>) {
        let Some((candidates, requested)) = self.pending.take() else {
            return;
        };
        metrics::histogram!("allocator/mesos/allocation_run_latency_ms")
            .record(requested.elapsed().as_secs_f64() * 1000.0);
        let now = ctx.runtime().clock().now();
        let started = Instant::now();
        let allocations = match candidates {
            // An agent looked at needs no freed slice of its own.
            Candidates::All => {
                self.freed.clear();
                self.allocator.allocate(now)
            }
            Candidates::Agents(set) => {
                if !self.freed.is_empty() {
                    self.freed.retain(|agent| !set.contains(agent));
                }
                let agents: Vec<Arc<str>> = set.into_iter().collect();
                self.allocator.allocate_agents(now, &agents)
            }
        };
        metrics::histogram!("allocator/mesos/allocation_run_ms")
            .record(started.elapsed().as_secs_f64() * 1000.0);
        metrics::counter!("allocator/mesos/allocation_runs").increment(1);
        self.record_resources();
        let offers: usize = allocations
            .iter()
            .flat_map(|allocation| allocation.resources.values())
            .map(BTreeMap::len)
            .sum();
        self.open_offers.fetch_add(offers, Ordering::Relaxed);
        for allocation in allocations {
            (self.offers)(allocation.framework_id, allocation.resources);
        }
    }

    fn record_resources(&self) {
        let (total, used) = self.allocator.resource_totals();
        for name in ["cpus", "gpus", "mem", "disk"] {
            metrics::gauge!(format!("allocator/mesos/resources/{name}/total"))
                .set(total.get(name).copied().unwrap_or(0.0));
            metrics::gauge!(format!(
                "allocator/mesos/resources/{name}/offered_or_allocated"
            ))
            .set(used.get(name).copied().unwrap_or(0.0));
        }
    }

    fn log(result: Result<(), AllocatorError>, what: &str) -> bool {
        match result {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!("allocator ignoring {what}: {error}");
                false
            }
        }
    }

    pub(super) fn add_framework(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        spec: FrameworkSpec,
        used: &BTreeMap<String, Resources>,
        active: bool,
        suppressed: &BTreeSet<String>,
    ) {
        let result = self
            .allocator
            .add_framework(id, spec, used, active, suppressed);
        if Self::log(result, "add framework") {
            self.request(ctx, Candidates::All);
        }
    }

    pub(super) fn remove_framework(&mut self, ctx: &mut Context<Self>, id: &str) {
        if Self::log(self.allocator.remove_framework(id), "remove framework") {
            self.request(ctx, Candidates::All);
        }
    }

    pub(super) fn activate_framework(&mut self, ctx: &mut Context<Self>, id: &str) {
        if Self::log(self.allocator.activate_framework(id), "activate framework") {
            self.request(ctx, Candidates::All);
        }
    }

    pub(super) fn deactivate_framework(&mut self, _ctx: &mut Context<Self>, id: &str) {
        Self::log(
            self.allocator.deactivate_framework(id),
            "deactivate framework",
        );
    }

    pub(super) fn update_framework(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        spec: FrameworkSpec,
        suppressed: &BTreeSet<String>,
    ) {
        let result = self.allocator.update_framework(id, spec, suppressed);
        if Self::log(result, "update framework") {
            self.request(ctx, Candidates::All);
        }
    }

    pub(super) fn add_slave(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        capabilities: AgentCapabilities,
        total: Resources,
        used: &BTreeMap<String, Resources>,
    ) {
        let result = self.allocator.add_slave(id, capabilities, total, used);
        if Self::log(result, "add agent") {
            self.request(ctx, Candidates::agent(id));
        }
    }

    pub(super) fn remove_slave(&mut self, _ctx: &mut Context<Self>, id: &str) {
        Self::log(self.allocator.remove_slave(id), "remove agent");
    }

    pub(super) fn update_slave(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        total: Option<Resources>,
        capabilities: Option<AgentCapabilities>,
    ) {
        let result = self.allocator.update_slave(id, total, capabilities);
        if Self::log(result, "update agent") {
            self.request(ctx, Candidates::agent(id));
        }
    }

    pub(super) fn activate_slave(&mut self, ctx: &mut Context<Self>, id: &str) {
        if Self::log(self.allocator.activate_slave(id), "activate agent") {
            self.request(ctx, Candidates::agent(id));
        }
    }

    pub(super) fn deactivate_slave(&mut self, _ctx: &mut Context<Self>, id: &str) {
        Self::log(self.allocator.deactivate_slave(id), "deactivate agent");
    }

    pub(super) fn update_allocation(
        &mut self,
        _ctx: &mut Context<Self>,
        framework: &str,
        slave: &str,
        from: &Resources,
        to: &Resources,
    ) {
        let result = self.allocator.update_allocation(framework, slave, from, to);
        Self::log(result, "update allocation");
    }

    /// Takes back resources; true when they were the framework's to give.
    pub(super) fn recover_resources(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &str,
        slave: &str,
        resources: &Resources,
        refuse: Option<Duration>,
    ) -> bool {
        let now = ctx.runtime().clock().now();
        let result = self
            .allocator
            .recover_resources(framework, slave, resources, refuse, now);
        Self::log(result, "recover resources")
    }

    pub(super) fn release_resources(
        &mut self,
        ctx: &mut Context<Self>,
        framework: &str,
        slave: &str,
        resources: &Resources,
    ) {
        if self.recover_resources(ctx, framework, slave, resources, None) {
            self.freed.insert(Arc::from(slave));
            self.await_freed_gap(ctx);
        }
    }

    pub(super) fn suppress_offers(
        &mut self,
        _ctx: &mut Context<Self>,
        id: &str,
        roles: &BTreeSet<String>,
    ) {
        Self::log(self.allocator.suppress_offers(id, roles), "suppress offers");
    }

    pub(super) fn revive_offers(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        roles: &BTreeSet<String>,
    ) {
        if Self::log(self.allocator.revive_offers(id, roles), "revive offers") {
            self.request(ctx, Candidates::All);
        }
    }

    pub(super) fn update_weights(
        &mut self,
        ctx: &mut Context<Self>,
        weights: &BTreeMap<String, f64>,
    ) {
        self.allocator.update_weights(weights);
        self.request(ctx, Candidates::All);
    }
}

/// How many slices a round of the batch over `agents` agents is cut
/// into.
fn slices(agents: usize, interval: Duration) -> usize {
    let by_time = (interval.as_nanos() / MIN_SLICE_GAP.as_nanos()).max(1) as usize;
    (agents / MIN_SLICE_AGENTS).clamp(1, by_time.min(u32::MAX as usize))
}

impl Process for AllocatorProcess {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        let interval = self.interval();
        ctx.delay(interval, |p, ctx| p.tick(ctx));
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
