//! The master's metrics under Mesos's keys (`master/...`): counters kept
//! in the master process, and gauges computed from its state, all read
//! when `/metrics/snapshot` is served.

use libprocess::metrics::pull_gauge;
use libprocess::Pid;
use mesos_proto::mesos::task_status::{Reason, Source};
use mesos_proto::mesos::{TaskState, TaskStatus};

use crate::master::Master;

/// Counters the master bumps as it handles events.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    pub messages_register_framework: u64,
    pub messages_reregister_framework: u64,
    pub messages_unregister_framework: u64,
    pub messages_deactivate_framework: u64,
    pub messages_kill_task: u64,
    pub messages_status_update_acknowledgement: u64,
    pub messages_resource_request: u64,
    pub messages_launch_tasks: u64,
    pub messages_decline_offers: u64,
    pub messages_revive_offers: u64,
    pub messages_suppress_offers: u64,
    pub messages_reconcile_tasks: u64,
    pub messages_framework_to_executor: u64,
    pub messages_executor_to_framework: u64,
    pub messages_register_slave: u64,
    pub messages_reregister_slave: u64,
    pub messages_unregister_slave: u64,
    pub messages_status_update: u64,
    pub messages_exited_executor: u64,
    pub messages_update_slave: u64,
    pub messages_update_framework: u64,
    pub valid_framework_to_executor_messages: u64,
    pub invalid_framework_to_executor_messages: u64,
    pub valid_executor_to_framework_messages: u64,
    pub invalid_executor_to_framework_messages: u64,
    pub valid_status_updates: u64,
    pub invalid_status_updates: u64,
    pub valid_status_update_acknowledgements: u64,
    pub invalid_status_update_acknowledgements: u64,
    /// Messages from frameworks that were dropped as invalid.
    pub invalid_framework_messages: u64,
    /// Messages from agents that were dropped as invalid.
    pub invalid_agent_messages: u64,
    pub slave_registrations: u64,
    pub slave_reregistrations: u64,
    pub slave_removals: u64,
    pub slave_removals_reason_unhealthy: u64,
    pub slave_removals_reason_unregistered: u64,
    pub slave_unreachable_scheduled: u64,
    pub slave_unreachable_completed: u64,
    pub tasks_finished: u64,
    pub tasks_failed: u64,
    pub tasks_killed: u64,
    pub tasks_lost: u64,
    pub tasks_error: u64,
    pub tasks_dropped: u64,
    pub tasks_gone: u64,
    pub tasks_gone_by_operator: u64,
    /// Tasks launched (not a Mesos key; kept for logs and tests).
    pub tasks_staging: u64,
    pub frameworks_removed: u64,
    pub frameworks_failed_over: u64,
    pub outstanding_offers_sent: u64,
    pub offers_declined: u64,
    pub offers_accepted: u64,
    pub offers_rescinded: u64,
    pub offers_timed_out: u64,
    /// `master/task_<state>/source_<source>/reason_<reason>` counters.
    pub reasons: std::collections::BTreeMap<String, u64>,
}

impl Metrics {
    /// Counts a task moving from `old` to `new` (terminal states are
    /// counters in Mesos; live ones are gauges computed from the state).
    pub fn task_state_changed(&mut self, _old: i32, new: i32, status: &TaskStatus) {
        let Ok(state) = TaskState::try_from(new) else {
            return;
        };
        match state {
            TaskState::TaskFinished => self.tasks_finished += 1,
            TaskState::TaskFailed => self.tasks_failed += 1,
            TaskState::TaskKilled => self.tasks_killed += 1,
            TaskState::TaskLost => self.tasks_lost += 1,
            TaskState::TaskError => self.tasks_error += 1,
            TaskState::TaskDropped => self.tasks_dropped += 1,
            TaskState::TaskGone => self.tasks_gone += 1,
            TaskState::TaskGoneByOperator => self.tasks_gone_by_operator += 1,
            _ => return,
        }
        if let (Some(source), Some(reason)) = (
            status.source.and_then(|s| Source::try_from(s).ok()),
            status.reason.and_then(|r| Reason::try_from(r).ok()),
        ) {
            let key = format!(
                "master/{}/{}/{}",
                state.as_str_name().to_lowercase(),
                source.as_str_name().to_lowercase(),
                reason.as_str_name().to_lowercase()
            );
            *self.reasons.entry(key).or_default() += 1;
        }
    }

    /// Counts a master-generated failure reason.
    pub fn count_reason(&mut self, source: Source, reason: Reason) {
        let key = format!(
            "master/task_error/{}/{}",
            source.as_str_name().to_lowercase(),
            reason.as_str_name().to_lowercase()
        );
        *self.reasons.entry(key).or_default() += 1;
    }

    /// Registers every `master/...` metric as a gauge read from `pid`.
    pub fn register(&self, pid: &Pid<Master>) {
        macro_rules! counters {
            ($($field:ident => $key:expr),* $(,)?) => {
                $(pull_gauge($key, pid, |m: &Master| m.metrics.$field as f64);)*
            };
        }
        counters!(
            messages_register_framework => "master/messages_register_framework",
            messages_reregister_framework => "master/messages_reregister_framework",
            messages_unregister_framework => "master/messages_unregister_framework",
            messages_deactivate_framework => "master/messages_deactivate_framework",
            messages_kill_task => "master/messages_kill_task",
            messages_status_update_acknowledgement => "master/messages_status_update_acknowledgement",
            messages_resource_request => "master/messages_resource_request",
            messages_launch_tasks => "master/messages_launch_tasks",
            messages_decline_offers => "master/messages_decline_offers",
            messages_revive_offers => "master/messages_revive_offers",
            messages_suppress_offers => "master/messages_suppress_offers",
            messages_reconcile_tasks => "master/messages_reconcile_tasks",
            messages_framework_to_executor => "master/messages_framework_to_executor",
            messages_executor_to_framework => "master/messages_executor_to_framework",
            messages_register_slave => "master/messages_register_slave",
            messages_reregister_slave => "master/messages_reregister_slave",
            messages_unregister_slave => "master/messages_unregister_slave",
            messages_status_update => "master/messages_status_update",
            messages_exited_executor => "master/messages_exited_executor",
            messages_update_slave => "master/messages_update_slave",
            valid_framework_to_executor_messages => "master/valid_framework_to_executor_messages",
            invalid_framework_to_executor_messages => "master/invalid_framework_to_executor_messages",
            valid_executor_to_framework_messages => "master/valid_executor_to_framework_messages",
            invalid_executor_to_framework_messages => "master/invalid_executor_to_framework_messages",
            valid_status_updates => "master/valid_status_updates",
            invalid_status_updates => "master/invalid_status_updates",
            valid_status_update_acknowledgements => "master/valid_status_update_acknowledgements",
            invalid_status_update_acknowledgements => "master/invalid_status_update_acknowledgements",
            slave_registrations => "master/slave_registrations",
            slave_reregistrations => "master/slave_reregistrations",
            slave_removals => "master/slave_removals",
            slave_removals_reason_unhealthy => "master/slave_removals/reason_unhealthy",
            slave_removals_reason_unregistered => "master/slave_removals/reason_unregistered",
            slave_unreachable_scheduled => "master/slave_unreachable_scheduled",
            slave_unreachable_completed => "master/slave_unreachable_completed",
            tasks_finished => "master/tasks_finished",
            tasks_failed => "master/tasks_failed",
            tasks_killed => "master/tasks_killed",
            tasks_lost => "master/tasks_lost",
            tasks_error => "master/tasks_error",
            tasks_dropped => "master/tasks_dropped",
            tasks_gone => "master/tasks_gone",
            tasks_gone_by_operator => "master/tasks_gone_by_operator",
        );
        let zero = [
            "master/messages_operation_status_update_acknowledgement",
            "master/messages_operation_status_update",
            "master/messages_reconcile_operations",
            "master/messages_authenticate",
            "master/valid_operation_status_updates",
            "master/invalid_operation_status_updates",
            "master/valid_operation_status_update_acknowledgements",
            "master/invalid_operation_status_update_acknowledgements",
            "master/recovery_slave_removals",
            "master/slave_removals/reason_registered",
            "master/slave_shutdowns_scheduled",
            "master/slave_shutdowns_completed",
            "master/slave_shutdowns_canceled",
            "master/slave_unreachable_canceled",
            "master/http_cache_hits",
            "master/operator_event_stream_subscribers",
            "master/event_queue_messages",
            "master/event_queue_dispatches",
            "master/event_queue_http_requests",
        ];
        for key in zero {
            pull_gauge(key, pid, |_: &Master| 0.0);
        }
        pull_gauge("master/dropped_messages", pid, |m: &Master| {
            (m.metrics.invalid_framework_messages + m.metrics.invalid_agent_messages) as f64
        });
        pull_gauge("master/uptime_secs", pid, |m: &Master| {
            crate::state::unix_now() - m.start_time
        });
        pull_gauge("master/elected", pid, |_: &Master| 1.0);
        let agents = |f: fn(&crate::state::Agent) -> bool| {
            move |m: &Master| m.state.agents.values().filter(|a| f(a)).count() as f64
        };
        pull_gauge("master/slaves_connected", pid, agents(|a| a.connected));
        pull_gauge("master/slaves_disconnected", pid, agents(|a| !a.connected));
        pull_gauge("master/slaves_active", pid, agents(|a| a.active));
        pull_gauge("master/slaves_inactive", pid, agents(|a| !a.active));
        pull_gauge("master/slaves_unreachable", pid, |m: &Master| {
            m.state.unreachable_agents.len() as f64
        });
        let frameworks = |f: fn(&crate::state::Framework) -> bool| {
            move |m: &Master| m.state.frameworks.values().filter(|x| f(x)).count() as f64
        };
        pull_gauge(
            "master/frameworks_connected",
            pid,
            frameworks(|f| f.connected),
        );
        pull_gauge(
            "master/frameworks_disconnected",
            pid,
            frameworks(|f| !f.connected),
        );
        pull_gauge("master/frameworks_active", pid, frameworks(|f| f.active));
        pull_gauge("master/frameworks_inactive", pid, frameworks(|f| !f.active));
        pull_gauge("master/outstanding_offers", pid, |m: &Master| {
            m.state.offers.len() as f64
        });
        for (key, state) in [
            ("master/tasks_staging", TaskState::TaskStaging),
            ("master/tasks_starting", TaskState::TaskStarting),
            ("master/tasks_running", TaskState::TaskRunning),
            ("master/tasks_killing", TaskState::TaskKilling),
        ] {
            pull_gauge(key, pid, move |m: &Master| {
                m.state
                    .frameworks
                    .values()
                    .flat_map(|f| f.tasks.values())
                    .filter(|t| t.state == state as i32)
                    .count() as f64
            });
        }
        pull_gauge("master/tasks_unreachable", pid, |m: &Master| {
            m.state
                .frameworks
                .values()
                .map(|f| f.unreachable_tasks.len())
                .sum::<usize>() as f64
        });
        for name in ["cpus", "gpus", "mem", "disk"] {
            for revocable in [false, true] {
                let suffix = if revocable { "_revocable" } else { "" };
                let total = move |m: &Master| {
                    resource_sum(m, name, revocable, |a| a.resources.total.clone())
                };
                let used = move |m: &Master| resource_sum(m, name, revocable, |a| a.used_total());
                pull_gauge(&format!("master/{name}{suffix}_total"), pid, total);
                pull_gauge(&format!("master/{name}{suffix}_used"), pid, used);
                pull_gauge(
                    &format!("master/{name}{suffix}_percent"),
                    pid,
                    move |m: &Master| {
                        let t = total(m);
                        if t == 0.0 {
                            0.0
                        } else {
                            used(m) / t
                        }
                    },
                );
            }
        }
    }
}

fn resource_sum(
    master: &Master,
    name: &str,
    revocable: bool,
    of: impl Fn(&crate::state::Agent) -> mesos_common::Resources,
) -> f64 {
    master
        .state
        .agents
        .values()
        .map(|a| {
            let resources = of(a);
            let resources = if revocable {
                resources.revocable()
            } else {
                resources.non_revocable()
            };
            resources.scalar(name).unwrap_or(0.0)
        })
        .sum()
}
