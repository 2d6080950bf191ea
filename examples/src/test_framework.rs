//! `test-framework`: registers, launches `--tasks` command tasks, waits
//! for all to finish and exits 0 only if they all did, printing a
//! summary; the equivalent of Mesos's `test-framework` (with command
//! tasks instead of a custom executor).
//!
//! With `--state_file` it survives its own death: it records each task
//! before launching it and each update as it arrives, and a new instance
//! (same state file, `--failover_timeout` not yet expired) fails over to
//! the same framework id, reconciles what was launched, and launches only
//! what never was, so no task runs twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use libprocess::Runtime;
use mesos_common::{FlagSet, FlagSpec, Flags, Resources};
use mesos_proto::mesos::{
    CommandInfo, ExecutorId, Filters, FrameworkId, MasterInfo, Offer, OfferId, SlaveId, Status,
    TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{Scheduler, SchedulerDriver};

use crate::error::{Error, Result};
use crate::framework::{self, FrameworkOptions};
use crate::resources::{parse_request, OfferPool};
use crate::state::{StateStore, TaskRecord};

/// The name the framework registers under.
pub const FRAMEWORK_NAME: &str = "Test Framework (Rust)";

const OWN_FLAGS: &[FlagSpec] = &[
    FlagSpec::u32("tasks", "How many tasks to run.").default("5"),
    FlagSpec::f64("cpus", "CPUs for each task.").default("0.1"),
    FlagSpec::f64("mem", "Memory for each task, in MB.").default("32"),
    FlagSpec::string("command", "The shell command each task runs.").default("sleep 0.1"),
];

/// The flags of `test-framework`.
pub fn flags() -> FlagSet {
    framework::flag_set(OWN_FLAGS)
        .with_usage_message("Usage: test-framework --master=<host:port> [options]")
}

/// What `test-framework` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFrameworkConfig {
    /// The flags every example takes.
    pub options: FrameworkOptions,
    /// How many tasks to run.
    pub tasks: u32,
    /// What each task asks for.
    pub resources: Resources,
    /// The command each task runs.
    pub command: String,
    /// Whether the driver acknowledges updates itself
    /// (`MESOS_EXPLICIT_ACKNOWLEDGEMENTS` unset).
    pub implicit_acknowledgements: bool,
}

impl TestFrameworkConfig {
    /// The configuration from loaded flags.
    pub fn from_flags(flags: &Flags) -> Result<TestFrameworkConfig> {
        let options = FrameworkOptions::from_flags(flags)?;
        let tasks = flags.get_u32("tasks").unwrap_or(5);
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
        Ok(TestFrameworkConfig {
            options,
            tasks,
            resources: parse_request(&format!("cpus:{cpus};mem:{mem}"))?,
            command,
            implicit_acknowledgements: std::env::var_os("MESOS_EXPLICIT_ACKNOWLEDGEMENTS")
                .is_none(),
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The framework's id, once registered.
    pub framework_id: Option<String>,
    /// How many tasks were to run.
    pub total: u32,
    /// The ids of the tasks that finished.
    pub finished: BTreeSet<String>,
    /// Launches sent to the master, by this instance.
    pub launched: u32,
    /// Tasks that ended otherwise: id → (state, message).
    pub failed: BTreeMap<String, (String, String)>,
    /// An error from the master or driver, if any.
    pub error: Option<String>,
    /// The driver's status when `run` returned.
    pub driver_status: Option<Status>,
}

impl Summary {
    /// True when every task finished and the driver stopped cleanly.
    pub fn succeeded(&self) -> bool {
        self.driver_status == Some(Status::DriverStopped)
            && self.finished.len() == self.total as usize
            && self.failed.is_empty()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Framework {}: {} of {} tasks finished, {} failed, {} launched by this instance",
            self.framework_id.as_deref().unwrap_or("(not registered)"),
            self.finished.len(),
            self.total,
            self.failed.len(),
            self.launched
        )?;
        for (task, (state, message)) in &self.failed {
            writeln!(f, "  task {task}: {state} ({message})")?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "  error: {error}")?;
        }
        Ok(())
    }
}

/// Runs the framework until every task finished (or one failed, or the
/// master refused it) and returns what happened. `runtime` runs the
/// driver in a shared libprocess runtime (tests, `mesos-local`).
pub fn run(config: TestFrameworkConfig, runtime: Option<Runtime>) -> Result<Summary> {
    let store = StateStore::open(config.options.state_file.as_deref())?;
    let framework_id = config
        .options
        .framework_id
        .clone()
        .or_else(|| store.state.framework_id.clone());
    let summary = Arc::new(Mutex::new(Summary {
        total: config.tasks,
        ..Summary::default()
    }));
    let scheduler = TestScheduler::new(&config, store, summary.clone());
    let framework = config
        .options
        .framework_info(FRAMEWORK_NAME, &[], framework_id.as_deref());
    let driver = config.options.driver(
        scheduler,
        framework,
        config.implicit_acknowledgements,
        runtime,
    );
    let status = driver.run();
    // Make sure the driver's process ends even if it was aborted; without
    // a teardown then, so a new instance can still take the framework over.
    driver.stop(status != Status::DriverStopped);
    let mut summary = lock(&summary).clone();
    summary.driver_status = Some(status);
    Ok(summary)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct TestScheduler {
    store: StateStore,
    summary: Arc<Mutex<Summary>>,
    /// Task indices never launched (or unknown to the master).
    pending: BTreeSet<u32>,
    resources: Resources,
    command: String,
    implicit_acknowledgements: bool,
}

impl TestScheduler {
    fn new(config: &TestFrameworkConfig, store: StateStore, summary: Arc<Mutex<Summary>>) -> Self {
        let pending = (0..config.tasks)
            .filter(|i| !store.state.tasks.contains_key(&i.to_string()))
            .collect();
        {
            let mut s = lock(&summary);
            for (id, record) in &store.state.tasks {
                if record.state == TaskState::TaskFinished.as_str_name() {
                    s.finished.insert(id.clone());
                }
            }
        }
        TestScheduler {
            store,
            summary,
            pending,
            resources: config.resources.clone(),
            command: config.command.clone(),
            implicit_acknowledgements: config.implicit_acknowledgements,
        }
    }

    fn save(&self, driver: &dyn SchedulerDriver) {
        if let Err(error) = self.store.save() {
            // Without the record, a restart could launch a task twice.
            eprintln!("{error}; aborting");
            lock(&self.summary).error = Some(error.to_string());
            driver.abort();
        }
    }

    /// Asks the master about every task launched and not known finished.
    fn reconcile(&self, driver: &dyn SchedulerDriver) {
        let statuses: Vec<TaskStatus> = self
            .store
            .state
            .tasks
            .iter()
            .filter(|(_, r)| !framework::is_terminal(state_value(&r.state)))
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
            println!("Reconciling {} tasks", statuses.len());
            driver.reconcile_tasks(&statuses);
        }
        self.check_done(driver);
    }

    fn check_done(&self, driver: &dyn SchedulerDriver) {
        let s = lock(&self.summary);
        if s.finished.len() == s.total as usize {
            drop(s);
            driver.stop(false);
        }
    }
}

fn state_value(name: &str) -> i32 {
    TaskState::from_str_name(name).map_or(TaskState::TaskStaging as i32, |s| s as i32)
}

impl Scheduler for TestScheduler {
    fn registered(&mut self, driver: &dyn SchedulerDriver, id: &FrameworkId, _: &MasterInfo) {
        println!("Registered with framework ID {}", id.value);
        lock(&self.summary).framework_id = Some(id.value.clone());
        self.store.state.framework_id = Some(id.value.clone());
        self.save(driver);
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
            while let Some(&index) = self.pending.first() {
                let Some(resources) = pool.take(&self.resources) else {
                    break;
                };
                self.pending.remove(&index);
                let id = index.to_string();
                println!("Launching task {id} using offer {}", offer.id.value);
                self.store.state.tasks.insert(
                    id.clone(),
                    TaskRecord {
                        slave_id: offer.slave_id.value.clone(),
                        state: TaskState::TaskStaging.as_str_name().to_string(),
                    },
                );
                tasks.push(TaskInfo {
                    name: format!("Task {id}"),
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
                driver.decline_offer(&offer.id, &Filters::default());
                continue;
            }
            // Recorded before sent: a restart never forgets a launch.
            self.save(driver);
            lock(&self.summary).launched += tasks.len() as u32;
            driver.launch_tasks(std::slice::from_ref(&offer.id), &tasks, &Filters::default());
        }
    }

    fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, _: &OfferId) {}

    fn status_update(&mut self, driver: &dyn SchedulerDriver, status: &TaskStatus) {
        let id = status.task_id.value.clone();
        let state = framework::state_name(status.state);
        println!("Task {id} is in state {state}");
        let Some(index) = id
            .parse::<u32>()
            .ok()
            .filter(|_| self.store.state.tasks.contains_key(&id))
        else {
            eprintln!("Ignoring an update for unknown task '{id}'");
            return;
        };
        if framework::unknown_to_master(status) {
            // Recorded but never launched (killed between record and
            // send): launching it now runs it once.
            println!("Task {id} never reached the master; launching it again");
            self.store.state.tasks.remove(&id);
            self.pending.insert(index);
            self.save(driver);
            driver.revive_offers(&[]);
        } else {
            if let Some(record) = self.store.state.tasks.get_mut(&id) {
                record.state = state.clone();
            }
            self.save(driver);
            if status.state == TaskState::TaskFinished as i32 {
                lock(&self.summary).finished.insert(id.clone());
            } else if framework::is_terminal(status.state) {
                let message = status.message.clone().unwrap_or_default();
                println!(
                    "Aborting because task {id} is in unexpected state {state} with reason {} \
                     from source {} with message '{message}'",
                    status.reason.unwrap_or_default(),
                    status.source.unwrap_or_default()
                );
                lock(&self.summary)
                    .failed
                    .insert(id.clone(), (state, message));
                driver.abort();
            }
        }
        if !self.implicit_acknowledgements {
            driver.acknowledge_status_update(status);
        }
        self.check_done(driver);
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
        println!("Agent {} lost", slave_id.value);
    }

    fn executor_lost(&mut self, _: &dyn SchedulerDriver, _: &ExecutorId, _: &SlaveId, _: i32) {}

    fn error(&mut self, _: &dyn SchedulerDriver, message: &str) {
        println!("{message}");
        lock(&self.summary).error = Some(message.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<TestFrameworkConfig> {
        let argv: Vec<String> = std::iter::once("test-framework")
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let flags = flags().load(Some(framework::EXAMPLE_ENV_PREFIX), argv, Vec::new())?;
        TestFrameworkConfig::from_flags(&flags)
    }

    #[test]
    fn flags_have_mesos_defaults_and_can_be_set() {
        let config = load(&["--master=127.0.0.1:5050"]).unwrap();
        assert_eq!(config.tasks, 5);
        assert_eq!(config.options.role, "*");
        assert!(!config.options.checkpoint);
        assert_eq!(config.options.principal, "test");
        assert_eq!(config.command, "sleep 0.1");

        let config = load(&[
            "--master=127.0.0.1:5050",
            "--tasks=3",
            "--role=web",
            "--cpus=0.5",
            "--mem=64",
            "--command=echo hi",
            "--checkpoint",
            "--framework_id=f-1",
            "--failover_timeout=1mins",
        ])
        .unwrap();
        assert_eq!(config.tasks, 3);
        assert_eq!(config.options.role, "web");
        assert!(config.options.checkpoint);
        assert_eq!(config.resources, parse_request("cpus:0.5;mem:64").unwrap());
        assert_eq!(config.command, "echo hi");
        assert_eq!(config.options.framework_id.as_deref(), Some("f-1"));
        assert_eq!(config.options.failover_timeout, 60.0);
        let info = config
            .options
            .framework_info(FRAMEWORK_NAME, &[], Some("f-1"));
        assert_eq!(info.checkpoint, Some(true));
        assert_eq!(info.roles, vec!["web".to_string()]);
        assert_eq!(info.failover_timeout, Some(60.0));
        assert_eq!(info.id.unwrap().value, "f-1");
    }

    #[test]
    fn bad_flags_are_clear_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "master"),
            (&["--master=nowhere"], "invalid master 'nowhere'"),
            (&["--master=zk://1.2.3.4:2181/mesos"], "ZooKeeper"),
            (&["--master=127.0.0.1:5050", "--tasks=many"], "tasks"),
            (
                &["--master=127.0.0.1:5050", "--cpus=0"],
                "invalid --cpus '0': must be a positive number",
            ),
            (&["--master=127.0.0.1:5050", "--mem=-1"], "--mem"),
            (
                &["--master=127.0.0.1:5050", "--command="],
                "invalid --command '': must not be empty",
            ),
            (&["--master=127.0.0.1:5050", "--bogus=1"], "bogus"),
        ];
        for (args, expected) in cases {
            let error = load(args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn summary_succeeds_only_when_every_task_finished() {
        let mut summary = Summary {
            total: 2,
            driver_status: Some(Status::DriverStopped),
            ..Summary::default()
        };
        summary.finished.insert("0".into());
        assert!(!summary.succeeded());
        summary.finished.insert("1".into());
        assert!(summary.succeeded());
        summary.driver_status = Some(Status::DriverAborted);
        assert!(!summary.succeeded());
        assert!(summary.to_string().contains("2 of 2 tasks finished"));
    }
}
