//! Serving the state endpoints without stalling the master.
//!
//! A read takes a [`Snapshot`] inside the master (cheap: tasks are shared,
//! not copied) and renders and serializes it on a thread of its own, so
//! offers, launches and status updates keep flowing while a large state
//! is written out. Reads are batched, as Mesos 1.11 batches its state
//! requests: while one batch renders, new requests wait; when it is done,
//! one snapshot serves every request that arrived meanwhile, and requests
//! for the same endpoint and query share one rendering. Each request is
//! answered from a snapshot taken after it arrived, so a reader never sees
//! an older state than the one it asked after; many pollers cost the
//! master one snapshot per batch, not one per request.

use std::collections::HashMap;

use bytes::Bytes;
use futures::channel::oneshot;
use libprocess::{Context, Reply, Request, Response};
use serde_json::Value;

use super::snapshot::Snapshot;
use super::tasks::Paging;
use crate::master::Master;

/// Which endpoint a read renders.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/master/state`.
    State,
    /// `/master/state-summary`.
    StateSummary,
    /// `/master/frameworks`.
    Frameworks,
    /// `/master/slaves`.
    Slaves,
    /// `/master/tasks`, with its paging.
    Tasks(Paging),
}

struct PendingRead {
    endpoint: Endpoint,
    query: HashMap<String, String>,
    reply: oneshot::Sender<Response>,
}

/// The master's reads: requests waiting for the next snapshot, and
/// whether a batch is rendering.
#[derive(Default)]
pub struct Reads {
    pending: Vec<PendingRead>,
    rendering: bool,
}

impl Reads {
    /// How many requests wait for the next snapshot.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// Queues a read of `endpoint`; it is answered from the next snapshot.
pub fn serve(
    master: &mut Master,
    ctx: &mut Context<Master>,
    endpoint: Endpoint,
    request: Request,
) -> Reply {
    let (reply, answer) = oneshot::channel();
    master.reads.pending.push(PendingRead {
        endpoint,
        query: request.query,
        reply,
    });
    if !master.reads.rendering {
        start_batch(master, ctx);
    }
    Reply::later(async move {
        answer
            .await
            .unwrap_or_else(|_| Response::text(503, "the master could not render its state"))
    })
}

/// Snapshots the state for every waiting read and renders them on a
/// thread; when done, the next batch starts.
fn start_batch(master: &mut Master, ctx: &mut Context<Master>) {
    let batch = std::mem::take(&mut master.reads.pending);
    if batch.is_empty() {
        master.reads.rendering = false;
        return;
    }
    master.reads.rendering = true;
    let snapshot = Snapshot::take(master);
    let pid = ctx.handle();
    let job = move || {
        render_batch(&snapshot, batch);
        // The snapshot's tasks are released here, off the master.
        drop(snapshot);
        pid.post(start_batch);
    };
    if let Err(error) = std::thread::Builder::new()
        .name("master-state".into())
        .spawn(job)
    {
        // The batch's requests get a 503 (their senders are dropped).
        tracing::error!("cannot render the master's state: {error}");
        master.reads.rendering = false;
    }
}

/// The JSON of `endpoint` for `query`.
pub fn render(snapshot: &Snapshot, endpoint: &Endpoint, query: &HashMap<String, String>) -> Value {
    match endpoint {
        Endpoint::State => super::state::render(snapshot),
        Endpoint::StateSummary => super::state::render_summary(snapshot),
        Endpoint::Frameworks => super::frameworks::render(snapshot, query),
        Endpoint::Slaves => super::slaves::render(snapshot, query),
        Endpoint::Tasks(paging) => super::tasks::render(snapshot, query, paging),
    }
}

fn render_batch(snapshot: &Snapshot, batch: Vec<PendingRead>) {
    let mut rendered: HashMap<(Endpoint, Vec<(String, String)>), Bytes> = HashMap::new();
    for read in batch {
        let mut key: Vec<(String, String)> = read
            .query
            .iter()
            .filter(|(k, _)| *k != "jsonp")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        key.sort();
        let body = rendered
            .entry((read.endpoint.clone(), key))
            .or_insert_with(|| {
                Bytes::from(render(snapshot, &read.endpoint, &read.query).to_string())
            })
            .clone();
        let response = match read.query.get("jsonp") {
            Some(callback) => {
                let mut out = Vec::with_capacity(body.len() + callback.len() + 3);
                out.extend_from_slice(callback.as_bytes());
                out.push(b'(');
                out.extend_from_slice(&body);
                out.extend_from_slice(b");");
                Response::ok("text/javascript", out)
            }
            None => Response::ok("application/json", body),
        };
        // The client may have gone away; nothing to do then.
        let _ = read.reply.send(response);
    }
}
