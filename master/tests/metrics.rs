//! `/metrics/snapshot` of a master (alone in this test binary, as metrics
//! are per OS process).

mod support;

use mesos_proto::internal::{RegisterSlaveMessage, SlaveRegisteredMessage};
use mesos_proto::mesos::{value, Resource, SlaveInfo};
use support::{Peer, TestMaster};

#[test]
fn snapshot_counts_agents_messages_and_drops() {
    let master = TestMaster::with_args(&[]);
    let agent = Peer::start("slave(1)");
    #[allow(deprecated)]
    let cpus = Resource {
        name: "cpus".into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: 4.0 }),
        role: Some("*".into()),
        ..Default::default()
    };
    agent.send(
        &master.upid(),
        &RegisterSlaveMessage {
            slave: SlaveInfo {
                hostname: "localhost".into(),
                resources: vec![cpus],
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let _: SlaveRegisteredMessage = agent.expect();
    let arrived = master.next_message::<mesos_proto::scheduler::Call>();
    agent.send(
        &master.upid(),
        &mesos_proto::scheduler::Call {
            r#type: Some(mesos_proto::scheduler::call::Type::Accept as i32),
            ..Default::default()
        },
    );
    master.handled(arrived);
    let metrics = master.json("/metrics/snapshot");
    assert_eq!(metrics["master/slaves_active"], 1.0);
    assert_eq!(metrics["master/slaves_connected"], 1.0);
    assert_eq!(metrics["master/messages_register_slave"], 1.0);
    assert_eq!(metrics["master/slave_registrations"], 1.0);
    assert_eq!(metrics["master/cpus_total"], 4.0);
    assert_eq!(metrics["master/cpus_used"], 0.0);
    assert_eq!(metrics["master/dropped_messages"], 1.0);
    assert_eq!(metrics["master/frameworks_active"], 0.0);
}
