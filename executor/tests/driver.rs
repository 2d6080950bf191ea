//! The driver and the command executor against a fake agent: a
//! libprocess process named `slave(1)` in the test's own runtime that
//! records what the executor sends and answers as Mesos's agent does.

use std::sync::mpsc;
use std::time::Duration;

use libprocess::{Config, Context, Message, Pid, Process, Runtime, UPID};
use mesos_executor::command::CommandExecutor;
use mesos_executor::{ExecutorEnv, MesosExecutorDriver};
use mesos_proto::internal::{
    ExecutorRegisteredMessage, KillTaskMessage, ReconnectExecutorMessage, RegisterExecutorMessage,
    ReregisterExecutorMessage, RunTaskMessage, StatusUpdateAcknowledgementMessage,
    StatusUpdateMessage,
};
use mesos_proto::mesos::{
    health_check, CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, HealthCheck,
    SlaveId, SlaveInfo, TaskId, TaskInfo, TaskState,
};
use prost::Message as _;

const WAIT: Duration = Duration::from_secs(20);

/// The fake agent: hands every message it gets to the test.
struct FakeAgent {
    inbox: mpsc::Sender<Message>,
}

impl Process for FakeAgent {
    fn unhandled(&mut self, _ctx: &mut Context<Self>, message: Message) {
        let _ = self.inbox.send(message);
    }
}

struct Harness {
    runtime: Runtime,
    agent: Pid<FakeAgent>,
    inbox: mpsc::Receiver<Message>,
    driver: MesosExecutorDriver,
    executor_pid: Option<UPID>,
    _sandbox: tempfile::TempDir,
}

impl Harness {
    fn start(checkpoint: bool) -> Harness {
        let runtime = Runtime::start(Config::default()).unwrap();
        let (tx, inbox) = mpsc::channel();
        let agent = runtime.spawn("slave(1)", FakeAgent { inbox: tx }).unwrap();
        let sandbox = tempfile::tempdir().unwrap();
        let env = ExecutorEnv {
            agent: agent.upid().clone(),
            slave_id: SlaveId { value: "S0".into() },
            framework_id: FrameworkId { value: "F0".into() },
            executor_id: ExecutorId { value: "E0".into() },
            directory: sandbox.path().display().to_string(),
            checkpoint,
            recovery_timeout: Duration::from_secs(60),
            shutdown_grace_period: Duration::from_secs(5),
            local: true,
        };
        let executor =
            CommandExecutor::new(sandbox.path().to_path_buf(), env.shutdown_grace_period);
        let mut driver = MesosExecutorDriver::with_settings(executor, env, Config::default());
        driver.start().unwrap();
        Harness {
            runtime,
            agent,
            inbox,
            driver,
            executor_pid: None,
            _sandbox: sandbox,
        }
    }

    fn sandbox(&self) -> &std::path::Path {
        self._sandbox.path()
    }

    fn next(&self, name: &str) -> Message {
        loop {
            let m = self
                .inbox
                .recv_timeout(WAIT)
                .unwrap_or_else(|_| panic!("no '{name}' within {WAIT:?}"));
            if &*m.name == name {
                return m;
            }
        }
    }

    fn send<M: prost::Message + prost::Name + Send + 'static>(&self, to: &UPID, message: M) {
        let to = to.clone();
        self.runtime
            .block_on(self.agent.dispatch(move |_, ctx| ctx.send(&to, &message)))
            .unwrap();
    }

    /// Waits for registration and answers it.
    fn register(&mut self, framework: FrameworkInfo) -> UPID {
        let m = self.next("mesos.internal.RegisterExecutorMessage");
        let register = RegisterExecutorMessage::decode(m.body.clone()).unwrap();
        assert_eq!(register.executor_id.value, "E0");
        assert_eq!(register.framework_id.value, "F0");
        let executor = m.from.clone();
        self.send(
            &executor,
            ExecutorRegisteredMessage {
                executor_info: ExecutorInfo {
                    executor_id: ExecutorId { value: "E0".into() },
                    ..Default::default()
                },
                framework_id: FrameworkId { value: "F0".into() },
                framework_info: framework,
                slave_id: SlaveId { value: "S0".into() },
                slave_info: SlaveInfo {
                    hostname: "localhost".into(),
                    ..Default::default()
                },
            },
        );
        self.executor_pid = Some(executor.clone());
        executor
    }

    #[allow(deprecated)]
    fn run(&self, task: TaskInfo) {
        let executor = self.executor_pid.clone().unwrap();
        self.send(
            &executor,
            RunTaskMessage {
                framework_id: Some(FrameworkId { value: "F0".into() }),
                framework: FrameworkInfo::default(),
                pid: None,
                task,
                resource_version_uuids: vec![],
                launch_executor: None,
            },
        );
    }

    /// The next status update; acknowledged when `ack`.
    fn update(&self, ack: bool) -> StatusUpdateMessage {
        let m = self.next("mesos.internal.StatusUpdateMessage");
        let update = StatusUpdateMessage::decode(m.body.clone()).unwrap();
        if ack {
            self.ack(&update);
        }
        update
    }

    fn ack(&self, update: &StatusUpdateMessage) {
        let executor = self.executor_pid.clone().unwrap();
        self.send(
            &executor,
            StatusUpdateAcknowledgementMessage {
                slave_id: SlaveId { value: "S0".into() },
                framework_id: FrameworkId { value: "F0".into() },
                task_id: update.update.status.task_id.clone(),
                uuid: update.update.uuid.clone().unwrap(),
            },
        );
    }
}

fn command_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: SlaveId { value: "S0".into() },
        command: Some(CommandInfo {
            value: Some(command.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn state(update: &StatusUpdateMessage) -> TaskState {
    TaskState::try_from(update.update.status.state).unwrap()
}

#[test]
fn command_runs_and_reports_its_exit_status() {
    let mut h = Harness::start(false);
    h.register(FrameworkInfo::default());
    h.run(command_task("t1", "echo hello from task; exit 3"));

    let starting = h.update(true);
    assert_eq!(state(&starting), TaskState::TaskStarting);
    let u = &starting.update;
    assert_eq!(u.framework_id.value, "F0");
    assert_eq!(u.executor_id.as_ref().unwrap().value, "E0");
    assert_eq!(u.status.uuid, u.uuid, "status and update carry one uuid");
    assert_eq!(u.status.source, Some(2), "SOURCE_EXECUTOR");
    assert_eq!(state(&h.update(true)), TaskState::TaskRunning);
    let failed = h.update(true);
    assert_eq!(state(&failed), TaskState::TaskFailed);
    assert_eq!(
        failed.update.status.message.as_deref(),
        Some("Command exited with status 3")
    );
    // The executor stops once its last update is acknowledged.
    assert_eq!(h.driver.join(), mesos_executor::DriverStatus::Stopped);
    let stdout = std::fs::read_to_string(h.sandbox().join("hello")).ok();
    assert!(
        stdout.is_none(),
        "stdout goes to the executor's stdout, not a file"
    );
}

#[test]
fn successful_command_finishes_in_the_sandbox() {
    let mut h = Harness::start(false);
    h.register(FrameworkInfo::default());
    h.run(command_task("t1", "pwd > where.txt"));
    assert_eq!(state(&h.update(true)), TaskState::TaskStarting);
    assert_eq!(state(&h.update(true)), TaskState::TaskRunning);
    let finished = h.update(true);
    assert_eq!(state(&finished), TaskState::TaskFinished);
    assert_eq!(
        finished.update.status.message.as_deref(),
        Some("Command exited with status 0")
    );
    let written = std::fs::read_to_string(h.sandbox().join("where.txt")).unwrap();
    assert_eq!(
        std::path::Path::new(written.trim()).canonicalize().unwrap(),
        h.sandbox().canonicalize().unwrap()
    );
}

#[test]
fn kill_ends_the_task_and_its_children() {
    let mut h = Harness::start(false);
    h.register(FrameworkInfo::default());
    // The shell starts a grandchild that records its pid, then waits.
    h.run(command_task("t1", "sleep 1000 & echo $! > child.pid; wait"));
    assert_eq!(state(&h.update(true)), TaskState::TaskStarting);
    assert_eq!(state(&h.update(true)), TaskState::TaskRunning);
    let pid_file = h.sandbox().join("child.pid");
    let deadline = std::time::Instant::now() + WAIT;
    let child: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(std::time::Instant::now() < deadline, "child never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(mesos_executor::os::alive(child));

    let executor = h.executor_pid.clone().unwrap();
    h.send(
        &executor,
        KillTaskMessage {
            framework_id: FrameworkId { value: "F0".into() },
            task_id: TaskId { value: "t1".into() },
            kill_policy: None,
        },
    );
    let killed = h.update(true);
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(
        killed.update.status.message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
    assert!(!mesos_executor::os::alive(child), "the grandchild died too");
}

#[test]
fn failing_health_check_marks_unhealthy_and_kills() {
    let mut h = Harness::start(false);
    h.register(FrameworkInfo::default());
    let mut task = command_task("t1", "sleep 1000");
    task.health_check = Some(HealthCheck {
        r#type: Some(health_check::Type::Command as i32),
        command: Some(CommandInfo {
            value: Some("exit 1".into()),
            ..Default::default()
        }),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.05),
        grace_period_seconds: Some(0.0),
        consecutive_failures: Some(2),
        timeout_seconds: Some(5.0),
        ..Default::default()
    });
    h.run(task);
    assert_eq!(state(&h.update(true)), TaskState::TaskStarting);
    assert_eq!(state(&h.update(true)), TaskState::TaskRunning);
    let unhealthy = h.update(true);
    assert_eq!(state(&unhealthy), TaskState::TaskRunning);
    assert_eq!(unhealthy.update.status.healthy, Some(false));
    assert_eq!(
        unhealthy.update.status.reason,
        Some(mesos_proto::mesos::task_status::Reason::TaskHealthCheckStatusUpdated as i32)
    );
    assert_eq!(h.update(true).update.status.healthy, Some(false));
    let killed = h.update(true);
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(killed.update.status.healthy, Some(false));
}

#[test]
fn reconnect_resends_unacknowledged_updates() {
    let mut h = Harness::start(true);
    h.register(FrameworkInfo::default());
    h.run(command_task("t1", "sleep 1000"));
    // Never acknowledged: the agent "restarts" before it could.
    let starting = h.update(false);
    let running = h.update(false);
    let executor = h.executor_pid.clone().unwrap();
    h.send(
        &executor,
        ReconnectExecutorMessage {
            slave_id: SlaveId { value: "S0".into() },
        },
    );
    let m = h.next("mesos.internal.ReregisterExecutorMessage");
    let reregister = ReregisterExecutorMessage::decode(m.body).unwrap();
    let mut uuids: Vec<_> = reregister.updates.iter().map(|u| u.uuid.clone()).collect();
    uuids.sort();
    let mut expected = vec![starting.update.uuid.clone(), running.update.uuid.clone()];
    expected.sort();
    assert_eq!(uuids, expected);
    assert_eq!(reregister.tasks.len(), 1);
    assert_eq!(reregister.tasks[0].task_id.value, "t1");
    h.send(
        &executor,
        KillTaskMessage {
            framework_id: FrameworkId { value: "F0".into() },
            task_id: TaskId { value: "t1".into() },
            kill_policy: None,
        },
    );
    assert_eq!(state(&h.update(true)), TaskState::TaskKilled);
}

#[test]
fn second_task_on_a_command_executor_fails() {
    let mut h = Harness::start(false);
    h.register(FrameworkInfo::default());
    h.run(command_task("t1", "sleep 1000"));
    assert_eq!(state(&h.update(true)), TaskState::TaskStarting);
    assert_eq!(state(&h.update(true)), TaskState::TaskRunning);
    h.run(command_task("t2", "true"));
    let failed = h.update(true);
    assert_eq!(failed.update.status.task_id.value, "t2");
    assert_eq!(state(&failed), TaskState::TaskFailed);
    let executor = h.executor_pid.clone().unwrap();
    h.send(
        &executor,
        KillTaskMessage {
            framework_id: FrameworkId { value: "F0".into() },
            task_id: TaskId { value: "t1".into() },
            kill_policy: None,
        },
    );
    assert_eq!(state(&h.update(true)), TaskState::TaskKilled);
}
