//! Two OS processes on loopback: this test binary's runtime and a peer
//! (`libprocess-bench server`) hosting `pong`.

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::*;

#[test]
fn typed_protobuf_ping_pong_across_os_processes() {
    let peer = Peer::start();
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &[]);
    let to = peer.pong.clone();
    probe.post(move |_, ctx| {
        for seq in 0..100u64 {
            ctx.send(&to, &Ping { seq });
        }
    });
    for expected in 0..100u64 {
        match next(&seen) {
            Seen::Pong(pong) => assert_eq!(pong.seq, expected, "pongs arrive in order"),
            other => panic!("expected a pong, saw {other:?}"),
        }
    }
    assert_eq!(get(&peer.url("/pong/received")), (200, "100".to_string()));
    // One persistent connection to the peer carried all of them.
    assert_eq!(runtime.connected_peers(), vec![peer.address()]);
    runtime.shutdown();
}

#[test]
fn link_fires_exited_when_the_peer_is_killed() {
    let mut peer = Peer::start();
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &["pong"]);
    let target = peer.pong.clone();
    let to = target.clone();
    probe.post(move |_, ctx| {
        ctx.link(&to);
        ctx.send_raw(&to, "ping", Bytes::from_static(b"alive?"));
    });
    match next(&seen) {
        Seen::Message(m) => assert_eq!(&*m.name, "pong"),
        other => panic!("expected a pong first, saw {other:?}"),
    }
    assert!(
        seen.recv_timeout(Duration::from_millis(200)).is_err(),
        "no exited while the peer lives"
    );

    peer.child.kill().unwrap();
    peer.child.wait().unwrap();
    match next(&seen) {
        Seen::Exited(pid) => assert_eq!(pid, target),
        other => panic!("expected exited, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn relink_moves_links_to_a_fresh_connection() {
    let mut peer = Peer::start();
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &["pong"]);
    let target = peer.pong.clone();
    let to = target.clone();
    probe.post(move |_, ctx| {
        ctx.link(&to);
        ctx.send_raw(&to, "ping", Bytes::from_static(b"first"));
    });
    match next(&seen) {
        Seen::Message(m) => assert_eq!(&*m.name, "pong"),
        other => panic!("expected a pong, saw {other:?}"),
    }
    // Dropping the old connection is no `exited`: the next thing the
    // probe hears is the pong sent over the new one.
    let to = target.clone();
    probe.post(move |_, ctx| {
        ctx.relink(&to);
        ctx.send_raw(&to, "ping", Bytes::from_static(b"second"));
    });
    match next(&seen) {
        Seen::Message(m) => assert_eq!(&*m.name, "pong"),
        other => panic!("expected a pong over the new connection, saw {other:?}"),
    }
    assert_eq!(get(&peer.url("/pong/received")), (200, "2".to_string()));
    // The link moved with it: the peer's death is still reported.
    peer.child.kill().unwrap();
    peer.child.wait().unwrap();
    match next(&seen) {
        Seen::Exited(pid) => assert_eq!(pid, target),
        other => panic!("expected exited, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn link_to_an_address_nobody_listens_on_fires_exited() {
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &[]);
    // A port that was just free refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody: libprocess::UPID = format!("ghost@127.0.0.1:{port}").parse().unwrap();
    let to = nobody.clone();
    probe.post(move |_, ctx| ctx.link(&to));
    match next(&seen) {
        Seen::Exited(pid) => assert_eq!(pid, nobody),
        other => panic!("expected exited, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn hand_framed_libprocess_message_over_raw_tcp_is_delivered() {
    let peer = Peer::start();
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &["pong"]);
    let from = probe.upid();
    // Exactly what libprocess writes: chunked body, libprocess User-Agent.
    let request = format!(
        "POST /pong/ping HTTP/1.1\r\nUser-Agent: libprocess/{from}\r\nLibprocess-From: {from}\r\n\
         Connection: Keep-Alive\r\nHost: \r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    let mut stream = raw(peer.address(), request.as_bytes());
    let answer = read_responses(&mut stream, 1);
    assert!(answer.starts_with("HTTP/1.1 202 Accepted\r\n"), "{answer}");
    match next(&seen) {
        Seen::Message(m) => {
            assert_eq!(&*m.name, "pong");
            assert_eq!(m.from, peer.pong);
            assert_eq!(&m.body[..], b"hello");
        }
        other => panic!("expected a pong, saw {other:?}"),
    }
    runtime.shutdown();
}

#[test]
fn pesos_style_http_1_0_with_content_length_pipelined_is_delivered_in_order() {
    let peer = Peer::start();
    let runtime = runtime();
    let (probe, seen) = probe(&runtime, "probe", &["pong"]);
    let from = probe.upid().clone();
    // As the pesos driver sends: HTTP/1.0, Content-Length, no User-Agent,
    // no Host; here two messages in one write on one kept-alive connection.
    let one = |body: &str| {
        format!(
            "POST /pong/ping HTTP/1.0\r\nConnection: Keep-Alive\r\nLibprocess-From: {from}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let mut stream = raw(
        peer.address(),
        format!("{}{}", one("first"), one("second")).as_bytes(),
    );
    let answers = read_responses(&mut stream, 2);
    assert_eq!(answers.matches(" 202 Accepted\r\n").count(), 2, "{answers}");
    for expected in ["first", "second"] {
        match next(&seen) {
            Seen::Message(m) => assert_eq!(&m.body[..], expected.as_bytes()),
            other => panic!("expected a pong, saw {other:?}"),
        }
    }
    runtime.shutdown();
}

#[test]
fn routes_and_builtin_endpoints_over_real_http() {
    let peer = Peer::start();

    assert_eq!(get(&peer.url("/pong/received")), (200, "0".to_string()));

    let (status, body) = get(&peer.url("/__processes__"));
    assert_eq!(status, 200);
    let processes: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = processes
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for id in [
        "pong",
        "metrics",
        "help",
        "system",
        "logging",
        "__processes__",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(processes[0]["events"].is_array());

    let (status, body) = get(&peer.url("/metrics/snapshot?timeout=5secs"));
    assert_eq!(status, 200);
    let metrics: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        metrics["system/cpus_total"].as_f64().unwrap() as usize,
        std::thread::available_parallelism().unwrap().get()
    );
    assert!(metrics["system/mem_total_bytes"].as_f64().unwrap() > 0.0);

    let (status, body) = get(&peer.url("/metrics/snapshot?jsonp=cb"));
    assert_eq!(status, 200);
    assert!(body.starts_with("cb({") && body.ends_with("});"), "{body}");

    let (status, body) = get(&peer.url("/help"));
    assert_eq!(status, 200);
    for route in [
        "/pong/received",
        "/metrics/snapshot",
        "/system/stats.json",
        "/logging/toggle",
        "/__processes__",
    ] {
        assert!(body.contains(route), "{route} in /help:\n{body}");
    }
    let (status, body) = get(&peer.url("/help/pong/received"));
    assert_eq!(status, 200);
    assert!(body.contains("How many pings arrived."), "{body}");

    let (status, body) = get(&peer.url("/system/stats.json"));
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    for key in [
        "avg_load_1min",
        "cpus_total",
        "mem_total_bytes",
        "mem_free_bytes",
    ] {
        assert!(stats[key].is_number(), "{key} in {stats}");
    }

    assert_eq!(get(&peer.url("/logging/toggle")), (200, "0\n".to_string()));
    assert_eq!(
        get(&peer.url("/logging/toggle?level=2&duration=1mins")).0,
        200
    );
    assert_eq!(get(&peer.url("/logging/toggle")), (200, "2\n".to_string()));

    assert_eq!(get(&peer.url("/nothing/here")).0, 404);
    assert_eq!(get(&peer.url("/pong/nothing")).0, 404);
}
