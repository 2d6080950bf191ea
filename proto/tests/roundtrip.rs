//! Encode → decode round trips of richly populated messages.

use mesos_proto::bytes::Bytes;
use mesos_proto::prost::Message;
use mesos_proto::{executor, internal, mesos, scheduler, v1};
use std::fmt::Debug;

fn roundtrip<M: Message + Default + PartialEq + Debug>(m: &M) {
    let bytes = m.encode_to_vec();
    let back = M::decode(&bytes[..]).expect("decode");
    assert_eq!(&back, m);
    // Re-encoding is stable.
    assert_eq!(back.encode_to_vec(), bytes);
}

fn s(v: &str) -> String {
    v.to_string()
}

fn scalar(name: &str, value: f64) -> mesos::Resource {
    mesos::Resource {
        name: s(name),
        r#type: mesos::value::Type::Scalar as i32,
        scalar: Some(mesos::value::Scalar { value }),
        allocation_info: Some(mesos::resource::AllocationInfo { role: Some(s("*")) }),
        ..Default::default()
    }
}

fn labels() -> mesos::Labels {
    mesos::Labels {
        labels: vec![
            mesos::Label {
                key: s("team"),
                value: Some(s("infra")),
            },
            mesos::Label {
                key: s("flag"),
                value: None,
            },
        ],
    }
}

fn framework_info() -> mesos::FrameworkInfo {
    use mesos::framework_info::{capability::Type, Capability};
    let mut info = mesos::FrameworkInfo {
        user: s("root"),
        name: s("Test Framework"),
        id: Some(mesos::FrameworkId { value: s("F-0000") }),
        failover_timeout: Some(3600.0),
        checkpoint: Some(true),
        hostname: Some(s("vm")),
        principal: Some(s("test-principal")),
        webui_url: Some(s("http://vm:8080")),
        capabilities: [
            Type::MultiRole,
            Type::ReservationRefinement,
            Type::PartitionAware,
        ]
        .into_iter()
        .map(|t| Capability {
            r#type: Some(t as i32),
        })
        .collect(),
        labels: Some(labels()),
        roles: vec![s("web"), s("batch")],
        ..Default::default()
    };
    info.offer_filters.insert(
        s("web"),
        mesos::OfferFilters {
            min_allocatable_resources: Some(mesos::offer_filters::MinAllocatableResources {
                quantities: vec![mesos::offer_filters::ResourceQuantities {
                    quantities: [(s("cpus"), mesos::value::Scalar { value: 1.0 })]
                        .into_iter()
                        .collect(),
                }],
            }),
        },
    );
    info
}

fn task_info() -> mesos::TaskInfo {
    let mut task = mesos::TaskInfo {
        name: s("web-1"),
        task_id: mesos::TaskId { value: s("t1") },
        slave_id: mesos::SlaveId { value: s("S0") },
        resources: vec![scalar("cpus", 0.5), scalar("mem", 128.0)],
        data: Some(Bytes::from_static(b"\x00\x01payload")),
        command: Some(mesos::CommandInfo {
            uris: vec![mesos::command_info::Uri {
                value: s("http://example.com/app.tgz"),
                executable: Some(false),
                extract: Some(true),
                cache: Some(true),
                output_file: None,
            }],
            environment: Some(mesos::Environment {
                variables: vec![mesos::environment::Variable {
                    name: s("PORT"),
                    value: Some(s("8080")),
                    ..Default::default()
                }],
            }),
            value: Some(s("./app --port $PORT")),
            user: Some(s("nobody")),
            shell: Some(true),
            arguments: vec![],
        }),
        health_check: Some(mesos::HealthCheck {
            r#type: Some(mesos::health_check::Type::Http as i32),
            http: Some(mesos::health_check::HttpCheckInfo {
                port: 8080,
                path: Some(s("/health")),
                statuses: vec![200, 204],
                ..Default::default()
            }),
            delay_seconds: Some(5.0),
            consecutive_failures: Some(2),
            ..Default::default()
        }),
        container: Some(mesos::ContainerInfo {
            r#type: mesos::container_info::Type::Mesos as i32,
            volumes: vec![mesos::Volume {
                container_path: s("/data"),
                host_path: Some(s("/srv/data")),
                mode: mesos::volume::Mode::Rw as i32,
                ..Default::default()
            }],
            mesos: Some(mesos::container_info::MesosInfo {
                image: Some(mesos::Image {
                    r#type: mesos::image::Type::Docker as i32,
                    docker: Some(mesos::image::Docker {
                        name: s("library/nginx:1.25"),
                        ..Default::default()
                    }),
                    cached: Some(false),
                    ..Default::default()
                }),
            }),
            network_infos: vec![mesos::NetworkInfo {
                name: Some(s("cni-net")),
                ip_addresses: vec![mesos::network_info::IpAddress {
                    protocol: Some(mesos::network_info::Protocol::IPv4 as i32),
                    ip_address: None,
                }],
                ..Default::default()
            }],
            linux_info: Some(mesos::LinuxInfo {
                share_pid_namespace: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }),
        labels: Some(labels()),
        kill_policy: Some(mesos::KillPolicy {
            grace_period: Some(mesos::DurationInfo {
                nanoseconds: 5_000_000_000,
            }),
        }),
        ..Default::default()
    };
    task.limits
        .insert(s("cpus"), mesos::value::Scalar { value: 1.0 });
    task
}

fn slave_info() -> mesos::SlaveInfo {
    mesos::SlaveInfo {
        hostname: s("agent-1"),
        port: Some(5051),
        resources: vec![scalar("cpus", 4.0), scalar("mem", 8192.0)],
        attributes: vec![mesos::Attribute {
            name: s("rack"),
            r#type: mesos::value::Type::Text as i32,
            text: Some(mesos::value::Text { value: s("r1") }),
            ..Default::default()
        }],
        id: Some(mesos::SlaveId { value: s("S0") }),
        checkpoint: Some(true),
        ..Default::default()
    }
}

fn task_status() -> mesos::TaskStatus {
    mesos::TaskStatus {
        task_id: mesos::TaskId { value: s("t1") },
        state: mesos::TaskState::TaskRunning as i32,
        message: Some(s("started")),
        source: Some(mesos::task_status::Source::Executor as i32),
        reason: Some(mesos::task_status::Reason::TaskHealthCheckStatusUpdated as i32),
        healthy: Some(true),
        slave_id: Some(mesos::SlaveId { value: s("S0") }),
        executor_id: Some(mesos::ExecutorId { value: s("e1") }),
        timestamp: Some(1_700_000_000.25),
        uuid: Some(Bytes::from_static(&[7; 16])),
        labels: Some(labels()),
        ..Default::default()
    }
}

#[test]
fn framework_info_with_capabilities() {
    roundtrip(&framework_info());
}

#[test]
fn task_info_complete() {
    roundtrip(&task_info());
}

#[test]
fn register_slave_message() {
    roundtrip(&internal::RegisterSlaveMessage {
        slave: slave_info(),
        version: Some(s("1.11.0")),
        checkpointed_resources: vec![scalar("disk", 100.0)],
        agent_capabilities: vec![mesos::slave_info::Capability {
            r#type: Some(mesos::slave_info::capability::Type::MultiRole as i32),
        }],
        resource_version_uuid: Some(mesos::Uuid {
            value: Bytes::from_static(&[1; 16]),
        }),
    });
}

#[test]
fn status_update_message() {
    roundtrip(&internal::StatusUpdateMessage {
        update: internal::StatusUpdate {
            framework_id: mesos::FrameworkId { value: s("F") },
            executor_id: Some(mesos::ExecutorId { value: s("e1") }),
            slave_id: Some(mesos::SlaveId { value: s("S0") }),
            status: task_status(),
            timestamp: 1_700_000_000.25,
            uuid: Some(Bytes::from_static(&[7; 16])),
            latest_state: Some(mesos::TaskState::TaskRunning as i32),
        },
        pid: Some(s("executor(1)@10.0.0.2:40000")),
    });
}

#[test]
fn scheduler_subscribe_and_accept() {
    use scheduler::call;
    roundtrip(&scheduler::Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: framework_info(),
            force: Some(true),
            suppressed_roles: vec![s("batch")],
            ..Default::default()
        }),
        ..Default::default()
    });

    use mesos::offer::operation;
    roundtrip(&scheduler::Call {
        framework_id: Some(mesos::FrameworkId { value: s("F") }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: vec![mesos::OfferId { value: s("O1") }],
            operations: vec![
                mesos::offer::Operation {
                    r#type: Some(operation::Type::Reserve as i32),
                    reserve: Some(operation::Reserve {
                        resources: vec![scalar("cpus", 1.0)],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                mesos::offer::Operation {
                    r#type: Some(operation::Type::Launch as i32),
                    id: Some(mesos::OperationId { value: s("op-1") }),
                    launch: Some(operation::Launch {
                        task_infos: vec![task_info()],
                    }),
                    ..Default::default()
                },
                mesos::offer::Operation {
                    r#type: Some(operation::Type::LaunchGroup as i32),
                    launch_group: Some(operation::LaunchGroup {
                        executor: mesos::ExecutorInfo {
                            executor_id: mesos::ExecutorId {
                                value: s("default"),
                            },
                            r#type: Some(mesos::executor_info::Type::Default as i32),
                            resources: vec![scalar("cpus", 0.1)],
                            ..Default::default()
                        },
                        task_group: mesos::TaskGroupInfo {
                            tasks: vec![task_info()],
                        },
                    }),
                    ..Default::default()
                },
            ],
            filters: Some(mesos::Filters {
                refuse_seconds: Some(30.0),
            }),
        }),
        ..Default::default()
    });
}

#[test]
fn scheduler_offers_event() {
    use scheduler::event;
    roundtrip(&scheduler::Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers {
            offers: vec![mesos::Offer {
                id: mesos::OfferId { value: s("O1") },
                framework_id: mesos::FrameworkId { value: s("F") },
                slave_id: mesos::SlaveId { value: s("S0") },
                hostname: s("agent-1"),
                resources: vec![scalar("cpus", 4.0)],
                attributes: slave_info().attributes,
                executor_ids: vec![mesos::ExecutorId { value: s("e1") }],
                allocation_info: Some(mesos::resource::AllocationInfo { role: Some(s("*")) }),
                ..Default::default()
            }],
        }),
        ..Default::default()
    });
}

#[test]
fn executor_call_and_event() {
    roundtrip(&executor::Call {
        executor_id: mesos::ExecutorId { value: s("e1") },
        framework_id: mesos::FrameworkId { value: s("F") },
        r#type: Some(executor::call::Type::Update as i32),
        update: Some(executor::call::Update {
            status: task_status(),
        }),
        ..Default::default()
    });
    roundtrip(&executor::Event {
        r#type: Some(executor::event::Type::Launch as i32),
        launch: Some(executor::event::Launch { task: task_info() }),
        ..Default::default()
    });
    roundtrip(&executor::Event {
        r#type: Some(executor::event::Type::Subscribed as i32),
        subscribed: Some(executor::event::Subscribed {
            executor_info: mesos::ExecutorInfo {
                executor_id: mesos::ExecutorId { value: s("e1") },
                ..Default::default()
            },
            framework_info: framework_info(),
            slave_info: slave_info(),
            container_id: Some(mesos::ContainerId {
                value: s("child"),
                parent: Some(Box::new(mesos::ContainerId {
                    value: s("parent"),
                    parent: None,
                })),
            }),
        }),
        ..Default::default()
    });
}

#[test]
fn v1_scheduler_call() {
    use v1::scheduler::call;
    roundtrip(&v1::scheduler::Call {
        framework_id: Some(v1::FrameworkId { value: s("F") }),
        r#type: Some(call::Type::Acknowledge as i32),
        acknowledge: Some(call::Acknowledge {
            agent_id: v1::AgentId { value: s("S0") },
            task_id: v1::TaskId { value: s("t1") },
            uuid: Bytes::from_static(&[9; 16]),
        }),
        ..Default::default()
    });
}

#[test]
fn v0_and_v1_share_the_wire_format() {
    // The v1 API is the same schema under other names (SlaveID → AgentID):
    // a v0 message decodes as its v1 counterpart and encodes back unchanged.
    let v0 = internal::StatusUpdateMessage {
        update: internal::StatusUpdate {
            framework_id: mesos::FrameworkId { value: s("F") },
            status: task_status(),
            timestamp: 1.0,
            ..Default::default()
        },
        pid: None,
    };
    let status = v0.update.status.encode_to_vec();
    let v1_status = v1::TaskStatus::decode(&status[..]).unwrap();
    assert_eq!(v1_status.agent_id.as_ref().unwrap().value, "S0");
    assert_eq!(v1_status.encode_to_vec(), status);
}
