//! Bad input on the wire: each is answered or dropped with a log line, and
//! none disturbs the runtime, its processes or other connections.

mod support;

use std::io::Write;
use std::time::Duration;

use libprocess::Config;
use support::*;

/// A well-formed message to `probe` from `from`, with `body`.
fn message(to_id: &str, name: &str, from: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /{to_id}/{name} HTTP/1.1\r\nLibprocess-From: {from}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Proves the probe still works: a message sent now arrives.
fn assert_still_delivers(runtime: &libprocess::Runtime, seen: &std::sync::mpsc::Receiver<Seen>) {
    let mut stream = raw(
        runtime.address(),
        &message("probe", "hello", "x@127.0.0.1:1", b"after"),
    );
    assert!(read_responses(&mut stream, 1).contains(" 202 Accepted"));
    match next(seen) {
        Seen::Message(m) => assert_eq!(&m.body[..], b"after"),
        other => panic!("expected the later message, saw {other:?}"),
    }
}

#[test]
fn malformed_request_closes_its_connection_and_others_are_unaffected() {
    let runtime = runtime();
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    let mut garbage = raw(runtime.address(), b"THIS IS NOT HTTP\r\n\r\n");
    let mut rest = Vec::new();
    // The connection is closed (end of stream within the read timeout).
    let read = std::io::Read::read_to_end(&mut garbage, &mut rest);
    assert!(read.is_ok(), "closed, not timed out: {read:?}");
    assert!(!String::from_utf8_lossy(&rest).contains("202"));
    assert_still_delivers(&runtime, &seen);
    runtime.shutdown();
}

#[test]
fn oversized_body_is_answered_413_and_not_delivered() {
    let runtime = runtime_with(Config {
        max_body_bytes: 1024,
        ..Config::default()
    });
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    let mut big = raw(
        runtime.address(),
        &message("probe", "hello", "x@127.0.0.1:1", &[b'x'; 4096]),
    );
    let answer = read_responses(&mut big, 1);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        seen.recv_timeout(Duration::from_millis(200)).is_err(),
        "nothing delivered"
    );
    assert_still_delivers(&runtime, &seen);
    runtime.shutdown();
}

#[test]
fn bad_libprocess_from_is_answered_400_and_not_delivered() {
    let runtime = runtime();
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    for from in ["not-a-upid", "x@nowhere", "@127.0.0.1:1", ""] {
        let mut stream = raw(runtime.address(), &message("probe", "hello", from, b"bad"));
        let answer = read_responses(&mut stream, 1);
        assert!(answer.starts_with("HTTP/1.1 400"), "{from}: {answer}");
    }
    assert!(
        seen.recv_timeout(Duration::from_millis(200)).is_err(),
        "nothing delivered"
    );
    assert_still_delivers(&runtime, &seen);
    runtime.shutdown();
}

#[test]
fn message_without_a_name_is_answered_400() {
    let runtime = runtime();
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    let request =
        "POST /probe HTTP/1.1\r\nLibprocess-From: x@127.0.0.1:1\r\nContent-Length: 0\r\n\r\n";
    let mut stream = raw(runtime.address(), request.as_bytes());
    assert!(read_responses(&mut stream, 1).starts_with("HTTP/1.1 400"));
    assert_still_delivers(&runtime, &seen);
    runtime.shutdown();
}

#[test]
fn message_to_an_unknown_process_is_answered_404() {
    let runtime = runtime();
    let mut stream = raw(
        runtime.address(),
        &message("nobody", "hello", "x@127.0.0.1:1", b"?"),
    );
    assert!(read_responses(&mut stream, 1).starts_with("HTTP/1.1 404"));
    runtime.shutdown();
}

#[test]
fn unknown_message_name_is_dropped_and_the_process_keeps_working() {
    let runtime = runtime();
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    let mut stream = raw(
        runtime.address(),
        &message("probe", "no.such.Message", "x@127.0.0.1:1", b"?"),
    );
    // Delivered to the process (which has no handler and drops it).
    assert!(read_responses(&mut stream, 1).contains(" 202 Accepted"));
    assert_still_delivers(&runtime, &seen);
    runtime.shutdown();
}

#[test]
fn body_that_is_not_the_installed_protobuf_is_dropped_before_the_handler() {
    let runtime = runtime();
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    // Field 1 as a length-delimited record running past the end.
    let mut stream = raw(
        runtime.address(),
        &message(
            "probe",
            "libprocess.bench.Pong",
            "x@127.0.0.1:1",
            b"\x0a\x05ab",
        ),
    );
    assert!(read_responses(&mut stream, 1).contains(" 202 Accepted"));
    assert_still_delivers(&runtime, &seen);
    // A valid Pong still reaches the typed handler.
    let mut stream = raw(
        runtime.address(),
        &message(
            "probe",
            "libprocess.bench.Pong",
            "x@127.0.0.1:1",
            b"\x08\x07",
        ),
    );
    assert!(read_responses(&mut stream, 1).contains(" 202 Accepted"));
    match next(&seen) {
        Seen::Pong(pong) => assert_eq!(pong.seq, 7),
        other => panic!("expected the valid pong, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn a_stalled_half_request_does_not_block_other_connections() {
    let runtime = runtime();
    let (_probe, seen) = probe(&runtime, "probe", &["hello"]);
    let mut stalled = raw(
        runtime.address(),
        b"POST /probe/hello HTTP/1.1\r\nContent-Le",
    );
    assert_still_delivers(&runtime, &seen);
    // The stalled client can still finish its request.
    stalled
        .write_all(b"ngth: 1\r\nLibprocess-From: x@127.0.0.1:1\r\n\r\nz")
        .unwrap();
    assert!(read_responses(&mut stalled, 1).contains(" 202 Accepted"));
    match next(&seen) {
        Seen::Message(m) => assert_eq!(&m.body[..], b"z"),
        other => panic!("expected the stalled message, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn paths_with_dot_dot_and_bad_query_values_are_rejected() {
    let runtime = runtime();
    // Raw requests: HTTP clients normalize `..` away before sending.
    for path in ["/metrics/../help", "/metrics/%2e%2e/help", "/help/.."] {
        let mut stream = raw(
            runtime.address(),
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        );
        let answer = read_responses(&mut stream, 1);
        assert!(answer.starts_with("HTTP/1.1 404"), "{path}: {answer}");
    }
    let base = format!("http://{}", runtime.address());
    let (status, body) = get(&format!("{base}/metrics/snapshot?timeout=soon"));
    assert_eq!(status, 400);
    assert!(body.contains("Invalid timeout 'soon'"), "{body}");
    assert_eq!(get(&format!("{base}/logging/toggle?level=1")).0, 400);
    assert_eq!(get(&format!("{base}/logging/toggle?duration=1secs")).0, 400);
    assert_eq!(
        get(&format!("{base}/logging/toggle?level=x&duration=1secs")).0,
        400
    );
    assert_eq!(
        get(&format!("{base}/logging/toggle?level=1&duration=x")).0,
        400
    );
    // None of that changed the level.
    assert_eq!(
        get(&format!("{base}/logging/toggle")),
        (200, "0\n".to_string())
    );
    runtime.shutdown();
}
