//! `test-framework` run in-process against a scripted fake master (a
//! libprocess process `master` speaking the real protocol): all tasks
//! finish; and after the framework dies mid-run, a new instance with the
//! same state file fails over to the same framework id, reconciles, and
//! finishes the rest without launching any task twice.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use libprocess::{Config, Context, Pid, Process, Runtime, UPID};
use mesos_common::Duration as MesosDuration;
use mesos_examples::framework::FrameworkOptions;
use mesos_examples::resources::parse_request;
use mesos_examples::test_framework::{run, Summary, TestFrameworkConfig};
use mesos_proto::internal::{
    FrameworkErrorMessage, FrameworkRegisteredMessage, ResourceOffersMessage, StatusUpdate,
    StatusUpdateMessage,
};
use mesos_proto::mesos::{
    value, FrameworkId, Offer, OfferId, Resource, SlaveId, TaskState, TaskStatus,
};
use mesos_proto::scheduler::{call, Call};

const WAIT: Duration = Duration::from_secs(10);
const FRAMEWORK: &str = "framework-t";
const AGENT: &str = "agent-1";

struct Master {
    calls: mpsc::Sender<(UPID, Call)>,
}

impl Process for Master {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<Call, _>(|p, _ctx, from, call| {
            let _ = p.calls.send((from.clone(), call));
        });
    }
}

/// The test's side of the fake master.
struct Script {
    runtime: Runtime,
    pid: Pid<Master>,
    calls: mpsc::Receiver<(UPID, Call)>,
    offers: u32,
}

impl Script {
    fn start() -> Script {
        let runtime = Runtime::start(Config {
            worker_threads: 1,
            ..Config::default()
        })
        .unwrap();
        let (tx, calls) = mpsc::channel();
        let pid = runtime.spawn("master", Master { calls: tx }).unwrap();
        Script {
            runtime,
            pid,
            calls,
            offers: 0,
        }
    }

    fn send<M: prost::Message + prost::Name + 'static>(&self, to: &UPID, message: M) {
        let to = to.clone();
        self.pid.post(move |_, ctx| ctx.send(&to, &message));
    }

    fn next(&self, kind: call::Type) -> (UPID, Call) {
        let (from, call) = self.calls.recv_timeout(WAIT).expect("a call in time");
        assert_eq!(call.r#type, Some(kind as i32), "unexpected call {call:?}");
        (from, call)
    }

    fn offer(&mut self, to: &UPID) {
        self.offers += 1;
        let scalar = |name: &str, value: f64| Resource {
            name: name.into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value }),
            ..Resource::default()
        };
        self.send(
            to,
            ResourceOffersMessage {
                offers: vec![Offer {
                    id: OfferId {
                        value: format!("offer-{}", self.offers),
                    },
                    framework_id: FrameworkId {
                        value: FRAMEWORK.into(),
                    },
                    slave_id: SlaveId {
                        value: AGENT.into(),
                    },
                    hostname: "localhost".into(),
                    resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
                    ..Offer::default()
                }],
                pids: vec![self.runtime.upid("slave(1)").to_string()],
            },
        );
    }

    fn update(&self, to: &UPID, task: &str, state: TaskState) {
        let uuid = Bytes::from(format!("{task}-{}", state as i32));
        self.send(
            to,
            StatusUpdateMessage {
                update: StatusUpdate {
                    framework_id: FrameworkId {
                        value: FRAMEWORK.into(),
                    },
                    slave_id: Some(SlaveId {
                        value: AGENT.into(),
                    }),
                    timestamp: 1.0,
                    uuid: Some(uuid.clone()),
                    status: TaskStatus {
                        task_id: mesos_proto::mesos::TaskId { value: task.into() },
                        state: state as i32,
                        slave_id: Some(SlaveId {
                            value: AGENT.into(),
                        }),
                        uuid: Some(uuid),
                        ..TaskStatus::default()
                    },
                    executor_id: None,
                    latest_state: None,
                },
                pid: Some(self.runtime.upid("slave(1)").to_string()),
            },
        );
    }

    /// Expects the ACKNOWLEDGE of `task` reaching `state`.
    fn acked(&self, task: &str, state: TaskState) {
        let (_, ack) = self.next(call::Type::Acknowledge);
        let ack = ack.acknowledge.unwrap();
        assert_eq!(ack.task_id.value, task);
        assert_eq!(&ack.uuid[..], format!("{task}-{}", state as i32).as_bytes());
    }
}

fn config(master: &Script, tasks: u32, state_file: &std::path::Path) -> TestFrameworkConfig {
    TestFrameworkConfig {
        options: FrameworkOptions {
            master: master.runtime.address().to_string(),
            role: "*".into(),
            checkpoint: true,
            principal: "test".into(),
            credential: None,
            framework_id: None,
            failover_timeout: MesosDuration::parse("1hrs").unwrap().as_secs_f64(),
            state_file: Some(state_file.to_path_buf()),
        },
        tasks,
        resources: parse_request("cpus:0.1;mem:32").unwrap(),
        command: "sleep 0.1".into(),
        implicit_acknowledgements: true,
    }
}

fn launched_ids(accept: &Call) -> Vec<String> {
    accept
        .accept
        .as_ref()
        .unwrap()
        .operations
        .iter()
        .flat_map(|o| o.launch.iter().flat_map(|l| &l.task_infos))
        .map(|t| t.task_id.value.clone())
        .collect()
}

fn state_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("test-framework-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn all_tasks_finish_and_the_framework_tears_down() {
    let mut master = Script::start();
    let path = state_file("plain");
    let run = {
        let config = config(&master, 2, &path);
        std::thread::spawn(move || run(config, None).unwrap())
    };

    let (scheduler, subscribe) = master.next(call::Type::Subscribe);
    let info = subscribe.subscribe.unwrap().framework_info;
    assert_eq!(info.checkpoint, Some(true));
    assert_eq!(info.failover_timeout, Some(3600.0));
    master.send(
        &scheduler,
        FrameworkRegisteredMessage {
            framework_id: FrameworkId {
                value: FRAMEWORK.into(),
            },
            master_info: mesos_scheduler::detector::master_info(master.pid.upid()),
        },
    );
    master.offer(&scheduler);
    let (_, accept) = master.next(call::Type::Accept);
    assert_eq!(launched_ids(&accept), vec!["0", "1"]);
    master.update(&scheduler, "0", TaskState::TaskFinished);
    master.acked("0", TaskState::TaskFinished);
    // The last update stops the driver from inside the callback: as with
    // libmesos (see the captures), it is not acknowledged; the framework
    // is torn down instead.
    master.update(&scheduler, "1", TaskState::TaskFinished);
    master.next(call::Type::Teardown);
    let summary: Summary = run.join().unwrap();
    assert!(summary.succeeded(), "{summary}");
    assert_eq!(summary.launched, 2);
}

#[test]
fn a_restarted_framework_fails_over_and_launches_nothing_twice() {
    let mut master = Script::start();
    let path = state_file("failover");
    let master_upid = master.pid.upid().clone();
    let registered = || FrameworkRegisteredMessage {
        framework_id: FrameworkId {
            value: FRAMEWORK.into(),
        },
        master_info: mesos_scheduler::detector::master_info(&master_upid),
    };

    // First instance: launches all three, sees task 0 finish and 1 run,
    // then dies (here: the master's error aborts it).
    let first = {
        let config = config(&master, 3, &path);
        std::thread::spawn(move || run(config, None).unwrap())
    };
    let (scheduler, _) = master.next(call::Type::Subscribe);
    master.send(&scheduler, registered());
    master.offer(&scheduler);
    let (_, accept) = master.next(call::Type::Accept);
    assert_eq!(launched_ids(&accept), vec!["0", "1", "2"]);
    master.update(&scheduler, "0", TaskState::TaskFinished);
    master.acked("0", TaskState::TaskFinished);
    master.update(&scheduler, "1", TaskState::TaskRunning);
    master.acked("1", TaskState::TaskRunning);
    master.send(
        &scheduler,
        FrameworkErrorMessage {
            message: "simulated crash".into(),
        },
    );
    let summary = first.join().unwrap();
    assert!(!summary.succeeded());
    assert_eq!(summary.error.as_deref(), Some("simulated crash"));

    // Second instance, same state file: fails over to the same id.
    let second = {
        let config = config(&master, 3, &path);
        std::thread::spawn(move || run(config, None).unwrap())
    };
    // The aborted instance told the master to deactivate it; no teardown.
    let (scheduler, subscribe) = loop {
        let (from, call) = master.calls.recv_timeout(WAIT).expect("SUBSCRIBE in time");
        if call.r#type == Some(call::Type::Subscribe as i32) {
            break (from, call);
        }
        assert_ne!(
            call.r#type,
            Some(call::Type::Teardown as i32),
            "the first instance tore down"
        );
    };
    assert_eq!(subscribe.framework_id.unwrap().value, FRAMEWORK);
    assert_eq!(subscribe.subscribe.unwrap().force, Some(true));
    master.send(&scheduler, registered());

    // It asks about the tasks it launched and did not see finish.
    let (_, reconcile) = master.next(call::Type::Reconcile);
    let asked: BTreeSet<String> = reconcile
        .reconcile
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.task_id.value)
        .collect();
    assert_eq!(asked, BTreeSet::from(["1".to_string(), "2".to_string()]));

    // Offers while it waits are declined: everything was launched once.
    master.offer(&scheduler);
    master.next(call::Type::Decline);
    master.update(&scheduler, "1", TaskState::TaskFinished);
    master.acked("1", TaskState::TaskFinished);
    master.update(&scheduler, "2", TaskState::TaskFinished);
    master.next(call::Type::Teardown);
    let summary = second.join().unwrap();
    assert!(summary.succeeded(), "{summary}");
    assert_eq!(summary.launched, 0, "the second instance launched again");
    assert_eq!(summary.framework_id.as_deref(), Some(FRAMEWORK));
}
