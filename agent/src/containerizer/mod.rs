//! The Mesos containerizer with the POSIX launcher: an executor is a
//! process started in its sandbox, in a session of its own, with stdout
//! and stderr going to files there; destroying it kills its whole process
//! tree. Resource usage comes from `/proc`.
//!
//! - `fetcher`: URIs fetched into the sandbox before launch.
//! - `environment`: the variables an executor starts with.

pub mod environment;
pub mod fetcher;

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use mesos_executor::os;
use mesos_proto::mesos::ExecutorInfo;
use nix::sys::signal::Signal;

use crate::error::{Error, Result};

pub use environment::executor_environment;

/// How often a recovered executor (not our child) is checked for life.
const REAP_INTERVAL: Duration = Duration::from_millis(250);

/// A user to run as, resolved.
#[derive(Debug, Clone)]
pub struct RunAs {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
}

/// Resolves `user` when the agent must switch to it: only when running as
/// root and the user differs from the agent's own.
pub fn resolve_user(user: &str) -> Result<Option<RunAs>> {
    if user.is_empty() || !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(user) {
        Ok(Some(u)) if u.uid.is_root() => Ok(None),
        Ok(Some(u)) => Ok(Some(RunAs {
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        })),
        Ok(None) => Err(Error::Launch(format!("failed to find user '{user}'"))),
        Err(e) => Err(Error::Launch(format!(
            "failed to look up user '{user}': {e}"
        ))),
    }
}

/// Starts the executor `info` describes in `sandbox` with exactly `env`
/// (nothing inherited from the agent). Its stdout and stderr are the
/// sandbox's `stdout` and `stderr` files.
pub fn launch(
    info: &ExecutorInfo,
    sandbox: &Path,
    env: &std::collections::BTreeMap<String, String>,
    run_as: Option<&RunAs>,
) -> Result<tokio::process::Child> {
    let command = info
        .command
        .as_ref()
        .ok_or_else(|| Error::Launch("executor has no command".into()))?;
    let (program, args) = mesos_executor::command::launch::argv(&info.executor_id.value, command)
        .map_err(|e| Error::Launch(e.to_string()))?;
    let open = |name: &str| {
        File::options()
            .create(true)
            .append(true)
            .open(sandbox.join(name))
            .map_err(|e| Error::io("failed to open", &sandbox.join(name), e))
    };
    let mut cmd = std::process::Command::new(&program);
    cmd.arg0(&args[0])
        .args(&args[1..])
        .current_dir(sandbox)
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .stdout(open("stdout")?)
        .stderr(open("stderr")?);
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
    }
    // SAFETY: `setsid` is async-signal-safe; the child only detaches into
    // a session of its own before exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    tokio::process::Command::from(cmd)
        .spawn()
        .map_err(|e| Error::Launch(format!("failed to start '{program}': {e}")))
}

/// Resolves when `pid`, a process this agent did not start (recovered
/// after a restart), is gone.
pub async fn wait_recovered(pid: i32) {
    while os::alive(pid) {
        tokio::time::sleep(REAP_INTERVAL).await;
    }
}

/// Kills the executor `pid` and everything it started.
pub fn destroy(pid: i32) {
    let killed = os::killtree(pid, Signal::SIGKILL);
    tracing::info!("destroyed container process tree {killed:?}");
}

/// Resource usage of an executor's process tree, as `/monitor/statistics`
/// reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// User CPU seconds.
    pub cpus_user_time_secs: f64,
    /// System CPU seconds.
    pub cpus_system_time_secs: f64,
    /// Resident memory, in bytes.
    pub mem_rss_bytes: u64,
    /// Processes in the tree.
    pub processes: u32,
}

/// The usage of `pid`'s tree right now.
pub fn usage(pid: i32) -> Usage {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    let tree = os::tree(pid, &os::processes());
    Usage {
        cpus_user_time_secs: tree.iter().map(|p| p.utime as f64).sum::<f64>() / ticks,
        cpus_system_time_secs: tree.iter().map(|p| p.stime as f64).sum::<f64>() / ticks,
        mem_rss_bytes: tree.iter().map(|p| p.rss_pages * page).sum(),
        processes: tree.len() as u32,
    }
}
