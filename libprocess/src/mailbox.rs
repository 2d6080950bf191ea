//! A process's mailbox and the loop that drains it. The queue is ours
//! rather than a channel so that `/__processes__` can list what is waiting.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::{json, Value};
use tokio::sync::{oneshot, watch, Notify};

use crate::http::{Reply, Request, Response};
use crate::message::Message;
use crate::process::{Context, Dispatch, Process};
use crate::runtime::Runtime;
use crate::upid::UPID;

/// One thing for a process to handle.
pub(crate) enum Event<P: Process> {
    Message(Message),
    Http(Request, oneshot::Sender<Reply>),
    Dispatch(Dispatch<P>),
    Exited(UPID),
    Terminate,
}

impl<P: Process> Event<P> {
    /// The event as `/__processes__` shows it.
    fn describe(&self) -> Value {
        match self {
            Event::Message(m) => json!({
                "type": "MESSAGE",
                "name": &*m.name,
                "from": m.from.to_string(),
                "to": m.to.to_string(),
                "body": String::from_utf8_lossy(&m.body),
            }),
            Event::Http(request, _) => json!({
                "type": "HTTP",
                "method": request.method,
                "url": request.url(),
            }),
            Event::Dispatch(_) => json!({"type": "DISPATCH"}),
            Event::Exited(_) => json!({"type": "EXITED"}),
            Event::Terminate => json!({"type": "TERMINATE"}),
        }
    }
}

struct Queue<P: Process> {
    events: VecDeque<Event<P>>,
    /// Set once the process has terminated: later events are dropped.
    closed: bool,
}

/// The queue of one process, shared by its senders and its run loop.
pub(crate) struct Mailbox<P: Process> {
    pid: UPID,
    queue: Mutex<Queue<P>>,
    ready: Notify,
    done: watch::Sender<bool>,
    route_help: RwLock<BTreeMap<String, String>>,
}

/// A mailbox without its process type, as the runtime's registry holds it.
pub(crate) trait Slot: Send + Sync {
    fn pid(&self) -> &UPID;
    fn deliver(&self, message: Message) -> bool;
    fn http(&self, request: Request, reply: oneshot::Sender<Reply>) -> bool;
    fn exited(&self, pid: UPID) -> bool;
    /// Terminates once the events queued now are handled.
    fn terminate_after_queued(&self);
    fn terminated(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;
    fn describe(&self) -> Value;
    fn routes(&self) -> BTreeMap<String, String>;
}

impl<P: Process> Mailbox<P> {
    pub(crate) fn new(pid: UPID) -> Mailbox<P> {
        Mailbox {
            pid,
            queue: Mutex::new(Queue {
                events: VecDeque::new(),
                closed: false,
            }),
            ready: Notify::new(),
            done: watch::channel(false).0,
            route_help: RwLock::new(BTreeMap::new()),
        }
    }

    pub(crate) fn pid(&self) -> &UPID {
        &self.pid
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<P>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `event`; false (and the event dropped) if the process is gone.
    pub(crate) fn push(&self, event: Event<P>) -> bool {
        {
            let mut queue = self.lock();
            if queue.closed {
                return false;
            }
            queue.events.push_back(event);
        }
        self.ready.notify_one();
        true
    }

    /// Puts a terminate request at the front of the queue.
    pub(crate) fn terminate(&self) {
        {
            let mut queue = self.lock();
            if queue.closed {
                return;
            }
            queue.events.push_front(Event::Terminate);
        }
        self.ready.notify_one();
    }

    pub(crate) fn terminated(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut done = self.done.subscribe();
        async move {
            // An error means the mailbox is gone, so the process is too.
            let _ = done.wait_for(|done| *done).await;
        }
    }

    pub(crate) fn set_route_help(&self, route: &str, help: String) {
        self.route_help
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(route.to_string(), help);
    }

    /// Takes every queued event, waiting for one if there are none.
    async fn next_batch(&self) -> VecDeque<Event<P>> {
        loop {
            {
                let mut queue = self.lock();
                if !queue.events.is_empty() {
                    return std::mem::take(&mut queue.events);
                }
            }
            self.ready.notified().await;
        }
    }

    /// Closes the mailbox; the events still queued are returned to be
    /// dropped outside the lock.
    fn close(&self) -> VecDeque<Event<P>> {
        let mut queue = self.lock();
        queue.closed = true;
        std::mem::take(&mut queue.events)
    }
}

impl<P: Process> Slot for Mailbox<P> {
    fn pid(&self) -> &UPID {
        &self.pid
    }

    fn deliver(&self, message: Message) -> bool {
        self.push(Event::Message(message))
    }

    fn http(&self, request: Request, reply: oneshot::Sender<Reply>) -> bool {
        self.push(Event::Http(request, reply))
    }

    fn exited(&self, pid: UPID) -> bool {
        self.push(Event::Exited(pid))
    }

    fn terminate_after_queued(&self) {
        self.push(Event::Terminate);
    }

    fn terminated(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(Mailbox::terminated(self))
    }

    fn describe(&self) -> Value {
        let events: Vec<Value> = self.lock().events.iter().map(Event::describe).collect();
        json!({"id": self.pid.id(), "events": events})
    }

    fn routes(&self) -> BTreeMap<String, String> {
        self.route_help
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Events handled in one go before the loop yields to other tasks.
const EVENTS_PER_TURN: usize = 256;

/// Runs `process` until it terminates: initialize, then each event in
/// order, then finalize.
pub(crate) async fn run<P: Process>(mut process: P, mailbox: Arc<Mailbox<P>>, runtime: Runtime) {
    let mut ctx = Context {
        mailbox: mailbox.clone(),
        runtime: runtime.clone(),
        handlers: HashMap::new(),
        routes: HashMap::new(),
        terminating: false,
    };
    process.initialize(&mut ctx);
    let mut handled = 0usize;
    while !ctx.terminating {
        let mut batch = mailbox.next_batch().await;
        while let Some(event) = batch.pop_front() {
            handle(&mut process, &mut ctx, event);
            if ctx.terminating {
                // Whatever was taken but not handled is dropped, as are the
                // events still queued.
                break;
            }
            handled += 1;
            if handled.is_multiple_of(EVENTS_PER_TURN) {
                tokio::task::yield_now().await;
            }
        }
    }
    process.finalize(&mut ctx);
    runtime.remove_process(mailbox.pid());
    drop(mailbox.close());
    mailbox.done.send_replace(true);
}

fn handle<P: Process>(process: &mut P, ctx: &mut Context<P>, event: Event<P>) {
    match event {
        Event::Message(message) => match ctx.handlers.get(&*message.name).cloned() {
            Some(handler) => handler(process, ctx, message),
            None => process.unhandled(ctx, message),
        },
        Event::Http(request, reply) => {
            let route = find_route(&ctx.routes, ctx.self_pid().id(), &request.path).cloned();
            let response = match route {
                Some(route) => route(process, ctx, request),
                None => Reply::Now(Response::not_found()),
            };
            let _ = reply.send(response);
        }
        Event::Dispatch(f) => f(process, ctx),
        Event::Exited(pid) => process.exited(ctx, &pid),
        Event::Terminate => ctx.terminating = true,
    }
}

/// The handler whose route is the longest prefix of `path` (which starts
/// with `/<id>`), on `/` boundaries; `/` matches last.
fn find_route<'a, H>(routes: &'a HashMap<String, H>, id: &str, path: &str) -> Option<&'a H> {
    let rest = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(id))
        .unwrap_or("");
    let mut name = format!("/{}", rest.trim_matches('/'));
    loop {
        if let Some(handler) = routes.get(&name) {
            return Some(handler);
        }
        if name == "/" {
            return None;
        }
        match name.rfind('/') {
            Some(0) => name.truncate(1),
            Some(i) => name.truncate(i),
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_longest_prefix() {
        let routes: HashMap<String, u32> = [("/".to_string(), 0), ("/api/v1".to_string(), 1)]
            .into_iter()
            .collect();
        assert_eq!(find_route(&routes, "master", "/master/api/v1"), Some(&1));
        assert_eq!(
            find_route(&routes, "master", "/master/api/v1/scheduler"),
            Some(&1)
        );
        assert_eq!(find_route(&routes, "master", "/master/api"), Some(&0));
        assert_eq!(find_route(&routes, "master", "/master"), Some(&0));
        let routes: HashMap<String, u32> = [("/state".to_string(), 1)].into_iter().collect();
        assert_eq!(find_route(&routes, "slave(1)", "/slave(1)/state"), Some(&1));
        assert_eq!(find_route(&routes, "slave(1)", "/slave(1)/stat"), None);
        assert_eq!(find_route(&routes, "slave(1)", "/slave(1)"), None);
    }
}
