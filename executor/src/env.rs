//! What the agent tells an executor through its environment, read once
//! when the driver starts (Mesos's `MESOS_*` executor variables).

use std::time::Duration;

use libprocess::UPID;
use mesos_proto::mesos::{ExecutorId, FrameworkId, SlaveId};

use crate::error::{Error, Result};

/// How long a disconnected executor of a checkpointing framework waits
/// for its agent to come back, unless `MESOS_RECOVERY_TIMEOUT` says.
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// How long an executor has to shut down before the agent kills it,
/// unless `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` says.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);

/// The executor's view of where it runs and who it is.
#[derive(Debug, Clone)]
pub struct ExecutorEnv {
    /// The agent to register with (`MESOS_AGENT_PID`, or the older
    /// `MESOS_SLAVE_PID`).
    pub agent: UPID,
    /// `MESOS_SLAVE_ID`.
    pub slave_id: SlaveId,
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: ExecutorId,
    /// The sandbox (`MESOS_DIRECTORY`).
    pub directory: String,
    /// Whether the framework checkpoints (`MESOS_CHECKPOINT=1`): then the
    /// executor survives an agent restart and waits to be reconnected.
    pub checkpoint: bool,
    /// How long to wait for a restarted agent (`MESOS_RECOVERY_TIMEOUT`).
    pub recovery_timeout: Duration,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
    pub shutdown_grace_period: Duration,
    /// `MESOS_LOCAL` is set: the executor shares its OS process with the
    /// agent (tests), so shutting down must not kill the process group.
    pub local: bool,
}

impl ExecutorEnv {
    /// Reads this process's environment.
    pub fn from_env() -> Result<ExecutorEnv> {
        ExecutorEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables `lookup` finds.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ExecutorEnv> {
        let required = |name: &'static str| lookup(name).ok_or(Error::MissingEnv(name));
        let (agent_name, agent_text) = match lookup("MESOS_AGENT_PID") {
            Some(v) => ("MESOS_AGENT_PID", v),
            None => ("MESOS_SLAVE_PID", required("MESOS_SLAVE_PID")?),
        };
        let agent = agent_text.parse::<UPID>().map_err(|e| Error::InvalidEnv {
            name: agent_name,
            value: agent_text.clone(),
            reason: e.to_string(),
        })?;
        let duration = |name: &'static str, default: Duration| -> Result<Duration> {
            match lookup(name) {
                None => Ok(default),
                Some(text) => mesos_common::Duration::parse(&text)
                    .map(|d| d.to_std())
                    .map_err(|e| Error::InvalidEnv {
                        name,
                        value: text,
                        reason: e.to_string(),
                    }),
            }
        };
        let checkpoint = lookup("MESOS_CHECKPOINT").as_deref() == Some("1");
        let recovery_timeout = if checkpoint {
            duration("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT)?
        } else {
            DEFAULT_RECOVERY_TIMEOUT
        };
        Ok(ExecutorEnv {
            agent,
            slave_id: SlaveId {
                value: required("MESOS_SLAVE_ID")?,
            },
            framework_id: FrameworkId {
                value: required("MESOS_FRAMEWORK_ID")?,
            },
            executor_id: ExecutorId {
                value: required("MESOS_EXECUTOR_ID")?,
            },
            directory: required("MESOS_DIRECTORY")?,
            checkpoint,
            recovery_timeout,
            shutdown_grace_period: duration(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                DEFAULT_SHUTDOWN_GRACE_PERIOD,
            )?,
            local: lookup("MESOS_LOCAL").is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("MESOS_SLAVE_PID", "slave(1)@127.0.0.1:5051"),
        ("MESOS_SLAVE_ID", "S0"),
        ("MESOS_FRAMEWORK_ID", "F0"),
        ("MESOS_EXECUTOR_ID", "E0"),
        ("MESOS_DIRECTORY", "/tmp/sandbox"),
    ];

    #[test]
    fn reads_mesos_variables() {
        let mut pairs = BASE.to_vec();
        pairs.push(("MESOS_CHECKPOINT", "1"));
        pairs.push(("MESOS_RECOVERY_TIMEOUT", "2mins"));
        pairs.push(("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "3secs"));
        let e = ExecutorEnv::from_lookup(env(&pairs)).unwrap();
        assert_eq!(e.agent.to_string(), "slave(1)@127.0.0.1:5051");
        assert_eq!(e.executor_id.value, "E0");
        assert!(e.checkpoint);
        assert_eq!(e.recovery_timeout, Duration::from_secs(120));
        assert_eq!(e.shutdown_grace_period, Duration::from_secs(3));
        assert!(!e.local);
    }

    #[test]
    fn agent_pid_wins_over_slave_pid() {
        let mut pairs = BASE.to_vec();
        pairs.push(("MESOS_AGENT_PID", "slave(2)@127.0.0.1:5052"));
        let e = ExecutorEnv::from_lookup(env(&pairs)).unwrap();
        assert_eq!(e.agent.to_string(), "slave(2)@127.0.0.1:5052");
    }

    #[test]
    fn missing_and_bad_values_are_named() {
        let err = ExecutorEnv::from_lookup(env(&BASE[..1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expecting 'MESOS_SLAVE_ID' to be set in the environment"
        );
        let mut pairs = BASE.to_vec();
        pairs[0] = ("MESOS_SLAVE_PID", "not a pid");
        let err = ExecutorEnv::from_lookup(env(&pairs)).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("invalid 'MESOS_SLAVE_PID' value 'not a pid'"));
    }
}
