//! `mesos-execute`: runs one command as a task and exits with its result.
//! See `mesos_examples::execute`.

use mesos_examples::execute::{flags, run, ExecuteConfig};
use mesos_examples::framework::load_or_exit;

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let flags = load_or_exit(&flags(), None);
    match ExecuteConfig::from_flags(&flags).and_then(|config| run(config, None)) {
        Ok(outcome) => std::process::exit(outcome.exit_code()),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
