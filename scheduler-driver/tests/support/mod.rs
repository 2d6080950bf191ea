//! A fake master for driver tests, as Mesos's scheduler driver tests use
//! one: a libprocess process `master` in a runtime of its own, which
//! records every Call (and DeactivateFrameworkMessage) it receives and
//! sends whatever the test tells it to. Plus a scheduler that records its
//! callbacks.

#![allow(dead_code, clippy::large_enum_variant)]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use libprocess::{Config, Context, Message, Pid, Process, Runtime, UPID};
use mesos_proto::internal::{
    DeactivateFrameworkMessage, FrameworkRegisteredMessage, FrameworkToExecutorMessage,
};
use mesos_proto::mesos::{
    ExecutorId, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, SlaveId, TaskStatus,
};
use mesos_proto::scheduler::{call, Call};
use mesos_scheduler::{DriverConfig, MesosSchedulerDriver, Scheduler, SchedulerDriver};

/// How long a test waits for an event before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// What the fake master (or fake agent) received.
#[derive(Debug, Clone)]
pub enum Seen {
    Call(UPID, Box<Call>),
    Deactivate(FrameworkId),
    /// A marker the test sent after everything it wants to check the
    /// absence of: messages on one connection arrive in order.
    Probe,
    ToExecutor(FrameworkToExecutorMessage),
}

/// A process that records what it receives.
pub struct Recorder {
    seen: mpsc::Sender<Seen>,
}

impl Recorder {
    pub fn new(seen: mpsc::Sender<Seen>) -> Recorder {
        Recorder { seen }
    }
}

impl Process for Recorder {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<Call, _>(|p, _ctx, from, call| {
            let _ = p.seen.send(Seen::Call(from.clone(), Box::new(call)));
        });
        ctx.install::<DeactivateFrameworkMessage, _>(|p, _ctx, _from, m| {
            let _ = p.seen.send(Seen::Deactivate(m.framework_id));
        });
        ctx.install::<FrameworkToExecutorMessage, _>(|p, _ctx, _from, m| {
            let _ = p.seen.send(Seen::ToExecutor(m));
        });
        ctx.install_raw("probe", |p, _ctx, _message| {
            let _ = p.seen.send(Seen::Probe);
        });
    }
}

/// A fake master in a runtime of its own.
pub struct FakeMaster {
    pub runtime: Runtime,
    pub pid: Pid<Recorder>,
    pub seen: mpsc::Receiver<Seen>,
}

impl FakeMaster {
    /// Starts a master runtime on an ephemeral port.
    pub fn start() -> FakeMaster {
        FakeMaster::start_on(0)
    }

    /// Starts a master runtime on `port` (to bring a master back where it was).
    pub fn start_on(port: u16) -> FakeMaster {
        let runtime = Runtime::start(Config {
            port,
            worker_threads: 1,
            ..Config::default()
        })
        .expect("master runtime starts");
        let (tx, seen) = mpsc::channel();
        let pid = runtime
            .spawn("master", Recorder { seen: tx })
            .expect("master spawns");
        FakeMaster { runtime, pid, seen }
    }

    /// The value to give the driver as `--master`.
    pub fn address(&self) -> String {
        self.runtime.address().to_string()
    }

    /// The master's UPID.
    pub fn upid(&self) -> UPID {
        self.pid.upid().clone()
    }

    /// Sends `message` from the master to `to`.
    pub fn send<M: prost::Message + prost::Name + 'static>(&self, to: &UPID, message: M) {
        let to = to.clone();
        self.pid.post(move |_, ctx| ctx.send(&to, &message));
    }

    /// Sends `message` to `to` from another process of the master's
    /// runtime (an impostor, or an agent), on the same connection.
    pub fn send_as<M: prost::Message + prost::Name + 'static>(
        &self,
        from: &str,
        to: &UPID,
        message: M,
    ) {
        self.runtime.send(Message {
            from: self.runtime.upid(from),
            to: to.clone(),
            name: M::full_name().into(),
            body: Bytes::from(message.encode_to_vec()),
        });
    }

    /// The next thing the master received.
    pub fn next(&self) -> Seen {
        self.seen
            .recv_timeout(WAIT)
            .expect("the master received something in time")
    }

    /// The next Call, which must be of `kind`.
    pub fn next_call(&self, kind: call::Type) -> (UPID, Call) {
        match self.next() {
            Seen::Call(from, call) if call.r#type == Some(kind as i32) => (from, *call),
            other => panic!("expected a {kind:?} call, got {other:?}"),
        }
    }

    /// Asserts the master received nothing more from `runtime` (the
    /// driver's) before a probe sent now over the same connection.
    pub fn expect_nothing_more_from(&self, runtime: &Runtime) {
        runtime.send(Message {
            from: runtime.upid("probe-sender"),
            to: self.upid(),
            name: "probe".into(),
            body: Bytes::new(),
        });
        match self.next() {
            Seen::Probe => {}
            other => panic!("expected nothing before the probe, got {other:?}"),
        }
    }

    /// Answers a SUBSCRIBE: registers framework `id` with the driver at `to`.
    pub fn register(&self, to: &UPID, id: &str) {
        self.send(
            to,
            FrameworkRegisteredMessage {
                framework_id: FrameworkId { value: id.into() },
                master_info: self.info(),
            },
        );
    }

    /// A `MasterInfo` for this master.
    pub fn info(&self) -> MasterInfo {
        mesos_scheduler::detector::master_info(&self.upid())
    }
}

/// What the recording scheduler heard.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    Registered(FrameworkId),
    Reregistered,
    Disconnected,
    Offers(Vec<Offer>),
    Rescinded(OfferId),
    Status(TaskStatus),
    Message(ExecutorId, SlaveId, Vec<u8>),
    SlaveLost(SlaveId),
    ExecutorLost(ExecutorId, SlaveId, i32),
    Error(String),
}

/// What the recording scheduler does on its own, from inside callbacks.
pub type OfferHandler = Box<dyn FnMut(&dyn SchedulerDriver, &[Offer]) + Send>;

/// A scheduler that records its callbacks into a channel.
pub struct Recording {
    heard: mpsc::Sender<Heard>,
    on_offers: Option<OfferHandler>,
}

impl Recording {
    pub fn new() -> (Recording, mpsc::Receiver<Heard>) {
        let (tx, rx) = mpsc::channel();
        (
            Recording {
                heard: tx,
                on_offers: None,
            },
            rx,
        )
    }

    pub fn on_offers(
        mut self,
        f: impl FnMut(&dyn SchedulerDriver, &[Offer]) + Send + 'static,
    ) -> Self {
        self.on_offers = Some(Box::new(f));
        self
    }

    fn hear(&self, heard: Heard) {
        let _ = self.heard.send(heard);
    }
}

impl Scheduler for Recording {
    fn registered(&mut self, _: &dyn SchedulerDriver, id: &FrameworkId, _: &MasterInfo) {
        self.hear(Heard::Registered(id.clone()));
    }
    fn reregistered(&mut self, _: &dyn SchedulerDriver, _: &MasterInfo) {
        self.hear(Heard::Reregistered);
    }
    fn disconnected(&mut self, _: &dyn SchedulerDriver) {
        self.hear(Heard::Disconnected);
    }
    fn resource_offers(&mut self, driver: &dyn SchedulerDriver, offers: &[Offer]) {
        self.hear(Heard::Offers(offers.to_vec()));
        if let Some(f) = &mut self.on_offers {
            f(driver, offers);
        }
    }
    fn offer_rescinded(&mut self, _: &dyn SchedulerDriver, offer_id: &OfferId) {
        self.hear(Heard::Rescinded(offer_id.clone()));
    }
    fn status_update(&mut self, _: &dyn SchedulerDriver, status: &TaskStatus) {
        self.hear(Heard::Status(status.clone()));
    }
    fn framework_message(
        &mut self,
        _: &dyn SchedulerDriver,
        e: &ExecutorId,
        s: &SlaveId,
        data: &[u8],
    ) {
        self.hear(Heard::Message(e.clone(), s.clone(), data.to_vec()));
    }
    fn slave_lost(&mut self, _: &dyn SchedulerDriver, slave_id: &SlaveId) {
        self.hear(Heard::SlaveLost(slave_id.clone()));
    }
    fn executor_lost(&mut self, _: &dyn SchedulerDriver, e: &ExecutorId, s: &SlaveId, status: i32) {
        self.hear(Heard::ExecutorLost(e.clone(), s.clone(), status));
    }
    fn error(&mut self, _: &dyn SchedulerDriver, message: &str) {
        self.hear(Heard::Error(message.to_string()));
    }
}

/// The next callback the scheduler heard.
pub fn next(heard: &mpsc::Receiver<Heard>) -> Heard {
    heard
        .recv_timeout(WAIT)
        .expect("the scheduler heard something in time")
}

/// A runtime for the driver, with its clock paused so that registration
/// retries happen only when a test advances it.
pub fn driver_runtime() -> Runtime {
    let runtime = Runtime::start(Config {
        worker_threads: 1,
        ..Config::default()
    })
    .expect("driver runtime starts");
    runtime.clock().pause();
    runtime
}

/// A framework as the examples register it.
pub fn framework() -> FrameworkInfo {
    FrameworkInfo {
        user: "tester".into(),
        name: "Driver Test Framework".into(),
        roles: vec!["*".into()],
        capabilities: vec![mesos_proto::mesos::framework_info::Capability {
            r#type: Some(mesos_proto::mesos::framework_info::capability::Type::MultiRole as i32),
        }],
        ..FrameworkInfo::default()
    }
}

/// A driver in `runtime` for `scheduler`, against `master`, with a 2s
/// backoff factor.
pub fn driver(
    scheduler: impl Scheduler,
    framework: FrameworkInfo,
    master: &FakeMaster,
    runtime: &Runtime,
) -> MesosSchedulerDriver {
    MesosSchedulerDriver::builder(scheduler, framework, master.address())
        .runtime(runtime.clone())
        .config(DriverConfig {
            registration_backoff_factor: Duration::from_secs(2),
        })
        .build()
}

/// Starts `driver`, answers its SUBSCRIBE with framework id `id`, and
/// waits for `registered`. Returns the driver's UPID.
pub fn start_and_register(
    driver: &MesosSchedulerDriver,
    master: &FakeMaster,
    heard: &mpsc::Receiver<Heard>,
    id: &str,
) -> UPID {
    assert_eq!(driver.start(), mesos_scheduler::Status::DriverRunning);
    let (from, _) = master.next_call(call::Type::Subscribe);
    master.register(&from, id);
    assert_eq!(
        next(heard),
        Heard::Registered(FrameworkId { value: id.into() })
    );
    from
}

/// Shared slot for values a callback captures.
pub type Slot<T> = Arc<Mutex<Option<T>>>;
