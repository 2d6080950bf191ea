//! Master failover, shaped like Mesos's `MasterFailover_BENCHMARK_Test`
//! but with a real crash: N agents of T slots register, frameworks fill
//! every slot with a task that stays RUNNING (N×T tasks), then the master
//! is killed (SIGKILL). Agents see the link break; the master is started
//! again on the same port and, once it answers, agents and frameworks are
//! told it was detected (as ZooKeeper would tell them). Measured: time
//! until every agent got `SlaveReregisteredMessage` with its tasks.
//! Twice: a restarted master that recovers its registry from the same
//! `--work_dir`, and a fresh master with an empty one (Mesos's benchmark
//! reregisters agents with a master that has never seen them).

use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::env::{secs, size, Env};
use crate::target::Target;
use crate::wire::Scalars;

/// The failover workload.
pub struct Failover {
    pub agents: usize,
    pub tasks_per_agent: usize,
    pub task: Scalars,
    pub frameworks: usize,
}

/// Runs the scenario.
pub fn run(env: &Env, w: &Failover) -> Result<(), String> {
    let agent = Scalars(
        w.task
            .0
            .iter()
            .map(|(name, v)| (name.clone(), v * w.tasks_per_agent as f64))
            .collect(),
    );
    let total = w.agents * w.tasks_per_agent;
    println!(
        "\n[failover] {} agents of {agent}, {} frameworks fill them with {total} RUNNING tasks; then the master is killed and replaced",
        w.agents, w.frameworks
    );
    let mut target = env.master("failover")?;
    if !target.restartable() {
        println!("  skipped: the master was not started by the benchmark, so it cannot be killed");
        return Ok(());
    }
    let (mut cluster, _) =
        super::registered_cluster(env, &target, w.agents, &agent, w.tasks_per_agent)?;
    let tally = cluster.tally.clone();
    let before = target.rss();
    let started = Instant::now();
    let settings = super::framework_settings(&cluster, &w.task, usize::MAX, usize::MAX, 0);
    super::subscribe_frameworks(&mut cluster, &target, w.frameworks, &settings)?;
    let bound = Duration::from_secs(120 + total as u64 / 500);
    if !tally.wait(bound, |t| t.running.get() >= total as u64) {
        return Err(super::stall(&target, &tally, "tasks were not all RUNNING"));
    }
    let launched = started.elapsed();
    println!("  {total} tasks RUNNING after {}", secs(launched));
    super::wait_idle(&target, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(1));
    if let (Some(before), Some(after)) = (before, target.rss()) {
        env.record(
            format!(
                "master RSS with {} agents and {total} running tasks",
                w.agents
            ),
            format!(
                "{} ({} per running task, over the RSS with the agents idle)",
                size(after as f64),
                size((after as f64 - before as f64) / total as f64),
            ),
            "",
        );
    }

    let port = target.address().port();
    failover(env, &mut cluster, &mut target, total, Replacement::Restart)?;
    // The same agents, now reregistering with a master that never saw
    // them.
    failover(
        env,
        &mut cluster,
        &mut target,
        total,
        Replacement::Fresh(port),
    )?;
    Ok(())
}

enum Replacement {
    /// The same master binary, flags and `--work_dir`.
    Restart,
    /// A new master on this port with an empty work directory.
    Fresh(u16),
}

/// Kills the master (unless already dead), replaces it, tells everyone,
/// and measures the reregistration.
fn failover(
    env: &Env,
    cluster: &mut Cluster,
    target: &mut Target,
    total: usize,
    replacement: Replacement,
) -> Result<(), String> {
    let tally = cluster.tally.clone();
    let agents = cluster.agent_count() as u64;
    let disconnected = tally.disconnected.get();
    let reregistered = tally.reregistered.get();
    let resubscribed = tally.resubscribed.get();
    let killed = Instant::now();
    target.kill();
    if !tally.wait(Duration::from_secs(30), |t| {
        t.disconnected.get() >= disconnected + agents
    }) {
        println!(
            "  ! only {} of {agents} agents noticed the master going away",
            tally.disconnected.get() - disconnected
        );
    }
    let noticed = killed.elapsed();
    let (kind, up) = match replacement {
        Replacement::Restart => (
            "restarted master recovering its registry",
            target.restart()?,
        ),
        Replacement::Fresh(port) => {
            let started = Instant::now();
            *target = env.master_on("failover-fresh", port)?;
            ("fresh master", started.elapsed())
        }
    };
    let started = Instant::now();
    cluster.detected();
    let bound = super::join_bound(agents as usize);
    if !tally.wait(bound, |t| t.reregistered.get() >= reregistered + agents) {
        return Err(super::stall(
            target,
            &tally,
            &format!("agents did not all reregister with the {kind}"),
        ));
    }
    let took = tally
        .last(|t| &t.reregistered)
        .saturating_duration_since(started);
    let frameworks_back = tally.wait(Duration::from_secs(30), |t| {
        t.resubscribed.get() > resubscribed
    });
    super::wait_idle(target, Duration::from_secs(60));
    let running = super::metric(target, "master/tasks_running");
    let active = super::metric(target, "master/slaves_active");
    env.record(
        format!("failover to a {kind}: {agents} agents x {} tasks", total as u64 / agents.max(1)),
        format!(
            "all reregistered in {} (agents noticed the crash in {}, master answered in {}); master then reports {} active agents, {} running tasks{}",
            secs(took),
            secs(noticed),
            secs(up),
            active.map_or("?".into(), |v| format!("{v:.0}")),
            running.map_or("?".into(), |v| format!("{v:.0}")),
            if frameworks_back { "" } else { "; frameworks did not resubscribe" }
        ),
        "Mesos 1.7-1.8: 40,000 agents in about 19 s",
    );
    if running.is_some_and(|r| r as usize != total) {
        println!("  ! the master knows {running:?} running tasks, the agents run {total}");
    }
    Ok(())
}
