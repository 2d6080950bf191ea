//! The quick start as a user runs it: `mesos-local` as its own OS process,
//! then `test-framework` and `mesos-execute` against it, then a look at
//! `/master/state`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one program may take before the test fails.
const BOUND: Duration = Duration::from_secs(120);

/// `mesos-local` on a free port; killed when dropped.
struct Local {
    child: Child,
    address: String,
}

impl Local {
    fn start() -> Local {
        let work_dir = std::env::temp_dir().join(format!("mesos-local-e2e-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work_dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
            .args([
                "--port=0",
                "--num_agents=2",
                "--resources=cpus:4;mem:4096;disk:4096",
            ])
            .arg(format!("--work_dir={}", work_dir.display()))
            .stdout(Stdio::piped())
            .spawn()
            .expect("mesos-local starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(BOUND)
            .expect("mesos-local printed its address");
        // "mesos-local: master@127.0.0.1:PORT with N agent(s); ..."
        let address = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("master@"))
            .expect("the master's UPID in the first line")
            .to_string();
        Local { child, address }
    }

    fn state(&self) -> serde_json::Value {
        let body = ureq::get(&format!("http://{}/master/state", self.address))
            .timeout(BOUND)
            .call()
            .expect("/master/state answers")
            .into_string()
            .unwrap();
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a program to its end, failing the test after `BOUND`.
fn run(program: &str, args: &[String]) -> Output {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("program starts");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(BOUND)
        .unwrap_or_else(|_| panic!("{program} finished within {BOUND:?}"))
        .unwrap()
}

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
    let local = Local::start();
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
