//! Processes inside one runtime: spawning, dispatch, ordering, timers on a
//! paused clock, local links, the event listing, and the test hooks.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use libprocess::testing::Match;
use libprocess::{Context, Error, Process, Terminated};
use support::*;

/// Counts and records what it gets.
#[derive(Default)]
struct Counter {
    seen: Vec<u64>,
}

impl Process for Counter {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<Ping, _>(|counter, _, _, ping| counter.seen.push(ping.seq));
    }
}

#[test]
fn ids_are_unique_and_addressable() {
    let runtime = runtime();
    runtime.spawn("one", Counter::default()).unwrap();
    assert!(
        matches!(runtime.spawn("one", Counter::default()), Err(Error::DuplicateId(id)) if id == "one")
    );
    for bad in ["", "a/b", "a@b", "a b"] {
        assert!(
            matches!(
                runtime.spawn(bad, Counter::default()),
                Err(Error::InvalidId(_))
            ),
            "{bad}"
        );
    }
    assert_eq!(runtime.generate_id("slave"), "slave(1)");
    assert_eq!(runtime.generate_id("slave"), "slave(2)");
    assert_eq!(runtime.generate_id("scheduler"), "scheduler(1)");
    runtime.shutdown();
}

#[test]
fn local_messages_are_handled_in_order_without_the_network() {
    let runtime = runtime();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    let (sender, _) = probe(&runtime, "sender", &[]);
    let to = counter.upid().clone();
    // Local sends are queued in the receiver's mailbox before `send`
    // returns, so once this dispatch has run, all 1000 are queued...
    runtime
        .block_on(sender.dispatch(move |_, ctx| {
            for seq in 0..1000 {
                ctx.send(&to, &Ping { seq });
            }
        }))
        .unwrap();
    // ...and a dispatch queued now runs after them.
    let seen = runtime
        .block_on(counter.dispatch(|c, _| c.seen.clone()))
        .unwrap();
    assert_eq!(seen, (0..1000).collect::<Vec<u64>>());
    assert!(
        runtime.connected_peers().is_empty(),
        "no connection for local delivery"
    );
    runtime.shutdown();
}

#[test]
fn dispatch_returns_results_and_fails_once_terminated() {
    let runtime = runtime();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    let answer = runtime.block_on(counter.dispatch(|c, ctx| {
        c.seen.push(42);
        format!("{} has {:?}", ctx.self_pid().id(), c.seen)
    }));
    assert_eq!(answer.unwrap(), "counter has [42]");
    counter.terminate();
    runtime.block_on(counter.terminated());
    assert_eq!(
        runtime.block_on(counter.dispatch(|c, _| c.seen.len())),
        Err(Terminated)
    );
    // The id is free again.
    runtime.spawn("counter", Counter::default()).unwrap();
    runtime.shutdown();
}

#[test]
fn delays_fire_only_when_the_paused_clock_reaches_them() {
    let runtime = runtime();
    runtime.clock().pause();
    let (tx, rx) = mpsc::channel();
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    let cancelled = runtime
        .block_on(counter.dispatch(move |_, ctx| {
            let tx2 = tx.clone();
            ctx.delay(Duration::from_secs(600), move |_, _| {
                let _ = tx.send("ten minutes");
            });
            ctx.delay(Duration::from_secs(60), move |_, _| {
                let _ = tx2.send("cancelled");
            })
        }))
        .unwrap();
    runtime
        .block_on(counter.dispatch(move |_, ctx| assert!(ctx.cancel(cancelled))))
        .unwrap();
    runtime.clock().advance(Duration::from_secs(599));
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "not yet due"
    );
    runtime.clock().advance(Duration::from_secs(1));
    assert_eq!(rx.recv_timeout(BOUND).unwrap(), "ten minutes");
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "the cancelled timer never fires"
    );
    runtime.shutdown();
}

#[test]
fn local_link_fires_exited_when_the_process_terminates() {
    let runtime = runtime();
    let (watcher, seen) = probe(&runtime, "watcher", &[]);
    let counter = runtime.spawn("counter", Counter::default()).unwrap();
    let target = counter.upid().clone();
    let to = target.clone();
    runtime
        .block_on(watcher.dispatch(move |_, ctx| ctx.link(&to)))
        .unwrap();
    counter.terminate();
    match next(&seen) {
        Seen::Exited(pid) => assert_eq!(pid, target),
        other => panic!("expected exited, saw {other:?}"),
    }
    // Linking to a process that is already gone fires at once.
    let to = target.clone();
    watcher.post(move |_, ctx| ctx.link(&to));
    match next(&seen) {
        Seen::Exited(pid) => assert_eq!(pid, target),
        other => panic!("expected exited, saw {other:?}"),
    }
    runtime.shutdown();
}

/// Blocks inside a handler until told to go on, so that events queue up.
struct Busy {
    entered: mpsc::Sender<()>,
    release: std::sync::Arc<std::sync::Mutex<mpsc::Receiver<()>>>,
}

impl Process for Busy {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install_raw("block", |busy, _, _| {
            let _ = busy.entered.send(());
            let _ = busy.release.lock().unwrap().recv_timeout(BOUND);
        });
        ctx.install_raw("queued", |_, _, _| {});
    }
}

#[test]
fn processes_endpoint_lists_queued_events() {
    let runtime = runtime();
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let busy = runtime
        .spawn(
            "busy",
            Busy {
                entered: entered_tx,
                release: std::sync::Arc::new(std::sync::Mutex::new(release_rx)),
            },
        )
        .unwrap();
    let from = runtime.upid("someone");
    let send = |name: &'static str, body: &'static [u8]| {
        runtime.send(libprocess::Message {
            from: from.clone(),
            to: busy.upid().clone(),
            name: name.into(),
            body: Bytes::from_static(body),
        })
    };
    send("block", b"");
    entered.recv_timeout(BOUND).expect("the handler started");
    send("queued", b"first");
    send("queued", b"second");

    let (status, body) = get(&format!("http://{}/__processes__", runtime.address()));
    assert_eq!(status, 200);
    let processes: serde_json::Value = serde_json::from_str(&body).unwrap();
    let busy_json = processes
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "busy")
        .expect("busy is listed");
    let events = busy_json["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{busy_json}");
    assert_eq!(events[0]["type"], "MESSAGE");
    assert_eq!(events[0]["name"], "queued");
    assert_eq!(events[0]["body"], "first");
    assert_eq!(events[0]["from"], from.to_string());
    assert_eq!(events[0]["to"], busy.upid().to_string());
    assert_eq!(events[1]["body"], "second");
    release.send(()).unwrap();
    runtime.shutdown();
}

#[test]
fn test_hooks_await_and_drop_messages_by_name() {
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &["kept", "dropped"]);
    let filters = runtime.filters();
    let future = filters.future(Match::name("kept").to(probe.upid()));
    filters.drop_all(Match::name("dropped"));
    probe.post(|_, ctx| {
        let me = ctx.self_pid().clone();
        ctx.send_raw(&me, "dropped", Bytes::from_static(b"1"));
        ctx.send_raw(&me, "kept", Bytes::from_static(b"2"));
    });
    let captured = runtime
        .block_on(async move { tokio::time::timeout(BOUND, future).await })
        .expect("captured in time")
        .unwrap();
    assert_eq!(&captured.body[..], b"2");
    match next(&seen) {
        Seen::Message(m) => assert_eq!(&*m.name, "kept", "the dropped one never arrives"),
        other => panic!("expected a message, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn delegate_receives_unknown_and_root_paths() {
    struct Delegate;
    impl Process for Delegate {
        fn initialize(&mut self, ctx: &mut Context<Self>) {
            ctx.route("/", None, |_, _, request| {
                libprocess::Reply::Now(libprocess::Response::ok(
                    "text/plain",
                    format!("root {}", request.path),
                ))
            });
            ctx.route("/state", None, |_, _, request| {
                libprocess::Reply::Now(libprocess::Response::ok(
                    "text/plain",
                    format!("state {}", request.path),
                ))
            });
        }
    }
    let runtime = runtime();
    runtime.spawn("master", Delegate).unwrap();
    let base = format!("http://{}", runtime.address());
    assert_eq!(get(&format!("{base}/state")).1, "404 Not Found.");
    runtime.set_delegate("master");
    assert_eq!(get(&format!("{base}/state")).1, "state /master/state");
    assert_eq!(
        get(&format!("{base}/master/state")).1,
        "state /master/state"
    );
    assert_eq!(get(&format!("{base}/")).1, "root /master");
    // Known processes keep their own paths.
    assert_eq!(get(&format!("{base}/metrics/snapshot")).0, 200);
    runtime.shutdown();
}

#[test]
fn shutdown_handles_queued_work_and_writes_what_was_sent() {
    let receiver = runtime();
    let (probe, seen) = probe(&receiver, "probe", &["last"]);
    let sender = runtime();
    let (busy, _) = support::probe(&sender, "sender", &[]);
    let to = probe.upid().clone();
    // Queued before the shutdown: must still run, and its messages must
    // still reach the other runtime.
    busy.post(move |_, ctx| {
        for i in 0..500u32 {
            ctx.send_raw(&to, "last", Bytes::from(i.to_string()));
        }
    });
    sender.shutdown();
    for i in 0..500u32 {
        match next(&seen) {
            Seen::Message(m) => assert_eq!(m.body, Bytes::from(i.to_string())),
            other => panic!("expected message {i}, saw {other:?}"),
        }
    }
    receiver.shutdown();
}

#[test]
fn shutdown_frees_the_port_for_a_new_runtime() {
    let first = runtime();
    let address = first.bound_address();
    first.shutdown();
    let second = runtime_with(libprocess::Config {
        port: address.port(),
        ..libprocess::Config::default()
    });
    assert_eq!(second.bound_address(), address);
    second.shutdown();
}

/// The nice values of this process's threads named `name` (as `ps -L -o
/// nice,comm` shows them).
fn nice_of_threads(name: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // After the command name in parens: state is field 3, nice 19.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        if let Some(nice) = rest.split_whitespace().nth(16) {
            out.push(nice.parse().unwrap());
        }
    }
    out
}

#[test]
fn readers_are_served_by_threads_of_lower_priority() {
    let runtime = runtime_with(libprocess::Config {
        reader_threads: 1,
        ..libprocess::Config::default()
    });
    let (status, body) = get(&format!("http://{}/__processes__", runtime.address()));
    assert_eq!(status, 200);
    assert!(body.starts_with('['), "{body}");

    let readers = nice_of_threads("lp-reader");
    assert!(!readers.is_empty(), "no reader thread");
    assert!(
        readers.iter().all(|&n| n == libprocess::READER_NICE),
        "reader threads' nice values: {readers:?}"
    );
    runtime.shutdown();
}

/// Sends `request` on a fresh connection and reads the answer until the
/// server closes: its head (lowercase) and body.
fn exchange(address: std::net::SocketAddr, request: &str) -> (String, Vec<u8>) {
    use std::io::Read;
    let mut stream = raw(address, request.as_bytes());
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    (head, answer[split + 4..].to_vec())
}

#[test]
fn large_bodies_go_gzipped_to_clients_that_accept_gzip() {
    struct Big;
    impl Process for Big {
        fn initialize(&mut self, ctx: &mut Context<Self>) {
            ctx.route("/big", None, |_, _, _| {
                libprocess::Reply::Now(libprocess::Response::ok(
                    "text/plain",
                    "mesos ".repeat(1000),
                ))
            });
            ctx.route("/small", None, |_, _, _| {
                libprocess::Reply::Now(libprocess::Response::ok("text/plain", "tiny"))
            });
        }
    }
    let runtime = runtime();
    runtime.spawn("big", Big).unwrap();
    let address = runtime.address();
    let ask = |path: &str, accept: &str| {
        exchange(
            address,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{accept}Connection: close\r\n\r\n"),
        )
    };

    let (head, body) = ask("/big/big", "Accept-Encoding: gzip, deflate\r\n");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(body.len() < 6000 / 10, "compressed to {} bytes", body.len());
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
        .expect("a gzip body");
    assert_eq!(plain, "mesos ".repeat(1000));

    // Not asked for, refused with q=0, or too small to bother: as it is.
    for accept in [
        "",
        "Accept-Encoding: deflate\r\n",
        "Accept-Encoding: gzip;q=0\r\n",
    ] {
        let (head, body) = ask("/big/big", accept);
        assert!(!head.contains("content-encoding"), "{accept:?}: {head}");
        assert_eq!(body.len(), 6000, "{accept:?}");
    }
    let (head, body) = ask("/big/small", "Accept-Encoding: *\r\n");
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(body, b"tiny");
    runtime.shutdown();
}
