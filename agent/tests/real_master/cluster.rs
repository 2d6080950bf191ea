//! A real cluster for the agent's tests: our master in this process (a
//! runtime of its own), the agent as its own OS process (so it can be
//! `kill -9`ed and restarted), and a framework on our scheduler driver
//! that records every callback and acknowledges updates explicitly.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use libprocess::{Config, Runtime, UPID};
use mesos_agent::testing::{eventually, http_get, AgentProcess};
use mesos_master::{MasterFlags, MasterHandle, MasterOptions};
use mesos_proto::mesos::{
    CommandInfo, ExecutorId, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId,
    Resource, SlaveId, Status, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{DriverConfig, MesosSchedulerDriver, Scheduler, SchedulerDriver};
use serde_json::Value;

/// How long any one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

fn localhost(port: u16) -> Config {
    Config {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port,
        worker_threads: 2,
        ..Config::default()
    }
}

/// Our master, in a runtime of its own on 127.0.0.1.
pub struct Master {
    /// Its runtime (filters on it see what reaches the master).
    pub runtime: Runtime,
    handle: MasterHandle,
}

impl Master {
    /// A master on a free port.
    pub fn start() -> Master {
        Master::start_on(0)
    }

    /// A master on `port` (to bring one back where the last one was).
    pub fn start_on(port: u16) -> Master {
        let argv = [
            "mesos-master",
            "--registry=in_memory",
            "--allocation_interval=50ms",
        ];
        let flags = mesos_master::flags::flag_set()
            .load(None, argv, std::iter::empty())
            .expect("valid master flags");
        let flags = MasterFlags::from_flags(&flags).expect("valid master flags");
        let runtime = Runtime::start(localhost(port)).expect("master runtime starts");
        let handle = MasterHandle::start(&runtime, MasterOptions { flags }).expect("master starts");
        Master { runtime, handle }
    }

    /// `master@127.0.0.1:<port>`.
    pub fn upid(&self) -> UPID {
        self.handle.upid().clone()
    }

    /// `GET` on the master: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&format!("http://{}{path}", self.runtime.bound_address()))
    }

    /// `GET` as JSON.
    pub fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// The task as `/master/state` shows it, among the running or the
    /// completed tasks of any framework.
    pub fn task(&self, task_id: &str) -> Option<Value> {
        let state = self.json("/master/state");
        let frameworks = ["frameworks", "completed_frameworks"]
            .into_iter()
            .flat_map(|k| state[k].as_array().cloned().unwrap_or_default());
        for f in frameworks {
            for key in ["tasks", "unreachable_tasks", "completed_tasks"] {
                for t in f[key].as_array().into_iter().flatten() {
                    if t["id"] == task_id {
                        return Some(t.clone());
                    }
                }
            }
        }
        None
    }

    /// The task's state in `/master/state` (`TASK_RUNNING`), if listed.
    pub fn task_state(&self, task_id: &str) -> Option<String> {
        self.task(task_id)
            .and_then(|t| t["state"].as_str().map(str::to_string))
    }

    /// The agents `/master/slaves` lists.
    pub fn agents(&self) -> Vec<Value> {
        self.json("/master/slaves")["slaves"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A waiter for the next message of type `M` to reach the master
    /// (install it before causing the message).
    pub fn next_message<M: prost::Name + 'static>(
        &self,
    ) -> tokio::sync::oneshot::Receiver<libprocess::Message> {
        self.runtime
            .filters()
            .future(libprocess::testing::Match::protobuf::<M>())
    }

    /// Waits (bounded) for what `waiter` awaits; decodes it.
    pub fn received<M: prost::Message + Default>(
        &self,
        waiter: tokio::sync::oneshot::Receiver<libprocess::Message>,
    ) -> M {
        let message = self
            .runtime
            .block_on(async move { tokio::time::timeout(WAIT, waiter).await })
            .expect("the message reached the master in time")
            .expect("the waiter is alive");
        M::decode(message.body).expect("the message decodes")
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.handle.stop();
        self.runtime.shutdown();
    }
}

/// The path of the `mesos-agent` binary of this build.
pub fn agent_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_mesos-agent"))
}

/// Starts an agent (an OS process) against `master`, with `extra` flags,
/// and waits until the master lists it as active.
pub fn start_agent(master: &Master, work_dir: &Path, extra: &[&str]) -> AgentProcess {
    let mut flags = vec!["--switch_user=false"];
    flags.extend_from_slice(extra);
    let agent = AgentProcess::start(agent_binary(), &master.upid(), work_dir, &flags);
    let registered = eventually(WAIT, || {
        master
            .agents()
            .iter()
            .any(|a| a["pid"] == agent.upid().to_string() && a["active"] == true)
    });
    assert!(registered, "the agent registers: {:?}", master.agents());
    agent
}

/// What the driver told the framework.
#[derive(Debug)]
enum Event {
    Registered(String),
    Offers(Vec<Offer>),
    Rescinded(OfferId),
    Update(Box<TaskStatus>),
    Error(String),
}

/// The scheduler: reports every callback; acknowledges each update with
/// a uuid while `acknowledge` is set.
struct Recorder {
    events: mpsc::Sender<Event>,
    acknowledge: Arc<AtomicBool>,
}

impl Scheduler for Recorder {
    fn registered(&mut self, _: &dyn SchedulerDriver, id: &FrameworkId, _: &MasterInfo) {
        let _ = self.events.send(Event::Registered(id.value.clone()));
    }

    fn reregistered(&mut self, _: &dyn SchedulerDriver, _: &MasterInfo) {}

    fn disconnected(&mut self, _: &dyn SchedulerDriver) {}

    fn resource_offers(&mut self, _: &dyn SchedulerDriver, offers: &[Offer]) {
        let _ = self.events.send(Event::Offers(offers.to_vec()));
    }

    fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, offer_id: &OfferId) {
        let _ = self.events.send(Event::Rescinded(offer_id.clone()));
    }

    fn status_update(&mut self, driver: &dyn SchedulerDriver, status: &TaskStatus) {
        if self.acknowledge.load(Ordering::SeqCst) && status.uuid.is_some() {
            driver.acknowledge_status_update(status);
        }
        let _ = self.events.send(Event::Update(Box::new(status.clone())));
    }

    fn framework_message(
        &mut self,
        _: &dyn SchedulerDriver,
        _: &ExecutorId,
        _: &SlaveId,
        _: &[u8],
    ) {
    }

    fn slave_lost(&mut self, _: &dyn SchedulerDriver, _: &SlaveId) {}

    fn executor_lost(&mut self, _: &dyn SchedulerDriver, _: &ExecutorId, _: &SlaveId, _: i32) {}

    fn error(&mut self, _: &dyn SchedulerDriver, message: &str) {
        let _ = self.events.send(Event::Error(message.to_string()));
    }
}

/// A framework on our scheduler driver, registered with a master.
pub struct Framework {
    /// The driver.
    pub driver: MesosSchedulerDriver,
    /// The framework id the master gave.
    pub id: String,
    /// Its `FrameworkInfo` as registered.
    pub info: FrameworkInfo,
    runtime: Runtime,
    events: mpsc::Receiver<Event>,
    acknowledge: Arc<AtomicBool>,
    offers: VecDeque<Offer>,
    /// Every update received, per task, in arrival order.
    pub updates: HashMap<String, Vec<TaskStatus>>,
}

impl Framework {
    /// Registers a framework with `master` (checkpointing or not).
    pub fn start(master: &Master, checkpoint: bool) -> Framework {
        Framework::start_with(master, checkpoint, Vec::new())
    }

    /// Same, with framework capabilities.
    pub fn start_with(
        master: &Master,
        checkpoint: bool,
        capabilities: Vec<mesos_proto::mesos::framework_info::Capability>,
    ) -> Framework {
        let runtime = Runtime::start(localhost(0)).expect("framework runtime starts");
        let (tx, events) = mpsc::channel();
        let acknowledge = Arc::new(AtomicBool::new(true));
        let info = FrameworkInfo {
            user: String::new(),
            name: "agent real-master test".into(),
            checkpoint: Some(checkpoint),
            capabilities,
            ..Default::default()
        };
        let scheduler = Recorder {
            events: tx,
            acknowledge: acknowledge.clone(),
        };
        let driver =
            MesosSchedulerDriver::builder(scheduler, info.clone(), master.upid().to_string())
                .implicit_acknowledgements(false)
                .runtime(runtime.clone())
                .config(DriverConfig {
                    registration_backoff_factor: Duration::from_millis(50),
                })
                .build();
        assert_eq!(driver.start(), Status::DriverRunning);
        let mut framework = Framework {
            driver,
            id: String::new(),
            info,
            runtime,
            events,
            acknowledge,
            offers: VecDeque::new(),
            updates: HashMap::new(),
        };
        let deadline = Instant::now() + WAIT;
        while framework.id.is_empty() {
            match framework.next_event(deadline) {
                Some(Event::Registered(id)) => framework.id = id,
                Some(Event::Error(e)) => panic!("the framework was refused: {e}"),
                Some(_) => {}
                None => panic!("the framework did not register in time"),
            }
        }
        framework.info.id = Some(FrameworkId {
            value: framework.id.clone(),
        });
        framework
    }

    /// The scheduler's UPID.
    pub fn pid(&self) -> UPID {
        self.driver.pid().expect("the driver runs")
    }

    /// Whether updates are acknowledged as they arrive.
    pub fn set_acknowledge(&self, on: bool) {
        self.acknowledge.store(on, Ordering::SeqCst);
    }

    /// The next callback before `deadline`; offers, rescinds and updates
    /// are recorded on the way.
    fn next_event(&mut self, deadline: Instant) -> Option<Event> {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = self.events.recv_timeout(left).ok()?;
        match &event {
            Event::Offers(offers) => self.offers.extend(offers.iter().cloned()),
            Event::Rescinded(id) => self.offers.retain(|o| o.id != *id),
            Event::Update(status) => self
                .updates
                .entry(status.task_id.value.clone())
                .or_default()
                .push((**status).clone()),
            Event::Registered(_) | Event::Error(_) => {}
        }
        Some(event)
    }

    /// Records whatever arrived already.
    fn drain(&mut self) {
        while self.next_event(Instant::now()).is_some() {}
    }

    /// An offer (the oldest outstanding one, or the next to come).
    pub fn take_offer(&mut self) -> Offer {
        self.drain();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(offer) = self.offers.pop_front() {
                return offer;
            }
            if self.next_event(deadline).is_none() {
                panic!("no offer within {WAIT:?}");
            }
        }
    }

    /// Launches `tasks` on `offer`; what is left is offered again at
    /// once.
    pub fn launch_on(&mut self, offer: &Offer, mut tasks: Vec<TaskInfo>) {
        for task in &mut tasks {
            task.slave_id = offer.slave_id.clone();
        }
        let filters = Filters {
            refuse_seconds: Some(0.0),
        };
        let status = self
            .driver
            .launch_tasks(std::slice::from_ref(&offer.id), &tasks, &filters);
        assert_eq!(status, Status::DriverRunning);
    }

    /// Launches `tasks` on the next offer.
    pub fn launch(&mut self, tasks: Vec<TaskInfo>) {
        let offer = self.take_offer();
        self.launch_on(&offer, tasks);
    }

    /// Kills `task`.
    pub fn kill(&self, task: &str) {
        let status = self.driver.kill_task(&TaskId { value: task.into() });
        assert_eq!(status, Status::DriverRunning);
    }

    /// The first update of `task` in `state` (waiting for it, bounded).
    pub fn wait_for(&mut self, task: &str, state: TaskState) -> TaskStatus {
        self.wait_for_nth(task, state, 1)
    }

    /// The `n`th update of `task` in `state` (resends count).
    pub fn wait_for_nth(&mut self, task: &str, state: TaskState, n: usize) -> TaskStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            let found: Vec<&TaskStatus> = self
                .updates
                .get(task)
                .into_iter()
                .flatten()
                .filter(|s| s.state == state as i32)
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if self.next_event(deadline).is_none() {
                panic!(
                    "task {task} did not reach {state:?} (x{n}) in time; updates: {:?}",
                    self.states(task)
                );
            }
        }
    }

    /// The states of `task`'s updates, in arrival order.
    pub fn states(&self, task: &str) -> Vec<TaskState> {
        self.updates
            .get(task)
            .into_iter()
            .flatten()
            .map(state_of)
            .collect()
    }

    /// The states of `task`'s distinct updates (a resent update has the
    /// uuid of the first), in arrival order.
    pub fn distinct_states(&self, task: &str) -> Vec<TaskState> {
        let mut uuids = Vec::new();
        let mut states = Vec::new();
        for status in self.updates.get(task).into_iter().flatten() {
            if !uuids.contains(&status.uuid) {
                uuids.push(status.uuid.clone());
                states.push(state_of(status));
            }
        }
        states
    }
}

impl Drop for Framework {
    fn drop(&mut self) {
        self.driver.stop(false);
        self.runtime.shutdown();
    }
}

/// The state of an update.
pub fn state_of(status: &TaskStatus) -> TaskState {
    TaskState::try_from(status.state).expect("a known task state")
}

fn scalar(name: &str, value: f64) -> Resource {
    mesos_common::Resource::scalar(name, value).to_proto()
}

/// A command task (its agent is set when it is launched on an offer).
pub fn command_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: TaskId { value: id.into() },
        slave_id: SlaveId::default(),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        command: Some(CommandInfo {
            value: Some(command.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
