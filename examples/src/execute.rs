//! `mesos-execute`: runs one command as a task and exits with its result,
//! as Mesos's CLI of that name (whose flags it takes: `--master`,
//! `--name`, `--command`, `--resources`, `--env`, `--role`,
//! `--checkpoint`, `--kill_after`, ...). It exits 0 when the task
//! finished, the command's exit status when it failed with one, else 1.

use std::sync::{Arc, Mutex};

use libprocess::Runtime;
use mesos_common::{FlagSet, FlagSpec, Flags, Resources};
use mesos_proto::mesos::{
    environment, framework_info, task_status, CommandInfo, Environment, ExecutorId, Filters,
    FrameworkId, MasterInfo, Offer, OfferId, SlaveId, Status, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use mesos_scheduler::{MesosSchedulerDriver, Scheduler, SchedulerDriver};

use crate::error::{Error, Result};
use crate::framework::{self, FrameworkOptions};
use crate::resources::{parse_request, OfferPool};

/// The name the framework registers under, as Mesos's.
pub const FRAMEWORK_NAME: &str = "mesos-execute instance";

const FLAGS: &[FlagSpec] = &[
    FlagSpec::string("master", "Mesos master (e.g., IP:PORT).").required(),
    FlagSpec::string("name", "Name for the command (also the task's id).").required(),
    FlagSpec::string("command", "Command to launch.").required(),
    FlagSpec::bool("shell", "Run the command with a shell ('sh -c').").default("true"),
    FlagSpec::string(
        "env",
        "Shell command environment variables: a JSON object such as\n\
         {\"name1\": \"value1\"}, or the path of a file holding one\n\
         (`file:///path/to/file` or `/path/to/file`).",
    ),
    FlagSpec::string("resources", "Resources for the command.").default("cpus:1;mem:128"),
    FlagSpec::bool("checkpoint", "Enable checkpointing for the framework.").default("false"),
    FlagSpec::string("role", "Role to use when registering.").default("*"),
    FlagSpec::duration(
        "kill_after",
        "Specifies a delay after which the task is killed (e.g., 10secs, 2mins, etc).",
    ),
    FlagSpec::string(
        "principal",
        "The principal to use for framework authentication.",
    ),
    FlagSpec::string("secret", "The secret to use for framework authentication."),
    FlagSpec::bool(
        "partition_aware",
        "Enable partition-awareness for the framework.",
    )
    .default("true"),
];

/// The flags of `mesos-execute` (no environment prefix, as Mesos's).
pub fn flags() -> FlagSet {
    FlagSet::new(FLAGS).with_usage_message(
        "Usage: mesos-execute --master=<host:port> --name=<name> --command=<command> [options]",
    )
}

/// What `mesos-execute` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecuteConfig {
    /// Master, role, checkpointing and credential.
    pub options: FrameworkOptions,
    /// The task's name and id.
    pub name: String,
    /// The command.
    pub command: String,
    /// Whether the command runs under `sh -c`.
    pub shell: bool,
    /// Environment variables for the command, in order.
    pub env: Vec<(String, String)>,
    /// What the task asks for.
    pub resources: Resources,
    /// Kill the task this long after it started running.
    pub kill_after: Option<std::time::Duration>,
    /// Register as partition-aware.
    pub partition_aware: bool,
}

impl ExecuteConfig {
    /// The configuration from loaded flags.
    pub fn from_flags(flags: &Flags) -> Result<ExecuteConfig> {
        let master = flags.get_str("master").unwrap_or_default().to_string();
        mesos_scheduler::detect(&master)?;
        let principal = flags.get_str("principal").map(str::to_string);
        let credential = match (&principal, flags.get_str("secret")) {
            (Some(p), Some(s)) => Some(mesos_proto::mesos::Credential {
                principal: p.clone(),
                secret: Some(s.to_string()),
            }),
            _ => None,
        };
        let options = FrameworkOptions {
            master,
            role: flags.get_str("role").unwrap_or("*").to_string(),
            checkpoint: flags.get_bool("checkpoint").unwrap_or(false),
            principal: principal.unwrap_or_default(),
            credential,
            framework_id: None,
            failover_timeout: 0.0,
            state_file: None,
        };
        let name = flags.get_str("name").unwrap_or_default().to_string();
        if name.is_empty() || name.contains('/') {
            return Err(Error::Flag {
                name: "name",
                value: name,
                reason: "must be a non-empty task id without '/'".to_string(),
            });
        }
        let env = match flags.get_str("env") {
            Some(text) => parse_env(text)?,
            None => Vec::new(),
        };
        Ok(ExecuteConfig {
            options,
            name,
            command: flags.get_str("command").unwrap_or_default().to_string(),
            shell: flags.get_bool("shell").unwrap_or(true),
            env,
            resources: parse_request(flags.get_str("resources").unwrap_or_default())?,
            kill_after: flags.get_duration("kill_after").map(|d| d.to_std()),
            partition_aware: flags.get_bool("partition_aware").unwrap_or(true),
        })
    }

    /// The task to launch on agent `slave_id` with `resources`.
    pub fn task(
        &self,
        slave_id: &SlaveId,
        resources: Vec<mesos_proto::mesos::Resource>,
    ) -> TaskInfo {
        let environment = (!self.env.is_empty()).then(|| Environment {
            variables: self
                .env
                .iter()
                .map(|(name, value)| environment::Variable {
                    name: name.clone(),
                    value: Some(value.clone()),
                    ..environment::Variable::default()
                })
                .collect(),
        });
        TaskInfo {
            name: self.name.clone(),
            task_id: TaskId {
                value: self.name.clone(),
            },
            slave_id: slave_id.clone(),
            resources,
            command: Some(CommandInfo {
                value: Some(self.command.clone()),
                shell: Some(self.shell),
                environment,
                ..CommandInfo::default()
            }),
            ..TaskInfo::default()
        }
    }
}

/// Parses `--env`: a JSON object of strings, or a file (`/path` or
/// `file:///path`, the latter already read by the flag loader) holding one.
pub fn parse_env(text: &str) -> Result<Vec<(String, String)>> {
    let bad = |reason: String| Error::Flag {
        name: "env",
        value: text.to_string(),
        reason,
    };
    let json = if text.starts_with('/') {
        std::fs::read_to_string(text).map_err(|e| bad(format!("failed to read the file: {e}")))?
    } else {
        text.to_string()
    };
    let value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| bad(format!("not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| bad("not a JSON object of names to values".to_string()))?;
    object
        .iter()
        .map(|(name, value)| match value.as_str() {
            Some(v) => Ok((name.clone(), v.to_string())),
            None => Err(bad(format!("the value of '{name}' is not a string"))),
        })
        .collect()
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The task's terminal status, if it got that far.
    pub status: Option<TaskStatus>,
    /// An error from the master or driver.
    pub error: Option<String>,
    /// The driver's status when it returned.
    pub driver_status: Option<Status>,
}

impl Outcome {
    /// The process exit code: 0 when the task finished; the command's
    /// exit status when the executor reported one; else 1.
    pub fn exit_code(&self) -> i32 {
        match &self.status {
            Some(s) if s.state == TaskState::TaskFinished as i32 => 0,
            Some(s) => s
                .message
                .as_deref()
                .and_then(|m| m.strip_prefix("Command exited with status "))
                .and_then(|code| code.trim().parse::<i32>().ok())
                .filter(|code| (1..=255).contains(code))
                .unwrap_or(1),
            None => 1,
        }
    }
}

/// Runs the task and returns how it ended. `runtime` runs the driver in
/// a shared libprocess runtime (tests, `mesos-local`).
pub fn run(config: ExecuteConfig, runtime: Option<Runtime>) -> Result<Outcome> {
    let mut capabilities = vec![
        framework_info::capability::Type::TaskKillingState,
        framework_info::capability::Type::RevocableResources,
    ];
    if config.partition_aware {
        capabilities.push(framework_info::capability::Type::PartitionAware);
    }
    let mut framework = config
        .options
        .framework_info(FRAMEWORK_NAME, &capabilities, None);
    if config.options.principal.is_empty() {
        framework.principal = None;
    }
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let handle = Arc::new(Mutex::new(None));
    let scheduler = ExecuteScheduler {
        config: config.clone(),
        outcome: outcome.clone(),
        launched: false,
        handle: handle.clone(),
    };
    let driver = config.options.driver(scheduler, framework, true, runtime);
    *handle.lock().unwrap_or_else(|e| e.into_inner()) = Some(driver.clone());
    let status = driver.run();
    driver.stop(false);
    handle.lock().unwrap_or_else(|e| e.into_inner()).take();
    let mut outcome = outcome.lock().unwrap_or_else(|e| e.into_inner()).clone();
    outcome.driver_status = Some(status);
    Ok(outcome)
}

struct ExecuteScheduler {
    config: ExecuteConfig,
    outcome: Arc<Mutex<Outcome>>,
    launched: bool,
    /// The driver itself, for `--kill_after`'s timer (set once built,
    /// cleared when the run ends so the driver can be dropped).
    handle: Arc<Mutex<Option<MesosSchedulerDriver>>>,
}

/// Kills task `task_id` once `after` has passed on the driver's clock.
fn kill_later(driver: &MesosSchedulerDriver, task_id: TaskId, after: std::time::Duration) {
    let Some(runtime) = driver.runtime() else {
        return;
    };
    let killer = driver.clone();
    runtime.clock().timer(after, move || {
        println!("Asked to kill task '{}'", task_id.value);
        killer.kill_task(&task_id);
    });
}

impl Scheduler for ExecuteScheduler {
    fn registered(&mut self, _: &dyn SchedulerDriver, id: &FrameworkId, _: &MasterInfo) {
        println!("Subscribed with ID {}", id.value);
    }

    fn reregistered(&mut self, _: &dyn SchedulerDriver, _: &MasterInfo) {}

    fn disconnected(&mut self, _: &dyn SchedulerDriver) {}

    fn resource_offers(&mut self, driver: &dyn SchedulerDriver, offers: &[Offer]) {
        for offer in offers {
            let resources = (!self.launched)
                .then(|| OfferPool::new(&offer.resources).take(&self.config.resources))
                .flatten();
            match resources {
                Some(resources) => {
                    let task = self.config.task(&offer.slave_id, resources);
                    driver.launch_tasks(
                        std::slice::from_ref(&offer.id),
                        &[task],
                        &Filters::default(),
                    );
                    println!(
                        "Submitted task '{}' to agent '{}'",
                        self.config.name, offer.slave_id.value
                    );
                    self.launched = true;
                }
                None => {
                    driver.decline_offer(&offer.id, &Filters::default());
                    if self.launched {
                        driver.suppress_offers(&[]);
                    }
                }
            }
        }
    }

    fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, _: &OfferId) {}

    fn status_update(&mut self, driver: &dyn SchedulerDriver, status: &TaskStatus) {
        println!(
            "Received status update {} for task '{}'",
            framework::state_name(status.state),
            status.task_id.value
        );
        if let Some(message) = &status.message {
            println!("  message: '{message}'");
        }
        if let Some(source) = status
            .source
            .and_then(|s| task_status::Source::try_from(s).ok())
        {
            println!("  source: {}", source.as_str_name());
        }
        if let Some(reason) = status
            .reason
            .and_then(|r| task_status::Reason::try_from(r).ok())
        {
            println!("  reason: {}", reason.as_str_name());
        }
        if let Some(healthy) = status.healthy {
            println!("  healthy?: {healthy}");
        }
        if status.state == TaskState::TaskRunning as i32 {
            let handle = self
                .handle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let (Some(after), Some(handle)) = (self.config.kill_after, handle) {
                kill_later(&handle, status.task_id.clone(), after);
            }
        }
        if framework::is_terminal(status.state) {
            self.outcome
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .status = Some(status.clone());
            driver.stop(false);
        }
    }

    fn framework_message(
        &mut self,
        _: &dyn SchedulerDriver,
        _: &ExecutorId,
        _: &SlaveId,
        _: &[u8],
    ) {
    }

    fn slave_lost(&mut self, _: &dyn SchedulerDriver, _: &SlaveId) {}

    fn executor_lost(&mut self, _: &dyn SchedulerDriver, _: &ExecutorId, _: &SlaveId, _: i32) {}

    fn error(&mut self, _: &dyn SchedulerDriver, message: &str) {
        eprintln!("Received an ERROR event: {message}");
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).error = Some(message.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<ExecuteConfig> {
        let argv: Vec<String> = std::iter::once("mesos-execute")
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let flags = flags().load(None, argv, Vec::new())?;
        ExecuteConfig::from_flags(&flags)
    }

    #[test]
    fn flags_build_the_task() {
        let config = load(&[
            "--master=127.0.0.1:5050",
            "--name=hello",
            "--command=echo $GREETING",
            "--resources=cpus:0.5;mem:64",
            "--env={\"GREETING\": \"hi\", \"X\": \"1\"}",
            "--kill_after=10secs",
        ])
        .unwrap();
        assert_eq!(config.kill_after, Some(std::time::Duration::from_secs(10)));
        let task = config.task(&SlaveId { value: "a".into() }, vec![]);
        assert_eq!(task.task_id.value, "hello");
        let command = task.command.unwrap();
        assert_eq!(command.value.as_deref(), Some("echo $GREETING"));
        assert_eq!(command.shell, Some(true));
        let env = command.environment.unwrap().variables;
        assert_eq!(env.len(), 2);
        assert_eq!(env[0].name, "GREETING");
        assert_eq!(env[0].value.as_deref(), Some("hi"));
    }

    #[test]
    fn bad_flags_are_clear_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&["--name=a", "--command=true"], "master"),
            (&["--master=127.0.0.1:5050", "--command=true"], "name"),
            (&["--master=127.0.0.1:5050", "--name=a"], "command"),
            (
                &["--master=foo", "--name=a", "--command=true"],
                "invalid master 'foo'",
            ),
            (
                &["--master=127.0.0.1:5050", "--name=a/b", "--command=true"],
                "invalid --name 'a/b'",
            ),
            (
                &[
                    "--master=127.0.0.1:5050",
                    "--name=a",
                    "--command=true",
                    "--env=[1]",
                ],
                "not a JSON object",
            ),
            (
                &[
                    "--master=127.0.0.1:5050",
                    "--name=a",
                    "--command=true",
                    "--env={\"A\": 1}",
                ],
                "'A' is not a string",
            ),
            (
                &[
                    "--master=127.0.0.1:5050",
                    "--name=a",
                    "--command=true",
                    "--resources=cpus:x",
                ],
                "--resources",
            ),
            (
                &[
                    "--master=127.0.0.1:5050",
                    "--name=a",
                    "--command=true",
                    "--kill_after=soon",
                ],
                "kill_after",
            ),
        ];
        for (args, expected) in cases {
            let error = load(args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn env_can_come_from_a_file() {
        let path = std::env::temp_dir().join(format!("execute-env-{}.json", std::process::id()));
        std::fs::write(&path, "{\"A\": \"b\"}").unwrap();
        let env = parse_env(&path.display().to_string()).unwrap();
        assert_eq!(env, vec![("A".to_string(), "b".to_string())]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn exit_code_follows_the_task() {
        let status = |state: TaskState, message: Option<&str>| Outcome {
            status: Some(TaskStatus {
                state: state as i32,
                message: message.map(str::to_string),
                ..TaskStatus::default()
            }),
            ..Outcome::default()
        };
        assert_eq!(status(TaskState::TaskFinished, None).exit_code(), 0);
        assert_eq!(
            status(TaskState::TaskFailed, Some("Command exited with status 3")).exit_code(),
            3
        );
        assert_eq!(
            status(
                TaskState::TaskKilled,
                Some("Command terminated with signal Killed")
            )
            .exit_code(),
            1
        );
        assert_eq!(Outcome::default().exit_code(), 1);
    }
}
