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
        Local::start_with(agents, "cpus:4;mem:4096;disk:4096")
    }

    /// Starts `mesos-local` with `agents` agents of `resources` each.
    pub fn start_with(agents: u32, resources: &str) -> Local {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let work_dir =
            std::env::temp_dir().join(format!("mesos-local-e2e-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work_dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
            .arg("--port=0")
            .arg(format!("--resources={resources}"))
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
        let all_in = local.wait_for(BOUND, |state| {
            state["activated_slaves"].as_f64() == Some(f64::from(agents))
        });
        assert!(all_in, "{agents} agent(s) registered in time");
        local
    }

    /// How many tasks the framework named `name` has RUNNING, as
    /// `/master/state` says.
    pub fn running(&self, state: &serde_json::Value, name: &str) -> usize {
        state["frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["name"] == name)
            .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
            .filter(|t| t["state"] == "TASK_RUNNING")
            .count()
    }

    /// Polls `/master/state` until `check` holds of it, up to `within`.
    pub fn wait_for(
        &self,
        within: Duration,
        mut check: impl FnMut(&serde_json::Value) -> bool,
    ) -> bool {
        poll(within, || check(&self.state()).then_some(())).is_some()
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

/// A master and an agent as two OS processes, each on a port of its own,
/// run through links to `mesos-local` named `mesos-master`,
/// `mesos-agent` and (the agent's launcher) `mesos-executor`; killed when
/// dropped.
pub struct SeparateCluster {
    pub master: Child,
    pub agent: Child,
    pub address: String,
}

impl SeparateCluster {
    /// Starts the master, then one agent of `resources`, and waits until
    /// the agent is registered.
    pub fn start(resources: &str) -> SeparateCluster {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mesos-separate-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for name in ["mesos-master", "mesos-agent", "mesos-executor"] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mesos-local"), bin.join(name)).unwrap();
        }
        let master_port = free_port();
        let address = format!("127.0.0.1:{master_port}");
        let master = Command::new(bin.join("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={master_port}"))
            .arg(format!("--work_dir={}", dir.join("master").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mesos-master starts");
        let agent = Command::new(bin.join("mesos-agent"))
            .arg(format!("--master={address}"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", free_port()))
            .arg(format!("--work_dir={}", dir.join("agent").display()))
            .arg(format!("--launcher_dir={}", bin.display()))
            .arg(format!("--resources={resources}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mesos-agent starts");
        let cluster = SeparateCluster {
            master,
            agent,
            address,
        };
        let registered = poll(BOUND, || {
            master_state(&cluster.address)
                .filter(|state| state["activated_slaves"].as_f64() == Some(1.0))
        });
        assert!(
            registered.is_some(),
            "the agent registered with the master in time"
        );
        cluster
    }
}

/// Calls `probe` every 20 ms until it gives something, for at most
/// `within`: what it gave, or `None` when time ran out.
pub fn poll<T>(within: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for SeparateCluster {
    fn drop(&mut self) {
        for child in [&mut self.agent, &mut self.master] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `/master/state` of the master at `address`, or None while it does not
/// answer yet.
pub fn master_state(address: &str) -> Option<serde_json::Value> {
    let body = ureq::get(&format!("http://{address}/master/state"))
        .timeout(Duration::from_secs(10))
        .call()
        .ok()?
        .into_string()
        .ok()?;
    serde_json::from_str(&body).ok()
}

/// The tasks the agents of the master at `address` list in their
/// `/slave(1)/state` (running or done), by id.
pub fn agents_tasks(address: &str) -> Vec<String> {
    let Some(state) = master_state(address) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for agent in state["slaves"].as_array().into_iter().flatten() {
        let Some(at) = agent["pid"].as_str().and_then(|p| p.split('@').nth(1)) else {
            continue;
        };
        let Ok(response) = ureq::get(&format!("http://{at}/slave(1)/state"))
            .timeout(Duration::from_secs(10))
            .call()
        else {
            continue;
        };
        let Ok(body) = response.into_string() else {
            continue;
        };
        let Ok(agent_state) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue;
        };
        for key in ["frameworks", "completed_frameworks"] {
            for framework in agent_state[key].as_array().into_iter().flatten() {
                for executors in ["executors", "completed_executors"] {
                    for executor in framework[executors].as_array().into_iter().flatten() {
                        for tasks in ["tasks", "queued_tasks", "completed_tasks"] {
                            for task in executor[tasks].as_array().into_iter().flatten() {
                                if let Some(id) = task["id"].as_str() {
                                    ids.push(id.to_string());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    ids
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
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
