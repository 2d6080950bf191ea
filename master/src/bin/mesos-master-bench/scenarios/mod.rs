//! The scenarios, one per file, and what they share: bringing up
//! registered agents, a measurement window over churn, HTTP pollers, and
//! a diagnosis when the master does not keep up.
//!
//! - `register`: agents registering at once; idle memory per agent.
//! - `churn`: frameworks launching tasks that finish at once.
//! - `state`: `/master/state` with many tasks, alone and polled.
//! - `failover`: agents reregistering with a restarted or fresh master.

pub mod churn;
pub mod failover;
pub mod register;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::env::Env;
use crate::framework::FrameworkSettings;
use crate::tally::{p50_p99, Tally};
use crate::target::{self, Target};
use crate::wire::Scalars;

/// How long to wait for `agents` agents to (re)register before calling
/// the master stuck: generous (2 minutes plus 50ms per agent), since a
/// slow master is a figure to report, not a reason to stop early.
pub fn join_bound(agents: usize) -> Duration {
    Duration::from_secs(120) + Duration::from_millis(50 * agents as u64)
}

/// Starts a cluster of `count` agents of `resources` (keeping
/// `keep_running` tasks each) and has them all register at once; returns
/// it and the time until the last one got `SlaveRegisteredMessage`.
pub fn registered_cluster(
    env: &Env,
    target: &Target,
    count: usize,
    resources: &Scalars,
    keep_running: usize,
) -> Result<(Cluster, Duration), String> {
    let mut cluster = Cluster::new(target.upid(), env.workers)?;
    let settings = cluster.agent_settings(resources, keep_running);
    cluster.spawn_agents(count, &settings)?;
    let tally = cluster.tally.clone();
    let started = Instant::now();
    cluster.register_agents();
    let bound = join_bound(count);
    if !tally.wait(bound, |t| t.registered.get() >= count as u64) {
        return Err(stall(
            target,
            &tally,
            &format!(
                "only {} of {count} agents registered within {bound:?}",
                tally.registered.get()
            ),
        ));
    }
    let took = tally
        .last(|t| &t.registered)
        .saturating_duration_since(started);
    Ok((cluster, took))
}

/// Settings of frameworks launching tasks of `task` on a cluster's
/// master.
pub fn framework_settings(
    cluster: &Cluster,
    task: &Scalars,
    max_tasks_per_offer: usize,
    max_in_flight: usize,
    labels: usize,
) -> Arc<FrameworkSettings> {
    Arc::new(FrameworkSettings {
        master: cluster.master().clone(),
        role: "*".into(),
        task: task.clone(),
        max_tasks_per_offer,
        labels,
        max_in_flight,
        refuse_seconds: 5.0,
        tally: cluster.tally.clone(),
    })
}

/// Spawns `count` frameworks and waits until all are subscribed.
pub fn subscribe_frameworks(
    cluster: &mut Cluster,
    target: &Target,
    count: usize,
    settings: &Arc<FrameworkSettings>,
) -> Result<(), String> {
    let tally = cluster.tally.clone();
    let before = tally.subscribed.get();
    cluster.spawn_frameworks(count, settings)?;
    if !tally.wait(Duration::from_secs(30), |t| {
        t.subscribed.get() >= before + count as u64
    }) {
        return Err(stall(target, &tally, "frameworks did not all subscribe"));
    }
    Ok(())
}

/// What happened over a measurement window.
pub struct Window {
    pub wall: Duration,
    pub launched: u64,
    pub finished: u64,
    pub failed: u64,
    pub update_retries: u64,
    /// Sorted ACCEPT → TASK_FINISHED latencies.
    pub task: Vec<Duration>,
    /// Sorted offer round trips.
    pub offer: Vec<Duration>,
    pub master_cpu: Option<Duration>,
    pub bench_cpu: Option<Duration>,
    /// The master's longest queues at mid-window.
    pub queues: Vec<crate::target::Queue>,
    /// The master's RSS at the start and end.
    pub rss: (Option<u64>, Option<u64>),
}

impl Window {
    /// Tasks finished per second.
    pub fn finished_rate(&self) -> f64 {
        self.finished as f64 / self.wall.as_secs_f64()
    }

    /// Tasks launched per second.
    pub fn launched_rate(&self) -> f64 {
        self.launched as f64 / self.wall.as_secs_f64()
    }

    /// One line: rates, latencies, CPU, memory.
    pub fn summary(&self) -> String {
        let rss = match self.rss {
            (Some(a), Some(b)) => format!(
                ", master RSS {} → {}",
                crate::env::size(a as f64),
                crate::env::size(b as f64)
            ),
            _ => String::new(),
        };
        format!(
            "{:.0} tasks/s finished ({:.0} launched/s), ACCEPT→FINISHED p50/p99 {}, offer round trip p50/p99 {}, master {} cores, load generator {} cores{rss}",
            self.finished_rate(),
            self.launched_rate(),
            p50_p99(&self.task),
            p50_p99(&self.offer),
            crate::env::cores(self.master_cpu, self.wall),
            crate::env::cores(self.bench_cpu, self.wall),
        )
    }

    /// Problems worth a line: failed tasks, retried updates, long queues.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.failed > 0 {
            out.push(format!("{} tasks ended other than FINISHED", self.failed));
        }
        if self.update_retries > 0 {
            out.push(format!(
                "{} status updates were resent (no ack within 10s)",
                self.update_retries
            ));
        }
        if let Some(queue) = self.queues.first() {
            if queue.len > 100 {
                out.push(format!("master queue at mid-window: {queue}"));
            }
        }
        out
    }
}

/// Runs `during` (which should take about `length`) as a measurement
/// window: counts, latency samples, CPU of both sides, and the master's
/// queues half-way through.
pub fn window<T>(
    target: &Target,
    tally: &Tally,
    length: Duration,
    during: impl FnOnce(Duration) -> T,
) -> (Window, T) {
    let (launched, finished, failed, retries) = (
        tally.launched.get(),
        tally.finished.get(),
        tally.failed.get(),
        tally.update_retries.get(),
    );
    let master_cpu = target.cpu();
    let bench_cpu = target::cpu_of("self");
    let rss = target.rss();
    tally.start_recording();
    let started = Instant::now();
    let address = target.address();
    let queues = std::thread::spawn(move || {
        std::thread::sleep(length / 2);
        Target::external(address, None).queues()
    });
    let value = during(length);
    let wall = started.elapsed();
    let (task, offer) = tally.stop_recording();
    let since = |a: Option<Duration>, b: Option<Duration>| Some(a?.saturating_sub(b?));
    let window = Window {
        wall,
        launched: tally.launched.get() - launched,
        finished: tally.finished.get() - finished,
        failed: tally.failed.get() - failed,
        update_retries: tally.update_retries.get() - retries,
        task,
        offer,
        master_cpu: since(target.cpu(), master_cpu),
        bench_cpu: since(target::cpu_of("self"), bench_cpu),
        queues: queues.join().unwrap_or_default(),
        rss: (rss, target.rss()),
    };
    (window, value)
}

/// What HTTP pollers saw.
pub struct Polls {
    /// Sorted request latencies.
    pub latencies: Vec<Duration>,
    /// Size of the last response (headers included).
    pub bytes: usize,
    pub errors: usize,
    pub wall: Duration,
}

/// `pollers` threads each GET `path` back to back for `length`.
pub fn poll(
    address: SocketAddr,
    path: &str,
    pollers: usize,
    length: Duration,
    gzip: bool,
) -> Polls {
    let started = Instant::now();
    let deadline = started + length;
    let threads: Vec<_> = (0..pollers)
        .map(|_| {
            let path = path.to_string();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut bytes = 0;
                let mut errors = 0;
                let mut buffer = vec![0; 256 * 1024];
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let bound = Duration::from_secs(60);
                    match target::http_fetch(address, &path, bound, &mut buffer, gzip) {
                        Ok((200, size)) => {
                            latencies.push(sent.elapsed());
                            bytes = size;
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, bytes, errors)
            })
        })
        .collect();
    let mut polls = Polls {
        latencies: Vec::new(),
        bytes: 0,
        errors: 0,
        wall: Duration::ZERO,
    };
    for thread in threads {
        if let Ok((latencies, bytes, errors)) = thread.join() {
            polls.latencies.extend(latencies);
            polls.bytes = polls.bytes.max(bytes);
            polls.errors += errors;
        }
    }
    polls.wall = started.elapsed();
    polls.latencies.sort();
    polls
}

/// A message for a master that did not keep up: what the load generator
/// counted and the master's longest queues.
pub fn stall(target: &Target, tally: &Tally, what: &str) -> String {
    let queues = target.queues();
    let top: Vec<String> = queues.iter().take(3).map(|q| q.to_string()).collect();
    format!(
        "{what} (registered {}, reregistered {}, shutdowns {}, subscribed {}, launched {}, running {}, finished {}, failed {}; master queues: {})",
        tally.registered.get(),
        tally.reregistered.get(),
        tally.shutdowns.get(),
        tally.subscribed.get(),
        tally.launched.get(),
        tally.running.get(),
        tally.finished.get(),
        tally.failed.get(),
        if top.is_empty() { "none".to_string() } else { top.join(", ") }
    )
}

/// Waits (bounded) until the master's processes have nothing queued.
pub fn wait_idle(target: &Target, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if target.queues().is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A number from the master's `/metrics/snapshot`.
pub fn metric(target: &Target, name: &str) -> Option<f64> {
    target.json("/metrics/snapshot").ok()?.get(name)?.as_f64()
}
