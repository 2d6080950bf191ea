//! Agents joining at once: a fresh master, N agents spawned first (so
//! the stopwatch does not time spawning), then all told to register; the
//! time until the last got `SlaveRegisteredMessage`. Then, with the
//! cluster idle (pings only), the master's RSS growth per agent.

use std::time::Duration;

use crate::env::{cores, secs, size, Env};
use crate::wire::Scalars;

/// Runs the scenario for each size in `sizes`.
pub fn run(env: &Env, sizes: &[usize], resources: &Scalars) -> Result<(), String> {
    for &count in sizes {
        println!("\n[register] {count} agents of {resources} register at once");
        let target = env.master("register")?;
        std::thread::sleep(Duration::from_millis(500));
        let before = target.rss();
        let cpu = target.cpu();
        let (cluster, took) = super::registered_cluster(env, &target, count, resources, 0)?;
        let cpu = target.cpu().zip(cpu).map(|(a, b)| a.saturating_sub(b));
        let rate = count as f64 / took.as_secs_f64();
        env.record(
            format!("register {count} agents at once"),
            format!(
                "{} ({rate:.0} agents/s; master {} cores)",
                secs(took),
                cores(cpu, took)
            ),
            "Mesos: 1,000 in 0.35 s, 10,000 in 3.8 s; goal: 10,000 < 0.5 s",
        );
        // Idle: let the follow-up messages (UpdateSlaveMessage, first
        // pongs) drain, then read memory.
        super::wait_idle(&target, Duration::from_secs(30));
        std::thread::sleep(Duration::from_secs(2));
        match (before, target.rss()) {
            (Some(before), Some(after)) => env.record(
                format!("master RSS per idle agent ({count} agents)"),
                format!(
                    "{} (RSS {} before, {} with {count} agents)",
                    size((after as f64 - before as f64) / count as f64),
                    size(before as f64),
                    size(after as f64)
                ),
                "Mesos: 38-48 KB; goal: < 10 KB",
            ),
            _ => println!("  (no RSS: the master's pid is unknown; pass --master_pid)"),
        }
        drop(cluster);
    }
    Ok(())
}
