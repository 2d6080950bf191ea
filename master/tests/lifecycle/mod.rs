//! What the agent-lifecycle and operation tests share: test agents and
//! libprocess schedulers set up over the real protocol, and the messages
//! they send.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use mesos_proto::internal::{
    FrameworkRegisteredMessage, RegisterSlaveMessage, ResourceOffersMessage, SlaveRegisteredMessage,
};
use mesos_proto::mesos::{
    self, value, CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo,
    OfferId, Resource, SlaveId, SlaveInfo, TaskId, TaskInfo,
};
use mesos_proto::scheduler::{call, Call};
use serde_json::Value;

use crate::support::{Peer, TestMaster, BOUND};

pub fn scalar(name: &str, v: f64) -> Resource {
    #[allow(deprecated)]
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        role: Some("*".into()),
        ..Default::default()
    }
}

/// The amount of scalar resource `name` in `resources`.
pub fn amount(resources: &[Resource], name: &str) -> f64 {
    resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum()
}

/// A 2-cpu, 1 GB agent on `localhost`.
pub fn agent_info() -> SlaveInfo {
    SlaveInfo {
        hostname: "localhost".into(),
        resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
        port: Some(5051),
        ..Default::default()
    }
}

/// What a Mesos 1.11 agent announces (MULTI_ROLE ... AGENT_DRAINING).
pub fn agent_capabilities() -> Vec<mesos::slave_info::Capability> {
    (1..=8)
        .map(|t| mesos::slave_info::Capability { r#type: Some(t) })
        .collect()
}

/// Registers a test agent; returns it and its ID.
pub fn register_agent(master: &TestMaster) -> (Peer, String) {
    let agent = Peer::start("slave(1)");
    agent.send(
        &master.upid(),
        &RegisterSlaveMessage {
            slave: agent_info(),
            version: Some("1.11.0".into()),
            agent_capabilities: agent_capabilities(),
            ..Default::default()
        },
    );
    let registered: SlaveRegisteredMessage = agent.expect();
    (agent, registered.slave_id.value)
}

pub fn framework_info(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        failover_timeout: Some(0.0),
        ..Default::default()
    }
}

/// A SUBSCRIBE call for `info` (`force`: a failed-over scheduler).
pub fn subscribe_call(info: FrameworkInfo, force: bool) -> Call {
    Call {
        framework_id: info.id.clone(),
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: info,
            force: Some(force),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Subscribes a libmesos-style scheduler with a Call; returns its ID.
pub fn subscribe(master: &TestMaster, scheduler: &Peer, info: FrameworkInfo) -> String {
    scheduler.send(&master.upid(), &subscribe_call(info, false));
    let registered: FrameworkRegisteredMessage = scheduler.expect();
    registered.framework_id.value
}

/// A command task using `cpus` and 32 MB.
pub fn task(id: &str, agent: &str, cpus: f64) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: SlaveId {
            value: agent.into(),
        },
        resources: vec![scalar("cpus", cpus), scalar("mem", 32.0)],
        command: Some(CommandInfo {
            value: Some("sleep 1000".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A task run by custom executor `executor` (0.1 cpus, 32 MB of its own).
pub fn executor_task(id: &str, agent: &str, cpus: f64, executor: &str) -> TaskInfo {
    TaskInfo {
        command: None,
        executor: Some(ExecutorInfo {
            executor_id: ExecutorId {
                value: executor.into(),
            },
            command: Some(CommandInfo {
                value: Some("./my-executor".into()),
                ..Default::default()
            }),
            resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
            ..Default::default()
        }),
        ..task(id, agent, cpus)
    }
}

/// An ACCEPT of `offer` with `operations`, declining the rest for
/// `refuse_seconds`.
pub fn accept_call(
    framework: &str,
    offer: &OfferId,
    operations: Vec<mesos::offer::Operation>,
    refuse_seconds: f64,
) -> Call {
    Call {
        framework_id: Some(FrameworkId {
            value: framework.into(),
        }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: vec![offer.clone()],
            operations,
            filters: Some(Filters {
                refuse_seconds: Some(refuse_seconds),
            }),
        }),
        ..Default::default()
    }
}

/// A LAUNCH of `tasks`.
pub fn launch(tasks: Vec<TaskInfo>) -> mesos::offer::Operation {
    mesos::offer::Operation {
        r#type: Some(mesos::offer::operation::Type::Launch as i32),
        launch: Some(mesos::offer::operation::Launch { task_infos: tasks }),
        ..Default::default()
    }
}

/// Waits (bounded) until `path` on the master satisfies `ready`; returns
/// that JSON. For what the master does on its own (noticing a broken
/// connection), which no message we send can be a barrier for.
pub fn wait_for(master: &TestMaster, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + BOUND;
    loop {
        master.settle();
        let json = master.json(path);
        if ready(&json) {
            return json;
        }
        assert!(Instant::now() < deadline, "{path} never got ready: {json}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The offers a scheduler receives next.
pub fn next_offers(scheduler: &Peer) -> ResourceOffersMessage {
    scheduler.expect()
}

/// The framework with ID `id` in `/master/state`'s `frameworks`.
pub fn framework<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["frameworks"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["id"] == id))
        .unwrap_or_else(|| panic!("framework {id} in {state}"))
}
