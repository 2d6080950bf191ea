//! What the end-to-end tests share: `mesos-local` as its own OS process,
//! and running a program to its end with a bound.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one program may take before the test fails.
pub const BOUND: Duration = Duration::from_secs(300);

/// `mesos-local` on a free port; killed when dropped.
pub struct Local {
    pub child: Child,
    pub address: String,
}

impl Local {
    /// Starts `mesos-local` with `agents` agents, in a work directory of
    /// its own.
    pub fn start(agents: u32) -> Local {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let work_dir =
            std::env::temp_dir().join(format!("mesos-local-e2e-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work_dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
            .args(["--port=0", "--resources=cpus:4;mem:4096;disk:4096"])
            .arg(format!("--num_agents={agents}"))
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
        let local = Local { child, address };
        // Agents register after a random backoff: wait until all are in.
        let deadline = std::time::Instant::now() + BOUND;
        while local.state()["activated_slaves"].as_f64() != Some(f64::from(agents)) {
            assert!(
                std::time::Instant::now() < deadline,
                "{agents} agent(s) registered in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        local
    }

    pub fn state(&self) -> serde_json::Value {
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
pub fn run(program: &str, args: &[String]) -> Output {
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
