//! Real third-party Mesos clients (../shared/compat: the pesos v0 driver,
//! mesos-cli and nagios-mesos, each proven against a real Mesos 1.11
//! master) run unchanged against `mesos-local`. The first run installs
//! their pinned packages from PyPI.

mod support;

use std::path::PathBuf;

use support::{run, Local, SeparateCluster};

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
    // browse and read: the agent lists all 20 (the readers find a task's
    // sandbox through the agent's state).
    let mut listed = Vec::new();
    support::poll(support::BOUND, || {
        listed = support::agents_tasks(&local.address);
        (listed.len() >= 20).then_some(())
    });
    assert_eq!(listed.len(), 20, "the agent lists the 20 tasks: {listed:?}");
    let endpoints = run(
        "bash",
        &[compat_run(), "endpoints".into(), local.address.clone()],
    );
    assert_ok(&endpoints, "not_ok=0");
}

#[test]
fn pesos_v0_driver_runs_tasks_on_a_separate_master_and_agent() {
    let cluster = SeparateCluster::start("cpus:4;mem:4096;disk:4096");
    let v0 = run(
        "bash",
        &[
            compat_run(),
            "v0".into(),
            "--master".into(),
            cluster.address.clone(),
            "--tasks".into(),
            "20".into(),
            "--timeout".into(),
            "60".into(),
        ],
    );
    assert_ok(&v0, "result=OK");
    let state = support::master_state(&cluster.address).expect("/master/state answers");
    let framework = state["completed_frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == "pesos-v0-anchor")
        .unwrap_or_else(|| panic!("a completed pesos framework: {state}"));
    let finished = framework["completed_tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["state"] == "TASK_FINISHED")
        .count();
    assert_eq!(finished, 20, "{framework}");
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

/// Our Rust driver and the pesos v0 driver on one cluster of four one-cpu
/// agents, both wanting more than their half: our framework takes the
/// idle cluster, and as its tasks end the master's DRF allocator hands
/// the agents to pesos (holding nothing) until each holds two.
#[test]
fn rust_and_pesos_drivers_share_a_cluster_by_drf() {
    const OURS: &str = "Test Framework (Rust)";
    const PESOS: &str = "pesos-v0-anchor";
    let local = Local::start_with(4, "cpus:1;mem:1024;disk:1024");
    let task = ["--cpus", "1", "--mem", "128", "--command", "sleep 2"];

    let master = format!("--master={}", local.address);
    let mut args = vec![master, "--tasks=12".to_string()];
    args.extend(task.chunks(2).map(|kv| format!("{}={}", kv[0], kv[1])));
    let ours = std::thread::spawn(move || run(env!("CARGO_BIN_EXE_test-framework"), &args));
    assert!(
        local.wait_for(support::BOUND, |s| local.running(s, OURS) == 4),
        "our framework took all four agents"
    );

    let mut args = vec![
        compat_run(),
        "v0".into(),
        "--master".into(),
        local.address.clone(),
        "--tasks".into(),
        "12".into(),
        "--timeout".into(),
        "120".into(),
    ];
    args.extend(task.iter().map(|s| s.to_string()));
    let pesos = std::thread::spawn(move || run("bash", &args));

    let mut seen = Vec::new();
    let split = local.wait_for(support::BOUND, |s| {
        let now = (local.running(s, OURS), local.running(s, PESOS));
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        now == (2, 2)
    });
    assert!(split, "a 2:2 split; (ours, pesos) running went {seen:?}");

    let ours = ours.join().expect("our framework's thread");
    assert!(
        ours.status.success()
            && String::from_utf8_lossy(&ours.stdout).contains("12 of 12 tasks finished"),
        "{}\n{}",
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&ours.stderr)
    );
    assert_ok(&pesos.join().expect("pesos's thread"), "result=OK");
}
