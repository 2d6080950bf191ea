//! `long-running-framework`: keeps `--instances` copies of a command
//! running, relaunching any that end or are lost, and reconciling after
//! every (re)registration, so a failed-over instance picks up the tasks
//! of the one before: the core of what Marathon does for an app.
//!
//! Each launch gets a fresh task id (`instance-<n>`), recorded in the
//! state file before it is sent.

use std::sync::{Arc, Mutex};

use libprocess::Runtime;
use mesos_common::{FlagSet, FlagSpec, Flags, Resources};
use mesos_proto::mesos::{
    framework_info, CommandInfo, ExecutorId, Filters, FrameworkId, MasterInfo, Offer, OfferId,
    SlaveId, Status, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{MesosSchedulerDriver, Scheduler, SchedulerDriver};

use crate::error::{Error, Result};
use crate::framework::{self, FrameworkOptions};
use crate::resources::{parse_request, OfferPool};
use crate::state::{StateStore, TaskRecord};

/// The name the framework registers under.
pub const FRAMEWORK_NAME: &str = "Long Running Framework (Rust)";

const OWN_FLAGS: &[FlagSpec] = &[
    FlagSpec::u32(
        "instances",
        "How many copies of the command to keep running.",
    )
    .default("2"),
    FlagSpec::f64("cpus", "CPUs for each instance.").default("0.1"),
    FlagSpec::f64("mem", "Memory for each instance, in MB.").default("32"),
    FlagSpec::string("command", "The shell command each instance runs.").default("sleep 1000"),
];

/// The flags of `long-running-framework`.
pub fn flags() -> FlagSet {
    framework::flag_set(OWN_FLAGS)
        .with_usage_message("Usage: long-running-framework --master=<host:port> [options]")
}

/// What `long-running-framework` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LongRunningConfig {
    /// The flags every example takes.
    pub options: FrameworkOptions,
    /// How many instances to keep running.
    pub instances: u32,
    /// What each instance asks for.
    pub resources: Resources,
    /// The command each instance runs.
    pub command: String,
}

impl LongRunningConfig {
    /// The configuration from loaded flags.
    pub fn from_flags(flags: &Flags) -> Result<LongRunningConfig> {
        let options = FrameworkOptions::from_flags(flags)?;
        let cpus = framework::positive(flags, "cpus")?;
        let mem = framework::positive(flags, "mem")?;
        let command = flags.get_str("command").unwrap_or_default().to_string();
        if command.trim().is_empty() {
            return Err(Error::Flag {
                name: "command",
                value: command,
                reason: "must not be empty".to_string(),
            });
        }
        Ok(LongRunningConfig {
            options,
            instances: flags.get_u32("instances").unwrap_or(2),
            resources: parse_request(&format!("cpus:{cpus};mem:{mem}"))?,
            command,
        })
    }
}

/// What the framework has done so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// The framework's id, once registered.
    pub framework_id: Option<String>,
    /// Instances launched by this scheduler instance.
    pub launched: u32,
    /// Launches that replaced an instance that ended or was lost.
    pub relaunched: u32,
    /// Tasks believed active (launched, not terminal): id → state name.
    pub active: std::collections::BTreeMap<String, String>,
    /// How many reported `TASK_RUNNING` at least once.
    pub running: u32,
    /// The last error from the master or driver.
    pub error: Option<String>,
}

/// A running `long-running-framework`: look at its progress, stop it.
pub struct LongRunning {
    /// The driver, to stop (with or without failover) or join.
    pub driver: MesosSchedulerDriver,
    progress: Arc<Mutex<Progress>>,
}

impl LongRunning {
    /// Starts the framework. It runs until `stop`ped (or aborted by the
    /// master); `runtime` runs it in a shared libprocess runtime.
    pub fn start(config: LongRunningConfig, runtime: Option<Runtime>) -> Result<LongRunning> {
        let store = StateStore::open(config.options.state_file.as_deref())?;
        let framework_id = config
            .options
            .framework_id
            .clone()
            .or_else(|| store.state.framework_id.clone());
        let progress = Arc::new(Mutex::new(Progress::default()));
        let scheduler = LongRunningScheduler {
            store,
            progress: progress.clone(),
            instances: config.instances,
            resources: config.resources.clone(),
            command: config.command.clone(),
            suppressed: false,
            to_replace: 0,
        };
        let framework = config.options.framework_info(
            FRAMEWORK_NAME,
            &[framework_info::capability::Type::PartitionAware],
            framework_id.as_deref(),
        );
        let driver = config.options.driver(scheduler, framework, true, runtime);
        driver.start();
        Ok(LongRunning { driver, progress })
    }

    /// A snapshot of what the framework has done.
    pub fn progress(&self) -> Progress {
        lock(&self.progress).clone()
    }

    /// Blocks until the driver stops or aborts.
    pub fn join(&self) -> Status {
        self.driver.join()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct LongRunningScheduler {
    store: StateStore,
    progress: Arc<Mutex<Progress>>,
    instances: u32,
    resources: Resources,
    command: String,
    suppressed: bool,
    /// Instances that ended and are not replaced yet.
    to_replace: u32,
}

impl LongRunningScheduler {
    fn active(&self) -> usize {
        self.store
            .state
            .tasks
            .values()
            .filter(|r| !is_terminal_name(&r.state))
            .count()
    }

    fn save(&self, driver: &dyn SchedulerDriver) {
        if let Err(error) = self.store.save() {
            eprintln!("{error}; aborting");
            lock(&self.progress).error = Some(error.to_string());
            driver.abort();
        }
    }

    fn publish(&self) {
        let mut progress = lock(&self.progress);
        progress.framework_id = self.store.state.framework_id.clone();
        progress.active = self
            .store
            .state
            .tasks
            .iter()
            .filter(|(_, r)| !is_terminal_name(&r.state))
            .map(|(id, r)| (id.clone(), r.state.clone()))
            .collect();
    }

    /// Asks about every task believed active, then about all the master
    /// knows (implicit), to learn of tasks this instance never recorded.
    fn reconcile(&mut self, driver: &dyn SchedulerDriver) {
        let statuses: Vec<TaskStatus> = self
            .store
            .state
            .tasks
            .iter()
            .filter(|(_, r)| !is_terminal_name(&r.state))
            .map(|(id, r)| TaskStatus {
                task_id: TaskId { value: id.clone() },
                slave_id: Some(SlaveId {
                    value: r.slave_id.clone(),
                }),
                state: TaskState::TaskStaging as i32,
                ..TaskStatus::default()
            })
            .collect();
        if !statuses.is_empty() {
            driver.reconcile_tasks(&statuses);
        }
        driver.reconcile_tasks(&[]);
        self.want_offers(driver);
    }

    /// Revives offers when instances are missing, suppresses them when not.
    fn want_offers(&mut self, driver: &dyn SchedulerDriver) {
        let missing = self.active() < self.instances as usize;
        if missing && self.suppressed {
            driver.revive_offers(&[]);
            self.suppressed = false;
        } else if !missing && !self.suppressed {
            driver.suppress_offers(&[]);
            self.suppressed = true;
        }
    }
}

fn is_terminal_name(state: &str) -> bool {
    TaskState::from_str_name(state).is_some_and(|s| framework::is_terminal(s as i32))
}

impl Scheduler for LongRunningScheduler {
    fn registered(&mut self, driver: &dyn SchedulerDriver, id: &FrameworkId, _: &MasterInfo) {
        println!("Registered with framework ID {}", id.value);
        self.store.state.framework_id = Some(id.value.clone());
        self.save(driver);
        self.publish();
        self.reconcile(driver);
    }

    fn reregistered(&mut self, driver: &dyn SchedulerDriver, _: &MasterInfo) {
        println!("Reregistered");
        self.reconcile(driver);
    }

    fn disconnected(&mut self, _: &dyn SchedulerDriver) {
        println!("Disconnected from the master");
    }

    fn resource_offers(&mut self, driver: &dyn SchedulerDriver, offers: &[Offer]) {
        for offer in offers {
            let mut pool = OfferPool::new(&offer.resources);
            let mut tasks = Vec::new();
            while self.active() < self.instances as usize {
                let Some(resources) = pool.take(&self.resources) else {
                    break;
                };
                let id = format!("instance-{}", self.store.state.next_task);
                self.store.state.next_task += 1;
                self.store.state.tasks.insert(
                    id.clone(),
                    TaskRecord {
                        slave_id: offer.slave_id.value.clone(),
                        state: TaskState::TaskStaging.as_str_name().to_string(),
                    },
                );
                println!("Launching {id} on agent {}", offer.slave_id.value);
                tasks.push(TaskInfo {
                    name: id.clone(),
                    task_id: TaskId { value: id },
                    slave_id: offer.slave_id.clone(),
                    resources,
                    command: Some(CommandInfo {
                        value: Some(self.command.clone()),
                        shell: Some(true),
                        ..CommandInfo::default()
                    }),
                    ..TaskInfo::default()
                });
            }
            if tasks.is_empty() {
                driver.decline_offer(
                    &offer.id,
                    &Filters {
                        refuse_seconds: Some(5.0),
                    },
                );
                continue;
            }
            self.save(driver);
            {
                let mut progress = lock(&self.progress);
                let n = tasks.len() as u32;
                let replacing = n.min(self.to_replace);
                self.to_replace -= replacing;
                progress.relaunched += replacing;
                progress.launched += n;
            }
            driver.launch_tasks(std::slice::from_ref(&offer.id), &tasks, &Filters::default());
        }
        self.publish();
        self.want_offers(driver);
    }

    fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, _: &OfferId) {}

    fn status_update(&mut self, driver: &dyn SchedulerDriver, status: &TaskStatus) {
        let id = &status.task_id.value;
        let state = framework::state_name(status.state);
        println!("Task {id} is in state {state}");
        match self.store.state.tasks.get_mut(id) {
            Some(record) => {
                if framework::is_terminal(status.state) && !is_terminal_name(&record.state) {
                    self.to_replace += 1;
                }
                if status.state == TaskState::TaskRunning as i32
                    && record.state != TaskState::TaskRunning.as_str_name()
                {
                    lock(&self.progress).running += 1;
                }
                record.state = state;
            }
            None if !framework::is_terminal(status.state) => {
                // A task of an earlier instance this one has no record of
                // (implicit reconciliation): adopt it, it counts.
                let slave_id = status.slave_id.clone().unwrap_or_default().value;
                self.store
                    .state
                    .tasks
                    .insert(id.clone(), TaskRecord { slave_id, state });
            }
            None => {}
        }
        self.save(driver);
        if framework::is_terminal(status.state) {
            println!(
                "{id} ended ({}); it will be replaced",
                status.message.as_deref().unwrap_or("")
            );
        }
        self.publish();
        self.want_offers(driver);
    }

    fn framework_message(
        &mut self,
        _: &dyn SchedulerDriver,
        _: &ExecutorId,
        _: &SlaveId,
        _: &[u8],
    ) {
    }

    fn slave_lost(&mut self, _: &dyn SchedulerDriver, slave_id: &SlaveId) {
        println!(
            "Agent {} lost; its instances are replaced as their updates arrive",
            slave_id.value
        );
    }

    fn executor_lost(&mut self, _: &dyn SchedulerDriver, _: &ExecutorId, _: &SlaveId, _: i32) {}

    fn error(&mut self, _: &dyn SchedulerDriver, message: &str) {
        eprintln!("Error: {message}");
        lock(&self.progress).error = Some(message.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<LongRunningConfig> {
        let argv: Vec<String> = std::iter::once("long-running-framework")
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let flags = flags().load(Some(framework::EXAMPLE_ENV_PREFIX), argv, Vec::new())?;
        LongRunningConfig::from_flags(&flags)
    }

    #[test]
    fn flags_parse_with_defaults() {
        let config = load(&["--master=127.0.0.1:5050"]).unwrap();
        assert_eq!(config.instances, 2);
        assert_eq!(config.command, "sleep 1000");
        let config = load(&[
            "--master=master@127.0.0.1:5050",
            "--instances=4",
            "--command=sleep 5",
            "--failover_timeout=1hrs",
            "--state_file=/tmp/lrf.json",
        ])
        .unwrap();
        assert_eq!(config.instances, 4);
        assert_eq!(config.options.failover_timeout, 3600.0);
        assert_eq!(
            config.options.state_file.as_deref(),
            Some(std::path::Path::new("/tmp/lrf.json"))
        );
    }

    #[test]
    fn env_supplies_flags_with_the_example_prefix() {
        let flags = flags()
            .load(
                Some(framework::EXAMPLE_ENV_PREFIX),
                ["long-running-framework"],
                [(
                    "MESOS_EXAMPLE_MASTER".to_string(),
                    "127.0.0.1:5050".to_string(),
                )],
            )
            .unwrap();
        assert_eq!(
            LongRunningConfig::from_flags(&flags)
                .unwrap()
                .options
                .master,
            "127.0.0.1:5050"
        );
    }

    #[test]
    fn bad_flags_are_clear_errors() {
        for (args, expected) in [
            (
                vec!["--master=127.0.0.1:5050", "--instances=-1"],
                "instances",
            ),
            (vec!["--master=", "--instances=1"], "invalid master ''"),
            (vec!["--master=127.0.0.1:5050", "--cpus=abc"], "cpus"),
        ] {
            let error = load(&args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }
}
