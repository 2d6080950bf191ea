//! `mesos-master-bench`: end-to-end benchmarks of a Mesos master, driven
//! only through the Mesos 1.11 wire protocol, so the same run can be
//! pointed at a real Mesos master (`--master=host:port`). By default it
//! starts our `mesos-master` (the binary next to this one) as a separate
//! OS process per scenario, so the master's memory and CPU are its own
//! process's (`/proc/<pid>`). The load generator is one libprocess
//! runtime hosting many simulated agents (`slave(N)`, speaking the agent
//! protocol) and frameworks (`mesos.scheduler.Call`, as libmesos does).
//!
//! Scenarios (positional arguments; all by default), shaped like Mesos's
//! own benchmarks so the figures compare:
//! - `register`: N agents register at once; idle master RSS per agent.
//! - `churn`: 10 frameworks churn tasks that finish at once on agents of
//!   10 task slots: tasks/s, ACCEPT → TASK_FINISHED latency, offer round
//!   trip, master CPU.
//! - `state`: `/master/state` with many running tasks, alone and with
//!   concurrent pollers during churn; and Mesos's `MasterStateQuery`
//!   shape.
//! - `failover`: agents with tasks reregister with a restarted master and
//!   with a fresh one (`MasterFailover` shape).
//!
//! Default sizes keep a run to about three minutes on two cores; `--full`
//! selects the sizes.
//!
//! Modules:
//! - `wire`: the messages agents and frameworks send, built as Mesos's.
//! - `agent`: the simulated agent process.
//! - `framework`: the simulated framework process.
//! - `cluster`: the load generator's runtime and its agents/frameworks.
//! - `tally`: counters and latency samples shared with the scenarios.
//! - `target`: the master under test: start, kill, RSS, CPU, HTTP.
//! - `env`: what scenarios share; the final table.
//! - `scenarios`: one module per scenario.

mod agent;
mod cluster;
mod env;
mod framework;
mod scenarios;
mod tally;
mod target;
mod wire;

use std::path::PathBuf;
use std::time::Duration;

use mesos_common::flags::{FlagSet, FlagSpec, Flags};

use crate::env::Env;
use crate::wire::Scalars;

const FLAGS: &[FlagSpec] = &[
    FlagSpec::bool("full", "Use the issue's full sizes: register 1,000 and 10,000 agents; churn on 1,000 and 10,000 agents; /master/state with 1,000 agents x 20 tasks and Mesos's shape at 20,000 agents; failover of 10,000 agents x 10 tasks.").default("false"),
    FlagSpec::string("master", "host:port of a master to test instead of starting ours (e.g. a real Mesos 1.11 master). Failover is skipped then."),
    FlagSpec::u32("master_pid", "Process ID of the --master, for its memory and CPU figures."),
    FlagSpec::path("master_binary", "Our mesos-master binary (default: next to this one)."),
    FlagSpec::string("master_flags", "Extra flags for our master, space separated (e.g. '--allocation_interval=100ms').").default(""),
    FlagSpec::string("registry", "Registry of our master: 'durable' (a --work_dir, as in production) or 'in_memory'.").default("durable"),
    FlagSpec::path("dir", "Where master logs and work directories go (default: a new directory under /tmp)."),
    FlagSpec::u64("workers", "Threads of the load generator's runtime (default: one per core)."),
    FlagSpec::string("register_agents", "Agent counts of the register scenario, comma separated.").default("1000,10000"),
    FlagSpec::string("churn_agents", "Agent counts of the churn scenario, comma separated (--full: 1000,10000).").default("1000"),
    FlagSpec::string("agent_resources", "Resources of each agent in register and churn.").default("cpus:0.1;mem:320"),
    FlagSpec::string("task_resources", "Resources of each launched task.").default("cpus:0.01;mem:32"),
    FlagSpec::u64("frameworks", "Frameworks launching tasks.").default("10"),
    FlagSpec::duration("warmup", "Churn before a measurement window.").default("5secs"),
    FlagSpec::duration("window", "Length of the churn measurement window.").default("10secs"),
    FlagSpec::u64("state_agents", "Agents of the /master/state scenario with running tasks.").default("1000"),
    FlagSpec::u64("state_running_per_agent", "Tasks each of those agents keeps RUNNING.").default("20"),
    FlagSpec::string("state_pollers", "Concurrent /master/state pollers, comma separated, each run during churn.").default("1,4,20"),
    FlagSpec::duration("poll_duration", "How long each polling run lasts.").default("5secs"),
    FlagSpec::bool("poll_gzip", "/master/state readers send 'Accept-Encoding: gzip' (as browsers and Python's requests do) and read the compressed body.").default("false"),
    FlagSpec::u64("state_shape_agents", "Agents of Mesos's MasterStateQuery shape (20,000 in the issue; --full).").default("2000"),
    FlagSpec::u64("failover_agents", "Agents of the failover scenario (10,000 in the issue; --full).").default("2000"),
    FlagSpec::u64("failover_tasks_per_agent", "RUNNING tasks per agent in the failover scenario.").default("10"),
];

const SCENARIOS: &[&str] = &["register", "churn", "state", "failover"];

fn main() {
    let set = FlagSet::new(FLAGS).with_usage_message(
        "Usage: mesos-master-bench [options] [register] [churn] [state] [failover]",
    );
    let flags = match set.load(None, std::env::args(), std::iter::empty()) {
        Ok(flags) if flags.help_requested() => {
            println!("{}", flags.usage(None));
            return;
        }
        Ok(flags) => flags,
        Err(error) => {
            eprintln!(
                "{}",
                set.usage("mesos-master-bench", Some(&error.to_string()))
            );
            std::process::exit(1);
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    target::kill_children_on_signal();
    if let Err(error) = run(&flags) {
        eprintln!("mesos-master-bench: {error}");
        std::process::exit(1);
    }
}

fn list(flags: &Flags, name: &str) -> Result<Vec<usize>, String> {
    flags
        .get_str(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| format!("--{name}: '{s}' is not a number"))
        })
        .collect()
}

fn count(flags: &Flags, name: &str) -> usize {
    flags.get_u64(name).unwrap_or(0) as usize
}

fn duration(flags: &Flags, name: &str) -> Duration {
    flags
        .get_duration(name)
        .map(|d| d.to_std())
        .unwrap_or_default()
}

fn run(flags: &Flags) -> Result<(), String> {
    let chosen: Vec<&str> = if flags.args().is_empty() {
        SCENARIOS.to_vec()
    } else {
        let mut chosen = Vec::new();
        for arg in flags.args() {
            let name = SCENARIOS
                .iter()
                .find(|s| **s == arg.as_str())
                .ok_or_else(|| {
                    format!("unknown scenario '{arg}' (one of {})", SCENARIOS.join(", "))
                })?;
            chosen.push(*name);
        }
        chosen
    };
    let full = flags.get_bool("full") == Some(true);
    let given = |name: &str| flags.is_given(name);
    let churn_agents = if full && !given("churn_agents") {
        vec![1000, 10000]
    } else {
        list(flags, "churn_agents")?
    };
    let sized = |name: &str, full_size: usize| {
        if full && !given(name) {
            full_size
        } else {
            count(flags, name)
        }
    };

    let external = match flags.get_str("master") {
        Some(text) => {
            let address = std::net::ToSocketAddrs::to_socket_addrs(text)
                .map_err(|e| format!("--master: cannot resolve '{text}': {e}"))?
                .next()
                .ok_or_else(|| format!("--master: no address for '{text}'"))?;
            Some((address, flags.get_u32("master_pid")))
        }
        None => None,
    };
    let binary = match flags.get_str("master_binary") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find our own executable: {e}"))?
            .with_file_name("mesos-master"),
    };
    if external.is_none() && !binary.exists() {
        return Err(format!(
            "no master binary at {} (build it, or pass --master_binary or --master)",
            binary.display()
        ));
    }
    let durable = match flags.get_str("registry") {
        Some("durable") | None => true,
        Some("in_memory") => false,
        Some(other) => {
            return Err(format!(
                "--registry: '{other}' is not 'durable' or 'in_memory'"
            ))
        }
    };
    let dir = match flags.get_str("dir") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("mesos-master-bench.{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let workers = match count(flags, "workers") {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let master_flags: Vec<String> = flags
        .get_str("master_flags")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut env = Env::new(
        binary,
        external,
        master_flags,
        durable,
        dir.clone(),
        workers,
    );
    env.poll_gzip = flags.get_bool("poll_gzip").unwrap_or(false);

    let agent = Scalars::parse(flags.get_str("agent_resources").unwrap_or_default())?;
    let task = Scalars::parse(flags.get_str("task_resources").unwrap_or_default())?;
    if agent.fits(&task) == 0 {
        return Err(format!("no task of {task} fits an agent of {agent}"));
    }
    let frameworks = count(flags, "frameworks").max(1);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "mesos-master-bench: {} on {cores} cores; load generator: {workers} threads; master: {}; registry: {}; logs in {}",
        chosen.join(", "),
        match &external {
            Some((address, _)) => format!("external at {address}"),
            None => format!("{} {}", env.binary.display(), env.master_flags.join(" ")),
        },
        if durable { "durable (--work_dir)" } else { "in memory" },
        dir.display()
    );

    for scenario in chosen {
        println!(
            "\n== {scenario} (load average {})",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
        let result = match scenario {
            "register" => scenarios::register::run(&env, &list(flags, "register_agents")?, &agent),
            "churn" => scenarios::churn::run(
                &env,
                &churn_agents,
                &scenarios::churn::Churn {
                    agent: agent.clone(),
                    task: task.clone(),
                    frameworks,
                    warmup: duration(flags, "warmup"),
                    window: duration(flags, "window"),
                },
            ),
            "state" => scenarios::state::running(
                &env,
                &scenarios::state::Running {
                    agents: count(flags, "state_agents"),
                    running_per_agent: count(flags, "state_running_per_agent"),
                    spare_slots: agent.fits(&task),
                    task: task.clone(),
                    frameworks,
                    pollers: list(flags, "state_pollers")?,
                    poll_length: duration(flags, "poll_duration"),
                },
            )
            .and_then(|()| {
                scenarios::state::shape(
                    &env,
                    &scenarios::state::Shape {
                        agents: sized("state_shape_agents", 20_000),
                        frameworks,
                        task: task.clone(),
                        pollers: 20,
                        poll_length: duration(flags, "poll_duration"),
                    },
                )
            }),
            "failover" => scenarios::failover::run(
                &env,
                &scenarios::failover::Failover {
                    agents: sized("failover_agents", 10_000),
                    tasks_per_agent: count(flags, "failover_tasks_per_agent").max(1),
                    task: task.clone(),
                    frameworks,
                },
            ),
            _ => Ok(()),
        };
        if let Err(error) = result {
            println!("  !! {scenario} failed: {error}");
            env.record(scenario, format!("FAILED: {error}"), "");
        }
    }
    println!("\n{}", env.table());
    Ok(())
}
