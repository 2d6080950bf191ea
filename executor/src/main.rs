//! `mesos-executor`: the command executor the agent runs for tasks that
//! carry a `CommandInfo` rather than an executor of their own.

fn main() -> std::process::ExitCode {
    mesos_executor::cli::main_entry()
}
