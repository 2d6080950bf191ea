//! Test support: a fake master speaking the real protocol, and an agent
//! run as its own OS process (so tests can `kill -9` it and restart it).
//!
//! `FakeMaster` is a libprocess process named `master` in a runtime of
//! its own: it answers `RegisterSlaveMessage`/`ReregisterSlaveMessage`,
//! acknowledges status updates (unless told not to), and lets the test
//! send `RunTaskMessage`, `KillTaskMessage` and the rest. `AgentProcess`
//! only needs a master address, so a real master can replace the fake.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use libprocess::{Config, Context, Message, Pid, Process, Runtime, UPID};
use mesos_proto::internal::{
    RegisterSlaveMessage, ReregisterSlaveMessage, SlaveRegisteredMessage, SlaveReregisteredMessage,
    StatusUpdate, StatusUpdateAcknowledgementMessage, StatusUpdateMessage,
};
use mesos_proto::mesos::SlaveId;
use prost::Message as _;

/// The fake master's process.
pub struct FakeMasterProcess {
    events: mpsc::Sender<Message>,
    auto_ack: Arc<AtomicBool>,
    agent_id: String,
    agents: Arc<Mutex<HashMap<String, UPID>>>,
}

impl FakeMasterProcess {
    fn register(&mut self, ctx: &mut Context<Self>, from: &UPID) {
        self.agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.agent_id.clone(), from.clone());
        ctx.send(
            from,
            &SlaveRegisteredMessage {
                slave_id: SlaveId {
                    value: self.agent_id.clone(),
                },
                connection: None,
            },
        );
    }

    fn reregister(&mut self, ctx: &mut Context<Self>, from: &UPID, m: &ReregisterSlaveMessage) {
        let id = m.slave.id.clone().unwrap_or_default();
        self.agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.value.clone(), from.clone());
        ctx.send(
            from,
            &SlaveReregisteredMessage {
                slave_id: id,
                reconciliations: Vec::new(),
                connection: None,
            },
        );
    }
}

impl Process for FakeMasterProcess {
    fn unhandled(&mut self, ctx: &mut Context<Self>, message: Message) {
        let name = message.name.clone();
        if *name == *"mesos.internal.RegisterSlaveMessage" {
            if RegisterSlaveMessage::decode(message.body.clone()).is_ok() {
                self.register(ctx, &message.from);
            }
        } else if *name == *"mesos.internal.ReregisterSlaveMessage" {
            if let Ok(m) = ReregisterSlaveMessage::decode(message.body.clone()) {
                self.reregister(ctx, &message.from, &m);
            }
        } else if *name == *"mesos.internal.StatusUpdateMessage"
            && self.auto_ack.load(Ordering::SeqCst)
        {
            if let Ok(m) = StatusUpdateMessage::decode(message.body.clone()) {
                let to = m
                    .pid
                    .as_deref()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(message.from.clone());
                ctx.send(&to, &acknowledgement(&m.update));
            }
        }
        let _ = self.events.send(message);
    }
}

/// The acknowledgement a framework sends for `update`.
pub fn acknowledgement(update: &StatusUpdate) -> StatusUpdateAcknowledgementMessage {
    StatusUpdateAcknowledgementMessage {
        slave_id: update.slave_id.clone().unwrap_or_default(),
        framework_id: update.framework_id.clone(),
        task_id: update.status.task_id.clone(),
        uuid: update.uuid.clone().unwrap_or_default(),
    }
}

/// A fake master on an ephemeral port of 127.0.0.1.
pub struct FakeMaster {
    /// Its runtime.
    pub runtime: Runtime,
    pid: Pid<FakeMasterProcess>,
    events: Mutex<mpsc::Receiver<Message>>,
    auto_ack: Arc<AtomicBool>,
    agents: Arc<Mutex<HashMap<String, UPID>>>,
}

impl FakeMaster {
    /// Starts a fake master that gives registering agents `agent_id`.
    pub fn start(agent_id: &str) -> FakeMaster {
        FakeMaster::start_on(agent_id, 0)
    }

    /// Same, on `port` (to restart a master at the same address).
    pub fn start_on(agent_id: &str, port: u16) -> FakeMaster {
        let config = Config {
            port,
            ..Config::default()
        };
        let runtime = Runtime::start(config).expect("fake master runtime starts");
        let (tx, rx) = mpsc::channel();
        let auto_ack = Arc::new(AtomicBool::new(true));
        let agents = Arc::new(Mutex::new(HashMap::new()));
        let pid = runtime
            .spawn(
                "master",
                FakeMasterProcess {
                    events: tx,
                    auto_ack: auto_ack.clone(),
                    agent_id: agent_id.to_string(),
                    agents: agents.clone(),
                },
            )
            .expect("fake master spawns");
        FakeMaster {
            runtime,
            pid,
            events: Mutex::new(rx),
            auto_ack,
            agents,
        }
    }

    /// The master's UPID (what `--master` gets).
    pub fn upid(&self) -> UPID {
        self.pid.upid().clone()
    }

    /// Whether status updates are acknowledged as they arrive.
    pub fn set_auto_ack(&self, on: bool) {
        self.auto_ack.store(on, Ordering::SeqCst);
    }

    /// The UPID of the agent registered under `id`.
    pub fn agent(&self, id: &str) -> Option<UPID> {
        self.agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// The next message named `name` (earlier ones of other names are
    /// skipped), within `within`.
    pub fn next(&self, name: &str, within: Duration) -> Option<Message> {
        let deadline = Instant::now() + within;
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = events.recv_timeout(left).ok()?;
            if *message.name == *name {
                return Some(message);
            }
        }
    }

    /// The next message of type `M`.
    pub fn next_message<M: prost::Message + prost::Name + Default>(
        &self,
        within: Duration,
    ) -> Option<(UPID, M)> {
        let m = self.next(&M::full_name(), within)?;
        let decoded = M::decode(m.body).ok()?;
        Some((m.from, decoded))
    }

    /// The next status update the agent forwarded.
    pub fn next_update(&self, within: Duration) -> Option<StatusUpdate> {
        self.next_message::<StatusUpdateMessage>(within)
            .map(|(_, m)| m.update)
    }

    /// Sends `message` from the master to `to`.
    pub fn send<M: prost::Message + prost::Name + Send + 'static>(&self, to: &UPID, message: M) {
        let to = to.clone();
        let _ = self
            .runtime
            .block_on(self.pid.dispatch(move |_, ctx| ctx.send(&to, &message)));
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.runtime.shutdown();
    }
}

/// The directory holding the `mesos-executor` binary of this build, built
/// on first use (`cargo build -p mesos-executor`, into the target directory
/// the running test binary lives in).
pub fn launcher_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // target/<profile>/deps/<test binary>
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary inside target/<profile>/deps")
            .to_path_buf();
        let target_dir = profile_dir.parent().expect("target dir").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-p", "mesos-executor", "--bin", "mesos-executor"])
            .env("CARGO_TARGET_DIR", &target_dir);
        if profile_dir.file_name().and_then(|n| n.to_str()) == Some("release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building mesos-executor failed");
        assert!(profile_dir.join("mesos-executor").exists());
        profile_dir
    })
    .clone()
}

/// An agent running as its own OS process.
pub struct AgentProcess {
    child: Option<Child>,
    work_dir: PathBuf,
    binary: PathBuf,
    args: Vec<String>,
    /// The agent's HTTP address (`127.0.0.1:<port>`).
    pub address: std::net::SocketAddr,
}

/// A free TCP port on 127.0.0.1, below the kernel's ephemeral range when
/// there is room: a test that restarts a process on the same port must
/// not find it taken by some outgoing connection in the meantime (the
/// kernel hands out ephemeral ports to those).
pub fn free_port() -> u16 {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    const LOWEST: u16 = 10000;
    if ephemeral_low > LOWEST + 1000 {
        for _ in 0..1000 {
            let offset =
                (uuid::Uuid::new_v4().as_u128() % u128::from(ephemeral_low - LOWEST)) as u16;
            let port = LOWEST + offset;
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl AgentProcess {
    /// Starts `binary` (the `mesos-agent` of this build) against `master`
    /// with `work_dir`, on a free port, plus `extra` flags.
    pub fn start(binary: &Path, master: &UPID, work_dir: &Path, extra: &[&str]) -> AgentProcess {
        let port = free_port();
        let mut args = vec![
            format!("--master={master}"),
            format!("--work_dir={}", work_dir.display()),
            "--ip=127.0.0.1".to_string(),
            format!("--port={port}"),
            format!("--launcher_dir={}", launcher_dir().display()),
            "--registration_backoff_factor=10ms".to_string(),
            "--resources=cpus:64;mem:65536;disk:10000;ports:[31000-32000]".to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut agent = AgentProcess {
            child: None,
            work_dir: work_dir.to_path_buf(),
            binary: binary.to_path_buf(),
            args,
            address: ([127, 0, 0, 1], port).into(),
        };
        agent.spawn();
        agent
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.binary)
            .args(&self.args)
            .env_remove("LIBPROCESS_IP")
            .env_remove("LIBPROCESS_PORT")
            .stdin(Stdio::null())
            .spawn()
            .expect("agent starts");
        self.child = Some(child);
    }

    /// The agent's UPID.
    pub fn upid(&self) -> UPID {
        UPID::new("slave(1)", self.address)
    }

    /// The agent's OS process id, while it runs (to stop or signal it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the agent with SIGKILL (its executors live on).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the agent again with the same flags (same port).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Whether the agent process has exited, and how.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// `GET` on the agent; the status and body.
    pub fn get(&self, path_and_query: &str) -> (u16, String) {
        http_get(&format!("http://{}{path_and_query}", self.address))
    }

    /// `/slave(1)/state` as JSON.
    pub fn state(&self) -> serde_json::Value {
        let (status, body) = self.get("/slave(1)/state");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("state is JSON")
    }
}

impl Drop for AgentProcess {
    /// Kills the agent and every process still running in its sandboxes
    /// (executors of checkpointing frameworks outlive their agent).
    fn drop(&mut self) {
        self.kill();
        kill_sandbox_processes(&self.work_dir);
    }
}

/// Kills (with their trees) the processes whose working directory is
/// under `work_dir`: what a test's agent left running.
pub fn kill_sandbox_processes(work_dir: &Path) {
    let Ok(root) = work_dir.canonicalize() else {
        return;
    };
    for process in mesos_executor::os::processes() {
        let cwd = std::fs::read_link(format!("/proc/{}/cwd", process.pid));
        if cwd.is_ok_and(|cwd| cwd.starts_with(&root)) {
            mesos_executor::os::killtree(process.pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// A plain `GET`: status and body (errors as status 0).
pub fn http_get(url: &str) -> (u16, String) {
    match ureq::get(url).timeout(Duration::from_secs(10)).call() {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// Polls `check` every 20ms until it holds or `within` passes.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
