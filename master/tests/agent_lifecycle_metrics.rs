//! The agent gauges of `/metrics/snapshot` through a disconnection and a
//! reregistration (a master alone in this test binary, as metrics are per
//! OS process).

mod lifecycle;
mod support;

use lifecycle::*;
use mesos_proto::internal::{ReregisterSlaveMessage, SlaveReregisteredMessage};
use mesos_proto::mesos::SlaveId;
use support::{Peer, TestMaster};

#[test]
fn disconnected_agent_counts_as_disconnected_and_inactive_until_it_returns() {
    let master = TestMaster::with_args(&[]);
    let (agent, agent_id) = register_agent(&master);
    let metrics = master.json("/metrics/snapshot");
    assert_eq!(metrics["master/slaves_connected"], 1.0);
    assert_eq!(metrics["master/slaves_active"], 1.0);

    drop(agent);
    let metrics = wait_for(&master, "/metrics/snapshot", |m| {
        m["master/slaves_disconnected"] == 1.0
    });
    assert_eq!(metrics["master/slaves_connected"], 0.0);
    assert_eq!(metrics["master/slaves_active"], 0.0);
    assert_eq!(metrics["master/slaves_inactive"], 1.0);
    assert_eq!(metrics["master/slave_removals"], 0.0);

    let agent = Peer::start("slave(1)");
    let mut info = agent_info();
    info.id = Some(SlaveId { value: agent_id });
    agent.send(
        &master.upid(),
        &ReregisterSlaveMessage {
            slave: info,
            version: Some("1.11.0".into()),
            agent_capabilities: agent_capabilities(),
            ..Default::default()
        },
    );
    let _: SlaveReregisteredMessage = agent.expect();
    master.settle();
    let metrics = master.json("/metrics/snapshot");
    assert_eq!(metrics["master/slaves_connected"], 1.0);
    assert_eq!(metrics["master/slaves_disconnected"], 0.0);
    assert_eq!(metrics["master/slaves_active"], 1.0);
    assert_eq!(metrics["master/slave_reregistrations"], 1.0);
}
