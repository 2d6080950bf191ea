//! The master under test: our `mesos-master` started as a child process
//! (or any master at `--master=host:port`, e.g. a real Mesos 1.11), what
//! the kernel says it uses (`/proc/<pid>` RSS and CPU time), and plain
//! HTTP requests to its endpoints.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libprocess::UPID;

/// Masters we started and have not reaped, killed if we are interrupted.
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Kills the masters we started when this process gets SIGINT or SIGTERM,
/// so an interrupted run leaves no master behind.
pub fn kill_children_on_signal() {
    std::thread::spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        let pids = CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for pid in pids {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
        std::process::exit(130);
    });
}

/// How the master under test is reached and, when we started it, run.
pub struct Target {
    address: SocketAddr,
    /// The master's process ID when we know it (for RSS and CPU).
    pid: Option<u32>,
    child: Option<Child>,
    launch: Option<Launch>,
}

/// How to start our master again (failover).
struct Launch {
    binary: PathBuf,
    args: Vec<String>,
    log: PathBuf,
}

impl Target {
    /// Starts `binary` on loopback `port` (a free one if `None`) with
    /// `--work_dir` (when given, else an in-memory registry) and `extra`
    /// flags, logging to `log`, and waits until it answers `/health`.
    pub fn start(
        binary: &Path,
        work_dir: Option<&Path>,
        port: Option<u16>,
        extra: &[String],
        log: &Path,
    ) -> Result<Target, String> {
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let mut args = vec!["--ip=127.0.0.1".to_string(), format!("--port={port}")];
        match work_dir {
            Some(dir) => args.push(format!("--work_dir={}", dir.display())),
            None => args.push("--registry=in_memory".to_string()),
        }
        args.extend(extra.iter().cloned());
        let mut target = Target {
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            pid: None,
            child: None,
            launch: Some(Launch {
                binary: binary.to_path_buf(),
                args,
                log: log.to_path_buf(),
            }),
        };
        target.launch()?;
        Ok(target)
    }

    /// A master someone else runs at `address` (`pid`: its process ID on
    /// this host, if known, for memory and CPU figures).
    pub fn external(address: SocketAddr, pid: Option<u32>) -> Target {
        Target {
            address,
            pid,
            child: None,
            launch: None,
        }
    }

    fn launch(&mut self) -> Result<(), String> {
        let Some(launch) = &self.launch else {
            return Err("the master was not started by the benchmark".into());
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log)
            .map_err(|e| format!("cannot open {}: {e}", launch.log.display()))?;
        let child = Command::new(&launch.binary)
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.binary.display()))?;
        self.pid = Some(child.id());
        CHILDREN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(child.id());
        self.child = Some(child);
        self.wait_healthy(Duration::from_secs(60))
    }

    /// Whether we can restart the master (we started it).
    pub fn restartable(&self) -> bool {
        self.launch.is_some()
    }

    /// Kills the master (SIGKILL: a crash) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            CHILDREN
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|pid| *pid != child.id());
        }
        self.pid = None;
    }

    /// Starts the master again with the same flags and port; returns how
    /// long until it answered `/health`.
    pub fn restart(&mut self) -> Result<Duration, String> {
        self.kill();
        let started = Instant::now();
        self.launch()?;
        Ok(started.elapsed())
    }

    fn wait_healthy(&mut self, bound: Duration) -> Result<(), String> {
        let deadline = Instant::now() + bound;
        loop {
            if let Ok((200, _)) = self.get("/master/health", Duration::from_secs(1)) {
                return Ok(());
            }
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("the master exited at start: {status}"));
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the master at {} did not answer /health",
                    self.address
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The master's UPID.
    pub fn upid(&self) -> UPID {
        UPID::new("master", self.address)
    }

    /// The master's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The master's OS process ID, if known.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The master's resident memory in bytes.
    pub fn rss(&self) -> Option<u64> {
        rss_of(&self.pid?.to_string())
    }

    /// The master's CPU time so far (user + system).
    pub fn cpu(&self) -> Option<Duration> {
        cpu_of(&self.pid?.to_string())
    }

    /// `GET path` with a bound; status and body.
    pub fn get(&self, path: &str, bound: Duration) -> Result<(u16, Vec<u8>), String> {
        http_get(self.address, path, bound)
    }

    /// `GET path` as JSON (status 200 required).
    pub fn json(&self, path: &str) -> Result<serde_json::Value, String> {
        let (status, body) = self.get(path, Duration::from_secs(60))?;
        if status != 200 {
            return Err(format!("GET {path}: status {status}"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("GET {path}: bad JSON: {e}"))
    }

    /// The master's processes with queued events (`/__processes__`),
    /// longest queue first.
    pub fn queues(&self) -> Vec<Queue> {
        let Ok(serde_json::Value::Array(processes)) = self.json("/__processes__") else {
            return Vec::new();
        };
        let mut queues: Vec<Queue> = processes
            .iter()
            .filter_map(|p| {
                let id = p.get("id")?.as_str()?.to_string();
                let events = p.get("events")?.as_array()?;
                if events.is_empty() {
                    return None;
                }
                let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
                for event in events {
                    let kind = event
                        .get("name")
                        .or_else(|| event.get("type"))
                        .and_then(|v| v.as_str())
                        .unwrap_or("?");
                    let kind = kind.rsplit('.').next().unwrap_or(kind);
                    *kinds.entry(kind.to_string()).or_default() += 1;
                }
                let mut kinds: Vec<(String, usize)> = kinds.into_iter().collect();
                kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
                Some(Queue {
                    id,
                    len: events.len(),
                    kinds,
                })
            })
            .collect();
        queues.sort_by_key(|q| std::cmp::Reverse(q.len));
        queues
    }
}

/// One process's queued events, by kind (message name, or DISPATCH,
/// HTTP, ...).
pub struct Queue {
    pub id: String,
    pub len: usize,
    pub kinds: Vec<(String, usize)>,
}

impl std::fmt::Display for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self
            .kinds
            .iter()
            .take(4)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        write!(f, "{}: {} events ({})", self.id, self.len, kinds.join(", "))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// VmRSS of process `pid` (`self` for ours), in bytes.
pub fn rss_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// User + system CPU time of process `pid` (`self` for ours).
pub fn cpu_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parens.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, in clock
    // ticks of USER_HZ, which is 100 on Linux.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Connects to `address` and sends a GET of `path` with `Connection:
/// close` (and `Accept-Encoding: gzip` if `gzip`); the answer is read
/// until the server closes.
fn send_get(
    address: SocketAddr,
    path: &str,
    bound: Duration,
    gzip: bool,
) -> Result<TcpStream, String> {
    let mut stream =
        TcpStream::connect_timeout(&address, bound).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(bound))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAccept: application/json\r\n{}\r\n",
        if gzip { "Accept-Encoding: gzip\r\n" } else { "" }
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    Ok(stream)
}

/// A GET as a poller that throws the body away makes it (`curl -o
/// /dev/null`): read into `buffer`, reused from one request to the next,
/// so that the poller costs the machine as little as it can; with
/// `gzip`, it accepts a compressed body (and does not decompress it). The
/// status and the response's size (headers included).
pub fn http_fetch(
    address: SocketAddr,
    path: &str,
    bound: Duration,
    buffer: &mut [u8],
    gzip: bool,
) -> Result<(u16, usize), String> {
    let mut stream = send_get(address, path, bound, gzip)?;
    let mut status = None;
    let mut total = 0;
    loop {
        let n = stream.read(buffer).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            break;
        }
        if status.is_none() {
            // "HTTP/1.1 200 OK": the status is in the first read.
            status = std::str::from_utf8(&buffer[..n.min(16)])
                .ok()
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|code| code.parse().ok());
        }
        total += n;
    }
    Ok((status.ok_or("no status in the response")?, total))
}

/// A plain HTTP/1.1 GET with `Connection: close`; status and (de-chunked)
/// body.
pub fn http_get(
    address: SocketAddr,
    path: &str,
    bound: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let mut stream = send_get(address, path, bound, false)?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers in the response")?;
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = &response[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status in the response")?;
    if head.contains("transfer-encoding: chunked") {
        Ok((status, dechunk(body)?))
    } else {
        Ok((status, body.to_vec()))
    }
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunked body")?;
        let size = std::str::from_utf8(&body[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .ok_or("bad chunk size")?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_plain_responses_parse() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (200, b"abcde".to_vec()));
        let plain = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
        assert_eq!(parse_response(plain).unwrap(), (404, b"no".to_vec()));
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn our_own_rss_and_cpu_are_readable() {
        assert!(rss_of("self").unwrap() > 0);
        assert!(cpu_of("self").is_some());
    }
}
