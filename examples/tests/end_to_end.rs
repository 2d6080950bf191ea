//! The quick start as a user runs it: `mesos-local` as its own OS process,
//! then `test-framework` and `mesos-execute` against it, then a look at
//! `/master/state`.

mod support;

use support::{run, Local};

/// Every task of every (active or completed) framework named `name`.
fn tasks_of(state: &serde_json::Value, name: &str) -> Vec<serde_json::Value> {
    let mut tasks = Vec::new();
    for key in ["frameworks", "completed_frameworks"] {
        for framework in state[key].as_array().unwrap() {
            if framework["name"] == name {
                for list in ["tasks", "completed_tasks"] {
                    tasks.extend(framework[list].as_array().unwrap().iter().cloned());
                }
            }
        }
    }
    tasks
}

#[test]
fn test_framework_and_mesos_execute_run_against_mesos_local() {
    let local = Local::start(2);
    let master = format!("--master={}", local.address);

    let framework = run(
        env!("CARGO_BIN_EXE_test-framework"),
        &[master.clone(), "--tasks=50".into()],
    );
    let stdout = String::from_utf8_lossy(&framework.stdout);
    assert!(
        framework.status.success(),
        "test-framework failed: {stdout}\n{}",
        String::from_utf8_lossy(&framework.stderr)
    );
    assert!(stdout.contains("50 of 50 tasks finished"), "{stdout}");

    let hello = run(
        env!("CARGO_BIN_EXE_mesos-execute"),
        &[
            master.clone(),
            "--name=hello".into(),
            "--command=echo hello from mesos-execute".into(),
            "--resources=cpus:0.1;mem:32".into(),
        ],
    );
    assert!(
        hello.status.success(),
        "{}",
        String::from_utf8_lossy(&hello.stderr)
    );

    let failing = run(
        env!("CARGO_BIN_EXE_mesos-execute"),
        &[
            master,
            "--name=fails".into(),
            "--command=exit 3".into(),
            "--resources=cpus:0.1;mem:32".into(),
        ],
    );
    assert_eq!(
        failing.status.code(),
        Some(3),
        "mesos-execute exits with the task's status"
    );

    let state = local.state();
    assert_eq!(state["activated_slaves"], 2.0);
    let tasks = tasks_of(&state, mesos_examples::test_framework::FRAMEWORK_NAME);
    assert_eq!(tasks.len(), 50, "{state}");
    assert!(
        tasks.iter().all(|t| t["state"] == "TASK_FINISHED"),
        "{tasks:?}"
    );
    let ids: std::collections::BTreeSet<&str> =
        tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 50, "no task launched twice");
    let hello = tasks_of(&state, mesos_examples::execute::FRAMEWORK_NAME);
    let states: Vec<&str> = hello.iter().map(|t| t["state"].as_str().unwrap()).collect();
    assert!(
        states.contains(&"TASK_FINISHED") && states.contains(&"TASK_FAILED"),
        "{states:?}"
    );
}

#[test]
fn killed_test_framework_fails_over_and_launches_no_task_twice() {
    let local = Local::start(1);
    let state_file = std::env::temp_dir().join(format!(
        "test-framework-failover-{}.json",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&state_file);
    let args = [
        format!("--master={}", local.address),
        "--tasks=20".to_string(),
        "--command=sleep 1".to_string(),
        "--failover_timeout=1mins".to_string(),
        format!("--state_file={}", state_file.display()),
    ];
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_test-framework"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it with SIGKILL once it has launched some tasks (its state file
    // records each launch before sending it).
    let deadline = std::time::Instant::now() + support::BOUND;
    loop {
        let launched = std::fs::read_to_string(&state_file)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|state| state["tasks"].as_object().map(|tasks| tasks.len()))
            .unwrap_or(0);
        if launched >= 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first instance launched tasks"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    first.kill().unwrap();
    first.wait().unwrap();

    // A new instance with the same state file fails over to the same
    // framework id, reconciles, and finishes the rest.
    let second = run(env!("CARGO_BIN_EXE_test-framework"), &args);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(stdout.contains("20 of 20 tasks finished"), "{stdout}");

    let state = local.state();
    let frameworks: Vec<&serde_json::Value> = ["frameworks", "completed_frameworks"]
        .iter()
        .flat_map(|key| state[*key].as_array().unwrap())
        .filter(|f| f["name"] == mesos_examples::test_framework::FRAMEWORK_NAME)
        .collect();
    assert_eq!(frameworks.len(), 1, "one framework across the failover");
    let tasks = tasks_of(&state, mesos_examples::test_framework::FRAMEWORK_NAME);
    let ids: std::collections::BTreeSet<&str> =
        tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(
        (tasks.len(), ids.len()),
        (20, 20),
        "no task launched twice: {tasks:?}"
    );
    assert!(
        tasks.iter().all(|t| t["state"] == "TASK_FINISHED"),
        "{tasks:?}"
    );
    let _ = std::fs::remove_file(&state_file);
}
