//! `/master/state` with many tasks, two ways:
//!
//! - `running`: N agents, frameworks launch until each agent keeps K tasks
//!   RUNNING (N×K in all; the Mesos figure is 1,000 × 20); then
//!   `/master/state` with the cluster idle, and with 1, 4, 20 concurrent
//!   pollers while frameworks churn short tasks on the agents' spare
//!   slots.
//! - `shape`: Mesos's `MasterStateQuery_BENCHMARK_Test`: agents of
//!   `cpus:20;mem:10240` reregister with 5 frameworks × 2 RUNNING tasks
//!   and 5 completed frameworks × 2 FINISHED tasks each (tasks of
//!   `cpus:0.1;mem:5` with 10 labels); then `/master/state` alone, and
//!   with 20 pollers while frameworks launch tasks.

use std::time::{Duration, Instant};

use mesos_proto::internal::archive;
use mesos_proto::mesos::{SlaveId, TaskState};

use super::{Polls, Window};
use crate::agent::Preloaded;
use crate::cluster::Cluster;
use crate::env::{secs, size, Env};
use crate::tally::{ms, p50_p99, quantile};
use crate::target::Target;
use crate::wire::{self, Scalars};

/// The `running` workload.
pub struct Running {
    pub agents: usize,
    pub running_per_agent: usize,
    /// Spare slots per agent for churn.
    pub spare_slots: usize,
    pub task: Scalars,
    pub frameworks: usize,
    pub pollers: Vec<usize>,
    pub poll_length: Duration,
}

/// Runs the `running` part.
pub fn running(env: &Env, w: &Running) -> Result<(), String> {
    let slots = w.running_per_agent + w.spare_slots;
    let agent = Scalars(
        w.task
            .0
            .iter()
            .map(|(name, v)| (name.clone(), v * slots as f64))
            .collect(),
    );
    let total = w.agents * w.running_per_agent;
    println!(
        "\n[state] {} agents of {agent}, {} frameworks launch until each agent keeps {} tasks RUNNING ({total} in all); {} spare slots each churn",
        w.agents, w.frameworks, w.running_per_agent, w.spare_slots
    );
    let target = env.master("state")?;
    let (mut cluster, _) =
        super::registered_cluster(env, &target, w.agents, &agent, w.running_per_agent)?;
    let tally = cluster.tally.clone();
    let started = Instant::now();
    let settings = super::framework_settings(&cluster, &w.task, usize::MAX, usize::MAX, 0);
    super::subscribe_frameworks(&mut cluster, &target, w.frameworks, &settings)?;
    let bound = Duration::from_secs(120 + total as u64 / 500);
    if !tally.wait(bound, |t| t.kept_running.get() >= total as u64) {
        return Err(super::stall(
            &target,
            &tally,
            "tasks to keep running were not all launched",
        ));
    }
    println!(
        "  {total} RUNNING tasks launched in {}",
        secs(started.elapsed())
    );
    // Stop launching and let the short tasks in flight finish.
    tally.set_launching(false);
    let drained = tally.wait(Duration::from_secs(60), |t| {
        t.launched.get() == t.finished.get() + t.failed.get() + t.kept_running.get()
            && t.running.get() >= t.launched.get() - t.failed.get()
    });
    if !drained {
        println!("  ! short tasks still in flight after 60s");
    }
    super::wait_idle(&target, Duration::from_secs(30));

    let what = format!("{} agents, {total} running tasks", w.agents);
    state_alone(env, &target, &what, STATE_ALONE_REQUESTS)?;

    resume_churn(&target, &tally)?;
    for &pollers in &w.pollers {
        polled(env, &target, &cluster, &what, pollers, w.poll_length)?;
    }
    Ok(())
}

/// The `shape` workload.
pub struct Shape {
    pub agents: usize,
    pub frameworks: usize,
    pub task: Scalars,
    pub pollers: usize,
    pub poll_length: Duration,
}

/// Requests timed one after another on an idle cluster.
const STATE_ALONE_REQUESTS: usize = 20;

const SHAPE_FRAMEWORKS: usize = 5;
const SHAPE_TASKS: usize = 2;
const SHAPE_LABELS: usize = 10;

/// Runs the `shape` part.
pub fn shape(env: &Env, w: &Shape) -> Result<(), String> {
    let running = w.agents * SHAPE_FRAMEWORKS * SHAPE_TASKS;
    println!(
        "\n[state/shape] Mesos's MasterStateQuery shape: {} agents of cpus:20;mem:10240 reregister with {SHAPE_FRAMEWORKS} frameworks x {SHAPE_TASKS} RUNNING tasks and {SHAPE_FRAMEWORKS} completed frameworks x {SHAPE_TASKS} FINISHED tasks each ({running} running, {running} completed; tasks of cpus:0.1;mem:5 with {SHAPE_LABELS} labels)",
        w.agents
    );
    let target = env.master("state-shape")?;
    let mut cluster = Cluster::new(target.upid(), env.workers)?;
    let resources = Scalars::parse("cpus:20;mem:10240")?;
    let settings = cluster.agent_settings(&resources, 0);
    let task = Scalars::parse("cpus:0.1;mem:5")?;
    cluster.spawn_preloaded_agents(w.agents, &settings, |i| preload(i, &task))?;
    let tally = cluster.tally.clone();
    let started = Instant::now();
    cluster.detected();
    let bound = super::join_bound(w.agents);
    if !tally.wait(bound, |t| t.reregistered.get() >= w.agents as u64) {
        return Err(super::stall(
            &target,
            &tally,
            "agents did not all reregister",
        ));
    }
    let took = tally
        .last(|t| &t.reregistered)
        .saturating_duration_since(started);
    env.record(
        format!(
            "reregister {} agents with {running} running + {running} completed tasks (MasterStateQuery shape)",
            w.agents
        ),
        secs(took),
        "Mesos 1.7-1.8: 40,000 agents reregister in about 19 s",
    );
    super::wait_idle(&target, Duration::from_secs(60));
    let what = format!(
        "{} agents, {running} running + {running} completed tasks (Mesos shape)",
        w.agents
    );
    state_alone(env, &target, &what, STATE_ALONE_REQUESTS)?;

    let settings = super::framework_settings(&cluster, &w.task, 10, 1000, 0);
    super::subscribe_frameworks(&mut cluster, &target, w.frameworks, &settings)?;
    resume_churn(&target, &tally)?;
    polled(env, &target, &cluster, &what, w.pollers, w.poll_length)
}

/// Turns launching on and waits until tasks finish again.
fn resume_churn(target: &Target, tally: &crate::tally::Tally) -> Result<(), String> {
    tally.set_launching(true);
    let finished = tally.finished.get();
    if !tally.wait(Duration::from_secs(20), |t| {
        t.finished.get() > finished + 100
    }) {
        return Err(super::stall(target, tally, "churn did not start"));
    }
    Ok(())
}

/// Agent `i` of Mesos's state benchmark.
fn preload(i: usize, task: &Scalars) -> Preloaded {
    let id = format!("agent{i}");
    let slave_id = SlaveId { value: id.clone() };
    let resources = task.task_resources("*");
    let make_task = |framework: usize, n: usize, state: TaskState| {
        let info = wire::task_info(
            format!("{id}-f{framework}-t{n}"),
            &slave_id,
            resources.clone(),
            SHAPE_LABELS,
        );
        wire::task_of(&info, &format!("framework{framework}"), state)
    };
    let framework = |n: usize| {
        wire::framework_info(
            &format!("framework{n}"),
            "*",
            Some(&format!("framework{n}")),
        )
    };
    let mut frameworks = Vec::new();
    let mut tasks = Vec::new();
    for f in 0..SHAPE_FRAMEWORKS {
        frameworks.push(framework(f));
        for t in 0..SHAPE_TASKS {
            tasks.push(make_task(f, t, TaskState::TaskRunning));
        }
    }
    let completed = (SHAPE_FRAMEWORKS..2 * SHAPE_FRAMEWORKS)
        .map(|f| archive::Framework {
            framework_info: framework(f),
            pid: None,
            tasks: (0..SHAPE_TASKS)
                .map(|t| make_task(f, t, TaskState::TaskFinished))
                .collect(),
        })
        .collect();
    Preloaded {
        id,
        frameworks,
        tasks,
        completed,
    }
}

/// `/master/state` requested `times` times in a row on an idle cluster.
fn state_alone(env: &Env, target: &Target, what: &str, times: usize) -> Result<(), String> {
    // Timed as a reader that throws the body away; then read once more
    // to check what it lists.
    let mut latencies = Vec::new();
    let mut buffer = vec![0; 256 * 1024];
    let bound = Duration::from_secs(120);
    for _ in 0..times {
        let sent = Instant::now();
        let (status, _) = crate::target::http_fetch(
            target.address(),
            "/master/state",
            bound,
            &mut buffer,
            env.poll_gzip,
        )?;
        latencies.push(sent.elapsed());
        if status != 200 {
            return Err(format!("/master/state answered {status}"));
        }
    }
    let (_, body) = target.get("/master/state", bound)?;
    latencies.sort();
    let counts = count_tasks(&body);
    env.record(
        format!("/master/state alone: {what}"),
        format!(
            "{} ms p50 (min {}, max {}), {}; state lists {counts}",
            ms(quantile(&latencies, 0.5).unwrap_or_default()),
            ms(latencies[0]),
            ms(latencies[latencies.len() - 1]),
            size(body.len() as f64),
        ),
        "Mesos: 1,000 agents + 20,000 tasks 143 ms (7.2 MB); 20,000 agents + 400,000 tasks about 3 s; goal < 20 ms",
    );
    Ok(())
}

/// `/master/state` polled by `pollers` threads while frameworks churn.
fn polled(
    env: &Env,
    target: &Target,
    cluster: &Cluster,
    what: &str,
    pollers: usize,
    length: Duration,
) -> Result<(), String> {
    let address = target.address();
    let (window, polls): (Window, Polls) = super::window(target, &cluster.tally, length, |d| {
        super::poll(address, "/master/state", pollers, d, env.poll_gzip)
    });
    for warning in window.warnings() {
        println!("  ! {warning}");
    }
    if polls.latencies.is_empty() {
        return Err(super::stall(
            target,
            &cluster.tally,
            "no /master/state request succeeded",
        ));
    }
    env.record(
        format!("/master/state, {pollers} concurrent pollers + churn: {what}"),
        format!(
            "p50/p99 {} per request, {:.1} requests/s, {} errors, {}; meanwhile {:.0} tasks/s finished, task p50/p99 {}; master {} cores, load generator and pollers {} cores",
            p50_p99(&polls.latencies),
            polls.latencies.len() as f64 / polls.wall.as_secs_f64(),
            polls.errors,
            size(polls.bytes as f64),
            window.finished_rate(),
            p50_p99(&window.task),
            crate::env::cores(window.master_cpu, window.wall),
            crate::env::cores(window.bench_cpu, window.wall),
        ),
        "Mesos: 333 ms with 4 pollers (1,000 agents, 20,000 tasks); goal: flat",
    );
    Ok(())
}

/// "N agents, R running tasks, C completed tasks" from a state body.
fn count_tasks(body: &[u8]) -> String {
    let Ok(state) = serde_json::from_slice::<serde_json::Value>(body) else {
        return "(not JSON)".into();
    };
    let len = |v: &serde_json::Value, key: &str| {
        v.get(key).and_then(|a| a.as_array()).map_or(0, Vec::len)
    };
    let frameworks = state
        .get("frameworks")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    let running: usize = frameworks.iter().map(|f| len(f, "tasks")).sum();
    let completed: usize = frameworks.iter().map(|f| len(f, "completed_tasks")).sum();
    format!(
        "{} agents, {running} tasks, {completed} completed tasks",
        len(&state, "slaves")
    )
}
