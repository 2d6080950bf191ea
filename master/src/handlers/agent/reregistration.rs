//! Agents coming back: `ReregisterSlaveMessage` from an agent we have
//! registered (a restarted agent process, a broken connection), or from
//! one we only know from the registry (after our failover) or not at all
//! (unreachable, or forgotten); what it reports is reconciled with what we
//! know, and it learns where its frameworks' schedulers are.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use libprocess::{Context, UPID};
use mesos_common::Resources;
use mesos_proto::internal::{
    archive, ReconcileTasksMessage, ReregisterSlaveMessage, ShutdownFrameworkMessage,
    ShutdownMessage, SlaveReregisteredMessage,
};
use mesos_proto::mesos::task_status::{Reason, Source};
use mesos_proto::mesos::{FrameworkId, FrameworkInfo, SlaveId, Task, TaskStatus};

use super::Registration;
use crate::error::MasterError;
use crate::handlers::framework::update_framework_message;
use crate::master::Master;
use crate::registrar::Operation;
use crate::state::{unix_now, Framework};
use crate::validation;

impl Master {
    /// An agent with an ID comes back: after its own restart or
    /// disconnection, or after a master failover.
    pub(crate) fn reregister_slave(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        message: ReregisterSlaveMessage,
    ) {
        self.metrics.messages_reregister_slave += 1;
        let total = match validation::agent::reregistration(&message) {
            Ok(total) => total,
            Err(error) => {
                self.metrics.invalid_agent_messages += 1;
                tracing::warn!("refusing reregistration of agent at {from}: {error}");
                ctx.send(
                    from,
                    &ShutdownMessage {
                        message: Some(error),
                    },
                );
                return;
            }
        };
        let id = message
            .slave
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        if self.state.gone_agents.contains_key(&id) {
            ctx.send(
                from,
                &ShutdownMessage {
                    message: Some("Agent has been marked gone".into()),
                },
            );
            return;
        }
        if self.state.reregistering.contains(&id) {
            tracing::info!("ignoring reregistration of agent {id}: already in progress");
            return;
        }
        if self.state.agents.contains_key(&id) {
            self.reregister_known_agent(ctx, from, &id, message);
            return;
        }
        let was_unreachable = self.state.unreachable_agents.contains_key(&id);
        self.state.reregistering.insert(id.clone());
        let operation = Operation::MarkSlaveReachable(message.slave.clone());
        let from = from.clone();
        ctx.defer(
            self.registrar.apply(operation),
            move |master, ctx, result| {
                master.agent_readmitted(ctx, from, message, total, was_unreachable, result)
            },
        );
    }

    /// A registered agent reregistered (a restarted agent process or a
    /// reconnection): adopt its new UPID, reconnect and reactivate it, let
    /// it reconcile the tasks we think it runs, forget executors it no
    /// longer has, and tell it where its frameworks' schedulers are now.
    fn reregister_known_agent(
        &mut self,
        ctx: &mut Context<Self>,
        from: &UPID,
        id: &str,
        message: ReregisterSlaveMessage,
    ) {
        let Some(agent) = self.state.agents.get(id) else {
            return;
        };
        if agent.pid.ip() != from.ip() || agent.info.hostname != message.slave.hostname {
            tracing::warn!("agent {id} at {from} reregistered with a different IP or hostname");
            ctx.send(
                from,
                &ShutdownMessage {
                    message: Some(
                        "Agent attempted to reregister with different IP / hostname".into(),
                    ),
                },
            );
            return;
        }
        let was_active = agent.active;
        let observer = agent.observer.clone();
        self.state.set_agent_pid(id, from.clone());
        ctx.link(from);
        if let Some(observer) = observer {
            let pid = from.clone();
            observer.post(move |o, _| o.reconnect(pid));
        }
        let reconciliations = self.reconciliations(id, &message.tasks);
        // Frameworks the agent runs that we have removed must go.
        for framework in &message.frameworks {
            if let Some(fid) = &framework.id {
                if self.state.is_completed_framework(&fid.value) {
                    ctx.send(
                        from,
                        &ShutdownFrameworkMessage {
                            framework_id: fid.clone(),
                        },
                    );
                }
            }
        }
        if let Some(agent) = self.state.agents.get_mut(id) {
            agent.connected = true;
            agent.active = true;
            agent.reregistered_time = Some(unix_now());
            agent.version = message.version.clone().unwrap_or_default();
        }
        self.metrics.slave_reregistrations += 1;
        ctx.send(
            from,
            &SlaveReregisteredMessage {
                slave_id: SlaveId { value: id.into() },
                reconciliations,
                connection: Some(self.connection()),
            },
        );
        self.remove_unreported_executors(id, &message);
        // After the executors it lost went back, so that the first offers
        // include them.
        if !was_active {
            self.allocator.activate_slave(id);
        }
        self.update_slave_frameworks(ctx, id, &message.frameworks, &HashSet::new());
    }

    /// What agent `id` must reconcile: the tasks we believe run there that
    /// it did not report (a launch it never got, or one racing with its
    /// reregistration). It answers each with the task's real fate.
    fn reconciliations(&self, id: &str, reported: &[Task]) -> Vec<ReconcileTasksMessage> {
        let Some(agent) = self.state.agents.get(id) else {
            return Vec::new();
        };
        let reported: HashSet<(&str, &str)> = reported
            .iter()
            .map(|t| (t.framework_id.value.as_str(), t.task_id.value.as_str()))
            .collect();
        let now = unix_now();
        let mut reconciliations = Vec::new();
        for (framework_id, task_ids) in &agent.tasks {
            let Some(framework) = self.state.frameworks.get(framework_id) else {
                continue;
            };
            let statuses: Vec<TaskStatus> = task_ids
                .iter()
                .filter(|t| !reported.contains(&(framework_id.as_str(), t.as_str())))
                .filter_map(|t| framework.tasks.get(t))
                .map(|t| reconciliation_request(t, id, now))
                .collect();
            if !statuses.is_empty() {
                reconciliations.push(ReconcileTasksMessage {
                    framework_id: FrameworkId {
                        value: framework_id.clone(),
                    },
                    statuses,
                    framework: Some(framework.info.clone()),
                });
            }
        }
        reconciliations
    }

    /// Forgets the executors we believe run on agent `id` that its
    /// reregistration does not list: their resources go back.
    fn remove_unreported_executors(&mut self, id: &str, message: &ReregisterSlaveMessage) {
        let reported: HashSet<(&str, &str)> = message
            .executor_infos
            .iter()
            .filter_map(|e| {
                let fid = e.framework_id.as_ref()?;
                Some((fid.value.as_str(), e.executor_id.value.as_str()))
            })
            .collect();
        let unreported: Vec<(String, String)> = self
            .state
            .frameworks
            .values()
            .filter_map(|f| f.executors.get(id).map(|e| (f, e)))
            .flat_map(|(f, executors)| executors.keys().map(move |e| (f.id.clone(), e.clone())))
            .filter(|(f, e)| !reported.contains(&(f.as_str(), e.as_str())))
            .collect();
        for (framework_id, executor_id) in unreported {
            tracing::warn!(
                "executor '{executor_id}' of framework {framework_id} is unknown to agent {id}; \
                 removing it"
            );
            self.remove_executor(id, &framework_id, &executor_id);
        }
    }

    /// Tells agent `id` where the schedulers of the frameworks it runs are
    /// now (`UpdateFrameworkMessage`), and recovers those we do not know
    /// (we failed over) and have not removed. Frameworks in `skip` were
    /// just recovered from this agent's report: there is nothing newer to
    /// tell it about them.
    pub(crate) fn update_slave_frameworks(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        frameworks: &[FrameworkInfo],
        skip: &HashSet<String>,
    ) {
        let Some(agent_pid) = self.state.agents.get(id).map(|a| a.pid.clone()) else {
            return;
        };
        for info in frameworks {
            let Some(fid) = info.id.as_ref().map(|i| i.value.as_str()) else {
                continue;
            };
            if skip.contains(fid) || self.state.is_completed_framework(fid) {
                continue;
            }
            match self.state.frameworks.get(fid) {
                Some(framework) => ctx.send(&agent_pid, &update_framework_message(framework)),
                None => {
                    tracing::info!("recovering framework {fid} from reregistering agent {id}");
                    self.recover_framework(info);
                }
            }
        }
    }

    /// Adds a framework we know only from an agent's report (we failed
    /// over and its scheduler has not come back yet): disconnected and
    /// inactive until it does.
    fn recover_framework(&mut self, info: &FrameworkInfo) {
        let Some(fid) = info.id.as_ref().map(|i| i.value.clone()) else {
            return;
        };
        let mut framework = Framework::new(fid.clone(), info.clone(), None, unix_now());
        framework.recovered = true;
        self.allocator
            .add_framework(&fid, info, BTreeMap::new(), false, Default::default());
        self.state.insert_framework(framework);
    }

    /// The registry readmitted an agent we did not have registered
    /// (recovered after our failover, unreachable, or unknown): add it
    /// with the tasks it runs.
    fn agent_readmitted(
        &mut self,
        ctx: &mut Context<Self>,
        from: UPID,
        message: ReregisterSlaveMessage,
        total: Resources,
        was_unreachable: bool,
        result: Result<bool, MasterError>,
    ) {
        let id = message
            .slave
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        self.state.reregistering.remove(&id);
        if let Err(error) = result {
            tracing::error!("could not readmit agent {id} at {from}: {error}");
            return;
        }
        self.state.recovered_agents.remove(&id);
        self.state.unreachable_agents.remove(&id);

        // Frameworks the agent knows and we do not yet (we failed over):
        // keep them, disconnected, until their schedulers come back.
        let mut recovered = HashSet::new();
        for info in &message.frameworks {
            let Some(fid) = info.id.as_ref().map(|i| i.value.clone()) else {
                continue;
            };
            if !self.state.frameworks.contains_key(&fid) && !self.state.is_completed_framework(&fid)
            {
                self.recover_framework(info);
                recovered.insert(fid);
            }
        }

        // Tasks of frameworks that were told these tasks were lost (not
        // partition-aware) are shut down rather than adopted.
        let mut shutdown = HashSet::new();
        let mut adopted: Vec<Task> = Vec::new();
        for task in message.tasks.iter() {
            let fid = &task.framework_id.value;
            let adopt = match self.state.frameworks.get(fid) {
                Some(f) => !was_unreachable || f.capabilities.partition_aware,
                None => false,
            };
            if adopt {
                adopted.push(task.clone());
            } else {
                shutdown.insert(fid.clone());
            }
        }
        for fid in &shutdown {
            ctx.send(
                &from,
                &ShutdownFrameworkMessage {
                    framework_id: FrameworkId { value: fid.clone() },
                },
            );
        }

        let mut used: HashMap<String, Resources> = HashMap::new();
        for task in &adopted {
            if !crate::state::is_terminal(task.state) {
                if let Ok(r) = Resources::from_proto(&task.resources) {
                    *used.entry(task.framework_id.value.clone()).or_default() += &r;
                }
            }
        }
        for executor in &message.executor_infos {
            let Some(fid) = executor.framework_id.as_ref().map(|f| f.value.clone()) else {
                continue;
            };
            if shutdown.contains(&fid) || !self.state.frameworks.contains_key(&fid) {
                continue;
            }
            if let Ok(r) = Resources::from_proto(&executor.resources) {
                *used.entry(fid.clone()).or_default() += &r;
            }
            if let Some(framework) = self.state.frameworks.get_mut(&fid) {
                framework
                    .executors
                    .entry(id.clone())
                    .or_default()
                    .insert(executor.executor_id.value.clone(), executor.clone());
                if let Ok(r) = Resources::from_proto(&executor.resources) {
                    framework.used += &r;
                }
            }
        }

        let registration = Registration {
            pid: from.clone(),
            info: message.slave.clone(),
            total,
            version: message.version.clone().unwrap_or_default(),
            capabilities: message.agent_capabilities.clone(),
            resource_version_uuid: message.resource_version_uuid.clone(),
        };
        self.add_agent(ctx, registration, used);
        if let Some(agent) = self.state.agents.get_mut(&id) {
            agent.reregistered_time = Some(unix_now());
        }
        for task in adopted {
            self.adopt_task(&id, task);
        }
        self.readd_completed_tasks(&id, message.completed_frameworks);
        self.metrics.slave_reregistrations += 1;
        tracing::info!("reregistered agent {id} at {from}");
        ctx.send(
            &from,
            &SlaveReregisteredMessage {
                slave_id: SlaveId { value: id.clone() },
                reconciliations: Vec::new(),
                connection: Some(self.connection()),
            },
        );
        self.update_slave_frameworks(ctx, &id, &message.frameworks, &recovered);
    }

    /// Takes back the terminal tasks an agent still remembers (its
    /// completed frameworks), so that after our failover `/master/state`
    /// lists them again. Only frameworks we know get them, as in Mesos;
    /// the tasks of one we do not know are dropped (logged): we have no
    /// framework to show them under. A task we already hold is not added
    /// twice.
    fn readd_completed_tasks(&mut self, agent_id: &str, completed: Vec<archive::Framework>) {
        let limit = self.flags.max_completed_tasks_per_framework;
        for archived in completed {
            let Some(fid) = archived.framework_info.id.as_ref().map(|i| i.value.clone()) else {
                continue;
            };
            let Some(framework) = self.state.frameworks.get_mut(&fid) else {
                if !archived.tasks.is_empty() {
                    tracing::warn!(
                        "dropping {} possibly orphaned completed tasks of unknown framework \
                         {fid} that ran on agent {agent_id}",
                        archived.tasks.len()
                    );
                }
                continue;
            };
            let mut known: HashSet<String> = framework
                .tasks
                .keys()
                .cloned()
                .chain(
                    framework
                        .completed_tasks
                        .iter()
                        .map(|t| t.task_id.value.clone()),
                )
                .collect();
            for task in archived.tasks {
                if known.insert(task.task_id.value.clone()) {
                    framework.add_completed_task(Arc::new(task), limit);
                }
            }
        }
    }

    /// Records a task an agent reported as running there.
    fn adopt_task(&mut self, agent_id: &str, task: Task) {
        let fid = task.framework_id.value.clone();
        let tid = task.task_id.value.clone();
        let Some(framework) = self.state.frameworks.get_mut(&fid) else {
            return;
        };
        if framework.tasks.contains_key(&tid) {
            return;
        }
        if crate::state::is_terminal(task.state) {
            return;
        }
        if let Ok(r) = Resources::from_proto(&task.resources) {
            framework.used += &r;
        }
        framework.tasks.insert(tid.clone(), Arc::new(task));
        if let Some(agent) = self.state.agents.get_mut(agent_id) {
            agent.tasks.entry(fid).or_default().insert(tid);
        }
    }
}

/// The status the master sends an agent to reconcile `task`, which it
/// believes runs on agent `agent_id` (`SlaveReregisteredMessage`): the
/// master's view of the task's state, as Mesos words the request. The
/// agent answers with the task's real fate.
pub(crate) fn reconciliation_request(task: &Task, agent_id: &str, now: f64) -> TaskStatus {
    TaskStatus {
        task_id: task.task_id.clone(),
        // The state the framework last heard, when there is one.
        state: task.status_update_state.unwrap_or(task.state),
        source: Some(Source::Master as i32),
        reason: Some(Reason::Reconciliation as i32),
        message: Some("Reconciliation request".into()),
        slave_id: Some(SlaveId {
            value: agent_id.into(),
        }),
        timestamp: Some(now),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{TaskId, TaskState};

    #[test]
    fn reconciliation_request_carries_the_masters_view_not_the_last_status() {
        let task = Task {
            task_id: TaskId { value: "t".into() },
            state: TaskState::TaskFinished as i32,
            status_update_state: Some(TaskState::TaskRunning as i32),
            executor_id: Some(mesos_proto::mesos::ExecutorId { value: "e".into() }),
            statuses: vec![TaskStatus {
                state: TaskState::TaskRunning as i32,
                message: Some("from the executor".into()),
                source: Some(Source::Executor as i32),
                data: Some(bytes::Bytes::from_static(b"payload")),
                ..Default::default()
            }],
            ..Default::default()
        };
        let status = reconciliation_request(&task, "S1", 12.5);
        assert_eq!(status.task_id.value, "t");
        assert_eq!(status.state, TaskState::TaskRunning as i32);
        assert_eq!(status.source, Some(Source::Master as i32));
        assert_eq!(status.reason, Some(Reason::Reconciliation as i32));
        assert_eq!(status.message.as_deref(), Some("Reconciliation request"));
        assert_eq!(status.slave_id.map(|s| s.value).as_deref(), Some("S1"));
        assert_eq!(status.timestamp, Some(12.5));
        assert!(status.data.is_none() && status.executor_id.is_none());
        assert!(status.uuid.is_none());
    }
}
