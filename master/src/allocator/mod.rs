//! The master's allocator: Mesos's hierarchical DRF allocator.
//!
//! The master tells the allocator about frameworks, agents and resources
//! coming back, through an [`AllocatorHandle`]; the allocator looks at
//! every agent once per `--allocation_interval` (in slices spread over
//! the interval), soon after events that add resources or offer takers,
//! and a slice gap after tasks end on it (while frameworks keep up with
//! their offers, which the master reports closed), and hands each
//! framework's offers to the [`OfferCallback`], which the master turns
//! into `Offer`s.
//!
//! Ids at the handle are plain strings: the `value` of the proto
//! `FrameworkID` / `SlaveID`. Resources are `mesos_common` [`Resources`];
//! offered and held resources carry their allocation role
//! (`Resource.allocation_info.role`), and what the master gives back in
//! [`AllocatorHandle::recover_resources`] must carry it too.
//!
//! Modules:
//! - `sorter`: the DRF sorter (roles, and each role's frameworks).
//! - `filters`: offer filters from declines (`Filters.refuse_seconds`).
//! - `spec`: options, what the allocator reads of frameworks and agents,
//!   results and errors.
//! - `hierarchical`: the pure allocator state machine and its cycle.
//! - `process`: the actor that owns it, runs cycles on the clock, and
//!   records the allocator's metrics.

pub mod filters;
pub mod hierarchical;
pub mod process;
pub mod sorter;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use libprocess::{Pid, Runtime, Terminated};
use mesos_common::resources::Resources;
use mesos_proto::mesos::{slave_info, FrameworkInfo};

pub use filters::refuse_duration;
pub use hierarchical::HierarchicalAllocator;
pub use process::AllocatorProcess;
pub use spec::{
    parse_min_allocatable_resources, AgentCapabilities, Allocation, AllocatorError,
    AllocatorOptions, FrameworkCapabilities, FrameworkSpec, RoleSummary,
};

/// The allocator's hash maps: keyed by short ids it looks up several
/// times per agent in a cycle, where SipHash's cost showed; foldhash is
/// fast and still seeded per map.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Called once per framework that gets offers in a cycle, with
/// role → agent id → resources (allocation role set; shared with the
/// allocator's own record, not copied). It runs inside the allocator's
/// process: it must not block (post to the master instead).
pub type OfferCallback =
    Arc<dyn Fn(String, BTreeMap<String, BTreeMap<String, Arc<Resources>>>) + Send + Sync>;

/// A handle to the allocator process. Every method queues its event and
/// returns at once; events are handled in the order they were queued.
/// Calls about unknown frameworks or agents change nothing (logged).
#[derive(Clone, Debug)]
pub struct AllocatorHandle {
    pid: Pid<AllocatorProcess>,
    open_offers: Arc<AtomicUsize>,
}

impl AllocatorHandle {
    /// Starts the allocator process (`hierarchical-allocator(N)`) in
    /// `runtime`; `offers` receives each cycle's offers.
    pub fn spawn(
        runtime: &Runtime,
        options: AllocatorOptions,
        offers: OfferCallback,
    ) -> Result<AllocatorHandle, libprocess::Error> {
        let id = runtime.generate_id("hierarchical-allocator");
        let open_offers = Arc::new(AtomicUsize::new(0));
        let process = AllocatorProcess::new(options, offers, open_offers.clone());
        let pid = runtime.spawn(&id, process)?;
        Ok(AllocatorHandle { pid, open_offers })
    }

    /// The process behind the handle.
    pub fn pid(&self) -> &Pid<AllocatorProcess> {
        &self.pid
    }

    /// Adds a framework (roles and capabilities from `info`), with what it
    /// already holds (`used`: agent id → resources), whether it is active,
    /// and the roles it suppresses.
    pub fn add_framework(
        &self,
        framework_id: &str,
        info: &FrameworkInfo,
        used: BTreeMap<String, Resources>,
        active: bool,
        suppressed_roles: BTreeSet<String>,
    ) {
        let id = framework_id.to_string();
        let spec = FrameworkSpec::from_info(info);
        self.pid
            .post(move |p, ctx| p.add_framework(ctx, &id, spec, &used, active, &suppressed_roles));
    }

    /// Removes a framework; what it held goes back to the agents.
    pub fn remove_framework(&self, framework_id: &str) {
        let id = framework_id.to_string();
        self.pid.post(move |p, ctx| p.remove_framework(ctx, &id));
    }

    /// Lets a framework get offers again (it reconnected).
    pub fn activate_framework(&self, framework_id: &str) {
        let id = framework_id.to_string();
        self.pid.post(move |p, ctx| p.activate_framework(ctx, &id));
    }

    /// Stops offers to a framework (it disconnected); it keeps its tasks.
    pub fn deactivate_framework(&self, framework_id: &str) {
        let id = framework_id.to_string();
        self.pid
            .post(move |p, ctx| p.deactivate_framework(ctx, &id));
    }

    /// Changes a framework's roles and capabilities (from `info`) and
    /// suppressed roles.
    pub fn update_framework(
        &self,
        framework_id: &str,
        info: &FrameworkInfo,
        suppressed_roles: BTreeSet<String>,
    ) {
        let id = framework_id.to_string();
        let spec = FrameworkSpec::from_info(info);
        self.pid
            .post(move |p, ctx| p.update_framework(ctx, &id, spec, &suppressed_roles));
    }

    /// Adds an agent: its announced capabilities, total resources, and
    /// what frameworks already hold there (`used`: framework id →
    /// resources with allocation roles).
    pub fn add_slave(
        &self,
        slave_id: &str,
        capabilities: &[slave_info::Capability],
        total: Resources,
        used: BTreeMap<String, Resources>,
    ) {
        let id = slave_id.to_string();
        let capabilities = AgentCapabilities::from_info(capabilities);
        self.pid
            .post(move |p, ctx| p.add_slave(ctx, &id, capabilities, total, &used));
    }

    /// Removes an agent and everything held on it.
    pub fn remove_slave(&self, slave_id: &str) {
        let id = slave_id.to_string();
        self.pid.post(move |p, ctx| p.remove_slave(ctx, &id));
    }

    /// Changes an agent's total resources and/or capabilities.
    pub fn update_slave(
        &self,
        slave_id: &str,
        total: Option<Resources>,
        capabilities: Option<&[slave_info::Capability]>,
    ) {
        let id = slave_id.to_string();
        let capabilities = capabilities.map(AgentCapabilities::from_info);
        self.pid
            .post(move |p, ctx| p.update_slave(ctx, &id, total, capabilities));
    }

    /// Offers an agent's resources again (it reconnected).
    pub fn activate_slave(&self, slave_id: &str) {
        let id = slave_id.to_string();
        self.pid.post(move |p, ctx| p.activate_slave(ctx, &id));
    }

    /// Stops offering an agent's resources (it disconnected).
    pub fn deactivate_slave(&self, slave_id: &str) {
        let id = slave_id.to_string();
        self.pid.post(move |p, ctx| p.deactivate_slave(ctx, &id));
    }

    /// Replaces `from` by `to` in what a framework holds on an agent (an
    /// accepted RESERVE/UNRESERVE/CREATE/DESTROY).
    pub fn update_allocation(
        &self,
        framework_id: &str,
        slave_id: &str,
        from: Resources,
        to: Resources,
    ) {
        let (framework, slave) = (framework_id.to_string(), slave_id.to_string());
        self.pid
            .post(move |p, ctx| p.update_allocation(ctx, &framework, &slave, &from, &to));
    }

    /// Gives back resources a framework was offered or held on an agent (a
    /// declined or rescinded offer, the unused part of an accepted one, a
    /// finished task). With `refuse`, that framework's role is not offered
    /// them on that agent for that long; use [`refuse_duration`] to read
    /// `Filters` as Mesos does (a decline without filters means 5 seconds).
    pub fn recover_resources(
        &self,
        framework_id: &str,
        slave_id: &str,
        resources: Resources,
        refuse: Option<Duration>,
    ) {
        let (framework, slave) = (framework_id.to_string(), slave_id.to_string());
        self.pid.post(move |p, ctx| {
            p.recover_resources(ctx, &framework, &slave, &resources, refuse);
        });
    }

    /// Gives back what a framework's task or executor held on an agent
    /// (it ended). Mesos offers it again at the agent's next batch; ours
    /// offers it one slice gap later while frameworks keep up with their
    /// offers (see [`process`]).
    pub fn release_resources(&self, framework_id: &str, slave_id: &str, resources: Resources) {
        let (framework, slave) = (framework_id.to_string(), slave_id.to_string());
        self.pid
            .post(move |p, ctx| p.release_resources(ctx, &framework, &slave, &resources));
    }

    /// Tells the allocator that one agent's resources it handed to the
    /// [`OfferCallback`] are no longer an open offer: accepted, declined,
    /// rescinded, or never offered (the framework or agent went away).
    pub fn offer_closed(&self) {
        // Saturating: a stray call must not wrap the count and stop the
        // freed resources' slices for good.
        let _ = self
            .open_offers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// How many offers the allocator made that the master has not closed;
    /// it should equal the master's outstanding offers once both are idle.
    pub fn open_offers(&self) -> usize {
        self.open_offers.load(Ordering::Relaxed)
    }

    /// Stops offers to a framework for `roles` (all its roles if empty).
    pub fn suppress_offers(&self, framework_id: &str, roles: BTreeSet<String>) {
        let id = framework_id.to_string();
        self.pid
            .post(move |p, ctx| p.suppress_offers(ctx, &id, &roles));
    }

    /// Resumes offers to a framework for `roles` (all its roles if empty)
    /// and clears its offer filters for them.
    pub fn revive_offers(&self, framework_id: &str, roles: BTreeSet<String>) {
        let id = framework_id.to_string();
        self.pid
            .post(move |p, ctx| p.revive_offers(ctx, &id, &roles));
    }

    /// Sets the role weights (`/weights`); roles not listed weigh 1.
    pub fn update_weights(&self, weights: BTreeMap<String, f64>) {
        self.pid.post(move |p, ctx| p.update_weights(ctx, &weights));
    }

    /// Each known role (with frameworks or a weight): weight, frameworks,
    /// and what they are offered or hold; for `/master/roles`.
    pub async fn roles(&self) -> Result<Vec<RoleSummary>, Terminated> {
        self.pid.dispatch(|p, _| p.allocator().roles()).await
    }

    /// What a framework is offered or holds on an agent.
    pub async fn allocation(
        &self,
        framework_id: &str,
        slave_id: &str,
    ) -> Result<Resources, Terminated> {
        let (framework, slave) = (framework_id.to_string(), slave_id.to_string());
        self.pid
            .dispatch(move |p, _| p.allocator().allocation(&framework, &slave))
            .await
    }

    /// Stops the allocator process.
    pub fn terminate(&self) {
        self.pid.terminate();
    }
}
