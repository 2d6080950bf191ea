//! Wire compatibility against real Mesos 1.11 traffic.
//!
//! `data/mesos_1.11_bodies.txt` holds every protobuf message body seen in
//! captures of a real Mesos 1.11 master, agent and frameworks. Each must
//! decode into our type for its message name and re-encode to the very same
//! bytes (prost drops unknown fields, so equality also shows that nothing in
//! the real traffic is missing from our schema).

use mesos_proto::prost::Message;
use mesos_proto::{internal, mesos, scheduler};

struct Captured {
    name: String,
    from: String,
    body: Vec<u8>,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn captured() -> Vec<Captured> {
    include_str!("data/mesos_1.11_bodies.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split(' ');
            Captured {
                name: parts.next().unwrap().to_string(),
                from: parts.next().unwrap().to_string(),
                body: hex(parts.next().unwrap_or("")),
            }
        })
        .collect()
}

/// The body of the first captured message named `name` sent by `from`
/// (a prefix of the sender's UPID).
fn first(name: &str, from: &str) -> Vec<u8> {
    captured()
        .into_iter()
        .find(|c| c.name == name && c.from.starts_with(from))
        .unwrap_or_else(|| panic!("no capture of {name} from {from}"))
        .body
}

/// Decodes `body` as `M` and checks that re-encoding gives the same bytes.
fn decode_exact<M: Message + Default>(body: &[u8]) -> M {
    let m = M::decode(body).expect("decode");
    assert_eq!(hex_str(&m.encode_to_vec()), hex_str(body));
    m
}

fn roundtrip<M: Message + Default>(body: &[u8]) -> Vec<u8> {
    M::decode(body)
        .unwrap_or_else(|e| panic!("decode: {e}"))
        .encode_to_vec()
}

#[test]
fn every_captured_body_roundtrips_byte_for_byte() {
    let all = captured();
    assert!(
        all.len() >= 60,
        "expected the whole capture, got {}",
        all.len()
    );
    for c in &all {
        let again = match c.name.as_str() {
            "mesos.internal.FrameworkRegisteredMessage" => {
                roundtrip::<internal::FrameworkRegisteredMessage>(&c.body)
            }
            "mesos.internal.PingSlaveMessage" => roundtrip::<internal::PingSlaveMessage>(&c.body),
            "mesos.internal.PongSlaveMessage" => roundtrip::<internal::PongSlaveMessage>(&c.body),
            "mesos.internal.RegisterExecutorMessage" => {
                roundtrip::<internal::RegisterExecutorMessage>(&c.body)
            }
            "mesos.internal.RegisterSlaveMessage" => {
                roundtrip::<internal::RegisterSlaveMessage>(&c.body)
            }
            "mesos.internal.ResourceOffersMessage" => {
                roundtrip::<internal::ResourceOffersMessage>(&c.body)
            }
            "mesos.internal.RunTaskMessage" => roundtrip::<internal::RunTaskMessage>(&c.body),
            "mesos.internal.ShutdownFrameworkMessage" => {
                roundtrip::<internal::ShutdownFrameworkMessage>(&c.body)
            }
            "mesos.internal.SlaveRegisteredMessage" => {
                roundtrip::<internal::SlaveRegisteredMessage>(&c.body)
            }
            "mesos.internal.StatusUpdateAcknowledgementMessage" => {
                roundtrip::<internal::StatusUpdateAcknowledgementMessage>(&c.body)
            }
            "mesos.internal.StatusUpdateMessage" => {
                roundtrip::<internal::StatusUpdateMessage>(&c.body)
            }
            "mesos.internal.UpdateSlaveMessage" => {
                roundtrip::<internal::UpdateSlaveMessage>(&c.body)
            }
            "mesos.scheduler.Call" => roundtrip::<scheduler::Call>(&c.body),
            other => panic!("capture has a message this test does not know: {other}"),
        };
        assert_eq!(
            hex_str(&again),
            hex_str(&c.body),
            "{} from {} re-encodes differently",
            c.name,
            c.from
        );
    }
}

fn hex_str(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const AGENT_ID: &str = "0d572a1f-36d1-4189-afe5-16cd45ea4fc7-S0";
const FRAMEWORK_ID: &str = "0d572a1f-36d1-4189-afe5-16cd45ea4fc7-0000";

#[test]
fn register_slave_message_from_a_real_agent() {
    let body = first(
        "mesos.internal.RegisterSlaveMessage",
        "slave(1)@127.0.0.1:15151",
    );
    let m: internal::RegisterSlaveMessage = decode_exact(&body);
    assert_eq!(m.slave.hostname, "localhost");
    assert_eq!(m.slave.port(), 15151);
    assert!(m.slave.checkpoint());
    assert_eq!(m.version(), "1.11.0");
    let names: Vec<&str> = m.slave.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["cpus", "mem", "disk", "ports"]);
    let cpus = &m.slave.resources[0];
    assert_eq!(cpus.r#type(), mesos::value::Type::Scalar);
    assert_eq!(cpus.scalar.as_ref().unwrap().value, 2.0);
    #[allow(deprecated)]
    let role = cpus.role();
    assert_eq!(role, "*");
    let ports = &m.slave.resources[3];
    assert_eq!(ports.r#type(), mesos::value::Type::Ranges);
    let range = &ports.ranges.as_ref().unwrap().range[0];
    assert_eq!((range.begin, range.end), (31000, 32000));
    use mesos::slave_info::capability::Type as Cap;
    let caps: Vec<Cap> = m.agent_capabilities.iter().map(|c| c.r#type()).collect();
    assert_eq!(
        caps,
        [
            Cap::MultiRole,
            Cap::HierarchicalRole,
            Cap::ReservationRefinement,
            Cap::ResourceProvider,
            Cap::ResizeVolume,
            Cap::AgentOperationFeedback,
            Cap::AgentDraining,
            Cap::TaskResourceLimits,
        ]
    );
    assert_eq!(m.resource_version_uuid.unwrap().value.len(), 16);
}

#[test]
fn slave_registered_and_ping_from_a_real_master() {
    let body = first(
        "mesos.internal.SlaveRegisteredMessage",
        "master@127.0.0.1:15150",
    );
    let m: internal::SlaveRegisteredMessage = decode_exact(&body);
    assert_eq!(m.slave_id.value, AGENT_ID);
    assert_eq!(m.connection.unwrap().total_ping_timeout_seconds(), 75.0);

    let body = first("mesos.internal.PingSlaveMessage", "slave-observer(1)@");
    assert_eq!(body, [0x08, 0x01]);
    let ping: internal::PingSlaveMessage = decode_exact(&body);
    assert!(ping.connected);

    let body = first("mesos.internal.PongSlaveMessage", "slave(1)@");
    assert!(body.is_empty());
    let _: internal::PongSlaveMessage = decode_exact(&body);
}

#[test]
fn subscribe_call_from_the_real_cpp_driver() {
    let call = captured()
        .into_iter()
        .filter(|c| c.name == "mesos.scheduler.Call")
        .map(|c| decode_exact::<scheduler::Call>(&c.body))
        .find(|c| c.r#type() == scheduler::call::Type::Subscribe)
        .expect("a SUBSCRIBE call");
    assert!(call.framework_id.is_none());
    let info = &call.subscribe.as_ref().unwrap().framework_info;
    assert_eq!(info.user, "root");
    assert_eq!(info.name, "Test Framework (C++)");
    assert_eq!(info.checkpoint, Some(false));
    assert_eq!(info.hostname(), "vm");
    assert_eq!(info.principal(), "test-principal");
    assert_eq!(info.roles, ["*"]);
    use mesos::framework_info::capability::Type as Cap;
    let caps: Vec<Cap> = info.capabilities.iter().map(|c| c.r#type()).collect();
    assert_eq!(caps, [Cap::MultiRole, Cap::ReservationRefinement]);
}

#[test]
fn accept_call_with_launch_operation() {
    let call = captured()
        .into_iter()
        .filter(|c| c.name == "mesos.scheduler.Call")
        .map(|c| decode_exact::<scheduler::Call>(&c.body))
        .find(|c| c.r#type() == scheduler::call::Type::Accept)
        .expect("an ACCEPT call");
    let accept = call.accept.unwrap();
    assert_eq!(accept.offer_ids.len(), 1);
    let op = &accept.operations[0];
    assert_eq!(op.r#type(), mesos::offer::operation::Type::Launch);
    let tasks = &op.launch.as_ref().unwrap().task_infos;
    assert!(!tasks.is_empty());
    assert_eq!(tasks[0].resources[0].name, "cpus");
    assert_eq!(tasks[0].resources[0].scalar.unwrap().value, 0.1);
}

#[test]
fn framework_registered_and_offers_from_a_real_master() {
    let body = first(
        "mesos.internal.FrameworkRegisteredMessage",
        "master@127.0.0.1:15150",
    );
    let m: internal::FrameworkRegisteredMessage = decode_exact(&body);
    assert_eq!(m.framework_id.value, FRAMEWORK_ID);
    assert_eq!(m.master_info.pid(), "master@127.0.0.1:15150");
    assert_eq!(m.master_info.port, 15150);
    assert_eq!(m.master_info.version(), "1.11.0");

    let body = first(
        "mesos.internal.ResourceOffersMessage",
        "master@127.0.0.1:15150",
    );
    let m: internal::ResourceOffersMessage = decode_exact(&body);
    assert_eq!(m.offers.len(), 1);
    let offer = &m.offers[0];
    assert_eq!(offer.framework_id.value, FRAMEWORK_ID);
    assert_eq!(offer.slave_id.value, AGENT_ID);
    assert_eq!(offer.hostname, "localhost");
    assert_eq!(m.pids, ["slave(1)@127.0.0.1:15151"]);
}

#[test]
fn run_task_message_from_a_real_master() {
    let body = first("mesos.internal.RunTaskMessage", "master@127.0.0.1:15150");
    let m: internal::RunTaskMessage = decode_exact(&body);
    assert_eq!(m.framework.id.as_ref().unwrap().value, FRAMEWORK_ID);
    assert!(m.pid().starts_with("scheduler-"));
    assert_eq!(m.task.name, "Task 0");
    assert_eq!(m.task.task_id.value, "0");
    assert_eq!(m.task.slave_id.value, AGENT_ID);
    assert_eq!(m.task.command.as_ref().unwrap().value(), "sleep 0.1");
    assert_eq!(m.resource_version_uuids.len(), 1);
    assert_eq!(m.launch_executor, Some(true));
}

#[test]
fn status_updates_from_a_real_executor_and_agent() {
    let updates: Vec<(String, internal::StatusUpdateMessage)> = captured()
        .into_iter()
        .filter(|c| c.name == "mesos.internal.StatusUpdateMessage")
        .map(|c| (c.from, decode_exact(&c.body)))
        .collect();
    assert!(updates.len() >= 12);
    use mesos::TaskState as S;
    let states: Vec<S> = updates
        .iter()
        .map(|(_, m)| m.update.status.state())
        .collect();
    assert!(states.contains(&S::TaskStarting));
    assert!(states.contains(&S::TaskRunning));
    assert!(states.contains(&S::TaskFinished));
    for (from, m) in &updates {
        let status = &m.update.status;
        assert_eq!(status.uuid.as_ref().map(|u| u.len()), Some(16), "{from}");
        assert_eq!(status.uuid, m.update.uuid);
        if from.starts_with("executor(") {
            // Sent by the executor itself: the pid field is its own UPID.
            assert_eq!(status.source(), mesos::task_status::Source::Executor);
            assert_eq!(m.pid(), from);
        }
    }
}

#[test]
fn acknowledgement_from_a_real_master() {
    let body = first(
        "mesos.internal.StatusUpdateAcknowledgementMessage",
        "master@127.0.0.1:15150",
    );
    let m: internal::StatusUpdateAcknowledgementMessage = decode_exact(&body);
    assert_eq!(m.slave_id.value, AGENT_ID);
    assert_eq!(m.framework_id.value, FRAMEWORK_ID);
    assert_eq!(m.uuid.len(), 16);
}
