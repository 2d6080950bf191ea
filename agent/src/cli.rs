//! What `mesos-agent` (and `mesos-slave`) run: load the flags (command
//! line, then `MESOS_*`), start the agent, and serve until it ends.

use std::process::ExitCode;

use crate::flags::{flag_set, AgentFlags};

/// The binary's `main`.
pub fn main_entry() -> ExitCode {
    let set = flag_set();
    let flags = set.load_or_exit();
    // Through libprocess, so that /logging/toggle can raise it.
    libprocess::builtin::init_logging(libprocess::builtin::level_from_mesos(
        flags.get_str("logging_level").unwrap_or("INFO"),
    ));
    let program = flags.program().to_string();
    let flags = match AgentFlags::from_flags(flags) {
        Ok(flags) => flags,
        Err(error) => {
            eprintln!("{}", set.usage(&program, Some(&error.to_string())));
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("flags at startup: {}", flags.raw);
    let agent = match crate::agent::start(flags) {
        Ok(agent) => agent,
        Err(error) => {
            eprintln!("{program}: {error}");
            return ExitCode::FAILURE;
        }
    };
    agent.runtime.block_on(agent.slave.terminated());
    ExitCode::SUCCESS
}
