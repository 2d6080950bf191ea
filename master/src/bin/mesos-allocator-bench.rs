//! Benchmark of one allocation cycle of the hierarchical DRF allocator,
//! shaped like Mesos's `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`:
//! agents of `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, each added
//! with `cpus:16;mem:2014;disk:1024` and 16 port ranges already held by
//! framework `i % frameworks`; frameworks in role `*` (or each in its own
//! role with `--own-roles` rows). The pure allocator is called directly,
//! on a simulated clock.
//!
//! Modes:
//! - `decline`: every offer is declined with a one-year filter, so each
//!   cycle every agent goes to a framework that has not refused it yet.
//! - `accept`: every offer is accepted: a task keeps `cpus:1;mem:128` of
//!   it and the rest is given back without a filter.
//!
//! Usage: `mesos-allocator-bench [--quick] [--only=AGENTSxFRAMEWORKS]`
//! (`--quick`: the small cases; `--only=10000x1000`: that size alone, in
//! both modes, e.g. for a profiler).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_common::resources::Resources;
use mesos_master::allocator::{
    AgentCapabilities, Allocation, AllocatorOptions, FrameworkCapabilities, FrameworkSpec,
    HierarchicalAllocator,
};

// The master's allocator, so the figures are the master's.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Decline,
    Accept,
}

struct Row {
    agents: usize,
    frameworks: usize,
    roles: &'static str,
    mode: &'static str,
    add_frameworks: Duration,
    add_agents: Duration,
    cycles: Vec<Duration>,
    /// CPU time of each cycle, when the platform tells.
    cpu: Vec<Duration>,
    offers: Vec<usize>,
}

/// CPU time this thread has run, from Linux's `/proc/thread-self/schedstat`
/// (nanoseconds on CPU); `None` elsewhere. On a shared machine it shows
/// the cycle's own cost where wall time also counts waiting for a core.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn parse(text: &str) -> Resources {
    Resources::parse(text, "*").expect("benchmark resources parse")
}

fn flatten(allocations: Vec<Allocation>) -> Vec<(String, String, Arc<Resources>)> {
    let mut out = Vec::new();
    for a in allocations {
        for agents in a.resources.into_values() {
            for (agent, resources) in agents {
                out.push((a.framework_id.clone(), agent, resources));
            }
        }
    }
    out
}

fn run(agents: usize, frameworks: usize, own_roles: bool, mode: Mode, cycles: usize) -> Row {
    let options = AllocatorOptions {
        allocation_interval: Duration::from_secs(1),
        ..AllocatorOptions::default()
    };
    let mut allocator = HierarchicalAllocator::new(options);
    let mut now = Instant::now();

    let role_of = |i: usize| {
        if own_roles {
            format!("role{i}")
        } else {
            "*".to_string()
        }
    };
    let ids: Vec<String> = (0..frameworks)
        .map(|i| format!("framework-{i:05}"))
        .collect();
    let started = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        let spec = FrameworkSpec {
            roles: BTreeSet::from([role_of(i)]),
            capabilities: FrameworkCapabilities {
                multi_role: true,
                ..Default::default()
            },
        };
        allocator
            .add_framework(id, spec, &BTreeMap::new(), true, &BTreeSet::new())
            .expect("new framework");
    }
    let add_frameworks = started.elapsed();

    let total = parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]");
    // 16 fragments of the port range, as Mesos's benchmark holds.
    let ports: Vec<String> = (0..16)
        .map(|k| format!("{}-{}", 31000 + k * 60, 31000 + k * 60 + 29))
        .collect();
    let used_text = format!("cpus:16;mem:2014;disk:1024;ports:[{}]", ports.join(","));
    let used_plain = parse(&used_text);
    let started = Instant::now();
    for i in 0..agents {
        let f = i % frameworks;
        let mut used = used_plain.clone();
        used.allocate(&role_of(f));
        let used = BTreeMap::from([(ids[f].clone(), used)]);
        allocator
            .add_slave(
                &format!("agent-{i:06}"),
                AgentCapabilities::ALL,
                total.clone(),
                &used,
            )
            .expect("new agent");
    }
    let add_agents = started.elapsed();

    let task = parse("cpus:1;mem:128");
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut offer_counts = Vec::new();
    for _ in 0..cycles {
        now += Duration::from_secs(1);
        let cpu_before = thread_cpu();
        let started = Instant::now();
        let allocations = allocator.allocate(now);
        times.push(started.elapsed());
        if let (Some(before), Some(after)) = (cpu_before, thread_cpu()) {
            cpu.push(after.saturating_sub(before));
        }
        let offers = flatten(allocations);
        offer_counts.push(offers.len());
        for (framework, agent, resources) in offers {
            match mode {
                Mode::Decline => allocator.recover_resources(
                    &framework,
                    &agent,
                    &resources,
                    Some(Duration::from_secs(365 * 24 * 3600)),
                    now,
                ),
                Mode::Accept => {
                    let role = resources
                        .iter()
                        .next()
                        .and_then(|r| r.allocation_role.clone())
                        .unwrap_or_default();
                    let mut kept = task.clone();
                    kept.allocate(&role);
                    let rest = if resources.contains(&kept) {
                        &*resources - &kept
                    } else {
                        Resources::new()
                    };
                    allocator.recover_resources(&framework, &agent, &rest, None, now)
                }
            }
            .expect("recover what was offered");
        }
    }
    Row {
        agents,
        frameworks,
        roles: if own_roles { "own" } else { "*" },
        mode: match mode {
            Mode::Decline => "decline",
            Mode::Accept => "accept",
        },
        add_frameworks,
        add_agents,
        cycles: times,
        cpu,
        offers: offer_counts,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print(row: &Row) {
    let n = row.cycles.len().max(1) as f64;
    let mean = row.cycles.iter().map(|d| ms(*d)).sum::<f64>() / n;
    let min = row
        .cycles
        .iter()
        .map(|d| ms(*d))
        .fold(f64::INFINITY, f64::min);
    let max = row.cycles.iter().map(|d| ms(*d)).fold(0.0, f64::max);
    let offers = row.offers.iter().sum::<usize>() as f64 / n;
    let cpu = if row.cpu.is_empty() {
        f64::NAN
    } else {
        row.cpu.iter().map(|d| ms(*d)).sum::<f64>() / row.cpu.len() as f64
    };
    println!(
        "{:>7} {:>6} {:>5} {:>8} {:>10.1} {:>10.1} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.0}",
        row.agents,
        row.frameworks,
        row.roles,
        row.mode,
        ms(row.add_frameworks),
        ms(row.add_agents),
        row.cycles.len(),
        mean,
        min,
        max,
        cpu,
        offers
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only: Option<(usize, usize)> = std::env::args()
        .find_map(|a| a.strip_prefix("--only=").map(str::to_string))
        .and_then(|v| {
            let (a, f) = v.split_once('x')?;
            Some((a.parse().ok()?, f.parse().ok()?))
        });
    println!("mesos-allocator-bench: one allocation cycle of the pure allocator");
    println!(
        "agents cpus:24;mem:4096;disk:4096;ports:[31000-32000], each holding \
         cpus:16;mem:2014;disk:1024 + 16 port ranges for framework i%F"
    );
    println!(
        "decline: offers declined with a 1-year filter; accept: a task keeps \
         cpus:1;mem:128 of each offer, the rest is returned unfiltered"
    );
    println!(
        "times in ms: add_*, mean/min/max of a cycle in wall clock, cpu = mean CPU \
         time of a cycle (this thread); offers = mean offers per cycle\n"
    );
    println!(
        "{:>7} {:>6} {:>5} {:>8} {:>10} {:>10} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "agents",
        "fwks",
        "roles",
        "mode",
        "add_fw",
        "add_agents",
        "cycles",
        "mean",
        "min",
        "max",
        "cpu",
        "offers"
    );
    if let Some((agents, frameworks)) = only {
        for mode in [Mode::Decline, Mode::Accept] {
            print(&run(agents, frameworks, false, mode, 5));
        }
        return;
    }
    let agent_counts: &[usize] = if quick {
        &[1_000]
    } else {
        &[1_000, 10_000, 20_000]
    };
    let framework_counts: &[usize] = if quick { &[100] } else { &[100, 1_000, 2_000] };
    for &agents in agent_counts {
        for &frameworks in framework_counts {
            let cycles = if agents * frameworks >= 10_000_000 {
                3
            } else {
                5
            };
            for mode in [Mode::Decline, Mode::Accept] {
                print(&run(agents, frameworks, false, mode, cycles));
            }
        }
    }
    if !quick {
        for mode in [Mode::Decline, Mode::Accept] {
            print(&run(10_000, 1_000, true, mode, 5));
        }
    }
}
