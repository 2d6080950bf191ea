//! `long-running-framework`: keeps `--instances` copies of a command
//! running until killed. See `mesos_examples::long_running`.

use mesos_examples::framework::{load_or_exit, EXAMPLE_ENV_PREFIX};
use mesos_examples::long_running::{flags, LongRunning, LongRunningConfig};
use mesos_proto::mesos::Status;

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let flags = load_or_exit(&flags(), Some(EXAMPLE_ENV_PREFIX));
    let started =
        LongRunningConfig::from_flags(&flags).and_then(|config| LongRunning::start(config, None));
    match started {
        Ok(framework) => {
            let status = framework.join();
            if let Some(error) = framework.progress().error {
                eprintln!("{error}");
            }
            std::process::exit(if status == Status::DriverStopped {
                0
            } else {
                1
            });
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
