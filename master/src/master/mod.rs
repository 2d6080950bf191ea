//! The master process: owns the cluster's state, and routes every message
//! and endpoint to the handler that changes or reads it. `initialize`
//! below is the routing table.

mod start;

pub use start::{MasterHandle, MasterOptions, VERSION};

use libprocess::{Context, Process, Reply, Request, UPID};
use mesos_proto::internal as msg;
use mesos_proto::mesos::MasterInfo;
use mesos_proto::scheduler::Call;

use crate::allocator::AllocatorHandle;
use crate::flags::MasterFlags;
use crate::metrics::Metrics;
use crate::registrar::RegistrarHandle;
use crate::state::{IdGenerator, State};

/// The Mesos master.
pub struct Master {
    /// Who we are: ID, UPID, address, version.
    pub(crate) info: MasterInfo,
    pub(crate) flags: MasterFlags,
    pub(crate) state: State,
    pub(crate) ids: IdGenerator,
    pub(crate) allocator: AllocatorHandle,
    pub(crate) registrar: RegistrarHandle,
    pub(crate) metrics: Metrics,
    /// Unix seconds when the master started and was elected.
    pub(crate) start_time: f64,
    pub(crate) elected_time: f64,
    /// State endpoint requests waiting for a snapshot.
    pub(crate) reads: crate::http::reads::Reads,
}

/// A route handler of the master.
type Route = fn(&mut Master, &mut Context<Master>, Request) -> Reply;

impl Process for Master {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        // Agents.
        ctx.install::<msg::RegisterSlaveMessage, _>(|m, ctx, from, msg| {
            m.register_slave(ctx, from, msg)
        });
        ctx.install::<msg::ReregisterSlaveMessage, _>(|m, ctx, from, msg| {
            m.reregister_slave(ctx, from, msg)
        });
        ctx.install::<msg::UnregisterSlaveMessage, _>(|m, ctx, from, msg| {
            m.unregister_slave(ctx, from, msg)
        });
        ctx.install::<msg::UpdateSlaveMessage, _>(|m, ctx, from, msg| {
            m.update_slave(ctx, from, msg)
        });
        ctx.install::<msg::StatusUpdateMessage, _>(|m, ctx, from, msg| {
            m.status_update(ctx, from, msg)
        });
        ctx.install::<msg::ExitedExecutorMessage, _>(|m, ctx, from, msg| {
            m.exited_executor(ctx, from, msg)
        });
        ctx.install::<msg::ExecutorToFrameworkMessage, _>(|m, ctx, from, msg| {
            m.executor_message(ctx, from, msg)
        });

        // Schedulers: the v1 envelope, then the legacy messages.
        ctx.install::<Call, _>(|m, ctx, from, call| m.receive_call(ctx, from, call));
        ctx.install::<msg::RegisterFrameworkMessage, _>(|m, ctx, from, msg| {
            m.register_framework(ctx, from, msg)
        });
        ctx.install::<msg::ReregisterFrameworkMessage, _>(|m, ctx, from, msg| {
            m.reregister_framework(ctx, from, msg)
        });
        ctx.install::<msg::UnregisterFrameworkMessage, _>(|m, ctx, from, msg| {
            m.unregister_framework(ctx, from, msg)
        });
        ctx.install::<msg::DeactivateFrameworkMessage, _>(|m, ctx, from, msg| {
            m.deactivate_framework(ctx, from, msg)
        });
        ctx.install::<msg::LaunchTasksMessage, _>(|m, ctx, from, msg| {
            m.launch_tasks(ctx, from, msg)
        });
        ctx.install::<msg::KillTaskMessage, _>(|m, ctx, from, msg| m.kill_task(ctx, from, msg));
        ctx.install::<msg::ReviveOffersMessage, _>(|m, ctx, from, msg| {
            m.revive_offers(ctx, from, msg)
        });
        ctx.install::<msg::StatusUpdateAcknowledgementMessage, _>(|m, ctx, from, msg| {
            m.status_update_acknowledgement(ctx, from, msg)
        });
        ctx.install::<msg::ReconcileTasksMessage, _>(|m, ctx, from, msg| {
            m.reconcile_tasks(ctx, from, msg)
        });
        ctx.install::<msg::FrameworkToExecutorMessage, _>(|m, ctx, from, msg| {
            m.framework_message(ctx, from, msg)
        });
        ctx.install::<msg::ResourceRequestMessage, _>(|m, ctx, from, msg| {
            m.resource_request(ctx, from, msg)
        });

        // Endpoints (the master is the runtime's delegate, so `/state`
        // and friends reach these too).
        let routes: [(&str, &str, Route); 13] = [
            (
                "/api/v1/scheduler",
                crate::scheduler_api::endpoint::HELP,
                crate::scheduler_api::endpoint::scheduler,
            ),
            (
                "/state",
                crate::http::state::HELP,
                crate::http::state::state,
            ),
            (
                "/state-summary",
                crate::http::state::SUMMARY_HELP,
                crate::http::state::summary,
            ),
            (
                "/frameworks",
                crate::http::frameworks::HELP,
                crate::http::frameworks::frameworks,
            ),
            (
                "/slaves",
                crate::http::slaves::HELP,
                crate::http::slaves::slaves,
            ),
            (
                "/tasks",
                crate::http::tasks::HELP,
                crate::http::tasks::tasks,
            ),
            (
                "/roles",
                crate::http::roles::HELP,
                crate::http::roles::roles,
            ),
            (
                "/health",
                crate::http::health::HELP,
                crate::http::health::health,
            ),
            (
                "/redirect",
                crate::http::redirect::HELP,
                crate::http::redirect::redirect,
            ),
            (
                "/teardown",
                crate::http::teardown::HELP,
                crate::http::teardown::teardown,
            ),
            (
                "/flags",
                crate::http::flags::HELP,
                crate::http::flags::flags,
            ),
            (
                "/version",
                crate::http::version::HELP,
                crate::http::version::version,
            ),
            (
                "/",
                crate::http::health::ROOT_HELP,
                crate::http::health::root,
            ),
        ];
        for (path, help, handler) in routes {
            ctx.route(path, Some(help), handler);
        }

        self.metrics.register(&ctx.handle());
        self.recover(ctx);
    }

    fn exited(&mut self, ctx: &mut Context<Self>, pid: &UPID) {
        if let Some(id) = self.state.framework_by_pid(pid).map(|f| f.id.clone()) {
            self.framework_disconnected(ctx, &id);
        } else if self.state.agent_by_pid(pid).is_some() {
            self.agent_disconnected(ctx, pid);
        }
    }
}

impl Master {
    /// Our UPID.
    pub fn pid(&self) -> &str {
        self.info.pid.as_deref().unwrap_or_default()
    }

    /// The master's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The master's ID (a UUID).
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The handle to the master's allocator.
    pub fn allocator(&self) -> &AllocatorHandle {
        &self.allocator
    }

    /// How many offers are outstanding (`master/outstanding_offers`).
    pub fn outstanding_offers(&self) -> usize {
        self.state.offers.len()
    }
}
