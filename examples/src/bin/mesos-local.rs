//! `mesos-local`: starts a master and agents in one process on
//! 127.0.0.1:5050 (by default) and runs until Ctrl-C. Invoked through a
//! link named `mesos-executor` (the agents' launcher link), it is the
//! command executor; named `mesos-master` or `mesos-agent`, it is that
//! binary, so `cargo run --bin mesos-local` alone builds a whole cluster.

use std::process::ExitCode;

use mesos_examples::local::{flags, LocalCluster, LocalConfig};

fn main() -> ExitCode {
    let invoked_as = std::env::args()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    match invoked_as.as_str() {
        "mesos-executor" => return mesos_executor::cli::main_entry(),
        "mesos-master" => return mesos_master::cli::main_entry(),
        "mesos-agent" | "mesos-slave" => return mesos_agent::cli::main_entry(),
        _ => {}
    }

    libprocess::builtin::init_logging(tracing::Level::WARN);
    let set = flags();
    let loaded = set.load_or_exit();
    let config = match LocalConfig::from_flags(&loaded) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("mesos-local: {error}");
            return ExitCode::FAILURE;
        }
    };
    let executor = match std::env::current_exe() {
        Ok(path) => path,
        Err(error) => {
            eprintln!("mesos-local: cannot find its own binary: {error}");
            return ExitCode::FAILURE;
        }
    };
    let cluster = match LocalCluster::start(&config, &executor) {
        Ok(cluster) => cluster,
        Err(error) => {
            eprintln!("mesos-local: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = cluster.runtime.address();
    println!(
        "mesos-local: master@{address} with {} agent(s); state under {}",
        cluster.agents.len(),
        cluster.work_dir.display()
    );
    println!("Web UI and API: http://{address}/  (e.g. http://{address}/master/state)");
    println!("Run the test framework against it:");
    println!("  cargo run --release --bin test-framework -- --master={address} --tasks=10");
    println!("Ctrl-C stops the cluster.");

    wait_for_signal();
    println!("mesos-local: shutting down");
    cluster.shutdown();
    ExitCode::SUCCESS
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_signal() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mesos-local: cannot wait for signals: {error}");
            return;
        }
    };
    runtime.block_on(async {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    });
}
