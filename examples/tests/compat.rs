//! Real third-party Mesos clients (../shared/compat: the pesos v0 driver,
//! mesos-cli and nagios-mesos, each proven against a real Mesos 1.11
//! master) run unchanged against `mesos-local`. The first run installs
//! their pinned packages from PyPI.

mod support;

use std::path::PathBuf;

use support::{run, Local};

/// `../shared/compat/run`, beside the repository.
fn compat_run() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/compat/run");
    assert!(path.exists(), "{} is missing", path.display());
    path.display().to_string()
}

fn assert_ok(output: &std::process::Output, summary: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(summary),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status.code()
    );
}

#[test]
fn pesos_v0_driver_runs_tasks_and_endpoint_readers_pass() {
    let local = Local::start(1);
    let v0 = run(
        "bash",
        &[
            compat_run(),
            "v0".into(),
            "--master".into(),
            local.address.clone(),
            "--tasks".into(),
            "20".into(),
            "--timeout".into(),
            "60".into(),
        ],
    );
    assert_ok(&v0, "result=OK");

    // With the pesos framework's tasks done, the readers have sandboxes to
    // browse and read.
    let endpoints = run(
        "bash",
        &[compat_run(), "endpoints".into(), local.address.clone()],
    );
    assert_ok(&endpoints, "not_ok=0");
}

#[test]
fn pymesos_v1_http_scheduler_runs_tasks() {
    let local = Local::start(1);
    let v1 = run(
        "bash",
        &[
            compat_run(),
            "v1".into(),
            "--master".into(),
            local.address.clone(),
            "--tasks".into(),
            "20".into(),
            "--timeout".into(),
            "60".into(),
        ],
    );
    assert_ok(&v1, "result=OK");

    // The framework tore itself down: the master lists it as completed,
    // with its twenty finished tasks.
    let state = local.state();
    let framework = state["completed_frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "pymesos-v1-anchor")
        .unwrap_or_else(|| panic!("a completed pymesos framework: {state}"));
    let tasks = framework["completed_tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 20, "{framework}");
    assert!(
        tasks.iter().all(|t| t["state"] == "TASK_FINISHED"),
        "{framework}"
    );
}
