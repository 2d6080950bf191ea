//! The messages the simulated agents and frameworks send, built as a Mesos
//! 1.11 agent and libmesos build them (field for field as in the capture
//! `real_mesos_1.11_master-agent-framework.transcript.txt`). Pure
//! functions: no process state here.

use bytes::Bytes;
use mesos_proto::internal::{
    RegisterSlaveMessage, ReregisterSlaveMessage, StatusUpdate, StatusUpdateMessage,
    UpdateSlaveMessage,
};
use mesos_proto::mesos::{
    framework_info, resource, slave_info, task_status, value, CommandInfo, FrameworkId,
    FrameworkInfo, Label, Labels, Resource, SlaveId, SlaveInfo, Task, TaskId, TaskInfo, TaskState,
    TaskStatus, Uuid,
};
use mesos_proto::scheduler::call::{self, Type};
use mesos_proto::scheduler::Call;

/// The version string Mesos 1.11 agents send.
pub const AGENT_VERSION: &str = "1.11.0";

/// Scalar resources as `name:value;name:value` (e.g. `cpus:0.1;mem:320`).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalars(pub Vec<(String, f64)>);

impl Scalars {
    /// Parses `cpus:0.1;mem:320`; only scalar resources are allowed.
    pub fn parse(text: &str) -> Result<Scalars, String> {
        let mut out = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, number) = part
                .split_once(':')
                .ok_or_else(|| format!("invalid resource '{part}': expected name:value"))?;
            let number: f64 = number
                .trim()
                .parse()
                .map_err(|_| format!("invalid resource '{part}': '{number}' is not a number"))?;
            if !(number >= 0.0 && number.is_finite()) {
                return Err(format!("invalid resource '{part}': negative or not finite"));
            }
            out.push((name.trim().to_string(), number));
        }
        if out.is_empty() {
            return Err(format!("no resources in '{text}'"));
        }
        Ok(Scalars(out))
    }

    /// The value of `name`, 0 if absent.
    pub fn get(&self, name: &str) -> f64 {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .sum()
    }

    /// How many `task`s fit in `self` (at least one resource of `task`
    /// must be positive).
    pub fn fits(&self, task: &Scalars) -> usize {
        task.0
            .iter()
            .filter(|(_, need)| *need > 0.0)
            .map(|(name, need)| ((self.get(name) + 1e-9) / need).floor() as usize)
            .min()
            .unwrap_or(0)
    }

    /// As an agent reports them: pre-refinement, `role: "*"` (the field
    /// is deprecated in the schema, but 1.11 agents still send it).
    #[allow(deprecated)]
    pub fn agent_resources(&self) -> Vec<Resource> {
        self.0
            .iter()
            .map(|(name, v)| Resource {
                role: Some("*".into()),
                ..scalar(name, *v)
            })
            .collect()
    }

    /// As a multi-role framework puts them in a task: allocated to `role`.
    pub fn task_resources(&self, role: &str) -> Vec<Resource> {
        self.0
            .iter()
            .map(|(name, v)| Resource {
                allocation_info: Some(resource::AllocationInfo {
                    role: Some(role.into()),
                }),
                ..scalar(name, *v)
            })
            .collect()
    }

    /// The scalars of offered resources.
    pub fn of(resources: &[Resource]) -> Scalars {
        Scalars(
            resources
                .iter()
                .filter_map(|r| Some((r.name.clone(), r.scalar.as_ref()?.value)))
                .collect(),
        )
    }
}

impl std::fmt::Display for Scalars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}:{v}")).collect();
        write!(f, "{}", parts.join(";"))
    }
}

fn scalar(name: &str, v: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        ..Default::default()
    }
}

/// A fresh random UUID as the 16 bytes the wire carries.
pub fn uuid_bytes() -> Bytes {
    Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())
}

/// The capabilities a Mesos 1.11 agent announces (all eight).
pub fn agent_capabilities() -> Vec<slave_info::Capability> {
    use slave_info::capability::Type as C;
    [
        C::MultiRole,
        C::HierarchicalRole,
        C::ReservationRefinement,
        C::ResourceProvider,
        C::ResizeVolume,
        C::AgentOperationFeedback,
        C::AgentDraining,
        C::TaskResourceLimits,
    ]
    .into_iter()
    .map(|c| slave_info::Capability {
        r#type: Some(c as i32),
    })
    .collect()
}

/// `SlaveInfo` of an agent listening on `port`.
pub fn slave_info(hostname: &str, port: u16, resources: &Scalars) -> SlaveInfo {
    SlaveInfo {
        hostname: hostname.into(),
        resources: resources.agent_resources(),
        checkpoint: Some(true),
        port: Some(i32::from(port)),
        ..Default::default()
    }
}

/// What an agent without an ID sends to join.
pub fn register_slave(info: SlaveInfo, resource_version: &Bytes) -> RegisterSlaveMessage {
    RegisterSlaveMessage {
        slave: info,
        version: Some(AGENT_VERSION.into()),
        checkpointed_resources: Vec::new(),
        agent_capabilities: agent_capabilities(),
        resource_version_uuid: Some(Uuid {
            value: resource_version.clone(),
        }),
    }
}

/// What an agent sends right after `SlaveRegisteredMessage`.
pub fn update_slave(agent_id: &str, resource_version: &Bytes) -> UpdateSlaveMessage {
    UpdateSlaveMessage {
        slave_id: SlaveId {
            value: agent_id.into(),
        },
        oversubscribed_resources: Vec::new(),
        update_oversubscribed_resources: Some(false),
        operations: Some(Default::default()),
        resource_version_uuid: Some(Uuid {
            value: resource_version.clone(),
        }),
        resource_providers: Some(Default::default()),
    }
}

/// What an agent with an ID sends to come back: its tasks and the
/// frameworks they belong to (command executors are not listed, as Mesos
/// agents leave out the executors they generate for command tasks).
pub fn reregister_slave(
    info: SlaveInfo,
    resource_version: &Bytes,
    frameworks: Vec<FrameworkInfo>,
    tasks: Vec<Task>,
    completed_frameworks: Vec<mesos_proto::internal::archive::Framework>,
) -> ReregisterSlaveMessage {
    ReregisterSlaveMessage {
        slave: info,
        tasks,
        executor_infos: Vec::new(),
        completed_frameworks,
        version: Some(AGENT_VERSION.into()),
        checkpointed_resources: Vec::new(),
        frameworks,
        agent_capabilities: agent_capabilities(),
        resource_version_uuid: Some(Uuid {
            value: resource_version.clone(),
        }),
    }
}

/// The `Task` an agent keeps for a launched `TaskInfo`.
pub fn task_of(info: &TaskInfo, framework_id: &str, state: TaskState) -> Task {
    Task {
        name: info.name.clone(),
        task_id: info.task_id.clone(),
        framework_id: FrameworkId {
            value: framework_id.into(),
        },
        executor_id: None,
        slave_id: info.slave_id.clone(),
        state: state as i32,
        resources: info.resources.clone(),
        labels: info.labels.clone(),
        ..Default::default()
    }
}

/// A status update as an agent forwards its executor's: the executor's
/// source and uuid, the agent's pid, and `latest_state`, the newest state
/// the agent knows (a task that already finished is reported RUNNING with
/// latest state FINISHED until RUNNING is acknowledged).
pub fn status_update(
    agent_pid: &str,
    agent_id: &str,
    framework_id: &str,
    task_id: &TaskId,
    state: TaskState,
    latest: TaskState,
) -> StatusUpdateMessage {
    let now = unix_now();
    let uuid = uuid_bytes();
    let slave_id = SlaveId {
        value: agent_id.into(),
    };
    // The command executor's ID is the task's.
    let executor_id = mesos_proto::mesos::ExecutorId {
        value: task_id.value.clone(),
    };
    StatusUpdateMessage {
        update: StatusUpdate {
            framework_id: FrameworkId {
                value: framework_id.into(),
            },
            executor_id: Some(executor_id.clone()),
            slave_id: Some(slave_id.clone()),
            status: TaskStatus {
                task_id: task_id.clone(),
                state: state as i32,
                slave_id: Some(slave_id),
                timestamp: Some(now),
                executor_id: Some(executor_id),
                source: Some(task_status::Source::Executor as i32),
                uuid: Some(uuid.clone()),
                ..Default::default()
            },
            timestamp: now,
            uuid: Some(uuid),
            latest_state: Some(latest as i32),
        },
        pid: Some(agent_pid.into()),
    }
}

/// Seconds since the epoch, as Mesos timestamps are.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The `FrameworkInfo` of simulated framework `name`: a multi-role
/// framework in `role`, as libmesos 1.11 test frameworks subscribe.
pub fn framework_info(name: &str, role: &str, id: Option<&str>) -> FrameworkInfo {
    use framework_info::capability::Type as C;
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        id: id.map(|v| FrameworkId { value: v.into() }),
        // A week: the framework survives a master failover.
        failover_timeout: Some(7.0 * 24.0 * 3600.0),
        hostname: Some(libprocess::config::hostname()),
        principal: Some("bench-principal".into()),
        capabilities: [C::MultiRole, C::ReservationRefinement]
            .into_iter()
            .map(|c| framework_info::Capability {
                r#type: Some(c as i32),
            })
            .collect(),
        roles: vec![role.into()],
        ..Default::default()
    }
}

/// `Call` SUBSCRIBE (with the ID when resubscribing).
pub fn subscribe(info: FrameworkInfo) -> Call {
    Call {
        framework_id: info.id.clone(),
        r#type: Some(Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: info,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn call(framework_id: &str, kind: Type) -> Call {
    Call {
        framework_id: Some(FrameworkId {
            value: framework_id.into(),
        }),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// `Call` ACCEPT of one offer with one LAUNCH operation (what libmesos's
/// `launchTasks` sends), without filters (so Mesos's default applies).
pub fn accept(
    framework_id: &str,
    offer_id: mesos_proto::mesos::OfferId,
    tasks: Vec<TaskInfo>,
) -> Call {
    use mesos_proto::mesos::offer::{operation, Operation};
    Call {
        accept: Some(call::Accept {
            offer_ids: vec![offer_id],
            operations: vec![Operation {
                r#type: Some(operation::Type::Launch as i32),
                launch: Some(operation::Launch { task_infos: tasks }),
                ..Default::default()
            }],
            filters: None,
        }),
        ..call(framework_id, Type::Accept)
    }
}

/// `Call` DECLINE of offers, refusing them for `refuse_seconds`.
pub fn decline(
    framework_id: &str,
    offer_ids: Vec<mesos_proto::mesos::OfferId>,
    refuse_seconds: f64,
) -> Call {
    Call {
        decline: Some(call::Decline {
            offer_ids,
            filters: Some(mesos_proto::mesos::Filters {
                refuse_seconds: Some(refuse_seconds),
            }),
        }),
        ..call(framework_id, Type::Decline)
    }
}

/// `Call` ACKNOWLEDGE of one status update.
pub fn acknowledge(framework_id: &str, agent_id: SlaveId, task_id: TaskId, uuid: Bytes) -> Call {
    Call {
        acknowledge: Some(call::Acknowledge {
            slave_id: agent_id,
            task_id,
            uuid,
        }),
        ..call(framework_id, Type::Acknowledge)
    }
}

/// A command task of `resources` on `agent_id`, with `labels` labels
/// (`key0=value0`, ... as Mesos's state benchmark tasks carry).
pub fn task_info(
    task_id: String,
    agent_id: &SlaveId,
    resources: Vec<Resource>,
    labels: usize,
) -> TaskInfo {
    TaskInfo {
        name: format!("task {task_id}"),
        task_id: TaskId { value: task_id },
        slave_id: agent_id.clone(),
        resources,
        command: Some(CommandInfo {
            value: Some("true".into()),
            shell: Some(true),
            ..Default::default()
        }),
        labels: (labels > 0).then(|| Labels {
            labels: (0..labels)
                .map(|i| Label {
                    key: format!("key{i}"),
                    value: Some(format!("value{i}")),
                })
                .collect(),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_tasks_fit_an_agent_of_the_issue() {
        let agent = Scalars::parse("cpus:0.1;mem:320").unwrap();
        let task = Scalars::parse("cpus:0.01;mem:32").unwrap();
        assert_eq!(agent.fits(&task), 10);
        assert_eq!(Scalars::parse("cpus:0.05;mem:320").unwrap().fits(&task), 5);
        assert!(Scalars::parse("cpus").is_err());
        assert!(Scalars::parse("cpus:-1").is_err());
    }
}
