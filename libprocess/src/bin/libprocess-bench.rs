//! Message throughput and round-trip latency of the runtime, in the shape
//! Mesos's libprocess was measured in: a server process answers each ping
//! with a pong; client processes each keep a window of pings in flight.
//!
//! `libprocess-bench` runs every scenario and prints a table.
//! `libprocess-bench server` only hosts the `pong` process (used by the
//! benchmark's cross-process runs and by the integration tests): it prints
//! `READY <upid>` and runs until its standard input closes.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libprocess::{Config, Context, Pid, Process, Reply, Response, Runtime, UPID};

/// A typed ping, for tests of protobuf messages.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Ping {
    /// Sequence number, echoed in the pong.
    #[prost(uint64, tag = "1")]
    pub seq: u64,
}

impl prost::Name for Ping {
    const NAME: &'static str = "Ping";
    const PACKAGE: &'static str = "libprocess.bench";
}

/// The answer to a `Ping`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Pong {
    /// The ping's sequence number.
    #[prost(uint64, tag = "1")]
    pub seq: u64,
}

impl prost::Name for Pong {
    const NAME: &'static str = "Pong";
    const PACKAGE: &'static str = "libprocess.bench";
}

/// Answers raw `ping` with `pong` (same body) and `Ping` with `Pong`.
#[derive(Default)]
struct PongServer {
    received: u64,
}

impl Process for PongServer {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install_raw("ping", |server, ctx, message| {
            server.received += 1;
            ctx.send_raw(&message.from, "pong", message.body);
        });
        ctx.install::<Ping, _>(|server, ctx, from, ping| {
            server.received += 1;
            ctx.send(from, &Pong { seq: ping.seq });
        });
        ctx.route(
            "/received",
            Some("How many pings arrived."),
            |server, _, _| Reply::Now(Response::ok("text/plain", server.received.to_string())),
        );
    }
}

fn serve() {
    if let Some(level) = std::env::var("BENCH_LOG").ok().and_then(|l| l.parse().ok()) {
        libprocess::builtin::init_logging(level);
    }
    let runtime =
        Runtime::start(Config::from_env().expect("LIBPROCESS_* settings")).expect("runtime starts");
    let pid = runtime
        .spawn("pong", PongServer::default())
        .expect("spawn pong");
    println!("READY {}", pid.upid());
    std::io::stdout().flush().ok();
    // Run until the parent closes our standard input (or kills us).
    let mut line = String::new();
    while std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        line.clear();
    }
    runtime.shutdown();
}

/// Keeps `window` pings in flight to `server`.
struct Client {
    server: UPID,
    window: usize,
    body: Bytes,
    completed: Arc<AtomicU64>,
    sent_at: VecDeque<Instant>,
    latencies: Option<Vec<Duration>>,
}

impl Client {
    fn ping(&mut self, ctx: &Context<Self>) {
        if self.latencies.is_some() {
            self.sent_at.push_back(Instant::now());
        }
        ctx.send_raw(&self.server, "ping", self.body.clone());
    }
}

impl Process for Client {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install_raw("pong", |client, ctx, _| {
            client.completed.fetch_add(1, Ordering::Relaxed);
            if let (Some(latencies), Some(sent)) =
                (client.latencies.as_mut(), client.sent_at.pop_front())
            {
                latencies.push(sent.elapsed());
            }
            client.ping(ctx);
        });
        for _ in 0..self.window {
            self.ping(ctx);
        }
    }
}

/// CPU time (user + system) the OS process `pid` has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the file; USER_HZ is 100 on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

struct Server {
    child: Option<Child>,
    pid: UPID,
    os_pid: u32,
}

fn start_server(runtime: &Runtime, cross_process: bool) -> Server {
    if !cross_process {
        let pid = runtime
            .spawn(&runtime.generate_id("pong"), PongServer::default())
            .expect("spawn pong");
        return Server {
            child: None,
            pid: pid.upid().clone(),
            os_pid: std::process::id(),
        };
    }
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server OS process");
    let stdout = child.stdout.take().expect("server stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server READY line");
    let pid: UPID = line
        .trim()
        .strip_prefix("READY ")
        .expect("READY <upid>")
        .parse()
        .expect("server upid");
    let os_pid = child.id();
    Server {
        child: Some(child),
        pid,
        os_pid,
    }
}

struct Figures {
    round_trips_per_sec: f64,
    client_cpu_us: f64,
    server_cpu_us: f64,
    latencies: Vec<Duration>,
}

fn run_scenario(
    runtime: &Runtime,
    server: &Server,
    clients: usize,
    window: usize,
    body: usize,
    measure: Duration,
    track_latency: bool,
) -> Figures {
    let completed = Arc::new(AtomicU64::new(0));
    let pids: Vec<Pid<Client>> = (0..clients)
        .map(|_| {
            runtime
                .spawn(
                    &runtime.generate_id("client"),
                    Client {
                        server: server.pid.clone(),
                        window,
                        body: Bytes::from(vec![b'x'; body]),
                        completed: completed.clone(),
                        sent_at: VecDeque::new(),
                        latencies: track_latency.then(Vec::new),
                    },
                )
                .expect("spawn client")
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300)); // warm-up
    let (count0, t0) = (completed.load(Ordering::Relaxed), Instant::now());
    let (client_cpu0, server_cpu0) = (cpu_time(std::process::id()), cpu_time(server.os_pid));
    std::thread::sleep(measure);
    let (count1, elapsed) = (completed.load(Ordering::Relaxed), t0.elapsed());
    let (client_cpu1, server_cpu1) = (cpu_time(std::process::id()), cpu_time(server.os_pid));
    let mut latencies = Vec::new();
    for pid in &pids {
        if let Ok(Some(mut l)) = runtime.block_on(pid.dispatch(|client, _| client.latencies.take()))
        {
            latencies.append(&mut l);
        }
        pid.terminate();
    }
    for pid in &pids {
        runtime.block_on(pid.terminated());
    }
    let round_trips = (count1 - count0) as f64;
    let per_rt = |cpu: Duration| {
        if round_trips > 0.0 {
            cpu.as_secs_f64() * 1e6 / round_trips
        } else {
            0.0
        }
    };
    let in_process = server.child.is_none();
    Figures {
        round_trips_per_sec: round_trips / elapsed.as_secs_f64(),
        client_cpu_us: per_rt(client_cpu1 - client_cpu0),
        server_cpu_us: if in_process {
            0.0
        } else {
            per_rt(server_cpu1 - server_cpu0)
        },
        latencies,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

fn bench() {
    let measure = Duration::from_secs_f64(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0),
    );
    let config = Config::from_env().expect("LIBPROCESS_* settings");
    let runtime = Runtime::start(config.clone()).expect("runtime starts");
    println!("libprocess ping-pong benchmark");
    println!("workload: a server process answers each ping with a pong; each client process keeps");
    println!(
        "a window of pings in flight over one persistent connection per peer; {:.1}s per row",
        measure.as_secs_f64()
    );
    println!(
        "machine: {} cores; {} worker threads per OS process",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        config.worker_threads
    );
    println!();
    println!(
        "{:<14} {:>6} {:>8} {:>7} {:>14} {:>12} {:>16} {:>16}",
        "transport",
        "body",
        "clients",
        "window",
        "round-trips/s",
        "messages/s",
        "cpu us/rt client",
        "cpu us/rt server"
    );
    for cross_process in [true, false] {
        let server = start_server(&runtime, cross_process);
        for body in [10usize, 1024] {
            let client_counts: Vec<usize> = std::env::var("BENCH_CLIENTS")
                .ok()
                .map(|s| s.split(',').filter_map(|c| c.parse().ok()).collect())
                .unwrap_or_else(|| vec![1, 10, 100]);
            for &clients in &client_counts {
                let f = run_scenario(&runtime, &server, clients, 100, body, measure, false);
                let transport = if cross_process {
                    "cross-process"
                } else {
                    "in-process"
                };
                let body = if body == 10 {
                    "10B".to_string()
                } else {
                    "1KiB".to_string()
                };
                let server_cpu = if cross_process {
                    format!("{:.1}", f.server_cpu_us)
                } else {
                    "(same)".into()
                };
                println!(
                    "{:<14} {:>6} {:>8} {:>7} {:>14.0} {:>12.0} {:>16.1} {:>16}",
                    transport,
                    body,
                    clients,
                    100,
                    f.round_trips_per_sec,
                    f.round_trips_per_sec * 2.0,
                    f.client_cpu_us,
                    server_cpu
                );
            }
        }
        let mut f = run_scenario(&runtime, &server, 1, 1, 10, measure, true);
        f.latencies.sort();
        println!(
            "{:<14} unloaded round trip (window 1, 10B, {} samples): p50 {:.0} us, p90 {:.0} us, p99 {:.0} us",
            if cross_process { "cross-process" } else { "in-process" },
            f.latencies.len(),
            percentile(&f.latencies, 0.5),
            percentile(&f.latencies, 0.9),
            percentile(&f.latencies, 0.99)
        );
        if let Some(mut child) = server.child {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
    runtime.shutdown();
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("server") => serve(),
        None | Some("run") => bench(),
        Some(other) => {
            eprintln!("unknown mode '{other}': use 'server' or no argument");
            std::process::exit(2);
        }
    }
}
