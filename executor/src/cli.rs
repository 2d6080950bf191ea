//! The `mesos-executor` binary's main: the command executor the agent
//! runs for tasks that carry a `CommandInfo` rather than an executor of
//! their own. A library function so that other binaries (`mesos-local`)
//! can serve as `mesos-executor` too.

use std::path::PathBuf;
use std::process::ExitCode;

use mesos_common::flags::{FlagSet, FlagSpec};

use crate::command::CommandExecutor;
use crate::{DriverStatus, ExecutorEnv, MesosExecutorDriver};
const FLAGS: &[FlagSpec] = &[
    FlagSpec::path("launcher_dir", "Directory path of Mesos binaries."),
    FlagSpec::path(
        "sandbox_directory",
        "The sandbox path inside the container (unused: tasks run in the agent's filesystem).",
    ),
    FlagSpec::string(
        "user",
        "The user the task runs as (unused without --switch_user).",
    ),
    FlagSpec::path("rootfs", "The task's root filesystem (unsupported)."),
];

/// Runs the command executor with the process's arguments and `MESOS_*`
/// environment, until the agent shuts it down or the task ends.
pub fn main_entry() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MESOS_EXECUTOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let _flags = FlagSet::new(FLAGS)
        .with_usage_message("Usage: mesos-executor [options]")
        .load_or_exit();

    let env = match ExecutorEnv::from_env() {
        Ok(env) => env,
        Err(error) => {
            eprintln!("mesos-executor: {error}");
            return ExitCode::FAILURE;
        }
    };
    let sandbox = std::env::var("MESOS_SANDBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(&env.directory));
    let executor = CommandExecutor::new(sandbox, env.shutdown_grace_period);
    let config = match libprocess::Config::from_env() {
        // One executor per task: readers of an executor's endpoints are
        // rare, so it serves them on its worker threads, two threads fewer.
        Ok(config) => libprocess::Config {
            reader_threads: 0,
            ..config
        },
        Err(error) => {
            eprintln!("mesos-executor: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut driver = MesosExecutorDriver::with_settings(executor, env, config);
    match driver.run() {
        Ok(DriverStatus::Stopped) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("mesos-executor: driver ended {status:?}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("mesos-executor: {error}");
            ExitCode::FAILURE
        }
    }
}
