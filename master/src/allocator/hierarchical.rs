//! The hierarchical DRF allocator as a pure state machine (Mesos's
//! `HierarchicalAllocatorProcess` without the process): frameworks,
//! agents, what each framework holds on each agent, offer filters, and
//! [`HierarchicalAllocator::allocate`], one allocation cycle.
//!
//! A cycle walks the active agents in a shuffled order. For each agent it
//! walks the roles in DRF order (weighted), and within each role that
//! role's frameworks in DRF order, and offers a framework everything on
//! the agent allocatable to the role (unreserved resources and those
//! reserved to the role or an ancestor), minus what it cannot use, unless
//! the offer is too small (`--min_allocatable_resources`) or filtered. As
//! in Mesos 1.11 without quota, reserved and unreserved resources go in
//! the same pass: reserved ones simply are not allocatable to other roles.
//! Offered resources count as allocated until they are recovered.
//!
//! Submodules: `cycle` (the allocation cycle), `resources` (recovery,
//! operations, weights), `queries` (read-only views).

use super::FastMap as HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use indexmap::IndexMap;

use mesos_common::resources::Resources;

use super::filters::OfferFilters;
use super::sorter::{add_quantities, subtract_quantities, Quantities, ShareBasis, Sorter};
use super::spec::{AgentCapabilities, AllocatorError, AllocatorOptions, FrameworkSpec};

type Result<T> = std::result::Result<T, AllocatorError>;

#[derive(Debug)]
struct Framework {
    key: u32,
    spec: FrameworkSpec,
    suppressed: BTreeSet<String>,
    active: bool,
}

#[derive(Debug)]
struct Agent {
    key: u32,
    total: Resources,
    /// `total` minus everything offered or allocated.
    available: Resources,
    /// Framework id → what it is offered or holds here (with roles),
    /// shared with the offers made of it: change it with `Arc::make_mut`.
    allocated: HashMap<String, Arc<Resources>>,
    active: bool,
    capabilities: AgentCapabilities,
    has_gpu: bool,
    has_reserved: bool,
    has_revocable: bool,
    has_refined: bool,
}

impl Agent {
    fn refresh_flags(&mut self) {
        self.has_gpu = self.total.gpus().is_some_and(|g| g > 0.0);
        self.has_reserved = self.total.iter().any(|r| !r.is_unreserved());
        self.has_revocable = self.total.iter().any(|r| r.revocable);
        self.has_refined = self.total.iter().any(|r| r.reservations.len() > 1);
    }

    fn recompute_available(&mut self) {
        let mut available = self.total.clone();
        for held in self.allocated.values() {
            let mut plain = Resources::clone(held);
            plain.unallocate();
            available.subtract_all(&plain);
        }
        self.available = available;
    }
}

/// The allocator's state. See the module documentation.
#[derive(Debug)]
pub struct HierarchicalAllocator {
    options: AllocatorOptions,
    /// Resource names; the index is the id in quantity vectors (few
    /// names, so a scan beats hashing).
    names: Vec<String>,
    excluded: Vec<bool>,
    /// The cluster's total scalar quantities.
    total: Quantities,
    /// Bumped when `total` changes (every share moves).
    version: u64,
    role_ids: HashMap<String, u32>,
    frameworks: HashMap<String, Framework>,
    /// By id, in the order they were added; a cycle walks them by
    /// position.
    agents: IndexMap<String, Agent, foldhash::fast::RandomState>,
    role_sorter: Sorter,
    framework_sorters: HashMap<String, Sorter>,
    /// Role → frameworks tracked under it (subscribed or holding some).
    roles: BTreeMap<String, BTreeSet<String>>,
    filters: OfferFilters,
    rng: u64,
    next_key: u32,
}

/// The share basis from the allocator's fields (a macro so the borrow
/// stays on those fields only).
macro_rules! basis {
    ($self:ident) => {
        ShareBasis {
            total: &$self.total,
            excluded: &$self.excluded,
            version: $self.version,
        }
    };
}

impl HierarchicalAllocator {
    /// An allocator with no frameworks or agents.
    pub fn new(options: AllocatorOptions) -> HierarchicalAllocator {
        let mut role_sorter = Sorter::new(true);
        role_sorter.set_weights(options.weights.clone());
        HierarchicalAllocator {
            rng: options.seed,
            options,
            names: Vec::new(),
            excluded: Vec::new(),
            total: Quantities::new(),
            version: 1,
            role_ids: HashMap::default(),
            frameworks: HashMap::default(),
            agents: IndexMap::default(),
            role_sorter,
            framework_sorters: HashMap::default(),
            roles: BTreeMap::new(),
            filters: OfferFilters::new(),
            next_key: 0,
        }
    }

    /// The options it runs with.
    pub fn options(&self) -> &AllocatorOptions {
        &self.options
    }

    fn key(&mut self) -> u32 {
        self.next_key += 1;
        self.next_key
    }

    fn role_id(&mut self, role: &str) -> u32 {
        let next = self.role_ids.len() as u32;
        *self.role_ids.entry(role.to_string()).or_insert(next)
    }

    /// The scalar quantities of `resources`, by name id.
    fn quantities(&mut self, resources: &Resources) -> Quantities {
        let mut out: Quantities = smallvec::smallvec![0; self.names.len()];
        for r in resources.iter() {
            let Some(amount) = r.as_scalar() else {
                continue;
            };
            let id = match self.names.iter().position(|n| *n == r.name) {
                Some(id) => id,
                None => {
                    let id = self.names.len();
                    self.names.push(r.name.to_string());
                    let excluded = self
                        .options
                        .fair_sharing_excluded_resource_names
                        .contains(r.name.as_str());
                    self.excluded.push(excluded);
                    out.push(0);
                    id
                }
            };
            out[id] += amount.as_millis();
        }
        out
    }

    /// Splits resources by their allocation role (`fallback` when unset).
    fn by_role(resources: &Resources, fallback: &str) -> BTreeMap<String, Resources> {
        let mut out: BTreeMap<String, Resources> = BTreeMap::new();
        for r in resources.iter() {
            let role = r.allocation_role.as_deref().unwrap_or(fallback);
            out.entry(role.to_string()).or_default().add_resource(r);
        }
        out
    }

    fn fallback_role(&self, framework_id: &str) -> String {
        self.frameworks
            .get(framework_id)
            .and_then(|f| f.spec.roles.iter().next().cloned())
            .unwrap_or_else(|| "*".to_string())
    }

    /// Whether `framework_id` should be in `role`'s order: known, active,
    /// subscribed to it and not suppressing it.
    fn wants_offers(&self, framework_id: &str, role: &str) -> bool {
        self.frameworks.get(framework_id).is_some_and(|f| {
            f.active && f.spec.roles.contains(role) && !f.suppressed.contains(role)
        })
    }

    fn sync_activity(&mut self, framework_id: &str, role: &str) {
        let wants = self.wants_offers(framework_id, role);
        let basis = basis!(self);
        if let Some(sorter) = self.framework_sorters.get_mut(role) {
            if wants {
                sorter.activate(framework_id, &basis);
            } else {
                sorter.deactivate(framework_id);
            }
        }
    }

    fn track(&mut self, framework_id: &str, role: &str) {
        let basis = basis!(self);
        if !self.role_sorter.contains(role) {
            self.role_sorter.add(role, &basis);
        }
        let sorter = self
            .framework_sorters
            .entry(role.to_string())
            .or_insert_with(|| Sorter::new(false));
        sorter.add(framework_id, &basis);
        self.roles
            .entry(role.to_string())
            .or_default()
            .insert(framework_id.to_string());
        self.sync_activity(framework_id, role);
    }

    /// Stops tracking `framework_id` under `role` if it neither subscribes
    /// to it nor holds anything in it; drops the role when it is empty.
    fn untrack_if_idle(&mut self, framework_id: &str, role: &str) {
        let subscribed = self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.spec.roles.contains(role));
        // Scalars are what the sorters count; a framework holding only
        // non-scalar resources in a role is tracked again when it gets some.
        let holds = self
            .framework_sorters
            .get(role)
            .and_then(|s| s.allocation(framework_id))
            .is_some_and(|a| a.iter().any(|&x| x > 0));
        if subscribed || holds {
            return;
        }
        self.drop_from_role(framework_id, role);
    }

    fn drop_from_role(&mut self, framework_id: &str, role: &str) {
        let basis = basis!(self);
        if let Some(sorter) = self.framework_sorters.get_mut(role) {
            sorter.remove(framework_id, &basis);
        }
        let now_empty = match self.roles.get_mut(role) {
            Some(set) => {
                set.remove(framework_id);
                set.is_empty()
            }
            None => false,
        };
        if now_empty {
            self.roles.remove(role);
            self.framework_sorters.remove(role);
            self.role_sorter.remove(role, &basis);
        }
    }

    /// Counts `resources` (with allocation roles) as held by the framework.
    fn track_allocated(&mut self, framework_id: &str, resources: &Resources) {
        let fallback = self.fallback_role(framework_id);
        for (role, part) in Self::by_role(resources, &fallback) {
            let q = self.quantities(&part);
            if !self.framework_sorters.contains_key(&role)
                || !self.framework_sorters[&role].contains(framework_id)
            {
                self.track(framework_id, &role);
            }
            let basis = basis!(self);
            self.role_sorter.allocated(&role, &q, &basis);
            if let Some(sorter) = self.framework_sorters.get_mut(&role) {
                sorter.allocated(framework_id, &q, &basis);
            }
        }
    }

    /// Stops counting `resources` as held by the framework.
    fn untrack_allocated(&mut self, framework_id: &str, resources: &Resources) {
        let fallback = self.fallback_role(framework_id);
        for (role, part) in Self::by_role(resources, &fallback) {
            let q = self.quantities(&part);
            let basis = basis!(self);
            if self.role_sorter.contains(&role) {
                self.role_sorter.unallocated(&role, &q, &basis);
            }
            if let Some(sorter) = self.framework_sorters.get_mut(&role) {
                sorter.unallocated(framework_id, &q, &basis);
            }
        }
    }

    // ---- frameworks -------------------------------------------------

    /// Adds a framework with what it already holds (`used`: agent id →
    /// resources with allocation roles, e.g. after a master failover).
    pub fn add_framework(
        &mut self,
        framework_id: &str,
        spec: FrameworkSpec,
        used: &BTreeMap<String, Resources>,
        active: bool,
        suppressed_roles: &BTreeSet<String>,
    ) -> Result<()> {
        if self.frameworks.contains_key(framework_id) {
            return Err(AllocatorError::FrameworkExists(framework_id.to_string()));
        }
        let key = self.key();
        let roles = spec.roles.clone();
        self.frameworks.insert(
            framework_id.to_string(),
            Framework {
                key,
                spec,
                suppressed: suppressed_roles.clone(),
                active,
            },
        );
        for role in &roles {
            self.track(framework_id, role);
        }
        // Resources an agent already reported for this framework are
        // tracked when the agent is added; only take those not yet known.
        for (agent_id, resources) in used {
            let Some(agent) = self.agents.get(agent_id) else {
                continue;
            };
            if agent.allocated.contains_key(framework_id) {
                continue;
            }
            self.hold(agent_id, framework_id, resources);
        }
        for role in self.roles_of(framework_id) {
            self.sync_activity(framework_id, &role);
        }
        Ok(())
    }

    /// Records that `framework_id` holds `resources` on `agent_id`.
    fn hold(&mut self, agent_id: &str, framework_id: &str, resources: &Resources) {
        let mut plain = resources.clone();
        plain.unallocate();
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.available.subtract_all(&plain);
            *Arc::make_mut(agent.allocated.entry(framework_id.to_string()).or_default()) +=
                resources;
        }
        self.track_allocated(framework_id, resources);
    }

    fn roles_of(&self, framework_id: &str) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, set)| set.contains(framework_id))
            .map(|(role, _)| role.clone())
            .collect()
    }

    /// Removes a framework: what it was offered or holds goes back to the
    /// agents, and its filters go away.
    pub fn remove_framework(&mut self, framework_id: &str) -> Result<()> {
        let framework = self
            .frameworks
            .remove(framework_id)
            .ok_or_else(|| AllocatorError::UnknownFramework(framework_id.to_string()))?;
        for agent in self.agents.values_mut() {
            if let Some(held) = agent.allocated.remove(framework_id) {
                let mut held = Arc::unwrap_or_clone(held);
                held.unallocate();
                agent.available.add_all(&held);
            }
        }
        for role in self.roles_of(framework_id) {
            if let Some(a) = self
                .framework_sorters
                .get(&role)
                .and_then(|s| s.allocation(framework_id))
            {
                let a = a.to_vec();
                let basis = basis!(self);
                self.role_sorter.unallocated(&role, &a, &basis);
            }
            self.drop_from_role(framework_id, &role);
        }
        let key = framework.key;
        self.filters.remove_where(|k| k.0 == key);
        Ok(())
    }

    /// Lets an inactive framework get offers again.
    pub fn activate_framework(&mut self, framework_id: &str) -> Result<()> {
        self.set_active(framework_id, true)
    }

    /// Stops offers to a framework; it keeps what it holds.
    pub fn deactivate_framework(&mut self, framework_id: &str) -> Result<()> {
        self.set_active(framework_id, false)
    }

    fn set_active(&mut self, framework_id: &str, active: bool) -> Result<()> {
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| AllocatorError::UnknownFramework(framework_id.to_string()))?;
        framework.active = active;
        for role in self.roles_of(framework_id) {
            self.sync_activity(framework_id, &role);
        }
        Ok(())
    }

    /// Changes a framework's roles, capabilities and suppressed roles.
    /// Roles it leaves are kept while it holds resources in them.
    pub fn update_framework(
        &mut self,
        framework_id: &str,
        spec: FrameworkSpec,
        suppressed_roles: &BTreeSet<String>,
    ) -> Result<()> {
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| AllocatorError::UnknownFramework(framework_id.to_string()))?;
        let old: BTreeSet<String> = framework.spec.roles.clone();
        let key = framework.key;
        framework.spec = spec.clone();
        framework.suppressed = suppressed_roles.clone();
        for role in spec.roles.difference(&old) {
            self.track(framework_id, role);
        }
        for role in old.difference(&spec.roles) {
            if let Some(&role_id) = self.role_ids.get(role) {
                self.filters.remove_where(|k| k.0 == key && k.1 == role_id);
            }
            self.untrack_if_idle(framework_id, role);
        }
        for role in self.roles_of(framework_id) {
            self.sync_activity(framework_id, &role);
        }
        Ok(())
    }

    /// Stops offers to `framework_id` for `roles` (all its roles when
    /// empty) until they are revived.
    pub fn suppress_offers(&mut self, framework_id: &str, roles: &BTreeSet<String>) -> Result<()> {
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| AllocatorError::UnknownFramework(framework_id.to_string()))?;
        let roles = if roles.is_empty() {
            framework.spec.roles.clone()
        } else {
            roles.clone()
        };
        framework.suppressed.extend(roles.iter().cloned());
        for role in &roles {
            self.sync_activity(framework_id, role);
        }
        Ok(())
    }

    /// Resumes offers to `framework_id` for `roles` (all its roles when
    /// empty) and clears its filters for them, as Mesos's revive does.
    pub fn revive_offers(&mut self, framework_id: &str, roles: &BTreeSet<String>) -> Result<()> {
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| AllocatorError::UnknownFramework(framework_id.to_string()))?;
        let roles = if roles.is_empty() {
            framework.spec.roles.clone()
        } else {
            roles.clone()
        };
        let key = framework.key;
        for role in &roles {
            framework.suppressed.remove(role);
        }
        let role_ids: BTreeSet<u32> = roles
            .iter()
            .filter_map(|r| self.role_ids.get(r).copied())
            .collect();
        self.filters
            .remove_where(|k| k.0 == key && role_ids.contains(&k.1));
        for role in &roles {
            self.sync_activity(framework_id, role);
        }
        Ok(())
    }

    // ---- agents -----------------------------------------------------

    /// Adds an agent with its total and what frameworks already hold on it
    /// (`used`: framework id → resources with allocation roles).
    pub fn add_slave(
        &mut self,
        agent_id: &str,
        capabilities: AgentCapabilities,
        total: Resources,
        used: &BTreeMap<String, Resources>,
    ) -> Result<()> {
        if self.agents.contains_key(agent_id) {
            return Err(AllocatorError::AgentExists(agent_id.to_string()));
        }
        let q = self.quantities(&total);
        add_quantities(&mut self.total, &q);
        self.version += 1;
        let key = self.key();
        let mut agent = Agent {
            key,
            available: total.clone(),
            total,
            allocated: HashMap::default(),
            active: true,
            capabilities,
            has_gpu: false,
            has_reserved: false,
            has_revocable: false,
            has_refined: false,
        };
        agent.refresh_flags();
        self.agents.insert(agent_id.to_string(), agent);
        for (framework_id, resources) in used {
            self.hold(agent_id, framework_id, resources);
        }
        Ok(())
    }

    /// Removes an agent: what frameworks held there is gone with it.
    pub fn remove_slave(&mut self, agent_id: &str) -> Result<()> {
        let agent = self
            .agents
            .shift_remove(agent_id)
            .ok_or_else(|| AllocatorError::UnknownAgent(agent_id.to_string()))?;
        for (framework_id, held) in &agent.allocated {
            self.untrack_allocated(framework_id, held);
            for role in Self::by_role(held, &self.fallback_role(framework_id)).keys() {
                self.untrack_if_idle(framework_id, role);
            }
        }
        let q = self.quantities(&agent.total);
        subtract_quantities(&mut self.total, &q);
        self.version += 1;
        let key = agent.key;
        self.filters.remove_where(|k| k.2 == key);
        Ok(())
    }

    /// Changes an agent's total (e.g. new oversubscribed resources) and/or
    /// capabilities. What frameworks hold is kept.
    pub fn update_slave(
        &mut self,
        agent_id: &str,
        total: Option<Resources>,
        capabilities: Option<AgentCapabilities>,
    ) -> Result<()> {
        if !self.agents.contains_key(agent_id) {
            return Err(AllocatorError::UnknownAgent(agent_id.to_string()));
        }
        if let Some(total) = total {
            let old = self.agents[agent_id].total.clone();
            let old_q = self.quantities(&old);
            let new_q = self.quantities(&total);
            subtract_quantities(&mut self.total, &old_q);
            add_quantities(&mut self.total, &new_q);
            self.version += 1;
            if let Some(agent) = self.agents.get_mut(agent_id) {
                agent.total = total;
                agent.refresh_flags();
                agent.recompute_available();
            }
        }
        if let (Some(capabilities), Some(agent)) = (capabilities, self.agents.get_mut(agent_id)) {
            agent.capabilities = capabilities;
        }
        Ok(())
    }

    /// Lets an agent's resources be offered again.
    pub fn activate_slave(&mut self, agent_id: &str) -> Result<()> {
        self.set_agent_active(agent_id, true)
    }

    /// Stops offering an agent's resources; what is held stays held.
    pub fn deactivate_slave(&mut self, agent_id: &str) -> Result<()> {
        self.set_agent_active(agent_id, false)
    }

    fn set_agent_active(&mut self, agent_id: &str, active: bool) -> Result<()> {
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or_else(|| AllocatorError::UnknownAgent(agent_id.to_string()))?;
        agent.active = active;
        Ok(())
    }
}

mod cycle;
mod queries;
mod resources;

#[cfg(test)]
mod tests;
