//! What the libprocess integration tests share: a peer OS process hosting
//! a `pong` process, and a `Probe` process that reports what it receives.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use libprocess::{Config, Context, Message, Pid, Process, Runtime, UPID};

/// How long a test waits for an event before failing.
pub const BOUND: Duration = Duration::from_secs(10);

/// A typed ping, the same schema as the peer's (`libprocess.bench.Ping`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Ping {
    #[prost(uint64, tag = "1")]
    pub seq: u64,
}

impl prost::Name for Ping {
    const NAME: &'static str = "Ping";
    const PACKAGE: &'static str = "libprocess.bench";
}

/// The peer's answer to a `Ping`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Pong {
    #[prost(uint64, tag = "1")]
    pub seq: u64,
}

impl prost::Name for Pong {
    const NAME: &'static str = "Pong";
    const PACKAGE: &'static str = "libprocess.bench";
}

/// Another OS process hosting `pong` (answers raw `ping` with `pong`, and
/// `Ping` with `Pong`). Killed when dropped.
pub struct Peer {
    pub child: Child,
    pub pong: UPID,
}

impl Peer {
    pub fn start() -> Peer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_libprocess-bench"))
            .arg("server")
            .env("LIBPROCESS_IP", "127.0.0.1")
            .env_remove("LIBPROCESS_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("peer starts");
        let stdout = child.stdout.take().expect("peer stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(BOUND).expect("peer printed READY in time");
        let pong = line
            .trim()
            .strip_prefix("READY ")
            .expect("READY <upid>")
            .parse()
            .expect("peer upid");
        Peer { child, pong }
    }

    pub fn address(&self) -> SocketAddr {
        self.pong.address()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address(), path)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a probe saw.
#[derive(Debug)]
pub enum Seen {
    Message(Message),
    Pong(Pong),
    Exited(UPID),
}

/// Reports every message named in `names`, every typed `Pong`, and every
/// `exited`.
pub struct Probe {
    pub names: Vec<&'static str>,
    pub seen: mpsc::Sender<Seen>,
}

impl Process for Probe {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        for name in self.names.clone() {
            ctx.install_raw(name, |probe, _, message| {
                let _ = probe.seen.send(Seen::Message(message));
            });
        }
        ctx.install::<Pong, _>(|probe, _, _, pong| {
            let _ = probe.seen.send(Seen::Pong(pong));
        });
    }

    fn exited(&mut self, _: &mut Context<Self>, pid: &UPID) {
        let _ = self.seen.send(Seen::Exited(pid.clone()));
    }
}

/// A runtime on loopback with an ephemeral port.
pub fn runtime() -> Runtime {
    runtime_with(Config::default())
}

pub fn runtime_with(config: Config) -> Runtime {
    Runtime::start(Config {
        ip: "127.0.0.1".parse().unwrap(),
        ..config
    })
    .expect("runtime starts")
}

/// Spawns a probe for `names`; returns its handle and what it sees.
pub fn probe(
    runtime: &Runtime,
    id: &str,
    names: &[&'static str],
) -> (Pid<Probe>, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let pid = runtime
        .spawn(
            id,
            Probe {
                names: names.to_vec(),
                seen: tx,
            },
        )
        .expect("probe spawns");
    (pid, rx)
}

/// The next thing the probe saw, failing the test after `BOUND`.
pub fn next(seen: &mpsc::Receiver<Seen>) -> Seen {
    seen.recv_timeout(BOUND)
        .expect("the probe saw something in time")
}

/// Sends raw bytes on a fresh connection and returns it.
pub fn raw(address: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(BOUND)).unwrap();
    stream.write_all(bytes).expect("write");
    stream
}

/// Reads from `stream` until `count` HTTP response heads have arrived (or
/// the bound passes); returns everything read.
pub fn read_responses(stream: &mut TcpStream, count: usize) -> String {
    let mut text = String::new();
    let mut buffer = [0u8; 4096];
    while text.matches("HTTP/1.").count() < count {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
    text
}

/// GET `url`, returning the status and body, whatever the status.
pub fn get(url: &str) -> (u16, String) {
    match ureq::get(url).timeout(BOUND).call() {
        Ok(response) => (
            response.status(),
            response.into_string().unwrap_or_default(),
        ),
        Err(ureq::Error::Status(status, response)) => {
            (status, response.into_string().unwrap_or_default())
        }
        Err(error) => panic!("GET {url} failed: {error}"),
    }
}
