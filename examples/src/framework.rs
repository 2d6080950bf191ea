//! What the example frameworks share: the flags every one of them takes
//! (those of Mesos's `examples/flags.hpp`, plus failover), building the
//! `FrameworkInfo` and driver from them, and task state helpers.

use std::path::PathBuf;

use libprocess::Runtime;
use mesos_common::{FlagSet, FlagSpec, Flags};
use mesos_proto::mesos::{framework_info, Credential, FrameworkId, FrameworkInfo, TaskState};
use mesos_scheduler::{MesosSchedulerDriver, Scheduler};

use crate::error::{Error, Result};

/// The environment prefix of the example frameworks' flags, as Mesos's
/// examples use (`MESOS_EXAMPLE_MASTER`).
pub const EXAMPLE_ENV_PREFIX: &str = "MESOS_EXAMPLE_";

/// The flags every example framework takes.
pub const FRAMEWORK_FLAGS: &[FlagSpec] = &[
    FlagSpec::string(
        "master",
        "The master to connect to. May be one of:\n  `host:port`\n  \
         `master@host:port` (PID of the master)\n  \
         `file://path/to/file` (where file contains one of the above)",
    )
    .required(),
    FlagSpec::bool(
        "authenticate",
        "Set to 'true' to enable framework authentication.",
    )
    .default("false"),
    FlagSpec::string(
        "principal",
        "The principal used to identify this framework.",
    )
    .default("test"),
    FlagSpec::string("secret", "The secret used to authenticate this framework."),
    FlagSpec::bool(
        "checkpoint",
        "Whether this framework should be checkpointed.",
    )
    .default("false"),
    FlagSpec::string("role", "Role to use when registering.").default("*"),
    FlagSpec::string(
        "framework_id",
        "Register as this (existing) framework: fail over from an earlier instance.",
    ),
    FlagSpec::duration(
        "failover_timeout",
        "How long the master keeps the framework (and its tasks) after this\n\
         scheduler goes away, for a new instance to take over.",
    )
    .default("0ns"),
    FlagSpec::path(
        "state_file",
        "Where the framework keeps its framework id and launched tasks, to\n\
         resume from after a restart (in memory only if unset).",
    ),
];

/// `FRAMEWORK_FLAGS` followed by a framework's own.
pub fn flag_set(own: &[FlagSpec]) -> FlagSet {
    let table: Vec<FlagSpec> = FRAMEWORK_FLAGS.iter().chain(own).copied().collect();
    FlagSet::new(&table)
}

/// Loads the flags of a binary from its arguments and environment (with
/// `prefix`); prints the usage and exits on `--help` or a bad flag.
pub fn load_or_exit(set: &FlagSet, prefix: Option<&str>) -> Flags {
    let args: Vec<String> = std::env::args().collect();
    match set.load(prefix, &args, std::env::vars()) {
        Ok(flags) if flags.help_requested() => {
            println!("{}", flags.usage(None));
            std::process::exit(0);
        }
        Ok(flags) => flags,
        Err(error) => {
            let program = args
                .first()
                .map(|a| a.rsplit('/').next().unwrap_or(a).to_string());
            eprintln!(
                "{}",
                set.usage(&program.unwrap_or_default(), Some(&error.to_string()))
            );
            std::process::exit(1);
        }
    }
}

/// The settings `FRAMEWORK_FLAGS` give.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkOptions {
    /// The `--master` value (checked to be detectable).
    pub master: String,
    /// The role to register in.
    pub role: String,
    /// Whether to register with checkpointing.
    pub checkpoint: bool,
    /// The framework's principal.
    pub principal: String,
    /// The credential, with `--authenticate`.
    pub credential: Option<Credential>,
    /// The framework id to fail over from.
    pub framework_id: Option<String>,
    /// Seconds the master keeps the framework after a disconnection.
    pub failover_timeout: f64,
    /// Where to keep state across restarts.
    pub state_file: Option<PathBuf>,
}

impl FrameworkOptions {
    /// Reads the options from loaded flags. A `--master` the driver could
    /// not detect is an error here, before anything starts.
    pub fn from_flags(flags: &Flags) -> Result<FrameworkOptions> {
        let master = flags.get_str("master").unwrap_or_default().to_string();
        mesos_scheduler::detect(&master)?;
        let principal = flags.get_str("principal").unwrap_or("test").to_string();
        let credential = flags
            .get_bool("authenticate")
            .unwrap_or(false)
            .then(|| Credential {
                principal: principal.clone(),
                secret: flags.get_str("secret").map(str::to_string),
            });
        let framework_id = flags
            .get_str("framework_id")
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        Ok(FrameworkOptions {
            master,
            role: flags.get_str("role").unwrap_or("*").to_string(),
            checkpoint: flags.get_bool("checkpoint").unwrap_or(false),
            principal,
            credential,
            framework_id,
            failover_timeout: flags
                .get_duration("failover_timeout")
                .map_or(0.0, |d| d.as_secs_f64()),
            state_file: flags.get_str("state_file").map(PathBuf::from),
        })
    }

    /// The `FrameworkInfo` to register as `name` with `capabilities`
    /// (MULTI_ROLE and RESERVATION_REFINEMENT are always added). The user
    /// is left empty for the driver to fill in.
    pub fn framework_info(
        &self,
        name: &str,
        capabilities: &[framework_info::capability::Type],
        framework_id: Option<&str>,
    ) -> FrameworkInfo {
        let mut types = vec![
            framework_info::capability::Type::MultiRole,
            framework_info::capability::Type::ReservationRefinement,
        ];
        types.extend(
            capabilities
                .iter()
                .filter(|c| !types.contains(c))
                .collect::<Vec<_>>(),
        );
        FrameworkInfo {
            user: String::new(),
            name: name.to_string(),
            id: framework_id.map(|id| FrameworkId {
                value: id.to_string(),
            }),
            failover_timeout: (self.failover_timeout > 0.0).then_some(self.failover_timeout),
            checkpoint: Some(self.checkpoint),
            principal: Some(self.principal.clone()),
            roles: vec![self.role.clone()],
            capabilities: types
                .into_iter()
                .map(|t| framework_info::Capability {
                    r#type: Some(t as i32),
                })
                .collect(),
            ..FrameworkInfo::default()
        }
    }

    /// A driver for `scheduler` registering `framework`, in `runtime` if
    /// given (else its own from `LIBPROCESS_*`).
    pub fn driver(
        &self,
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        implicit_acknowledgements: bool,
        runtime: Option<Runtime>,
    ) -> MesosSchedulerDriver {
        let mut builder = MesosSchedulerDriver::builder(scheduler, framework, &self.master)
            .implicit_acknowledgements(implicit_acknowledgements);
        if let Some(credential) = &self.credential {
            builder = builder.credential(credential.clone());
        }
        if let Some(runtime) = runtime {
            builder = builder.runtime(runtime);
        }
        builder.build()
    }
}

/// A flag that must be a positive number.
pub fn positive(flags: &Flags, name: &'static str) -> Result<f64> {
    let value = flags.get_f64(name).unwrap_or_default();
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::Flag {
            name,
            value: value.to_string(),
            reason: "must be a positive number".to_string(),
        })
    }
}

/// The name of task state `state` (`TASK_RUNNING`), or the number.
pub fn state_name(state: i32) -> String {
    TaskState::try_from(state).map_or_else(|_| state.to_string(), |s| s.as_str_name().to_string())
}

/// Whether `state` is terminal: the task will not change state again.
pub fn is_terminal(state: i32) -> bool {
    use TaskState::*;
    matches!(
        TaskState::try_from(state),
        Ok(TaskFinished
            | TaskFailed
            | TaskKilled
            | TaskError
            | TaskLost
            | TaskDropped
            | TaskGone
            | TaskGoneByOperator
            | TaskUnknown)
    )
}

/// Whether an update says the master does not know the task at all (an
/// explicit reconciliation of a task that never reached it): launching
/// it again cannot run it twice.
pub fn unknown_to_master(status: &mesos_proto::mesos::TaskStatus) -> bool {
    use mesos_proto::mesos::task_status::Reason;
    status.reason == Some(Reason::Reconciliation as i32)
        && matches!(
            TaskState::try_from(status.state),
            Ok(TaskState::TaskLost
                | TaskState::TaskGone
                | TaskState::TaskDropped
                | TaskState::TaskUnknown)
        )
}
