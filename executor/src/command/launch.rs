//! Turning a task's `CommandInfo` into a process: `sh -c <value>` for a
//! shell command, `value` with `arguments` as argv otherwise, started in
//! a session of its own so that it and its children can be killed as a
//! tree.

use std::os::unix::process::CommandExt;
use std::path::Path;

use mesos_proto::mesos::CommandInfo;

use crate::error::{Error, Result};

/// The program and argv (argv\[0\] first) `command` runs.
pub fn argv(task: &str, command: &CommandInfo) -> Result<(String, Vec<String>)> {
    let invalid = |reason: &str| Error::InvalidCommand {
        task: task.to_string(),
        reason: reason.to_string(),
    };
    let value = command.value.clone().unwrap_or_default();
    if command.shell.unwrap_or(true) {
        if value.trim().is_empty() {
            return Err(invalid("shell command is empty"));
        }
        Ok(("/bin/sh".into(), vec!["sh".into(), "-c".into(), value]))
    } else {
        if value.is_empty() {
            return Err(invalid("no executable given ('value' is empty)"));
        }
        let mut args = command.arguments.clone();
        if args.is_empty() {
            args.push(value.clone());
        }
        Ok((value, args))
    }
}

/// A `tokio` command for `command` in `sandbox`, in a new session, with
/// the command's environment added to this process's.
pub fn build(task: &str, command: &CommandInfo, sandbox: &Path) -> Result<tokio::process::Command> {
    let (program, args) = argv(task, command)?;
    let mut cmd = std::process::Command::new(&program);
    cmd.arg0(&args[0]).args(&args[1..]).current_dir(sandbox);
    if let Some(environment) = &command.environment {
        for variable in &environment.variables {
            if let Some(value) = &variable.value {
                cmd.env(&variable.name, value);
            }
        }
    }
    cmd.stdin(std::process::Stdio::null());
    // SAFETY: `setsid` is async-signal-safe and touches no memory of the
    // parent; it only detaches the child into a session of its own.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    Ok(tokio::process::Command::from(cmd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_and_argv_forms() {
        let shell = CommandInfo {
            value: Some("echo hi".into()),
            ..Default::default()
        };
        assert_eq!(
            argv("t", &shell).unwrap(),
            (
                "/bin/sh".into(),
                vec!["sh".into(), "-c".into(), "echo hi".into()]
            )
        );
        let exec = CommandInfo {
            shell: Some(false),
            value: Some("/bin/echo".into()),
            arguments: vec!["echo".into(), "a".into()],
            ..Default::default()
        };
        assert_eq!(
            argv("t", &exec).unwrap(),
            ("/bin/echo".into(), vec!["echo".into(), "a".into()])
        );
    }

    #[test]
    fn empty_commands_are_refused() {
        let err = argv("t1", &CommandInfo::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid command for task 't1': shell command is empty"
        );
        let exec = CommandInfo {
            shell: Some(false),
            ..Default::default()
        };
        assert!(argv("t1", &exec).is_err());
    }
}
