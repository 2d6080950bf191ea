//! The life of an HTTP scheduler's event stream inside the master: a
//! HEARTBEAT right after subscribing and every [`HEARTBEAT_INTERVAL`], and
//! the stream's closing by the scheduler, which is that scheduler's
//! disconnection (the failover timeout starts, as when a libprocess
//! scheduler's link breaks).

use libprocess::Context;

use super::evolve::{heartbeat, HEARTBEAT_INTERVAL};
use crate::master::Master;

impl Master {
    /// If framework `id` has just been (re)connected over HTTP: send the
    /// first heartbeat, start the periodic ones, and watch for the
    /// scheduler closing the stream.
    pub(crate) fn watch_http_connection(&mut self, ctx: &mut Context<Self>, id: &str) {
        let Some(http) = self.state.frameworks.get(id).and_then(|f| f.http()) else {
            return;
        };
        let stream_id = http.stream_id.clone();
        http.send(&heartbeat());
        let closed = http.closed();
        self.schedule_heartbeat(ctx, id, &stream_id);
        let id = id.to_string();
        ctx.defer(closed, move |master, ctx, by_scheduler| {
            if by_scheduler {
                master.http_stream_closed(ctx, &id, &stream_id);
            }
        });
    }

    fn schedule_heartbeat(&mut self, ctx: &mut Context<Self>, id: &str, stream_id: &str) {
        let (id, stream_id) = (id.to_string(), stream_id.to_string());
        ctx.delay(HEARTBEAT_INTERVAL, move |master, ctx| {
            master.send_heartbeat(ctx, &id, &stream_id)
        });
    }

    /// A HEARTBEAT on stream `stream_id` of framework `id`, while that
    /// stream is still the framework's.
    fn send_heartbeat(&mut self, ctx: &mut Context<Self>, id: &str, stream_id: &str) {
        let Some(http) = self.state.frameworks.get(id).and_then(|f| f.http()) else {
            return;
        };
        if http.stream_id != stream_id {
            return;
        }
        if http.send(&heartbeat()) {
            self.schedule_heartbeat(ctx, id, stream_id);
        } else {
            self.http_stream_closed(ctx, id, stream_id);
        }
    }

    /// The scheduler closed stream `stream_id`: if framework `id` is still
    /// reached by it, the framework is disconnected.
    pub(crate) fn http_stream_closed(
        &mut self,
        ctx: &mut Context<Self>,
        id: &str,
        stream_id: &str,
    ) {
        let current = self
            .state
            .frameworks
            .get(id)
            .and_then(|f| f.http())
            .is_some_and(|http| http.stream_id == stream_id);
        if !current {
            // It has subscribed again since (or is gone).
            return;
        }
        self.framework_disconnected(ctx, id);
        self.state.set_framework_connection(id, None);
    }
}
