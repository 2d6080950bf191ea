//! A real third-party HTTP executor runs unchanged on our agent: a
//! framework (our Rust scheduler driver) launches tasks on `mesos-local`
//! with an `ExecutorInfo` running `executors/pymesos_executor.py`, an
//! executor written with pymesos 0.3.15's `MesosExecutorDriver` (the
//! v1 executor HTTP API, JSON). It answers each task with TASK_RUNNING, a
//! framework message and TASK_FINISHED, and exits when the agent shuts
//! it down.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use mesos_proto::mesos::{
    CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer,
    OfferId, Resource, SlaveId, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{MesosSchedulerDriver, Scheduler, SchedulerDriver};
use serde_json::Value;
use support::{Local, BOUND};

const TASKS: usize = 5;
const EXECUTOR: &str = "pymesos-executor";

/// The compat venv's Python, where `scripts/install-test-deps` put
/// pymesos 0.3.15.
fn compat_python() -> PathBuf {
    let home = std::env::var_os("MESOS_COMPAT_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/mesos-compat")))
        .expect("MESOS_COMPAT_HOME or HOME is set");
    let python = home.join("venv-v1/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps (it installs pymesos 0.3.15 \
         into the compat venv)",
        python.display()
    );
    python
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/executors/pymesos_executor.py")
}

fn scalar(name: &str, value: f64) -> Resource {
    mesos_common::Resource::scalar(name, value).to_proto()
}

/// What the scheduler tells the test.
enum Report {
    Status(Box<TaskStatus>),
    Message(String),
    Error(String),
}

/// Launches `TASKS` tasks on the pymesos executor with the first offer
/// that fits them, and reports what it hears.
struct Framework {
    executor: ExecutorInfo,
    launched: bool,
    reports: mpsc::Sender<Report>,
}

impl Framework {
    fn tasks(&self, offer: &Offer) -> Vec<TaskInfo> {
        (0..TASKS)
            .map(|i| TaskInfo {
                name: format!("pymesos task {i}"),
                task_id: TaskId {
                    value: format!("py-{i}"),
                },
                slave_id: offer.slave_id.clone(),
                resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
                executor: Some(self.executor.clone()),
                ..Default::default()
            })
            .collect()
    }
}

impl Scheduler for Framework {
    fn registered(&mut self, _: &dyn SchedulerDriver, _: &FrameworkId, _: &MasterInfo) {}

    fn reregistered(&mut self, _: &dyn SchedulerDriver, _: &MasterInfo) {}

    fn disconnected(&mut self, _: &dyn SchedulerDriver) {}

    fn resource_offers(&mut self, driver: &dyn SchedulerDriver, offers: &[Offer]) {
        for offer in offers {
            if self.launched {
                driver.decline_offer(&offer.id, &Filters::default());
                continue;
            }
            self.launched = true;
            let tasks = self.tasks(offer);
            driver.launch_tasks(std::slice::from_ref(&offer.id), &tasks, &Filters::default());
        }
    }

    fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, _: &OfferId) {}

    fn status_update(&mut self, _: &dyn SchedulerDriver, status: &TaskStatus) {
        let _ = self.reports.send(Report::Status(Box::new(status.clone())));
    }

    fn framework_message(
        &mut self,
        _: &dyn SchedulerDriver,
        executor_id: &ExecutorId,
        _: &SlaveId,
        data: &[u8],
    ) {
        assert_eq!(executor_id.value, EXECUTOR);
        let _ = self
            .reports
            .send(Report::Message(String::from_utf8_lossy(data).into_owned()));
    }

    fn slave_lost(&mut self, _: &dyn SchedulerDriver, _: &SlaveId) {}

    fn executor_lost(&mut self, _: &dyn SchedulerDriver, _: &ExecutorId, _: &SlaveId, _: i32) {}

    fn error(&mut self, _: &dyn SchedulerDriver, message: &str) {
        let _ = self.reports.send(Report::Error(message.to_string()));
    }
}

fn get_json(url: &str) -> Value {
    let body = ureq::get(url)
        .timeout(BOUND)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .into_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[test]
fn pymesos_http_executor_runs_tasks_on_our_agent() {
    let python = compat_python();
    let local = Local::start(1);
    let executor = ExecutorInfo {
        executor_id: ExecutorId {
            value: EXECUTOR.into(),
        },
        name: Some("pymesos 0.3.15 executor".into()),
        command: Some(CommandInfo {
            value: Some(format!(
                "exec '{}' '{}'",
                python.display(),
                script().display()
            )),
            shell: Some(true),
            ..Default::default()
        }),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 64.0)],
        ..Default::default()
    };
    let (reports, heard) = mpsc::channel();
    let framework = FrameworkInfo {
        name: "compat-executor".into(),
        ..Default::default()
    };
    let driver = MesosSchedulerDriver::new(
        Framework {
            executor,
            launched: false,
            reports,
        },
        framework,
        local.address.clone(),
    );
    driver.start();

    let mut states: BTreeMap<String, Vec<TaskState>> = BTreeMap::new();
    let mut messages = BTreeSet::new();
    let deadline = Instant::now() + BOUND;
    let finished = |states: &BTreeMap<String, Vec<TaskState>>| {
        states
            .values()
            .filter(|s| s.last() == Some(&TaskState::TaskFinished))
            .count()
    };
    while finished(&states) < TASKS || messages.len() < TASKS {
        let left = deadline.saturating_duration_since(Instant::now());
        match heard.recv_timeout(left) {
            Ok(Report::Status(status)) => {
                let state = TaskState::try_from(status.state).unwrap_or(TaskState::TaskError);
                assert!(
                    matches!(state, TaskState::TaskRunning | TaskState::TaskFinished),
                    "task {} reached {state:?}: {:?} (saw {states:?})",
                    status.task_id.value,
                    status.message
                );
                states
                    .entry(status.task_id.value.clone())
                    .or_default()
                    .push(state);
            }
            Ok(Report::Message(text)) => {
                messages.insert(text);
            }
            Ok(Report::Error(error)) => panic!("the framework failed: {error}"),
            Err(_) => panic!("tasks did not finish in {BOUND:?}: {states:?}, {messages:?}"),
        }
    }
    for (task, seen) in &states {
        assert_eq!(
            seen,
            &[TaskState::TaskRunning, TaskState::TaskFinished],
            "{task}"
        );
    }
    let expected: BTreeSet<String> = (0..TASKS).map(|i| format!("ran py-{i}")).collect();
    assert_eq!(messages, expected);

    // The framework leaves; the agent shuts the executor down with a
    // SHUTDOWN event, and pymesos's driver stops by itself.
    driver.stop(false);
    let state = local.state();
    let agent = state["slaves"][0]["pid"]
        .as_str()
        .and_then(|pid| pid.split_once('@'))
        .map(|(_, address)| address.to_string())
        .expect("the agent's pid");
    let sandbox = support::poll(deadline.saturating_duration_since(Instant::now()), || {
        let agent_state = get_json(&format!("http://{agent}/slave(1)/state"));
        agent_state["completed_frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|f| {
                f["completed_executors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|e| e["id"] == EXECUTOR)
            .and_then(|e| e["directory"].as_str().map(PathBuf::from))
    })
    .expect("the executor never ended");
    let stdout = std::fs::read_to_string(sandbox.join("stdout")).unwrap_or_default();
    let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default();
    assert!(stdout.contains("registered on agent"), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("shutdown") && stdout.contains("driver stopped"),
        "the executor stopped on SHUTDOWN rather than being killed:\n{stdout}\n{stderr}"
    );
}
