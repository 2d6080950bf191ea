//! Serving the state endpoints without stalling the master.
//!
//! A read takes a [`Snapshot`] inside the master (cheap: it copies
//! references, see `snapshot`) and renders it on a thread of its own, at a
//! lower priority, so offers, launches and status updates keep flowing
//! while a large state is written out. Reads are batched, as Mesos 1.11
//! batches its state requests: while one batch renders, new requests wait;
//! when it is done, one snapshot serves every request that arrived
//! meanwhile, and requests for the same endpoint and query share one
//! rendering (and its bytes).
//! Each request is answered from a snapshot taken after it arrived, so a
//! reader never sees an older state than the one it asked after; many
//! pollers cost the master one snapshot per batch, not one per request.
//!
//! The rendering thread keeps what it rendered between batches (a
//! [`RenderCache`]): a task, an agent or a completed framework the master
//! has not changed since the last batch is not rendered again, so a render
//! is mostly copying bytes.
//!
//! A snapshot still costs the master time in proportion to the cluster
//! (tens of milliseconds for tens of thousands of agents), so snapshots are
//! paced: after one that took `t`, the next is taken no sooner than
//! `SNAPSHOT_SHARE × t` after the first began. However many pollers there
//! are, reads take at most that share of the master's time; on a large
//! cluster they wait a little longer instead.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::channel::oneshot;
use libprocess::http::{gzip, GZIP_MINIMUM_BODY_LENGTH};
use libprocess::{Context, Reply, Request, Response};

use super::cache::RenderCache;
use super::snapshot::{Snapshot, Views};
use super::tasks::Paging;
use crate::master::Master;

/// Snapshots take at most one part in this many of the master's time.
pub const SNAPSHOT_SHARE: u32 = 10;

/// Reads are not held back for less than this.
const SHORTEST_WAIT: Duration = Duration::from_millis(2);

/// When the snapshot after one that began at `began` and took `cost` may
/// be taken.
pub fn next_snapshot(began: Instant, cost: Duration) -> Instant {
    began + cost * SNAPSHOT_SHARE
}

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
    /// Whether the client accepts gzip.
    gzip: bool,
    reply: oneshot::Sender<Response>,
}

/// The master's reads: requests waiting for the next snapshot, whether a
/// batch is rendering (or waiting for its turn), and what renders keep
/// between batches.
#[derive(Default)]
pub struct Reads {
    pending: Vec<PendingRead>,
    rendering: bool,
    /// The earliest the next snapshot may be taken.
    next_snapshot: Option<Instant>,
    views: Views,
    /// Away on the rendering thread while a batch renders.
    cache: Option<RenderCache>,
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
        gzip: request.accepts_encoding("gzip"),
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

/// Starts the next batch, if reads wait: now, or once snapshots are back
/// within their share of the master's time.
fn start_batch(master: &mut Master, ctx: &mut Context<Master>) {
    if master.reads.pending.is_empty() {
        master.reads.rendering = false;
        return;
    }
    master.reads.rendering = true;
    let clock = ctx.runtime().clock();
    let now = clock.now();
    match master.reads.next_snapshot {
        // Pacing shares the master's real time: a paused clock (a test
        // stepping time) would hold reads back indefinitely, and waits too
        // short to matter (small clusters) are not worth a timer.
        Some(at) if at > now + SHORTEST_WAIT && !clock.paused() => {
            ctx.delay(at - now, take_batch);
        }
        _ => take_batch(master, ctx),
    }
}

/// Snapshots the state for every waiting read and renders them on a
/// thread; when done, the next batch starts.
fn take_batch(master: &mut Master, ctx: &mut Context<Master>) {
    let batch = std::mem::take(&mut master.reads.pending);
    if batch.is_empty() {
        master.reads.rendering = false;
        return;
    }
    let began = ctx.runtime().clock().now();
    let mut views = std::mem::take(&mut master.reads.views);
    let snapshot = Snapshot::take(master, &mut views);
    master.reads.views = views;
    let cost = ctx.runtime().clock().now() - began;
    master.reads.next_snapshot = Some(next_snapshot(began, cost));
    let mut cache = master.reads.cache.take().unwrap_or_default();
    let pid = ctx.handle();
    let job = move || {
        // Rendered at the readers' priority: with the CPU the master
        // leaves, rather than a share of it.
        libprocess::set_own_nice(libprocess::READER_NICE);
        render_batch(&snapshot, &mut cache, batch);
        // The snapshot's references are released here, off the master,
        // before the cache looks for values the master has let go.
        drop(snapshot);
        cache.prune();
        pid.post(move |master: &mut Master, ctx| {
            master.reads.cache = Some(cache);
            start_batch(master, ctx);
        });
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

impl Endpoint {
    /// The endpoint's path under `/master`.
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::State => "state",
            Endpoint::StateSummary => "state-summary",
            Endpoint::Frameworks => "frameworks",
            Endpoint::Slaves => "slaves",
            Endpoint::Tasks(_) => "tasks",
        }
    }
}

/// The JSON of `endpoint` for `query`.
pub fn render(
    snapshot: &Snapshot,
    cache: &mut RenderCache,
    endpoint: &Endpoint,
    query: &HashMap<String, String>,
) -> Vec<u8> {
    // Sized as the last body, so a large one is not copied as it grows.
    let last = cache.sizes.get(endpoint.name()).copied().unwrap_or(0);
    let mut out = Vec::with_capacity(last + last / 8);
    match endpoint {
        Endpoint::State => super::state::render(&mut out, snapshot, cache),
        Endpoint::StateSummary => super::state::render_summary(&mut out, snapshot, cache),
        Endpoint::Frameworks => super::frameworks::render(&mut out, snapshot, cache, query),
        Endpoint::Slaves => super::slaves::render(&mut out, snapshot, cache, query),
        Endpoint::Tasks(paging) => super::tasks::render(&mut out, snapshot, cache, query, paging),
    }
    cache.sizes.insert(endpoint.name(), out.len());
    out
}

/// A body rendered for a batch, and compressed once if a reader accepts
/// gzip.
struct RenderedBody {
    plain: Bytes,
    gzip: Option<Bytes>,
}

fn render_batch(snapshot: &Snapshot, cache: &mut RenderCache, batch: Vec<PendingRead>) {
    let mut rendered: HashMap<(Endpoint, Vec<(String, String)>), RenderedBody> = HashMap::new();
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
            .or_insert_with(|| RenderedBody {
                plain: Bytes::from(render(snapshot, cache, &read.endpoint, &read.query)),
                gzip: None,
            });
        let response = match read.query.get("jsonp") {
            Some(callback) => {
                let mut out = Vec::with_capacity(body.plain.len() + callback.len() + 3);
                out.extend_from_slice(callback.as_bytes());
                out.push(b'(');
                out.extend_from_slice(&body.plain);
                out.extend_from_slice(b");");
                Response::ok("text/javascript", out)
            }
            None if read.gzip && body.plain.len() >= GZIP_MINIMUM_BODY_LENGTH => {
                // Compressed once for every reader of the batch that asks,
                // rather than by libprocess once per reader.
                let gzip = body.gzip.get_or_insert_with(|| gzip(&body.plain));
                Response::ok("application/json", gzip.clone())
                    .with_header("Content-Encoding", "gzip")
            }
            None => Response::ok("application/json", body.plain.clone()),
        };
        // The client may have gone away; nothing to do then.
        let _ = read.reply.send(response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_keep_to_their_share_of_the_master() {
        let began = Instant::now();
        // A snapshot of 30 ms lets the next one start 300 ms after it
        // began: 10% of the master's time at most.
        let next = next_snapshot(began, Duration::from_millis(30));
        assert_eq!(next - began, Duration::from_millis(300));
        // A free snapshot (a small cluster) holds nothing back.
        assert_eq!(next_snapshot(began, Duration::ZERO), began);
    }
}
