//! The agent's metrics under Mesos's names (`slave/registered`,
//! `slave/tasks_running`, `slave/cpus_total`, ...), computed from the
//! agent's state when `/metrics/snapshot` is read.

use libprocess::metrics::pull_gauge;
use libprocess::Pid;
use mesos_proto::mesos::TaskState;

use crate::slave::types::ExecutorPhase;
use crate::slave::{Phase, Slave};

fn count_tasks(slave: &Slave, state: TaskState) -> f64 {
    let mut n = 0usize;
    for framework in slave.frameworks.values() {
        for executor in framework.executors.values() {
            n += executor
                .launched
                .values()
                .filter(|t| t.state == state as i32)
                .count();
            if state == TaskState::TaskStaging {
                n += executor.queued.len();
            }
        }
    }
    n as f64
}

fn count_executors(slave: &Slave, phase: ExecutorPhase) -> f64 {
    slave
        .frameworks
        .values()
        .flat_map(|f| f.executors.values())
        .filter(|e| e.phase == phase)
        .count() as f64
}

fn resource(slave: &Slave, name: &str, used: bool) -> f64 {
    if used {
        slave.used_resources().scalar(name).unwrap_or(0.0)
    } else {
        slave.total.scalar(name).unwrap_or(0.0)
    }
}

/// Registers the agent's gauges, read from `pid` at snapshot time.
pub fn install(pid: &Pid<Slave>) {
    pull_gauge("slave/registered", pid, |s| {
        (s.phase == Phase::Running) as u8 as f64
    });
    pull_gauge("slave/uptime_secs", pid, |s| {
        mesos_executor::now_secs() - s.start_time
    });
    pull_gauge("slave/recovery_errors", pid, |s| {
        s.counters.recovery_errors as f64
    });
    pull_gauge("slave/frameworks_active", pid, |s| {
        s.frameworks.values().filter(|f| !f.terminating).count() as f64
    });
    for (name, state) in [
        ("slave/tasks_staging", TaskState::TaskStaging),
        ("slave/tasks_starting", TaskState::TaskStarting),
        ("slave/tasks_running", TaskState::TaskRunning),
        ("slave/tasks_killing", TaskState::TaskKilling),
    ] {
        pull_gauge(name, pid, move |s| count_tasks(s, state));
    }
    for key in [
        "finished",
        "failed",
        "killed",
        "lost",
        "error",
        "dropped",
        "gone",
        "gone_by_operator",
    ] {
        pull_gauge(&format!("slave/tasks_{key}"), pid, move |s| {
            s.counters.tasks_ended.get(key).copied().unwrap_or(0) as f64
        });
    }
    for (name, phase) in [
        ("slave/executors_registering", ExecutorPhase::Registering),
        ("slave/executors_running", ExecutorPhase::Running),
        ("slave/executors_terminating", ExecutorPhase::Terminating),
    ] {
        pull_gauge(name, pid, move |s| count_executors(s, phase));
    }
    pull_gauge("slave/executors_terminated", pid, |s| {
        s.counters.executors_terminated as f64
    });
    pull_gauge("slave/executors_preempted", pid, |_| 0.0);
    pull_gauge("slave/valid_status_updates", pid, |s| {
        s.counters.valid_status_updates as f64
    });
    pull_gauge("slave/invalid_status_updates", pid, |s| {
        s.counters.invalid_status_updates as f64
    });
    pull_gauge("slave/valid_framework_messages", pid, |s| {
        s.counters.valid_framework_messages as f64
    });
    pull_gauge("slave/invalid_framework_messages", pid, |s| {
        s.counters.invalid_framework_messages as f64
    });
    pull_gauge("slave/container_launch_errors", pid, |s| {
        s.counters.container_launch_errors as f64
    });
    pull_gauge("slave/executor_directory_max_allowed_age_secs", pid, |s| {
        let usage = crate::detect::disk_usage(&s.flags.work_dir).unwrap_or(0.0);
        crate::gc::max_allowed_age(s.flags.gc_delay, s.flags.gc_disk_headroom, usage).as_secs_f64()
    });
    for name in ["cpus", "mem", "disk", "gpus"] {
        pull_gauge(&format!("slave/{name}_total"), pid, move |s| {
            resource(s, name, false)
        });
        pull_gauge(&format!("slave/{name}_used"), pid, move |s| {
            resource(s, name, true)
        });
        pull_gauge(&format!("slave/{name}_percent"), pid, move |s| {
            let total = resource(s, name, false);
            if total > 0.0 {
                resource(s, name, true) / total
            } else {
                0.0
            }
        });
    }
}
