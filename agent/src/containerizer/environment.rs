//! The environment an executor starts with, as Mesos's
//! `executorEnvironment` builds it, plus the executor command's own
//! variables.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use libprocess::UPID;
use mesos_proto::mesos::ExecutorInfo;

/// The `PATH` given to executors whose command does not set one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the environment is built from.
pub struct EnvironmentSpec<'a> {
    /// The executor.
    pub executor: &'a ExecutorInfo,
    /// Its sandbox.
    pub sandbox: &'a Path,
    /// The agent's id.
    pub agent_id: &'a str,
    /// The agent's UPID.
    pub agent_pid: &'a UPID,
    /// Whether the framework checkpoints.
    pub checkpoint: bool,
    /// `--recovery_timeout`.
    pub recovery_timeout: Duration,
    /// The executor's shutdown grace period.
    pub shutdown_grace_period: Duration,
    /// `--executor_reregistration_timeout`.
    pub reregistration_timeout: Duration,
    /// The IP the executor's libprocess should bind.
    pub libprocess_ip: Option<String>,
}

/// Mesos's duration text (`5secs`).
fn duration(d: Duration) -> String {
    mesos_common::Duration::from(d).to_string()
}

/// The variables for the executor: Mesos's `MESOS_*` set, `LIBPROCESS_*`,
/// a default `PATH`, then the executor command's environment (which wins).
pub fn executor_environment(spec: &EnvironmentSpec<'_>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    if let Some(ip) = &spec.libprocess_ip {
        set("LIBPROCESS_IP", ip.clone());
    }
    set("LIBPROCESS_PORT", "0".into());
    set("PATH", DEFAULT_PATH.into());
    let framework = spec
        .executor
        .framework_id
        .as_ref()
        .map(|f| f.value.clone())
        .unwrap_or_default();
    set("MESOS_FRAMEWORK_ID", framework);
    set("MESOS_EXECUTOR_ID", spec.executor.executor_id.value.clone());
    let sandbox = spec.sandbox.display().to_string();
    set("MESOS_DIRECTORY", sandbox.clone());
    set("MESOS_SANDBOX", sandbox);
    set("MESOS_SLAVE_ID", spec.agent_id.to_string());
    set("MESOS_AGENT_ID", spec.agent_id.to_string());
    set("MESOS_SLAVE_PID", spec.agent_pid.to_string());
    set("MESOS_AGENT_PID", spec.agent_pid.to_string());
    set("MESOS_AGENT_ENDPOINT", spec.agent_pid.address().to_string());
    set(
        "MESOS_CHECKPOINT",
        if spec.checkpoint { "1" } else { "0" }.into(),
    );
    set("MESOS_HTTP_COMMAND_EXECUTOR", "0".into());
    set(
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
        duration(spec.shutdown_grace_period),
    );
    if spec.checkpoint {
        set("MESOS_RECOVERY_TIMEOUT", duration(spec.recovery_timeout));
        set(
            "MESOS_SUBSCRIPTION_BACKOFF_MAX",
            duration(spec.reregistration_timeout),
        );
    }
    if let Some(environment) = spec
        .executor
        .command
        .as_ref()
        .and_then(|c| c.environment.as_ref())
    {
        for variable in &environment.variables {
            if let Some(value) = &variable.value {
                env.insert(variable.name.clone(), value.clone());
            }
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{environment, CommandInfo, Environment, ExecutorId, FrameworkId};

    #[test]
    fn mesos_variables_and_command_environment() {
        let executor = ExecutorInfo {
            executor_id: ExecutorId { value: "E".into() },
            framework_id: Some(FrameworkId { value: "F".into() }),
            command: Some(CommandInfo {
                environment: Some(Environment {
                    variables: vec![environment::Variable {
                        name: "FOO".into(),
                        value: Some("bar".into()),
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let pid: UPID = "slave(1)@127.0.0.1:5051".parse().unwrap();
        let env = executor_environment(&EnvironmentSpec {
            executor: &executor,
            sandbox: Path::new("/w/s"),
            agent_id: "S0",
            agent_pid: &pid,
            checkpoint: true,
            recovery_timeout: Duration::from_secs(900),
            shutdown_grace_period: Duration::from_secs(5),
            reregistration_timeout: Duration::from_secs(2),
            libprocess_ip: None,
        });
        assert_eq!(env["MESOS_FRAMEWORK_ID"], "F");
        assert_eq!(env["MESOS_EXECUTOR_ID"], "E");
        assert_eq!(env["MESOS_DIRECTORY"], "/w/s");
        assert_eq!(env["MESOS_SANDBOX"], "/w/s");
        assert_eq!(env["MESOS_SLAVE_PID"], "slave(1)@127.0.0.1:5051");
        assert_eq!(env["MESOS_AGENT_PID"], "slave(1)@127.0.0.1:5051");
        // Where HTTP executors (pymesos's driver) reach the agent.
        assert_eq!(env["MESOS_AGENT_ENDPOINT"], "127.0.0.1:5051");
        assert_eq!(env["MESOS_SLAVE_ID"], "S0");
        assert_eq!(env["MESOS_CHECKPOINT"], "1");
        assert_eq!(env["MESOS_RECOVERY_TIMEOUT"], "15mins");
        assert_eq!(env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], "5secs");
        assert_eq!(env["LIBPROCESS_PORT"], "0");
        assert_eq!(env["FOO"], "bar");
    }
}
