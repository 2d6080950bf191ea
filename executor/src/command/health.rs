//! Command health checks, as Mesos's health checker: after an initial
//! delay, run the check every interval; failures inside the grace period
//! are ignored until the first success; report the first success and
//! every failure; ask for the task to be killed after
//! `consecutive_failures` failures in a row.

use std::time::{Duration, Instant};

use mesos_proto::mesos::{health_check, HealthCheck};

/// The timing of a health check, with Mesos's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthPolicy {
    /// Before the first check (`delay_seconds`, default 15s).
    pub delay: Duration,
    /// Between checks (`interval_seconds`, default 10s).
    pub interval: Duration,
    /// How long one check may run (`timeout_seconds`, default 20s).
    pub timeout: Duration,
    /// Failures in a row that kill the task (default 3).
    pub consecutive_failures: u32,
    /// Failures are ignored this long after start until the first
    /// success (`grace_period_seconds`, default 10s).
    pub grace_period: Duration,
}

fn seconds(value: Option<f64>, default: f64) -> Duration {
    Duration::try_from_secs_f64(value.unwrap_or(default).max(0.0))
        .unwrap_or(Duration::from_secs_f64(default))
}

impl HealthPolicy {
    /// The policy of `check`, or why it cannot be run by this executor
    /// (only command checks are supported).
    pub fn from_proto(check: &HealthCheck) -> Result<HealthPolicy, String> {
        let is_command = match check.r#type {
            Some(t) => t == health_check::Type::Command as i32,
            None => check.command.is_some(),
        };
        if !is_command {
            return Err("only COMMAND health checks are supported".to_string());
        }
        let command = check
            .command
            .as_ref()
            .ok_or("command health check without a 'command'")?;
        if command.shell.unwrap_or(true) && command.value.as_deref().unwrap_or("").is_empty() {
            return Err("command health check with an empty command".to_string());
        }
        Ok(HealthPolicy {
            delay: seconds(check.delay_seconds, 15.0),
            interval: seconds(check.interval_seconds, 10.0),
            timeout: seconds(check.timeout_seconds, 20.0),
            consecutive_failures: check.consecutive_failures.unwrap_or(3),
            grace_period: seconds(check.grace_period_seconds, 10.0),
        })
    }
}

/// What a check result changes, to report as a status update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthChange {
    /// The task's health now.
    pub healthy: bool,
    /// Failures in a row so far.
    pub consecutive_failures: u32,
    /// Whether the task must be killed.
    pub kill_task: bool,
}

/// The state between checks.
#[derive(Debug, Clone)]
pub struct HealthState {
    policy: HealthPolicy,
    started: Instant,
    initializing: bool,
    consecutive_failures: u32,
}

impl HealthState {
    /// Checking starts at `started`.
    pub fn new(policy: HealthPolicy, started: Instant) -> HealthState {
        HealthState {
            policy,
            started,
            initializing: true,
            consecutive_failures: 0,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &HealthPolicy {
        &self.policy
    }

    /// A check passed: report it if it is the first success or ends a
    /// run of failures.
    pub fn success(&mut self) -> Option<HealthChange> {
        let report = self.initializing || self.consecutive_failures > 0;
        self.initializing = false;
        self.consecutive_failures = 0;
        report.then_some(HealthChange {
            healthy: true,
            consecutive_failures: 0,
            kill_task: false,
        })
    }

    /// A check failed at `now`: ignored inside the grace period before
    /// the first success; otherwise reported, with a kill once enough
    /// failures came in a row.
    pub fn failure(&mut self, now: Instant) -> Option<HealthChange> {
        if self.initializing
            && !self.policy.grace_period.is_zero()
            && now.saturating_duration_since(self.started) <= self.policy.grace_period
        {
            return None;
        }
        self.consecutive_failures += 1;
        Some(HealthChange {
            healthy: false,
            consecutive_failures: self.consecutive_failures,
            kill_task: self.consecutive_failures >= self.policy.consecutive_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::CommandInfo;

    fn check(grace: f64, failures: u32) -> HealthCheck {
        HealthCheck {
            r#type: Some(health_check::Type::Command as i32),
            command: Some(CommandInfo {
                value: Some("true".into()),
                ..Default::default()
            }),
            grace_period_seconds: Some(grace),
            consecutive_failures: Some(failures),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_mesos_defaults() {
        let mut c = check(10.0, 3);
        c.grace_period_seconds = None;
        c.consecutive_failures = None;
        let p = HealthPolicy::from_proto(&c).unwrap();
        assert_eq!(p.delay, Duration::from_secs(15));
        assert_eq!(p.interval, Duration::from_secs(10));
        assert_eq!(p.timeout, Duration::from_secs(20));
        assert_eq!(p.grace_period, Duration::from_secs(10));
        assert_eq!(p.consecutive_failures, 3);
    }

    #[test]
    fn non_command_checks_are_refused() {
        let mut c = check(0.0, 1);
        c.r#type = Some(health_check::Type::Http as i32);
        assert!(HealthPolicy::from_proto(&c).is_err());
        c.r#type = Some(health_check::Type::Command as i32);
        c.command = None;
        assert!(HealthPolicy::from_proto(&c).is_err());
    }

    #[test]
    fn grace_period_hides_early_failures_until_first_success() {
        let t0 = Instant::now();
        let mut s = HealthState::new(HealthPolicy::from_proto(&check(10.0, 2)).unwrap(), t0);
        assert_eq!(s.failure(t0 + Duration::from_secs(5)), None);
        let first = s.success().unwrap();
        assert!(first.healthy);
        assert_eq!(s.success(), None, "only the first success is reported");
        // After a success the grace period no longer applies.
        let f1 = s.failure(t0 + Duration::from_secs(6)).unwrap();
        assert_eq!(
            (f1.healthy, f1.consecutive_failures, f1.kill_task),
            (false, 1, false)
        );
        let f2 = s.failure(t0 + Duration::from_secs(7)).unwrap();
        assert_eq!((f2.consecutive_failures, f2.kill_task), (2, true));
        assert!(s.success().unwrap().healthy, "recovery is reported");
    }
}
