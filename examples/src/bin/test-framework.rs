//! `test-framework`: runs `--tasks` command tasks; exits 0 only when all
//! finished. See `mesos_examples::test_framework`.

use mesos_examples::framework::{load_or_exit, EXAMPLE_ENV_PREFIX};
use mesos_examples::test_framework::{flags, run, TestFrameworkConfig};

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let flags = load_or_exit(&flags(), Some(EXAMPLE_ENV_PREFIX));
    let summary = TestFrameworkConfig::from_flags(&flags).and_then(|config| run(config, None));
    match summary {
        Ok(summary) => {
            print!("{summary}");
            std::process::exit(if summary.succeeded() { 0 } else { 1 });
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
