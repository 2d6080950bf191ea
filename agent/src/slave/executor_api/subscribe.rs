//! SUBSCRIBE from an HTTP executor (as Mesos's `Slave::subscribe`), and
//! the life of its event stream: heartbeats, and the executor closing it.
//!
//! Subscribing is an HTTP executor's registration and re-registration in
//! one: the updates and tasks it lists as unacknowledged tell the agent
//! what it missed (after an agent restart, or a broken connection).

use std::collections::BTreeSet;

use libprocess::{Context, Response};
use mesos_proto::executor::call;
use mesos_proto::internal::ShutdownExecutorMessage;
use mesos_proto::mesos::{task_status::Reason, TaskState};

use super::codec::ContentType;
use super::connection::HttpConnection;
use super::events::{self, ExecutorMessage, HEARTBEAT_INTERVAL};
use super::HTTP_MARKER;
use crate::slave::types::ExecutorPhase;
use crate::slave::{Phase, Slave};
use crate::state::checkpoint::write_text;

impl Slave {
    /// SUBSCRIBE from executor `executor_id` of `framework_id` (both
    /// known): the response is its event stream. An executor that must not
    /// run gets SHUTDOWN and the stream ends; otherwise it is RUNNING with
    /// this stream as its connection (an earlier one is closed), then gets
    /// SUBSCRIBED, acknowledgements of the updates it resent, and its
    /// queued tasks as LAUNCH events.
    pub(crate) fn subscribe_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        subscribe: call::Subscribe,
        content_type: ContentType,
    ) -> Response {
        let (http, events) = HttpConnection::new(content_type);
        let response = Response::stream(content_type.as_str(), events);
        tracing::info!(
            "received SUBSCRIBE from HTTP executor '{executor_id}' of framework {framework_id}"
        );
        let framework_terminating = self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.terminating);
        let phase = self.executor(framework_id, executor_id).map(|e| e.phase);
        let refusal = if self.phase == Phase::Terminating {
            Some("the agent is terminating")
        } else if framework_terminating {
            Some("the framework is terminating")
        } else if matches!(
            phase,
            Some(ExecutorPhase::Terminating | ExecutorPhase::Terminated)
        ) {
            Some("it is terminating")
        } else {
            None
        };
        if let Some(why) = refusal {
            tracing::warn!(
                "shutting down executor '{executor_id}' of framework {framework_id}: {why}"
            );
            http.send(&ShutdownExecutorMessage::default().to_event());
            // Dropping the connection ends the stream after the SHUTDOWN.
            return response;
        }

        let agent = self.id();
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return Response::text(400, "Executor cannot be found");
        };
        if executor.http.take().is_some() {
            tracing::warn!("closing the earlier HTTP connection of executor '{executor_id}'");
        }
        executor.phase = ExecutorPhase::Running;
        executor.http = Some(http.clone());
        executor.pid = None;
        let timer = executor.registration_timer.take();
        let checkpoint = executor.checkpoint;
        let container_id = executor.container_id.clone();
        if let Some(timer) = timer {
            ctx.cancel(timer);
        }
        if checkpoint {
            // Tells recovery to wait for this executor to subscribe again
            // rather than to send it a `ReconnectExecutorMessage`.
            let marker = self
                .layout
                .run_meta(&agent, framework_id, executor_id, &container_id)
                .join(HTTP_MARKER);
            if let Err(error) = write_text(&marker, "") {
                tracing::error!(
                    "failed to checkpoint the HTTP marker of executor '{executor_id}': {error}"
                );
            }
        }

        // Updates the executor sent that were never acknowledged; the
        // status update manager recognizes those it already has.
        let mut acknowledgements = Vec::new();
        for update in subscribe.unacknowledged_updates {
            match self.accept_executor_update(ctx, framework_id, executor_id, update.status) {
                Ok(ack) => acknowledgements.push(ack),
                Err(error) => tracing::warn!(
                    "dropping an unacknowledged update from executor '{executor_id}': {error}"
                ),
            }
        }
        self.drop_tasks_unknown_to_executor(
            ctx,
            framework_id,
            executor_id,
            &subscribe.unacknowledged_tasks,
        );

        let Some(executor) = self.executor(framework_id, executor_id) else {
            return response;
        };
        let ever_had_tasks = !executor.queued.is_empty()
            || !executor.launched.is_empty()
            || !executor.terminated.is_empty()
            || !executor.completed.is_empty();
        if !ever_had_tasks {
            // Its only tasks were killed before delivery: executors that
            // wait for a first task would wait forever (Mesos's MESOS-8411).
            tracing::warn!("shutting down executor '{executor_id}': it has no task to run");
            self.shutdown_executor(ctx, framework_id, executor_id);
            return response;
        }
        let Some(framework) = self.frameworks.get(framework_id) else {
            return response;
        };
        let mut framework_info = framework.info.clone();
        if framework_info.id.is_none() {
            framework_info.id = Some(mesos_proto::mesos::FrameworkId {
                value: framework_id.to_string(),
            });
        }
        http.send(&events::subscribed(
            executor.info.clone(),
            framework_info,
            self.info.clone(),
            &container_id,
        ));
        for ack in &acknowledgements {
            http.send(&ack.to_event());
        }
        let queued = self
            .executor_mut(framework_id, executor_id)
            .map(|e| std::mem::take(&mut e.queued))
            .unwrap_or_default();
        for task in queued {
            self.send_task(ctx, framework_id, executor_id, task);
        }
        self.watch_executor_stream(ctx, framework_id, executor_id, &http);
        self.maybe_finish_recovery(ctx);
        response
    }

    /// Tasks sent to the executor that it does not list as unacknowledged
    /// and that are still STAGING never reached it (the agent died, or the
    /// connection broke, on the way): they are lost (dropped, for
    /// partition-aware frameworks), as Mesos reports them.
    fn drop_tasks_unknown_to_executor(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        known: &[mesos_proto::mesos::TaskInfo],
    ) {
        let Some(framework) = self.frameworks.get(framework_id) else {
            return;
        };
        let state = if framework.partition_aware() {
            TaskState::TaskDropped
        } else {
            TaskState::TaskLost
        };
        let known: BTreeSet<&str> = known.iter().map(|t| t.task_id.value.as_str()).collect();
        let lost: Vec<_> = framework
            .executors
            .get(executor_id)
            .map(|e| {
                e.launched
                    .values()
                    .filter(|t| {
                        t.state == TaskState::TaskStaging as i32
                            && !known.contains(t.task_id.value.as_str())
                    })
                    .map(|t| t.task_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        for task_id in lost {
            tracing::info!(
                "task '{}' never reached executor '{executor_id}': {state:?}",
                task_id.value
            );
            let update = self.agent_update(
                framework_id,
                &task_id,
                Some(executor_id),
                state,
                Reason::SlaveRestarted,
                "Task launched during agent restart",
            );
            self.status_update(ctx, update, None);
        }
    }

    /// Watches the new stream `http` of an executor: heartbeats, and its
    /// closing by the executor.
    fn watch_executor_stream(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        http: &HttpConnection,
    ) {
        let (fw, ex, id) = (
            framework_id.to_string(),
            executor_id.to_string(),
            http.id.clone(),
        );
        ctx.defer(http.closed(), move |p, _, by_executor| {
            if by_executor {
                p.executor_stream_closed(&fw, &ex, &id);
            }
        });
        self.schedule_executor_heartbeat(ctx, framework_id, executor_id, &http.id);
    }

    fn schedule_executor_heartbeat(
        &self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        connection: &str,
    ) {
        let (fw, ex, id) = (
            framework_id.to_string(),
            executor_id.to_string(),
            connection.to_string(),
        );
        ctx.delay(HEARTBEAT_INTERVAL, move |p, ctx| {
            p.send_executor_heartbeat(ctx, &fw, &ex, &id)
        });
    }

    /// A HEARTBEAT on stream `connection` while it is still the
    /// executor's.
    fn send_executor_heartbeat(
        &mut self,
        ctx: &mut Context<Self>,
        framework_id: &str,
        executor_id: &str,
        connection: &str,
    ) {
        let Some(http) = self
            .executor(framework_id, executor_id)
            .and_then(|e| e.http.as_ref())
            .filter(|http| http.id == connection)
        else {
            return;
        };
        // The next one is armed before this one goes out, so it is due
        // by the time the executor has seen this one.
        self.schedule_executor_heartbeat(ctx, framework_id, executor_id, connection);
        if !http.send(&events::heartbeat()) {
            self.executor_stream_closed(framework_id, executor_id, connection);
        }
    }

    /// The executor closed stream `connection`: it is disconnected. As in
    /// Mesos it stays RUNNING: it may subscribe again, and its process
    /// ending is what ends it. Events meanwhile are lost; tasks among
    /// them are reported when it subscribes again.
    fn executor_stream_closed(&mut self, framework_id: &str, executor_id: &str, connection: &str) {
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.http.as_ref().is_some_and(|h| h.id == connection) {
            executor.http = None;
            tracing::info!(
                "HTTP executor '{executor_id}' of framework {framework_id} closed its event \
                 stream; waiting for it to subscribe again or to exit"
            );
        }
    }
}
