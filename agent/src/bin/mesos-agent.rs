//! `mesos-agent`: the Mesos agent.

fn main() -> std::process::ExitCode {
    mesos_agent::cli::main_entry()
}
