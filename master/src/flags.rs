//! The master's flags: one table (name, default, help, check) that
//! `--help`, `MESOS_*` loading and `/master/flags` are generated from, and
//! `MasterFlags`, the typed values the master runs with.

use std::collections::BTreeMap;
use std::net::IpAddr;

use mesos_common::flags::{FlagSet, FlagSpec, FlagValue, Flags};
use mesos_common::Duration;

use crate::error::MasterError;

fn positive_duration(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::Duration(d) if d.as_secs_f64() > 0.0 => Ok(()),
        _ => Err("Expected a positive duration".to_string()),
    }
}

fn sorter(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::String(s) if s == "drf" || s == "random" => Ok(()),
        _ => Err("Expected 'drf' or 'random'".to_string()),
    }
}

fn registry(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::String(s) if s == "in_memory" || s == "replicated_log" => Ok(()),
        _ => Err("Expected 'in_memory' or 'replicated_log'".to_string()),
    }
}

fn at_least_one(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::U64(n) if *n >= 1 => Ok(()),
        _ => Err("Expected a number of at least 1".to_string()),
    }
}

fn ip(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::String(s) if s.parse::<IpAddr>().is_ok() => Ok(()),
        _ => Err("Expected an IP address".to_string()),
    }
}

fn weights(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::String(s) => parse_weights(s).map(|_| ()),
        _ => Err("Expected role=weight pairs".to_string()),
    }
}

/// Every flag of `mesos-master`, with Mesos's names and defaults.
pub const FLAGS: &[FlagSpec] = &[
    FlagSpec::bool("version", "Show version and exit.").default("false"),
    FlagSpec::string("ip", "IP address to listen on. This cannot be used in conjunction\nwith `--ip_discovery_command`.").validate(ip),
    FlagSpec::u16("port", "Port to listen on.").default("5050"),
    FlagSpec::string("advertise_ip", "IP address advertised to reach this Mesos master.\nThe master does not bind using this IP address.\nHowever, this IP address may be used to access this master.").validate(ip),
    FlagSpec::u16("advertise_port", "Port advertised to reach Mesos master (along with\n`advertise_ip`). The master does not bind to this port.\nHowever, this port (along with `advertise_ip`) may be used to\naccess this master."),
    FlagSpec::string("hostname", "The hostname the master should advertise in ZooKeeper.\nIf left unset, the hostname is resolved from the IP address\nthat the agent binds to; unless the user explicitly prevents\nthat, using `--no-hostname_lookup`, in which case the IP itself\nis used."),
    FlagSpec::bool("hostname_lookup", "Whether we should execute a lookup to find out the server's hostname,\nif not explicitly set (via, e.g., `--hostname`).\nTrue by default; if set to `false` it will cause Mesos\nto use the IP address, unless the hostname is explicitly set.").default("true"),
    FlagSpec::path("work_dir", "Path of the master work directory. This is where the persistent\ninformation of the cluster will be stored. Note that locations like\n`/tmp` which are cleaned automatically are not suitable for the work\ndirectory when running in production, since long-running masters could\nlose data when cleanup occurs. (Example: `/var/lib/mesos/master`)"),
    FlagSpec::string("registry", "Persistence strategy for the registry; available options are\n`replicated_log`, `in_memory` (for testing). `replicated_log` keeps\nthe registry in a durable store under `--work_dir`.").default("replicated_log").validate(registry),
    FlagSpec::bool("registry_strict", "Whether the master will take actions based on the persistent\ninformation stored in the Registry.").default("false"),
    FlagSpec::duration("registry_fetch_timeout", "Duration of time to wait in order to fetch data from the registry\nafter which the operation is considered a failure.").default("1mins"),
    FlagSpec::duration("registry_store_timeout", "Duration of time to wait in order to store data in the registry\nafter which the operation is considered a failure.").default("20secs"),
    FlagSpec::duration("agent_reregister_timeout", "The timeout within which an agent is expected to reregister.\nAgents reregister when they become disconnected from the master\nor when a new master is elected as the leader. Agents that do not\nreregister within the timeout will be marked unreachable in the\nregistry; if/when the agent reregisters with the master, any\nnon-partition-aware tasks running on the agent will be terminated.\nNOTE: This value has to be at least 10mins.").default("10mins").deprecated_alias("slave_reregister_timeout"),
    FlagSpec::string("recovery_agent_removal_limit", "For failovers, limit on the percentage of agents that can be removed\nfrom the registry *and* shutdown after the re-registration timeout\nelapses.").default("100%").deprecated_alias("recovery_slave_removal_limit"),
    FlagSpec::string("role_sorter", "Policy to use for allocating resources between roles.\nMay be one of: dominant_resource_fairness (drf) or random.").default("drf").validate(sorter),
    FlagSpec::string("framework_sorter", "Policy to use for allocating resources between a given role's\nframeworks. Options are the same as for `--role_sorter`.").default("drf").validate(sorter),
    FlagSpec::string("user_sorter", "Policy to use for allocating resources between users.\nMay be one of: dominant_resource_fairness (drf).").default("drf").validate(sorter),
    FlagSpec::duration("allocation_interval", "Amount of time to wait between performing\n(batch) allocations (e.g., 500ms, 1sec, etc).").default("1secs").validate(positive_duration),
    FlagSpec::string("cluster", "Human readable name for the cluster, displayed in the webui."),
    FlagSpec::string("roles", "A comma-separated list of the allocation roles that frameworks\nin this cluster may belong to. This flag is deprecated;\nif it is not specified, any role name can be used."),
    FlagSpec::string("weights", "A comma-separated list of role/weight pairs of the form\n`role=weight,role=weight`. Weights can be used to control the\nrelative share of cluster resources that is offered to different roles.").validate(weights),
    FlagSpec::bool("authenticate_frameworks", "If `true` only authenticated frameworks are allowed to register. If\n`false` unauthenticated frameworks are also allowed to register.").default("false").alias("authenticate"),
    FlagSpec::bool("authenticate_agents", "If `true` only authenticated agents are allowed to register.\nIf `false` unauthenticated agents are also allowed to register.").default("false").deprecated_alias("authenticate_slaves"),
    FlagSpec::duration("offer_timeout", "Duration of time before an offer is rescinded from a framework.\nThis helps fairness when running frameworks that hold on to offers,\nor frameworks that accidentally drop offers.\nIf not set, offers do not timeout.").validate(positive_duration),
    FlagSpec::bool("filter_gpu_resources", "When set to true, this flag will cause the mesos master to\nfilter all offers from agents with GPU resources by only sending\nthem to frameworks that opt into the 'GPU_RESOURCES' framework\ncapability.").default("true"),
    FlagSpec::duration("agent_ping_timeout", "The timeout within which an agent is expected to respond to a\nping from the master. Agents that do not respond within\nmax_agent_ping_timeouts ping retries will be marked unreachable.\nNOTE: The total ping timeout (`agent_ping_timeout` multiplied by\n`max_agent_ping_timeouts`) should be greater than the ZooKeeper\nsession timeout to prevent useless re-registration attempts.").default("15secs").deprecated_alias("slave_ping_timeout").validate(positive_duration),
    FlagSpec::u64("max_agent_ping_timeouts", "The number of times an agent can fail to respond to a\nping from the master. Agents that do not respond within\n`max_agent_ping_timeouts` ping retries will be marked unreachable.").default("5").deprecated_alias("max_slave_ping_timeouts").validate(at_least_one),
    FlagSpec::u64("max_completed_frameworks", "Maximum number of completed frameworks to store in memory.").default("50"),
    FlagSpec::u64("max_completed_tasks_per_framework", "Maximum number of completed tasks per framework to store in memory.").default("1000"),
    FlagSpec::u64("max_unreachable_tasks_per_framework", "Maximum number of unreachable tasks per framework to store in memory.").default("1000"),
    FlagSpec::u64("max_executors_per_agent", "Maximum number of executors allowed per agent. The network\nmonitoring/isolation technique imposes an implicit resource\nacquisition on each executor (# ephemeral ports), as a result\none can only run a certain number of executors on each agent.").deprecated_alias("max_executors_per_slave"),
    FlagSpec::bool("quiet", "Disable logging to stderr.").default("false"),
    FlagSpec::string("logging_level", "Log message at or above this level.\nPossible values: `INFO`, `WARNING`, `ERROR`.\nIf `--quiet` is specified, this will only affect the logs\nwritten to `--log_dir`, if specified.").default("INFO").validate(logging_level),
    FlagSpec::path("log_dir", "Location to put log files.  By default, nothing is written to disk."),
    FlagSpec::string("zk", "ZooKeeper URL (used for leader election amongst masters).\nMay be one of:\n  `zk://host1:port1,host2:port2,.../path`\n  `zk://username:password@host1:port1,host2:port2,.../path`\n  `file:///path/to/file` (where file contains one of the above)\nNOTE: Not required if master is run in standalone mode (non-HA)."),
    FlagSpec::string("quorum", "The size of the quorum of replicas when using `replicated_log` based\nregistry. It is imperative to set this value to be a majority of\nmasters i.e., `quorum > (number of masters)/2`.\nNOTE: Not required if master is run in standalone mode (non-HA)."),
];

fn logging_level(value: &FlagValue) -> Result<(), String> {
    match value {
        FlagValue::String(s) if ["INFO", "WARNING", "ERROR"].contains(&s.as_str()) => Ok(()),
        _ => Err("Expected one of 'INFO', 'WARNING', 'ERROR'".to_string()),
    }
}

/// The flag set built from `FLAGS`.
pub fn flag_set() -> FlagSet {
    FlagSet::new(FLAGS).with_usage_message("Usage: mesos-master [options]")
}

/// Where the registry is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryKind {
    /// Lost when the master exits (`--registry=in_memory`, or no
    /// `--work_dir`).
    InMemory,
    /// A durable file under this directory (`--work_dir`).
    Durable(std::path::PathBuf),
}

/// The typed flags the master runs with.
#[derive(Debug, Clone)]
pub struct MasterFlags {
    /// `--hostname`, or the host's name.
    pub hostname: Option<String>,
    /// `--hostname_lookup`.
    pub hostname_lookup: bool,
    /// `--cluster`.
    pub cluster: Option<String>,
    /// `--registry` resolved against `--work_dir`.
    pub registry: RegistryKind,
    /// `--work_dir`.
    pub work_dir: Option<String>,
    /// `--allocation_interval`.
    pub allocation_interval: Duration,
    /// `--offer_timeout`.
    pub offer_timeout: Option<Duration>,
    /// `--agent_ping_timeout`.
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts`.
    pub max_agent_ping_timeouts: u64,
    /// `--agent_reregister_timeout`.
    pub agent_reregister_timeout: Duration,
    /// `--roles`, when given: the only roles frameworks may use.
    pub roles: Option<Vec<String>>,
    /// `--weights`.
    pub weights: BTreeMap<String, f64>,
    /// `--framework_sorter`.
    pub framework_sorter: String,
    /// `--filter_gpu_resources`.
    pub filter_gpu_resources: bool,
    /// `--max_completed_frameworks`.
    pub max_completed_frameworks: usize,
    /// `--max_completed_tasks_per_framework`.
    pub max_completed_tasks_per_framework: usize,
    /// `--max_unreachable_tasks_per_framework`.
    pub max_unreachable_tasks_per_framework: usize,
    /// The flags as loaded, for `/master/flags`.
    pub loaded: Option<Flags>,
}

impl Default for MasterFlags {
    fn default() -> MasterFlags {
        // The table's defaults always parse, so this cannot fail.
        let flags = flag_set()
            .load(None, ["mesos-master"], std::iter::empty())
            .expect("the master's flag defaults are valid");
        MasterFlags::from_flags(&flags).expect("the master's flag defaults are valid")
    }
}

impl MasterFlags {
    /// Checks what the table cannot check alone (flags that depend on
    /// each other) and types the values.
    pub fn from_flags(flags: &Flags) -> Result<MasterFlags, MasterError> {
        let work_dir = flags.get_str("work_dir").map(str::to_string);
        let registry = match (flags.get_str("registry"), &work_dir) {
            (Some("in_memory"), _) => RegistryKind::InMemory,
            (_, Some(dir)) => RegistryKind::Durable(dir.into()),
            (_, None) if flags.is_given("registry") => {
                return Err(MasterError::Flag {
                    name: "registry",
                    reason: "--work_dir is needed for the replicated_log based registry".into(),
                })
            }
            (_, None) => RegistryKind::InMemory,
        };
        let roles = flags.get_str("roles").map(|s| {
            s.split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>()
        });
        let weights = match flags.get_str("weights") {
            Some(text) => parse_weights(text).map_err(|reason| MasterError::Flag {
                name: "weights",
                reason,
            })?,
            None => BTreeMap::new(),
        };
        if let Some(roles) = &roles {
            if let Some(role) = weights.keys().find(|r| !roles.contains(r)) {
                return Err(MasterError::Flag {
                    name: "weights",
                    reason: format!("role '{role}' is not in --roles"),
                });
            }
        }
        let duration = |name| flags.get_duration(name).unwrap_or_default();
        Ok(MasterFlags {
            hostname: flags.get_str("hostname").map(str::to_string),
            hostname_lookup: flags.get_bool("hostname_lookup").unwrap_or(true),
            cluster: flags.get_str("cluster").map(str::to_string),
            registry,
            work_dir,
            allocation_interval: duration("allocation_interval"),
            offer_timeout: flags.get_duration("offer_timeout"),
            agent_ping_timeout: duration("agent_ping_timeout"),
            max_agent_ping_timeouts: flags.get_u64("max_agent_ping_timeouts").unwrap_or(5),
            agent_reregister_timeout: duration("agent_reregister_timeout"),
            roles,
            weights,
            framework_sorter: flags
                .get_str("framework_sorter")
                .unwrap_or("drf")
                .to_string(),
            filter_gpu_resources: flags.get_bool("filter_gpu_resources").unwrap_or(true),
            max_completed_frameworks: count(flags, "max_completed_frameworks"),
            max_completed_tasks_per_framework: count(flags, "max_completed_tasks_per_framework"),
            max_unreachable_tasks_per_framework: count(
                flags,
                "max_unreachable_tasks_per_framework",
            ),
            loaded: Some(flags.clone()),
        })
    }

    /// The `/master/flags` body.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.loaded {
            Some(flags) => flags.to_json(),
            None => serde_json::json!({ "flags": {} }),
        }
    }
}

fn count(flags: &Flags, name: &str) -> usize {
    flags
        .get_u64(name)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .unwrap_or(0)
}

/// Parses `role=weight,role=weight` as Mesos's `--weights`: each weight a
/// positive number, each role named once.
pub fn parse_weights(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut weights = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (role, weight) = pair
            .split_once('=')
            .ok_or_else(|| format!("invalid weight '{pair}': expected role=weight"))?;
        let role = role.trim();
        mesos_common::resources::validate_role(role)
            .map_err(|e| format!("invalid role '{role}' in weight '{pair}': {e}"))?;
        let weight: f64 = weight
            .trim()
            .parse()
            .map_err(|_| format!("invalid weight '{pair}': '{weight}' is not a number"))?;
        if !(weight > 0.0 && weight.is_finite()) {
            return Err(format!("invalid weight '{pair}': weight must be positive"));
        }
        if weights.insert(role.to_string(), weight).is_some() {
            return Err(format!("role '{role}' is given a weight twice"));
        }
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<MasterFlags, String> {
        let argv = std::iter::once("mesos-master").chain(args.iter().copied());
        let flags = flag_set()
            .load(Some("MESOS_"), argv, std::iter::empty())
            .map_err(|e| e.to_string())?;
        MasterFlags::from_flags(&flags).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_match_mesos() {
        let flags = load(&[]).unwrap();
        assert_eq!(flags.allocation_interval.as_secs_f64(), 1.0);
        assert_eq!(flags.agent_ping_timeout.as_secs_f64(), 15.0);
        assert_eq!(flags.max_agent_ping_timeouts, 5);
        assert_eq!(flags.agent_reregister_timeout.as_mins_f64(), 10.0);
        assert_eq!(flags.registry, RegistryKind::InMemory);
        assert_eq!(flags.max_completed_frameworks, 50);
        assert_eq!(flags.max_completed_tasks_per_framework, 1000);
        assert!(flags.offer_timeout.is_none());
    }

    #[test]
    fn work_dir_makes_the_registry_durable_unless_in_memory() {
        let durable = load(&["--work_dir=/tmp/m"]).unwrap();
        assert_eq!(durable.registry, RegistryKind::Durable("/tmp/m".into()));
        let memory = load(&["--work_dir=/tmp/m", "--registry=in_memory"]).unwrap();
        assert_eq!(memory.registry, RegistryKind::InMemory);
        let err = load(&["--registry=replicated_log"]).unwrap_err();
        assert!(err.contains("--work_dir"), "{err}");
    }

    #[test]
    fn env_supplies_flags() {
        let flags = flag_set()
            .load(
                Some("MESOS_"),
                ["mesos-master"],
                [("MESOS_OFFER_TIMEOUT".to_string(), "30secs".to_string())],
            )
            .unwrap();
        let flags = MasterFlags::from_flags(&flags).unwrap();
        assert_eq!(flags.offer_timeout.unwrap().as_secs_f64(), 30.0);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        for (args, needle) in [
            (&["--allocation_interval=fast"][..], "allocation_interval"),
            (&["--port=70000"][..], "port"),
            (&["--weights=a=x"][..], "weights"),
            (&["--weights=a=-1"][..], "weights"),
            (&["--framework_sorter=fifo"][..], "framework_sorter"),
            (&["--registry=zk"][..], "registry"),
            (
                &["--max_agent_ping_timeouts=0"][..],
                "max_agent_ping_timeouts",
            ),
            (&["--no_such_flag=1"][..], "no_such_flag"),
        ] {
            let err = load(args).unwrap_err();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }

    #[test]
    fn weights_parse() {
        let w = parse_weights("a=1,b=3.5").unwrap();
        assert_eq!(w["a"], 1.0);
        assert_eq!(w["b"], 3.5);
        assert!(parse_weights("a=1,a=2").is_err());
        assert!(parse_weights("a").is_err());
    }
}
