//! `mesos-slave`: the agent under its older name.

fn main() -> std::process::ExitCode {
    mesos_agent::cli::main_entry()
}
