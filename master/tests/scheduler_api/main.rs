//! The v1 HTTP scheduler API (`/api/v1/scheduler`) driven over loopback as
//! an HTTP scheduler drives it: SUBSCRIBE opens a chunked RecordIO stream
//! of events, later calls carry its `Mesos-Stream-Id`; a test agent speaks
//! the real agent protocol.

mod client;
#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mesos_proto::internal::*;
use mesos_proto::mesos::{self, value, FrameworkInfo, Resource, SlaveInfo, TaskState, TaskStatus};
use mesos_proto::scheduler::{call, Call};
use mesos_proto::v1::scheduler::event;
use prost::Message;
use serde_json::json;
use support::{Peer, TestMaster, BOUND};

use client::{post, url, Stream, JSON, PROTOBUF};

fn scalar(name: &str, v: f64) -> Resource {
    #[allow(deprecated)]
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        role: Some("*".into()),
        ..Default::default()
    }
}

/// Registers a test agent; returns it and its ID.
fn register_agent(master: &TestMaster) -> (Peer, String) {
    let agent = Peer::start("slave(1)");
    agent.send(
        &master.upid(),
        &RegisterSlaveMessage {
            slave: SlaveInfo {
                hostname: "localhost".into(),
                resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
                port: Some(5051),
                ..Default::default()
            },
            version: Some("1.11.0".into()),
            agent_capabilities: (1..=8)
                .map(|t| mesos::slave_info::Capability { r#type: Some(t) })
                .collect(),
            ..Default::default()
        },
    );
    let registered: SlaveRegisteredMessage = agent.expect();
    (agent, registered.slave_id.value)
}

fn subscribe_json(name: &str, failover_timeout: f64) -> Vec<u8> {
    json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {
            "user": "root", "name": name, "failover_timeout": failover_timeout,
            "capabilities": [{"type": "GPU_RESOURCES"}]
        }}
    })
    .to_string()
    .into_bytes()
}

fn subscribed_id(stream: &mut Stream) -> String {
    let event = stream.next();
    assert_eq!(event.r#type, Some(event::Type::Subscribed as i32));
    let subscribed = event.subscribed.expect("subscribed");
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(15.0));
    subscribed.framework_id.value
}

fn offer_of(stream: &mut Stream) -> mesos_proto::v1::Offer {
    let event = stream.next();
    assert_eq!(event.r#type, Some(event::Type::Offers as i32), "{event:?}");
    event.offers.expect("offers").offers.remove(0)
}

fn agent_update(framework: &str, agent: &str, task: &str, state: TaskState) -> StatusUpdateMessage {
    let uuid = bytes::Bytes::from(uuid::Uuid::new_v4().as_bytes().to_vec());
    StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: mesos::FrameworkId {
                value: framework.into(),
            },
            slave_id: Some(mesos::SlaveId {
                value: agent.into(),
            }),
            status: TaskStatus {
                task_id: mesos::TaskId { value: task.into() },
                state: state as i32,
                uuid: Some(uuid.clone()),
                ..Default::default()
            },
            timestamp: 1.0,
            uuid: Some(uuid),
            ..Default::default()
        },
        pid: Some("slave(1)@127.0.0.1:5051".into()),
    }
}

#[test]
fn json_scheduler_subscribes_launches_acknowledges_and_tears_down() {
    let master = TestMaster::with_args(&[]);
    let (agent, agent_id) = register_agent(&master);

    let mut stream = Stream::open(&master, JSON, JSON, &subscribe_json("v1-json", 0.0));
    assert_eq!(stream.status, 200);
    assert_eq!(stream.content_type, JSON);
    let stream_id = stream.stream_id();
    assert!(uuid::Uuid::parse_str(&stream_id).is_ok(), "{stream_id}");
    let framework_id = subscribed_id(&mut stream);
    let offer = offer_of(&mut stream);
    assert_eq!(offer.agent_id.value, agent_id);
    // As Mesos: a heartbeat right after SUBSCRIBED, one record per chunk.
    assert!(stream.chunks.len() >= 3);
    assert!(
        stream.chunks.iter().all(|(_, n)| *n == 1),
        "{:?}",
        stream.chunks
    );

    let accept = json!({
        "type": "ACCEPT",
        "framework_id": {"value": framework_id},
        "accept": {
            "offer_ids": [{"value": offer.id.value}],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                "name": "t", "task_id": {"value": "t1"}, "agent_id": {"value": agent_id},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 64.0}}],
                "command": {"shell": true, "value": "true"}
            }]}}],
            "filters": {"refuse_seconds": 60.0}
        }
    });
    let with_stream = [("Content-Type", JSON), ("Mesos-Stream-Id", &stream_id)];
    let (status, body) = post(&master, &with_stream, accept.to_string().as_bytes());
    assert_eq!((status, body.as_str()), (202, ""));
    let run: RunTaskMessage = agent.expect();
    assert_eq!(run.task.task_id.value, "t1");
    assert_eq!(run.framework.id.as_ref().unwrap().value, framework_id);
    // An HTTP scheduler has no UPID for the agent to reach.
    assert!(run.pid.as_deref().unwrap_or_default().is_empty(), "{run:?}");

    let update = agent_update(&framework_id, &agent_id, "t1", TaskState::TaskRunning);
    let uuid = update.update.uuid.clone().unwrap();
    agent.send(&master.upid(), &update);
    let event = stream.next();
    assert_eq!(event.r#type, Some(event::Type::Update as i32));
    let status = event.update.unwrap().status;
    assert_eq!(status.task_id.value, "t1");
    assert_eq!(status.state, mesos_proto::v1::TaskState::TaskRunning as i32);
    assert_eq!(status.uuid.as_deref(), Some(&uuid[..]));

    let ack = json!({
        "type": "ACKNOWLEDGE",
        "framework_id": {"value": framework_id},
        "acknowledge": {"agent_id": {"value": agent_id}, "task_id": {"value": "t1"},
                        "uuid": STANDARD.encode(&uuid)}
    });
    let (status, _) = post(&master, &with_stream, ack.to_string().as_bytes());
    assert_eq!(status, 202);
    let acked: StatusUpdateAcknowledgementMessage = agent.expect();
    assert_eq!(acked.uuid, uuid);

    let teardown = json!({"type": "TEARDOWN", "framework_id": {"value": framework_id}});
    let (status, _) = post(&master, &with_stream, teardown.to_string().as_bytes());
    assert_eq!(status, 202);
    let shutdown: ShutdownFrameworkMessage = agent.expect();
    assert_eq!(shutdown.framework_id.value, framework_id);
    // The stream ends with the framework.
    while stream.event().is_some() {}
    let state = master.json("/master/state");
    assert_eq!(
        state["completed_frameworks"][0]["id"],
        framework_id.as_str()
    );
    assert_eq!(state["frameworks"].as_array().unwrap().len(), 0);
}

#[test]
fn protobuf_scheduler_gets_protobuf_events_and_launches() {
    let master = TestMaster::with_args(&[]);
    let (agent, agent_id) = register_agent(&master);
    let subscribe = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: "root".into(),
                name: "v1-protobuf".into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut stream = Stream::open(&master, PROTOBUF, PROTOBUF, &subscribe.encode_to_vec());
    assert_eq!(stream.status, 200);
    assert_eq!(stream.content_type, PROTOBUF);
    let stream_id = stream.stream_id();
    let framework_id = subscribed_id(&mut stream);
    let offer = offer_of(&mut stream);

    let task = mesos::TaskInfo {
        name: "t".into(),
        task_id: mesos::TaskId { value: "p1".into() },
        slave_id: mesos::SlaveId {
            value: agent_id.clone(),
        },
        resources: vec![scalar("cpus", 1.0), scalar("mem", 128.0)],
        command: Some(mesos::CommandInfo {
            value: Some("true".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let accept = Call {
        framework_id: Some(mesos::FrameworkId {
            value: framework_id.clone(),
        }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: vec![mesos::OfferId {
                value: offer.id.value,
            }],
            operations: vec![mesos::offer::Operation {
                r#type: Some(mesos::offer::operation::Type::Launch as i32),
                launch: Some(mesos::offer::operation::Launch {
                    task_infos: vec![task],
                }),
                ..Default::default()
            }],
            filters: None,
        }),
        ..Default::default()
    };
    let (status, _) = post(
        &master,
        &[("Content-Type", PROTOBUF), ("Mesos-Stream-Id", &stream_id)],
        &accept.encode_to_vec(),
    );
    assert_eq!(status, 202);
    let run: RunTaskMessage = agent.expect();
    assert_eq!(run.task.task_id.value, "p1");
    assert_eq!(run.framework.id.unwrap().value, framework_id);
}

#[test]
fn bad_requests_get_mesos_status_codes() {
    let master = TestMaster::with_args(&[]);
    let subscribe = subscribe_json("v1-errors", 3600.0);

    // 405, with Allow.
    let response = ureq::get(&url(&master)).timeout(BOUND).call();
    let Err(ureq::Error::Status(405, response)) = response else {
        panic!("GET is not allowed: {response:?}");
    };
    assert_eq!(response.header("Allow"), Some("POST"));
    assert!(response
        .into_string()
        .unwrap()
        .contains("Expecting one of { 'POST' }"));

    // Content types.
    let (status, body) = post(&master, &[], &subscribe);
    assert_eq!(
        (status, body.as_str()),
        (400, "Expecting 'Content-Type' to be present")
    );
    let (status, _) = post(&master, &[("Content-Type", "text/plain")], &subscribe);
    assert_eq!(status, 415);
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON), ("Accept", "text/html")],
        &subscribe,
    );
    assert_eq!(status, 406, "{body}");

    // Malformed and invalid bodies.
    let (status, body) = post(&master, &[("Content-Type", JSON)], b"{\"type\": ");
    assert_eq!(status, 400);
    assert!(body.starts_with("Failed to parse body into JSON"), "{body}");
    let (status, body) = post(&master, &[("Content-Type", PROTOBUF)], b"\xff\xff\xff");
    assert_eq!(
        (status, body.as_str()),
        (400, "Failed to parse body into Call protobuf")
    );
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON)],
        br#"{"type": "ACCEPT", "accept": {}}"#,
    );
    assert_eq!(status, 400);
    assert!(
        body.starts_with("Failed to validate scheduler::Call"),
        "{body}"
    );
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON), ("Mesos-Stream-Id", "x")],
        &subscribe,
    );
    assert_eq!(status, 400);
    assert!(
        body.contains("should not include the 'Mesos-Stream-Id'"),
        "{body}"
    );

    // Calls for frameworks that cannot make them.
    let revive = |id: &str| json!({"type": "REVIVE", "framework_id": {"value": id}}).to_string();
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON)],
        revive("nope").as_bytes(),
    );
    assert_eq!((status, body.as_str()), (400, "Framework cannot be found"));

    let mut stream = Stream::open(&master, JSON, JSON, &subscribe);
    let stream_id = stream.stream_id();
    let framework_id = subscribed_id(&mut stream);
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON)],
        revive(&framework_id).as_bytes(),
    );
    assert_eq!(status, 400);
    assert!(
        body.contains("should include the 'Mesos-Stream-Id'"),
        "{body}"
    );
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON), ("Mesos-Stream-Id", "not-it")],
        revive(&framework_id).as_bytes(),
    );
    assert_eq!(status, 400);
    assert!(body.contains("didn't match the stream ID"), "{body}");
    let (status, _) = post(
        &master,
        &[("Content-Type", JSON), ("Mesos-Stream-Id", &stream_id)],
        revive(&framework_id).as_bytes(),
    );
    assert_eq!(status, 202);
}

#[test]
fn heartbeats_flow_and_a_closed_stream_disconnects_the_framework() {
    let master = TestMaster::with_args(&[]);
    master.runtime.clock().pause();
    let mut stream = Stream::open(&master, JSON, JSON, &subscribe_json("v1-gone", 3600.0));
    let stream_id = stream.stream_id();
    let framework_id = subscribed_id(&mut stream);
    let heartbeat = Some(event::Type::Heartbeat as i32);
    assert_eq!(stream.event().unwrap().r#type, heartbeat);
    master.runtime.clock().advance(Duration::from_secs(15));
    assert_eq!(stream.event().unwrap().r#type, heartbeat);

    // The scheduler goes away. The master notices when it next writes to
    // the stream (the runtime sees the socket gone on a failed write), so
    // heartbeats are driven until it has.
    drop(stream);
    let deadline = std::time::Instant::now() + BOUND;
    while framework_connected(&master, &framework_id) != Some(false) {
        assert!(std::time::Instant::now() < deadline, "still connected");
        master.runtime.clock().advance(Duration::from_secs(15));
        std::thread::sleep(Duration::from_millis(50));
    }
    let revive = json!({"type": "REVIVE", "framework_id": {"value": framework_id}}).to_string();
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON), ("Mesos-Stream-Id", &stream_id)],
        revive.as_bytes(),
    );
    assert_eq!(
        (status, body.as_str()),
        (403, "Framework is not subscribed")
    );

    // Within its failover timeout it subscribes again, on a new stream.
    let body = json!({
        "type": "SUBSCRIBE",
        "framework_id": {"value": framework_id},
        "subscribe": {"framework_info": {"user": "root", "name": "v1-gone",
            "failover_timeout": 3600.0, "id": {"value": framework_id}}}
    });
    let mut stream = Stream::open(&master, JSON, JSON, body.to_string().as_bytes());
    assert_ne!(stream.stream_id(), stream_id);
    assert_eq!(subscribed_id(&mut stream), framework_id);
    assert_eq!(framework_connected(&master, &framework_id), Some(true));
    let (status, _) = post(
        &master,
        &[("Content-Type", JSON), ("Mesos-Stream-Id", &stream_id)],
        revive.as_bytes(),
    );
    assert_eq!(status, 400, "the old stream ID is no longer valid");
    let (status, _) = post(
        &master,
        &[
            ("Content-Type", JSON),
            ("Mesos-Stream-Id", &stream.stream_id()),
        ],
        revive.as_bytes(),
    );
    assert_eq!(status, 202);
}

/// Framework `id`'s `connected` in `/master/frameworks`.
fn framework_connected(master: &TestMaster, id: &str) -> Option<bool> {
    let frameworks = master.json("/master/frameworks");
    frameworks["frameworks"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == id)
        .and_then(|f| f["connected"].as_bool())
}

#[test]
fn a_framework_switches_between_v0_and_v1_across_failovers() {
    let master = TestMaster::with_args(&[]);
    let (_agent, _) = register_agent(&master);

    // v0 first.
    let scheduler = Peer::start("scheduler-1");
    let mut info = FrameworkInfo {
        user: "root".into(),
        name: "switcher".into(),
        failover_timeout: Some(3600.0),
        ..Default::default()
    };
    scheduler.send(
        &master.upid(),
        &Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: info.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let registered: FrameworkRegisteredMessage = scheduler.expect();
    let framework_id = registered.framework_id.value;
    let _: ResourceOffersMessage = scheduler.expect();

    // A v0 framework cannot use the HTTP API.
    let revive = json!({"type": "REVIVE", "framework_id": {"value": framework_id}}).to_string();
    let (status, body) = post(
        &master,
        &[("Content-Type", JSON), ("Mesos-Stream-Id", "x")],
        revive.as_bytes(),
    );
    assert_eq!(
        (status, body.as_str()),
        (403, "Framework is not connected via HTTP")
    );

    // Failover to v1: the old scheduler hears it, the stream gets the
    // framework's offers.
    info.id = Some(mesos::FrameworkId {
        value: framework_id.clone(),
    });
    let body = json!({
        "type": "SUBSCRIBE",
        "framework_id": {"value": framework_id},
        "subscribe": {"framework_info": {"user": "root", "name": "switcher",
            "failover_timeout": 3600.0, "id": {"value": framework_id}}}
    });
    let mut stream = Stream::open(&master, JSON, JSON, body.to_string().as_bytes());
    assert_eq!(subscribed_id(&mut stream), framework_id);
    let error: FrameworkErrorMessage = scheduler.expect();
    assert_eq!(error.message, "Framework failed over");
    let offer = offer_of(&mut stream);
    assert!(!offer.id.value.is_empty());

    // And back to v0: the stream hears it and ends.
    let scheduler2 = Peer::start("scheduler-2");
    scheduler2.send(
        &master.upid(),
        &Call {
            framework_id: info.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: info,
                force: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let registered: FrameworkRegisteredMessage = scheduler2.expect();
    assert_eq!(registered.framework_id.value, framework_id);
    let event = stream.next();
    assert_eq!(event.r#type, Some(event::Type::Error as i32), "{event:?}");
    assert_eq!(event.error.unwrap().message, "Framework failed over");
    while stream.event().is_some() {}
    let _: ResourceOffersMessage = scheduler2.expect_within(BOUND);
}

#[test]
fn invalid_subscription_gets_an_error_event_and_the_stream_ends() {
    let master = TestMaster::with_args(&[]);
    let body = json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {"user": "root", "name": "bad", "roles": ["x"]}}
    });
    let mut stream = Stream::open(&master, JSON, JSON, body.to_string().as_bytes());
    assert_eq!(stream.status, 200);
    let event = stream.next();
    assert_eq!(event.r#type, Some(event::Type::Error as i32), "{event:?}");
    assert!(
        event.error.unwrap().message.contains("MULTI_ROLE"),
        "says why"
    );
    assert!(stream.event().is_none());
    assert_eq!(
        master.json("/master/state")["frameworks"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn version_is_served_at_the_root_as_mesos_does() {
    let master = TestMaster::with_args(&[]);
    let version = master.json("/version");
    assert_eq!(version["version"], "1.11.0");
    assert!(version["git_sha"].is_string());
}
