//! One allocation cycle: agents in a shuffled order, roles and then
//! frameworks in DRF order, as described in the parent module.

use crate::allocator::FastMap as HashMap;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{btree_map, BTreeMap};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use mesos_common::resources::{Resource, Resources};

use super::{Agent, HierarchicalAllocator};
use crate::allocator::sorter::ShareBasis;
use crate::allocator::spec::{holds_quantities, Allocation};

/// One offer decided for an agent.
struct Decision {
    framework_id: String,
    role: String,
    /// Without allocation role; `None`: everything still available.
    resources: Option<Resources>,
}

impl HierarchicalAllocator {
    // ---- allocation -------------------------------------------------

    /// Runs one allocation cycle over every active agent; see
    /// [`HierarchicalAllocator::allocate_agents`].
    pub fn allocate(&mut self, now: Instant) -> Vec<Allocation> {
        let agents = self.agent_order.clone();
        self.allocate_agents(now, &agents)
    }

    /// Runs one allocation cycle over `agents` (unknown or inactive ones
    /// are skipped), in a shuffled order, and returns the offers made,
    /// one [`Allocation`] per framework, ordered by framework id. What is
    /// offered counts as allocated until recovered.
    pub fn allocate_agents(&mut self, now: Instant, agents: &[Arc<str>]) -> Vec<Allocation> {
        self.filters.expire(now);
        let basis = basis!(self);
        self.role_sorter.refresh(&basis);
        for sorter in self.framework_sorters.values_mut() {
            sorter.refresh(&basis);
        }
        let mut order: Vec<Arc<str>> = agents
            .iter()
            .filter(|id| self.agents.get(&***id).is_some_and(|a| a.active))
            .cloned()
            .collect();
        self.shuffle(&mut order);

        // Framework id → role → agent id → offer. Hashed by framework (a
        // cycle touches many), sorted once at the end.
        let mut offers: HashMap<String, BTreeMap<String, BTreeMap<String, Arc<Resources>>>> =
            HashMap::default();
        for agent_id in &order {
            let Some(agent) = self.agents.get(&**agent_id) else {
                continue;
            };
            let decisions = self.decide(agent, now);
            for decision in decisions {
                let Decision {
                    framework_id,
                    role,
                    resources,
                } = decision;
                let Some(agent) = self.agents.get_mut(&**agent_id) else {
                    continue;
                };
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
                match agent.allocated.get_mut(framework_id.as_str()) {
                    Some(held) => *Arc::make_mut(held) += &*offered,
                    None => {
                        agent
                            .allocated
                            .insert(framework_id.clone(), offered.clone());
                    }
                }
                let q = self.quantities(&offered);
                let basis = basis!(self);
                self.role_sorter.allocated(&role, &q, &basis);
                if let Some(sorter) = self.framework_sorters.get_mut(&role) {
                    sorter.allocated(&framework_id, &q, &basis);
                }
                let by_role = match offers.entry(framework_id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(BTreeMap::new()),
                };
                let by_agent = by_role.entry(role).or_default();
                match by_agent.entry(agent_id.to_string()) {
                    btree_map::Entry::Vacant(e) => {
                        e.insert(offered);
                    }
                    btree_map::Entry::Occupied(mut e) => *Arc::make_mut(e.get_mut()) += &*offered,
                }
            }
        }
        let mut out: Vec<Allocation> = offers
            .into_iter()
            .map(|(framework_id, resources)| Allocation {
                framework_id,
                resources,
            })
            .collect();
        out.sort_unstable_by(|a, b| a.framework_id.cmp(&b.framework_id));
        out
    }

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
            let Some(sorter) = self.framework_sorters.get(role) else {
                return ControlFlow::Continue(());
            };
            let role_id = self.role_ids.get(role).copied();
            let hierarchical_role = role.contains('/');
            let _ = sorter.walk::<()>(|framework_id| {
                let Some(framework) = self.frameworks.get(framework_id) else {
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
                    framework_id: framework_id.to_string(),
                    role: role.to_string(),
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

    fn shuffle(&mut self, items: &mut [Arc<str>]) {
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
