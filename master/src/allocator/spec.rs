//! What the allocator is told and what it answers with: its options,
//! the parts of `FrameworkInfo` and of an agent it uses, its errors, and
//! its results.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use mesos_common::resources::Resources;
use mesos_common::values::Value;
use mesos_proto::mesos::{framework_info, slave_info, FrameworkInfo};

/// The allocator's configuration (from the master's flags).
#[derive(Debug, Clone)]
pub struct AllocatorOptions {
    /// `--allocation_interval`: time between batch allocation cycles.
    pub allocation_interval: Duration,
    /// `--weights`: role weights (a role not listed weighs 1).
    pub weights: BTreeMap<String, f64>,
    /// `--filter_gpu_resources`: offer agents with GPUs only to GPU-capable
    /// frameworks.
    pub filter_gpu_resources: bool,
    /// `--min_allocatable_resources`: an offer must hold at least one of
    /// these sets of quantities (empty: any non-empty offer).
    pub min_allocatable_resources: Vec<MinQuantities>,
    /// `--fair_sharing_excluded_resource_names`: names DRF ignores.
    pub fair_sharing_excluded_resource_names: BTreeSet<String>,
    /// Seed of the agent shuffle each cycle (Mesos shuffles agents).
    pub seed: u64,
}

impl Default for AllocatorOptions {
    /// Mesos's defaults: 1 second, no weights, GPU filtering on,
    /// `cpus:0.01|mem:32`.
    fn default() -> AllocatorOptions {
        AllocatorOptions {
            allocation_interval: Duration::from_secs(1),
            weights: BTreeMap::new(),
            filter_gpu_resources: true,
            min_allocatable_resources: parse_min_allocatable_resources("cpus:0.01|mem:32")
                .unwrap_or_default(),
            fair_sharing_excluded_resource_names: BTreeSet::new(),
            seed: 0x5eed,
        }
    }
}

/// A set of minimum quantities by resource name (a scalar amount, or the
/// number of ports/items for ranges and sets).
pub type MinQuantities = BTreeMap<String, f64>;

/// Parses `--min_allocatable_resources`: `|`-separated alternatives, each
/// a `;`-separated list of `name:quantity`, e.g. `cpus:0.01|mem:32`.
pub fn parse_min_allocatable_resources(text: &str) -> Result<Vec<MinQuantities>, AllocatorError> {
    let bad = |reason: &str| AllocatorError::InvalidMinAllocatable {
        value: text.to_string(),
        reason: reason.to_string(),
    };
    let mut out = Vec::new();
    for alternative in text.split('|').map(str::trim).filter(|a| !a.is_empty()) {
        let mut set = MinQuantities::new();
        for item in alternative
            .split(';')
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let (name, amount) = item
                .split_once(':')
                .ok_or_else(|| bad("expected 'name:quantity'"))?;
            let amount: f64 = amount
                .trim()
                .parse()
                .map_err(|_| bad("a quantity is not a number"))?;
            if !amount.is_finite() || amount < 0.0 {
                return Err(bad("a quantity is negative or not finite"));
            }
            *set.entry(name.trim().to_string()).or_default() += amount;
        }
        out.push(set);
    }
    Ok(out)
}

/// Whether `resources` hold every quantity of `min`.
pub fn holds_quantities(resources: &Resources, min: &MinQuantities) -> bool {
    min.iter().all(|(name, &amount)| {
        let mut have = 0.0;
        for r in resources.iter().filter(|r| r.name == name) {
            have += match &r.value {
                Value::Scalar(s) => s.value(),
                Value::Ranges(ranges) => ranges.count() as f64,
                Value::Set(set) => set.len() as f64,
                Value::Text(_) => 0.0,
            };
        }
        have >= amount
    })
}

/// The framework capabilities the allocator looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameworkCapabilities {
    /// `GPU_RESOURCES`.
    pub gpu_resources: bool,
    /// `REVOCABLE_RESOURCES`.
    pub revocable_resources: bool,
    /// `RESERVATION_REFINEMENT`.
    pub reservation_refinement: bool,
    /// `MULTI_ROLE`.
    pub multi_role: bool,
    /// `SHARED_RESOURCES`.
    pub shared_resources: bool,
}

impl FrameworkCapabilities {
    /// The capabilities listed in a `FrameworkInfo`.
    pub fn from_info(capabilities: &[framework_info::Capability]) -> FrameworkCapabilities {
        use framework_info::capability::Type;
        let mut out = FrameworkCapabilities::default();
        for c in capabilities {
            match c.r#type.and_then(|t| Type::try_from(t).ok()) {
                Some(Type::GpuResources) => out.gpu_resources = true,
                Some(Type::RevocableResources) => out.revocable_resources = true,
                Some(Type::ReservationRefinement) => out.reservation_refinement = true,
                Some(Type::MultiRole) => out.multi_role = true,
                Some(Type::SharedResources) => out.shared_resources = true,
                _ => {}
            }
        }
        out
    }
}

/// What the allocator needs to know of a framework.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameworkSpec {
    /// The roles it subscribes to.
    pub roles: BTreeSet<String>,
    /// Its capabilities.
    pub capabilities: FrameworkCapabilities,
}

impl FrameworkSpec {
    /// The roles and capabilities of `info`: `roles` for a `MULTI_ROLE`
    /// framework, else the legacy `role` (default `*`).
    pub fn from_info(info: &FrameworkInfo) -> FrameworkSpec {
        let capabilities = FrameworkCapabilities::from_info(&info.capabilities);
        #[allow(deprecated)]
        let roles = if capabilities.multi_role {
            info.roles.iter().cloned().collect()
        } else {
            std::iter::once(info.role.clone().unwrap_or_else(|| "*".to_string())).collect()
        };
        FrameworkSpec {
            roles,
            capabilities,
        }
    }
}

/// The agent capabilities the allocator looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCapabilities {
    /// `MULTI_ROLE`: may hold resources of several roles of a framework.
    pub multi_role: bool,
    /// `HIERARCHICAL_ROLE`: understands roles like `a/b`.
    pub hierarchical_role: bool,
    /// `RESERVATION_REFINEMENT`.
    pub reservation_refinement: bool,
}

impl AgentCapabilities {
    /// Every capability (a current agent).
    pub const ALL: AgentCapabilities = AgentCapabilities {
        multi_role: true,
        hierarchical_role: true,
        reservation_refinement: true,
    };

    /// The capabilities an agent announced.
    pub fn from_info(capabilities: &[slave_info::Capability]) -> AgentCapabilities {
        use slave_info::capability::Type;
        let mut out = AgentCapabilities::default();
        for c in capabilities {
            match c.r#type.and_then(|t| Type::try_from(t).ok()) {
                Some(Type::MultiRole) => out.multi_role = true,
                Some(Type::HierarchicalRole) => out.hierarchical_role = true,
                Some(Type::ReservationRefinement) => out.reservation_refinement = true,
                _ => {}
            }
        }
        out
    }
}

/// The offers of one cycle for one framework: role → agent → resources
/// (each resource's allocation role set to the role). The resources are
/// shared with the allocator's record of what the framework holds, so an
/// offer is not copied on its way out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allocation {
    /// The framework offered to.
    pub framework_id: String,
    /// Role → agent id → resources.
    pub resources: BTreeMap<String, BTreeMap<String, Arc<Resources>>>,
}

/// One role as `/master/roles` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSummary {
    /// The role name.
    pub role: String,
    /// Its weight.
    pub weight: f64,
    /// The frameworks subscribed to it (or holding resources in it).
    pub frameworks: Vec<String>,
    /// What its frameworks are offered or hold.
    pub allocated: Resources,
}

/// Why the allocator refused a call; the call changed nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AllocatorError {
    /// The framework is not known.
    #[error("unknown framework '{0}'")]
    UnknownFramework(String),
    /// The agent is not known.
    #[error("unknown agent '{0}'")]
    UnknownAgent(String),
    /// The framework was already added.
    #[error("framework '{0}' already exists")]
    FrameworkExists(String),
    /// The agent was already added.
    #[error("agent '{0}' already exists")]
    AgentExists(String),
    /// Resources given back were not held by the framework on the agent.
    #[error("framework '{framework}' does not hold '{resources}' on agent '{agent}'")]
    NotAllocated {
        /// The framework.
        framework: String,
        /// The agent.
        agent: String,
        /// What it was said to hold.
        resources: String,
    },
    /// A bad `--min_allocatable_resources` value.
    #[error("invalid min allocatable resources '{value}': {reason}")]
    InvalidMinAllocatable {
        /// The flag's value.
        value: String,
        /// What is wrong.
        reason: String,
    },
}
