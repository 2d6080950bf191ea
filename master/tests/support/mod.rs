//! An in-process cluster for the master's integration tests: a master in
//! its own runtime, and test agents and schedulers (each in a runtime of
//! its own, as on separate hosts) that speak the real message protocol
//! over loopback and report every message they receive.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc;
use std::time::Duration;

use libprocess::{Config, Context, Message, Pid, Process, Runtime, UPID};
use mesos_master::flags::MasterFlags;
use mesos_master::{MasterHandle, MasterOptions};
use mesos_proto::internal::{PingSlaveMessage, PongSlaveMessage};
use prost::Name;
use serde_json::Value;

/// How long a test waits for an event before failing.
pub const BOUND: Duration = Duration::from_secs(10);

fn config() -> Config {
    Config {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        worker_threads: 1,
        ..Config::default()
    }
}

/// A master in a runtime of its own.
pub struct TestMaster {
    pub runtime: Runtime,
    pub handle: MasterHandle,
}

impl TestMaster {
    /// Starts a master with `flags`.
    pub fn start(flags: MasterFlags) -> TestMaster {
        let runtime = Runtime::start(config()).expect("master runtime starts");
        let handle = MasterHandle::start(&runtime, MasterOptions { flags }).expect("master starts");
        TestMaster { runtime, handle }
    }

    /// Starts a master with flags parsed from `args` (`--name=value`).
    pub fn with_args(args: &[&str]) -> TestMaster {
        let argv = std::iter::once("mesos-master").chain(args.iter().copied());
        let flags = mesos_master::flags::flag_set()
            .load(None, argv, std::iter::empty())
            .expect("valid flags");
        TestMaster::start(MasterFlags::from_flags(&flags).expect("valid flags"))
    }

    pub fn upid(&self) -> UPID {
        self.handle.upid().clone()
    }

    /// GET `path` on the master; status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http(&self.runtime, "GET", path, "")
    }

    /// GET `path` as JSON.
    pub fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    /// `/master/state` without the fields that change by themselves.
    pub fn stable_state(&self) -> Value {
        let mut state = self.json("/master/state");
        if let Some(o) = state.as_object_mut() {
            o.remove("elected_time");
            o.remove("start_time");
        }
        state
    }

    /// A waiter for the next message of type `M` to reach the master
    /// (install it before sending).
    pub fn next_message<M: Name + 'static>(&self) -> tokio::sync::oneshot::Receiver<Message> {
        self.runtime
            .filters()
            .future(libprocess::testing::Match::protobuf::<M>())
    }

    /// Waits (bounded) until `waiter`'s message reached the master, then
    /// until the master has handled it.
    pub fn handled(&self, waiter: tokio::sync::oneshot::Receiver<Message>) {
        self.runtime
            .block_on(async move { tokio::time::timeout(BOUND, waiter).await })
            .expect("message reached the master in time")
            .expect("waiter alive");
        self.settle();
    }

    /// Runs `f` in the master after everything queued before it; a
    /// barrier for "the master has handled what I sent".
    pub fn settle(&self) {
        let pid = self.handle.pid().clone();
        self.runtime.block_on(async move {
            let _ = pid.dispatch(|_, _| ()).await;
        });
    }

    /// Reads the master's state with `f`.
    pub fn inspect<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mesos_master::Master) -> R + Send + 'static,
    ) -> R {
        let pid = self.handle.pid().clone();
        self.runtime
            .block_on(async move { pid.dispatch(move |m, _| f(m)).await })
            .expect("master alive")
    }
}

impl Drop for TestMaster {
    fn drop(&mut self) {
        self.runtime.shutdown();
    }
}

/// A plain HTTP request to `runtime`'s listener.
pub fn http(runtime: &Runtime, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(runtime.bound_address()).expect("connect");
    stream.set_read_timeout(Some(BOUND)).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    (status, body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n..];
        rest = rest.strip_prefix("\r\n").unwrap_or(rest);
    }
    out
}

/// A process that reports every message it gets (and, as an agent,
/// answers pings unless told not to).
pub struct Probe {
    tx: mpsc::Sender<Message>,
    answer_pings: bool,
}

impl Process for Probe {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install_raw(PingSlaveMessage::full_name(), |probe, ctx, message| {
            if probe.answer_pings {
                ctx.send(&message.from, &PongSlaveMessage {});
            }
            let _ = probe.tx.send(message);
        });
    }

    fn unhandled(&mut self, _ctx: &mut Context<Self>, message: Message) {
        let _ = self.tx.send(message);
    }
}

/// A test peer (framework or agent) in a runtime of its own.
pub struct Peer {
    pub runtime: Runtime,
    pub pid: Pid<Probe>,
    rx: mpsc::Receiver<Message>,
}

impl Peer {
    /// A peer whose process is `id` (`scheduler-1`, `slave(1)`).
    pub fn start(id: &str) -> Peer {
        let runtime = Runtime::start(config()).expect("peer runtime starts");
        let (tx, rx) = mpsc::channel();
        let pid = runtime
            .spawn(
                id,
                Probe {
                    tx,
                    answer_pings: true,
                },
            )
            .expect("probe spawns");
        Peer { runtime, pid, rx }
    }

    pub fn upid(&self) -> UPID {
        self.pid.upid().clone()
    }

    /// Stops answering pings (a hung agent).
    pub fn stop_answering_pings(&self) {
        let pid = self.pid.clone();
        self.runtime.block_on(async move {
            let _ = pid.dispatch(|p, _| p.answer_pings = false).await;
        });
    }

    /// Sends `message` to `to` from this peer's process.
    pub fn send<M: prost::Message + Name + Clone + Send + 'static>(&self, to: &UPID, message: &M) {
        let (to, message) = (to.clone(), message.clone());
        self.pid.post(move |_, ctx| ctx.send(&to, &message));
    }

    /// Sends raw bytes as message `name`.
    pub fn send_raw(&self, to: &UPID, name: &str, body: Vec<u8>) {
        let (to, name) = (to.clone(), name.to_string());
        self.pid
            .post(move |_, ctx| ctx.send_raw(&to, name, bytes::Bytes::from(body)));
    }

    /// The next message of type `M`, skipping others (pings included);
    /// fails after `BOUND`.
    pub fn expect<M: prost::Message + Name + Default>(&self) -> M {
        self.expect_within(BOUND)
    }

    /// As `expect`, with a bound of its own.
    pub fn expect_within<M: prost::Message + Name + Default>(&self, bound: Duration) -> M {
        let name = M::full_name();
        let deadline = std::time::Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let message = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {name} within {bound:?}"));
            if *message.name == *name {
                return M::decode(message.body).expect("decodes");
            }
        }
    }

    /// Whether a message of type `M` arrives within `bound`.
    pub fn receives_within<M: prost::Message + Name + Default>(
        &self,
        bound: Duration,
    ) -> Option<M> {
        let name = M::full_name();
        let deadline = std::time::Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let message = self.rx.recv_timeout(left).ok()?;
            if *message.name == *name {
                return M::decode(message.body).ok();
            }
        }
    }

    /// Forgets messages received so far.
    pub fn drain(&self) {
        while self.rx.try_recv().is_ok() {}
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.runtime.shutdown();
    }
}
