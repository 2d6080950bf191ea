//! Task churn, shaped like the Mesos figure of the issue: N agents of
//! `cpus:0.1;mem:320` (10 task slots), F frameworks in role `*` launching
//! on every offer as many `cpus:0.01;mem:32` tasks as fit; agents report
//! each task RUNNING then FINISHED at once. After a warm-up, a window
//! measures tasks finished per second, ACCEPT → TASK_FINISHED latency,
//! the offer round trip (ACCEPT of an agent's offer → that agent's next
//! offer), and both sides' CPU.

use std::time::Duration;

use crate::env::{size, Env};
use crate::tally::p50_p99;
use crate::wire::Scalars;

/// The churn workload.
pub struct Churn {
    pub agent: Scalars,
    pub task: Scalars,
    pub frameworks: usize,
    pub warmup: Duration,
    pub window: Duration,
}

/// Runs the scenario for each cluster size in `sizes`.
pub fn run(env: &Env, sizes: &[usize], churn: &Churn) -> Result<(), String> {
    for &count in sizes {
        let slots = churn.agent.fits(&churn.task);
        println!(
            "\n[churn] {count} agents of {} ({slots} task slots each), {} frameworks launching {} tasks that finish at once; warm-up {:?}, window {:?}",
            churn.agent, churn.frameworks, churn.task, churn.warmup, churn.window
        );
        let target = env.master("churn")?;
        let (mut cluster, took) = super::registered_cluster(env, &target, count, &churn.agent, 0)?;
        println!("  {count} agents registered in {took:?}");
        let settings = super::framework_settings(&cluster, &churn.task, usize::MAX, usize::MAX, 0);
        super::subscribe_frameworks(&mut cluster, &target, churn.frameworks, &settings)?;
        std::thread::sleep(churn.warmup);
        let tally = cluster.tally.clone();
        let (window, ()) = super::window(&target, &tally, churn.window, std::thread::sleep);
        for warning in window.warnings() {
            println!("  ! {warning}");
        }
        if window.finished == 0 {
            return Err(super::stall(
                &target,
                &tally,
                "no task finished during the window",
            ));
        }
        env.record(
            format!(
                "churn: {count} agents x {slots} slots, {} frameworks",
                churn.frameworks
            ),
            window.summary(),
            "Mesos: 2,850 tasks/s at 1.45 cores, 2.3 s / 2.7 s; goal: >= 11,400 tasks/s, p50 < 50 ms",
        );
        if let Some(rss) = target.rss() {
            println!("  master RSS after the window: {}", size(rss as f64));
        }
        println!(
            "  window: {} launched, {} finished; task latency p50/p99 {}",
            window.launched,
            window.finished,
            p50_p99(&window.task)
        );
    }
    Ok(())
}
