//! Benchmark: how long a command task takes from `RunTaskMessage` to
//! TASK_RUNNING, and how many command tasks one agent starts and finishes
//! per second.
//!
//! Setup: a fake master (in this process) and a real `mesos-agent` (its
//! own OS process, `--switch_user=false`, non-checkpointing framework)
//! on 127.0.0.1; each task runs `true` under the command executor.
//! Latency is measured at the master: from sending `RunTaskMessage` to
//! receiving the forwarded TASK_RUNNING. Throughput: a burst of tasks
//! sent at once, timed until the last TASK_FINISHED.
//!
//! Run: `cargo bench -p mesos-agent --bench task_launch`
//! (`TASKS=<n>` sets the burst size, default 200).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mesos_agent::testing::{AgentProcess, FakeMaster};
use mesos_proto::internal::RunTaskMessage;
use mesos_proto::mesos::{
    CommandInfo, FrameworkId, FrameworkInfo, SlaveId, TaskId, TaskInfo, TaskState,
};

const AGENT_ID: &str = "bench-S0";
const WAIT: Duration = Duration::from_secs(120);

fn task(id: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        slave_id: SlaveId {
            value: AGENT_ID.into(),
        },
        resources: vec![
            mesos_common::Resource::scalar("cpus", 0.01).to_proto(),
            mesos_common::Resource::scalar("mem", 1.0).to_proto(),
        ],
        command: Some(CommandInfo {
            value: Some("true".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[allow(deprecated)]
fn run(master: &FakeMaster, agent: &AgentProcess, framework: &FrameworkInfo, id: &str) {
    master.send(
        &agent.upid(),
        RunTaskMessage {
            framework_id: framework.id.clone(),
            framework: framework.clone(),
            pid: None,
            task: task(id),
            resource_version_uuids: vec![],
            launch_executor: Some(true),
        },
    );
}

fn wait_until(master: &FakeMaster, id: &str, state: TaskState) {
    loop {
        let update = master.next_update(WAIT).expect("update within the bound");
        if update.status.task_id.value == id && update.status.state == state as i32 {
            return;
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let burst: usize = std::env::var("TASKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let work = tempfile::tempdir().expect("temp dir");
    let master = FakeMaster::start(AGENT_ID);
    let agent = AgentProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_mesos-agent")),
        &master.upid(),
        work.path(),
        &["--switch_user=false", "--logging_level=ERROR"],
    );
    master
        .next("mesos.internal.RegisterSlaveMessage", WAIT)
        .expect("agent registers");
    std::thread::sleep(Duration::from_millis(200));
    let framework = FrameworkInfo {
        name: "bench".into(),
        id: Some(FrameworkId {
            value: "bench-fw".into(),
        }),
        ..Default::default()
    };

    // Latency, one task at a time.
    let mut latencies = Vec::new();
    for i in 0..30 {
        let id = format!("lat-{i}");
        let start = Instant::now();
        run(&master, &agent, &framework, &id);
        wait_until(&master, &id, TaskState::TaskRunning);
        latencies.push(start.elapsed());
        wait_until(&master, &id, TaskState::TaskFinished);
    }
    latencies.sort();
    println!(
        "RunTaskMessage -> TASK_RUNNING, command task `true`, {} sequential tasks:",
        latencies.len()
    );
    println!(
        "  p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.9).as_secs_f64() * 1e3,
        latencies
            .last()
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    );

    // Throughput, a burst.
    let start = Instant::now();
    for i in 0..burst {
        run(&master, &agent, &framework, &format!("burst-{i}"));
    }
    let mut finished = HashSet::new();
    while finished.len() < burst {
        let update = master.next_update(WAIT).expect("update within the bound");
        if update.status.state == TaskState::TaskFinished as i32 {
            finished.insert(update.status.task_id.value);
        }
    }
    let elapsed = start.elapsed();
    println!(
        "burst of {burst} command tasks started and finished in {:.2} s: {:.1} tasks/s",
        elapsed.as_secs_f64(),
        burst as f64 / elapsed.as_secs_f64()
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
}
