//! Read-only views of the allocator's state: roles, allocations, shares.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use mesos_common::resources::Resources;

use super::HierarchicalAllocator;
use crate::allocator::sorter::ShareBasis;
use crate::allocator::spec::RoleSummary;

impl HierarchicalAllocator {
    // ---- queries ----------------------------------------------------

    /// Each role with frameworks or a weight: its weight, frameworks and
    /// what they are offered or hold, ordered by role.
    pub fn roles(&self) -> Vec<RoleSummary> {
        let mut names: BTreeSet<&String> = self.roles.keys().collect();
        names.extend(self.options.weights.keys());
        names
            .into_iter()
            .map(|role| {
                let mut allocated = Resources::new();
                for agent in self.agents.values() {
                    for held in agent.allocated.values() {
                        for r in held.iter() {
                            if r.allocation_role.as_deref() == Some(role.as_str()) {
                                allocated.add_resource(r);
                            }
                        }
                    }
                }
                RoleSummary {
                    role: role.clone(),
                    weight: self.role_sorter.weight(role),
                    frameworks: self
                        .roles
                        .get(role)
                        .map(|s| s.iter().cloned().collect())
                        .unwrap_or_default(),
                    allocated,
                }
            })
            .collect()
    }

    /// What `framework_id` is offered or holds on `agent_id`.
    pub fn allocation(&self, framework_id: &str, agent_id: &str) -> Resources {
        self.agents
            .get(agent_id)
            .and_then(|a| a.allocated.get(framework_id))
            .map(|held| Resources::clone(held))
            .unwrap_or_default()
    }

    /// What is neither offered nor held on `agent_id`.
    pub fn available(&self, agent_id: &str) -> Option<&Resources> {
        self.agents.get(agent_id).map(|a| &a.available)
    }

    /// The roles in DRF order (weighted dominant share, then allocation
    /// count, then name).
    pub fn role_order(&mut self) -> Vec<String> {
        let basis = basis!(self);
        self.role_sorter.sort(&basis)
    }

    /// The weighted dominant share of `role`.
    pub fn role_share(&self, role: &str) -> Option<f64> {
        self.role_sorter.share(role, &basis!(self))
    }

    /// The cluster's scalar totals and what of them is offered or
    /// allocated, by resource name.
    pub fn resource_totals(&self) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
        let used = self.role_sorter.total_allocation();
        let mut totals = BTreeMap::new();
        let mut allocated = BTreeMap::new();
        for (id, name) in self.names.iter().enumerate() {
            let get = |v: &[i64]| v.get(id).copied().unwrap_or(0) as f64 / 1000.0;
            totals.insert(name.clone(), get(&self.total));
            allocated.insert(name.clone(), get(used));
        }
        (totals, allocated)
    }

    /// How many frameworks and agents are known.
    pub fn counts(&self) -> (usize, usize) {
        (self.frameworks.len(), self.agents.len())
    }

    /// The ids of the agents at positions `range` (clamped), in the
    /// order agents were added; the rolling batch cycle walks them so.
    pub fn agent_ids(&self, range: std::ops::Range<usize>) -> Vec<Arc<str>> {
        let end = range.end.min(self.agents.len());
        let start = range.start.min(end);
        (start..end)
            .filter_map(|i| self.agents.get_index(i))
            .map(|(id, _)| Arc::from(id.as_str()))
            .collect()
    }

    /// How many (framework, role, agent) keys hold offer filters.
    pub fn filter_count(&self) -> usize {
        self.filters.len()
    }
}
