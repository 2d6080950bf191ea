//! Resources coming back or changing hands: recovered offers and
//! tasks (with their offer filters), accepted operations, weights.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_common::resources::Resources;

use super::{HierarchicalAllocator, Result};
use crate::allocator::sorter::{add_quantities, subtract_quantities};
use crate::allocator::spec::AllocatorError;

impl HierarchicalAllocator {
    // ---- resources --------------------------------------------------

    /// Takes back `resources` (with allocation roles) from `framework_id`
    /// on `agent_id`: a declined or rescinded offer, or a finished task.
    /// With `refuse`, the framework's role is not offered those resources
    /// of that agent again for that long (at least one allocation
    /// interval), as Mesos's `recoverResources`. Resources the framework
    /// does not hold there are refused with an error.
    pub fn recover_resources(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        resources: &Resources,
        refuse: Option<Duration>,
        now: Instant,
    ) -> Result<()> {
        if resources.is_empty() {
            return Ok(());
        }
        if let Some(agent) = self.agents.get(agent_id) {
            let holds = agent
                .allocated
                .get(framework_id)
                .map_or(resources.is_empty(), |held| held.contains(resources));
            if !holds {
                return Err(AllocatorError::NotAllocated {
                    framework: framework_id.to_string(),
                    agent: agent_id.to_string(),
                    resources: resources.to_string(),
                });
            }
        } else if !self.frameworks.contains_key(framework_id) {
            return Ok(());
        }
        let mut plain = resources.clone();
        plain.unallocate();
        if let Some(agent) = self.agents.get_mut(agent_id) {
            let now_empty = match agent.allocated.get_mut(framework_id) {
                Some(held) => {
                    let held = Arc::make_mut(held);
                    held.subtract_all(resources);
                    held.is_empty()
                }
                None => false,
            };
            if now_empty {
                agent.allocated.remove(framework_id);
            }
            agent.available.add_all(&plain);
        }
        self.untrack_allocated(framework_id, resources);
        let fallback = self.fallback_role(framework_id);
        let parts = Self::by_role(resources, &fallback);
        for role in parts.keys() {
            self.untrack_if_idle(framework_id, role);
        }
        let (Some(refuse), Some(framework), Some(agent)) = (
            refuse,
            self.frameworks.get(framework_id),
            self.agents.get(agent_id),
        ) else {
            return Ok(());
        };
        if refuse.is_zero() {
            return Ok(());
        }
        let (framework_key, agent_key) = (framework.key, agent.key);
        let expires = now + refuse.max(self.options.allocation_interval);
        for (role, mut part) in parts {
            part.unallocate();
            let role_id = self.role_id(&role);
            self.filters
                .add((framework_key, role_id, agent_key), part, expires);
        }
        Ok(())
    }

    /// Replaces `from` by `to` in what `framework_id` holds on `agent_id`
    /// (an accepted RESERVE, UNRESERVE, CREATE or DESTROY operation); the
    /// agent's total changes the same way.
    pub fn update_allocation(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        from: &Resources,
        to: &Resources,
    ) -> Result<()> {
        let agent = self
            .agents
            .get(agent_id)
            .ok_or_else(|| AllocatorError::UnknownAgent(agent_id.to_string()))?;
        let holds = agent
            .allocated
            .get(framework_id)
            .map_or(from.is_empty(), |held| held.contains(from));
        if !holds {
            return Err(AllocatorError::NotAllocated {
                framework: framework_id.to_string(),
                agent: agent_id.to_string(),
                resources: from.to_string(),
            });
        }
        self.untrack_allocated(framework_id, from);
        let (mut from_plain, mut to_plain) = (from.clone(), to.clone());
        from_plain.unallocate();
        to_plain.unallocate();
        let old_q = self.quantities(&from_plain);
        let new_q = self.quantities(&to_plain);
        if let Some(agent) = self.agents.get_mut(agent_id) {
            let held = Arc::make_mut(agent.allocated.entry(framework_id.to_string()).or_default());
            held.subtract_all(from);
            held.add_all(to);
            agent.total.subtract_all(&from_plain);
            agent.total.add_all(&to_plain);
            agent.refresh_flags();
        }
        if old_q != new_q {
            subtract_quantities(&mut self.total, &old_q);
            add_quantities(&mut self.total, &new_q);
            self.version += 1;
        }
        self.track_allocated(framework_id, to);
        Ok(())
    }

    /// Sets the role weights (roles not listed weigh 1).
    pub fn update_weights(&mut self, weights: &BTreeMap<String, f64>) {
        self.options.weights = weights.clone();
        self.role_sorter.set_weights(weights.clone());
    }
}
