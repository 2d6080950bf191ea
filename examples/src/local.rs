//! `mesos-local`: a master and N agents in one OS process, with state under
//! one work directory, for trying things out and for tests.
//!
//! Each agent has a runtime (listening socket) of its own, as it would on
//! its own host. The agents launch command executors from a launcher
//! directory holding a `mesos-executor` link to the running binary, which
//! serves as the command executor when invoked under that name.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use libprocess::{Config, Runtime};
use mesos_agent::{Agent, AgentFlags};
use mesos_common::flags::{FlagSet, FlagSpec, Flags};
use mesos_master::flags::MasterFlags;
use mesos_master::{MasterHandle, MasterOptions};

use crate::error::{Error, Result};

/// The flags of `mesos-local`.
pub const FLAGS: &[FlagSpec] = &[
    FlagSpec::string("ip", "IP address the master listens on.").default("127.0.0.1"),
    FlagSpec::u16("port", "Port the master listens on (0 picks a free one).").default("5050"),
    FlagSpec::u32("num_agents", "Number of agents to start.").default("1"),
    FlagSpec::path(
        "work_dir",
        "Directory for the master's registry and the agents' sandboxes \
         (default: a new directory under the system's temporary directory).",
    ),
    FlagSpec::string(
        "resources",
        "Total resources of each agent, e.g. 'cpus:4;mem:4096' \
         (default: detected from the machine, as an agent does).",
    ),
];

/// The flag table, with `mesos-local`'s usage line.
pub fn flags() -> FlagSet {
    FlagSet::new(FLAGS).with_usage_message("Usage: mesos-local [options]")
}

/// What a local cluster is started with.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// The master's IP.
    pub ip: IpAddr,
    /// The master's port; 0 picks a free one.
    pub port: u16,
    /// How many agents.
    pub num_agents: u32,
    /// Where state goes; `None` makes a fresh temporary directory.
    pub work_dir: Option<PathBuf>,
    /// Each agent's `--resources`, if given.
    pub resources: Option<String>,
}

impl LocalConfig {
    /// Reads the checked flags.
    pub fn from_flags(flags: &Flags) -> Result<LocalConfig> {
        let ip = flags.get_str("ip").unwrap_or("127.0.0.1");
        Ok(LocalConfig {
            ip: ip
                .parse()
                .map_err(|_| Error::Config(format!("invalid --ip '{ip}': not an IP address")))?,
            port: flags.get_u16("port").unwrap_or(5050),
            num_agents: flags.get_u32("num_agents").unwrap_or(1),
            work_dir: flags.get_str("work_dir").map(PathBuf::from),
            resources: flags.get_str("resources").map(str::to_string),
        })
    }
}

/// A running local cluster.
pub struct LocalCluster {
    /// The master's runtime.
    pub runtime: Runtime,
    /// The master.
    pub master: MasterHandle,
    /// The agents, each with its own runtime.
    pub agents: Vec<Agent>,
    /// Where the cluster keeps its state.
    pub work_dir: PathBuf,
}

impl LocalCluster {
    /// Starts the master, then the agents pointed at it. `executor` is the
    /// binary agents run as `mesos-executor` (usually the running one).
    pub fn start(config: &LocalConfig, executor: &Path) -> Result<LocalCluster> {
        let work_dir = match &config.work_dir {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir().join(format!("mesos-local-{}", std::process::id())),
        };
        let launcher_dir = work_dir.join("launcher");
        std::fs::create_dir_all(&launcher_dir).map_err(|e| io_error(&launcher_dir, e))?;
        link_executor(executor, &launcher_dir.join("mesos-executor"))?;

        let runtime = Runtime::start(Config {
            ip: config.ip,
            port: config.port,
            ..Config::default()
        })
        .map_err(|e| Error::Config(e.to_string()))?;
        let master_dir = work_dir.join("master");
        let master_flags = mesos_master::flags::flag_set()
            .load(
                None,
                [
                    "mesos-master".to_string(),
                    format!("--work_dir={}", master_dir.display()),
                ],
                std::iter::empty(),
            )
            .map_err(|e| Error::Config(e.to_string()))?;
        let flags =
            MasterFlags::from_flags(&master_flags).map_err(|e| Error::Config(e.to_string()))?;
        let master = MasterHandle::start(&runtime, MasterOptions { flags })
            .map_err(|e| Error::Config(format!("failed to start the master: {e}")))?;

        let mut agents = Vec::new();
        for n in 1..=config.num_agents {
            let mut args = vec![
                "mesos-agent".to_string(),
                format!("--master={}", runtime.address()),
                format!("--ip={}", config.ip),
                "--port=0".to_string(),
                format!(
                    "--work_dir={}",
                    work_dir.join(format!("agent-{n}")).display()
                ),
                format!("--launcher_dir={}", launcher_dir.display()),
            ];
            if let Some(resources) = &config.resources {
                args.push(format!("--resources={resources}"));
            }
            let flags = AgentFlags::load(args, std::iter::empty()).map_err(Error::Config)?;
            let agent = mesos_agent::start(flags)
                .map_err(|e| Error::Config(format!("failed to start agent {n}: {e}")))?;
            agents.push(agent);
        }
        Ok(LocalCluster {
            runtime,
            master,
            agents,
            work_dir,
        })
    }

    /// Stops the agents, then the master.
    pub fn shutdown(&self) {
        for agent in &self.agents {
            agent.shutdown();
        }
        self.runtime.shutdown();
    }
}

/// Makes `link` point at `executor`, replacing a stale link.
fn link_executor(executor: &Path, link: &Path) -> Result<()> {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(executor, link).map_err(|e| io_error(link, e))
}

fn io_error(path: &Path, error: std::io::Error) -> Error {
    Error::Config(format!("failed to prepare '{}': {error}", path.display()))
}
