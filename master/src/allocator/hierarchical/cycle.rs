//! One allocation cycle: agents in a shuffled order, roles and then
//! frameworks in DRF order, as described in the parent module.

use crate::allocator::FastMap as HashMap;
use std::borrow::Cow;
use std::collections::{btree_map, BTreeMap};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use mesos_common::resources::{Resource, Resources};

use super::{Agent, HierarchicalAllocator};
use super::{Framework, OfferFilters};
use crate::allocator::sorter::{Quantities, ShareBasis, Sorter};
use crate::allocator::spec::AllocatorOptions;
use crate::allocator::spec::{holds_quantities, Allocation};

/// One offer decided for an agent. The names are the sorters' own.
struct Decision {
    framework_id: Arc<str>,
    role: Arc<str>,
    /// Without allocation role; `None`: everything still available.
    resources: Option<Resources>,
}

/// What deciding an agent's offers reads: the allocator's fields but its
/// agents, so the agent being decided is borrowed (mutably) only once.
struct Deciding<'a> {
    options: &'a AllocatorOptions,
    role_sorter: &'a Sorter,
    framework_sorters: &'a HashMap<String, Sorter>,
    frameworks: &'a HashMap<String, Framework>,
    role_ids: &'a HashMap<String, u32>,
    filters: &'a OfferFilters,
}

impl HierarchicalAllocator {
    // ---- allocation -------------------------------------------------

    /// Runs one allocation cycle over every active agent; see
    /// [`HierarchicalAllocator::allocate_agents`].
    pub fn allocate(&mut self, now: Instant) -> Vec<Allocation> {
        let order = (0..self.agents.len()).collect();
        self.allocate_positions(now, order)
    }

    /// Runs one allocation cycle over `agents` (unknown or inactive ones
    /// are skipped), in a shuffled order, and returns the offers made,
    /// one [`Allocation`] per framework, ordered by framework id. What is
    /// offered counts as allocated until recovered.
    pub fn allocate_agents(&mut self, now: Instant, agents: &[Arc<str>]) -> Vec<Allocation> {
        let order = agents
            .iter()
            .filter_map(|id| self.agents.get_index_of(&**id))
            .collect();
        self.allocate_positions(now, order)
    }

    /// The cycle over the agents at `order` (positions in `agents`).
    fn allocate_positions(&mut self, now: Instant, mut order: Vec<usize>) -> Vec<Allocation> {
        self.filters.expire(now);
        let basis = basis!(self);
        self.role_sorter.refresh(&basis);
        for sorter in self.framework_sorters.values_mut() {
            sorter.refresh(&basis);
        }
        self.shuffle(&mut order);

        let HierarchicalAllocator {
            options,
            names,
            excluded,
            total,
            version,
            role_ids,
            frameworks,
            agents,
            role_sorter,
            framework_sorters,
            filters,
            ..
        } = self;
        let basis = ShareBasis {
            total,
            excluded,
            version: *version,
        };
        // Framework id → its offers, ordered once at the end.
        let mut offers: HashMap<Arc<str>, Allocation> = HashMap::default();
        for &position in &order {
            let Some((agent_id, agent)) = agents.get_index_mut(position) else {
                continue;
            };
            if !agent.active {
                continue;
            }
            let deciding = Deciding {
                options,
                role_sorter,
                framework_sorters,
                frameworks,
                role_ids,
                filters,
            };
            for decision in deciding.decide(agent, now) {
                let Decision {
                    framework_id,
                    role,
                    resources,
                } = decision;
                let plain = match resources {
                    None => std::mem::take(&mut agent.available),
                    Some(plain) => {
                        agent.available.subtract_all(&plain);
                        plain
                    }
                };
                // One copy of the offer, shared by the agent's record of
                // what the framework holds and by the offer itself.
                let offered = Arc::new(plain.with_allocation_role(Some(&role)));
                match agent.allocated.get_mut(&*framework_id) {
                    Some(held) => *Arc::make_mut(held) += &*offered,
                    None => {
                        agent
                            .allocated
                            .insert(framework_id.to_string(), offered.clone());
                    }
                }
                let q = known_quantities(names, &offered);
                role_sorter.allocated(&role, &q, &basis);
                if let Some(sorter) = framework_sorters.get_mut(&*role) {
                    sorter.allocated(&framework_id, &q, &basis);
                }
                let allocation = offers
                    .entry(framework_id)
                    .or_insert_with_key(|id| Allocation {
                        framework_id: id.to_string(),
                        resources: BTreeMap::new(),
                    });
                let by_agent = match allocation.resources.get_mut(&*role) {
                    Some(by_agent) => by_agent,
                    None => allocation.resources.entry(role.to_string()).or_default(),
                };
                match by_agent.entry(agent_id.clone()) {
                    btree_map::Entry::Vacant(e) => {
                        e.insert(offered);
                    }
                    btree_map::Entry::Occupied(mut e) => *Arc::make_mut(e.get_mut()) += &*offered,
                }
            }
        }
        let mut out: Vec<Allocation> = offers.into_values().collect();
        out.sort_unstable_by(|a, b| a.framework_id.cmp(&b.framework_id));
        out
    }

    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_random() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    /// splitmix64: a small, seeded generator for the agent shuffle.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The scalar quantities of `resources` by name id, for names already
/// known (an agent's resources are named when it is added, so everything
/// offered is).
fn known_quantities(names: &[String], resources: &Resources) -> Quantities {
    let mut out: Quantities = smallvec::smallvec![0; names.len()];
    for r in resources.iter() {
        let Some(amount) = r.as_scalar() else {
            continue;
        };
        if let Some(id) = names.iter().position(|n| *n == r.name) {
            out[id] += amount.as_millis();
        }
    }
    out
}

impl Deciding<'_> {
    /// What one agent offers to whom, in DRF order, without changing
    /// anything.
    fn decide(&self, agent: &Agent, now: Instant) -> Vec<Decision> {
        let mut out = Vec::new();
        if !self.allocatable(&agent.available) {
            return out;
        }
        let mut avail: Cow<'_, Resources> = Cow::Borrowed(&agent.available);
        // Whether `avail` is worth offering, kept with it: most candidates
        // are offered `avail` as it is, and checking costs name lookups.
        let mut avail_ok = true;
        let _ = self.role_sorter.walk::<()>(|role| {
            if avail.is_empty() {
                return ControlFlow::Break(());
            }
            let Some(sorter) = self.framework_sorters.get(&**role) else {
                return ControlFlow::Continue(());
            };
            let role_id = self.role_ids.get(&**role).copied();
            let hierarchical_role = role.contains('/');
            let _ = sorter.walk::<()>(|framework_id| {
                let Some(framework) = self.frameworks.get(&**framework_id) else {
                    return ControlFlow::Continue(());
                };
                let caps = framework.spec.capabilities;
                // Whether the offer is everything still available here.
                let mut whole = !agent.has_reserved;
                let mut offer: Cow<'_, Resources> = if whole {
                    Cow::Borrowed(&*avail)
                } else {
                    Cow::Owned(avail.allocatable_to(role))
                };
                if offer.is_empty() {
                    return ControlFlow::Break(());
                }
                let offer_ok = if whole {
                    avail_ok
                } else {
                    self.allocatable(&offer)
                };
                if !offer_ok {
                    return ControlFlow::Continue(());
                }
                if self.options.filter_gpu_resources && agent.has_gpu && !caps.gpu_resources {
                    return ControlFlow::Continue(());
                }
                if (agent.has_revocable && !caps.revocable_resources)
                    || (agent.has_refined && !caps.reservation_refinement)
                {
                    whole = false;
                    offer = Cow::Owned(offer.filter(|r: &Resource| {
                        (caps.revocable_resources || !r.revocable)
                            && (caps.reservation_refinement || r.reservations.len() <= 1)
                    }));
                    if !self.allocatable(&offer) {
                        return ControlFlow::Continue(());
                    }
                }
                if caps.multi_role && !agent.capabilities.multi_role {
                    return ControlFlow::Continue(());
                }
                if hierarchical_role && !agent.capabilities.hierarchical_role {
                    return ControlFlow::Continue(());
                }
                if let Some(role_id) = role_id {
                    let key = (framework.key, role_id, agent.key);
                    if self.filters.is_filtered(key, &offer, now) {
                        return ControlFlow::Continue(());
                    }
                }
                // Untouched available resources are moved, not copied,
                // when the decision is applied.
                let resources = if whole && matches!(avail, Cow::Borrowed(_)) {
                    None
                } else {
                    Some(offer.into_owned())
                };
                match &resources {
                    None => avail = Cow::Owned(Resources::new()),
                    Some(offer) => avail.to_mut().subtract_all(offer),
                }
                avail_ok = self.allocatable(&avail);
                out.push(Decision {
                    framework_id: framework_id.clone(),
                    role: role.clone(),
                    resources,
                });
                ControlFlow::Continue(())
            });
            ControlFlow::Continue(())
        });
        out
    }

    /// Whether `resources` are worth offering (`--min_allocatable_resources`).
    fn allocatable(&self, resources: &Resources) -> bool {
        if resources.is_empty() {
            return false;
        }
        let min = &self.options.min_allocatable_resources;
        min.is_empty() || min.iter().any(|m| holds_quantities(resources, m))
    }
}
