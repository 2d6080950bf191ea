//! Processes: the `Process` trait an actor implements, the `Context` its
//! handlers run with, and `Pid`, the typed handle others hold.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::clock::Timer;
use crate::error::Terminated;
use crate::http::{Reply, Request};
use crate::mailbox::{Event, Mailbox};
use crate::message::{name_of, Message};
use crate::runtime::Runtime;
use crate::upid::UPID;

/// An actor. It handles its events one at a time, in the order they were
/// queued: messages (through handlers it `install`s), HTTP requests
/// (through the routes it `route`s), dispatches, and `exited` for the
/// processes it linked to.
pub trait Process: Send + Sized + 'static {
    /// Runs once, in the process, before any event: install message
    /// handlers and routes here.
    fn initialize(&mut self, _ctx: &mut Context<Self>) {}

    /// Runs once, in the process, after it was told to terminate. Events
    /// still queued are dropped after this.
    fn finalize(&mut self, _ctx: &mut Context<Self>) {}

    /// A linked process went away: it terminated (local), or the
    /// connection to its OS process broke or could not be made (remote).
    /// This does not say the remote process is dead, only that it can no
    /// longer be reached over the link; re-link to watch it again.
    fn exited(&mut self, _ctx: &mut Context<Self>, _pid: &UPID) {}

    /// A message no handler was installed for. Dropped with a log line
    /// unless overridden.
    fn unhandled(&mut self, ctx: &mut Context<Self>, message: Message) {
        tracing::warn!(
            "{} dropping message '{}' from {}: no handler installed",
            ctx.self_pid(),
            message.name,
            message.from
        );
    }
}

pub(crate) type MessageHandler<P> = Arc<dyn Fn(&mut P, &mut Context<P>, Message) + Send + Sync>;
pub(crate) type RouteHandler<P> =
    Arc<dyn Fn(&mut P, &mut Context<P>, Request) -> Reply + Send + Sync>;
pub(crate) type Dispatch<P> = Box<dyn FnOnce(&mut P, &mut Context<P>) + Send>;

/// What a process's handlers use to act: send, link, delay, terminate,
/// and (in `initialize`) install handlers and routes.
pub struct Context<P: Process> {
    pub(crate) mailbox: Arc<Mailbox<P>>,
    pub(crate) runtime: Runtime,
    pub(crate) handlers: HashMap<Arc<str>, MessageHandler<P>>,
    pub(crate) routes: HashMap<String, RouteHandler<P>>,
    pub(crate) terminating: bool,
}

impl<P: Process> Context<P> {
    /// This process's UPID.
    pub fn self_pid(&self) -> &UPID {
        self.mailbox.pid()
    }

    /// A typed handle to this process, to hand to futures and timers that
    /// must come back here (libprocess's `defer`).
    pub fn handle(&self) -> Pid<P> {
        Pid {
            mailbox: self.mailbox.clone(),
        }
    }

    /// The runtime this process lives in.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Handles messages named `name` with `handler`, replacing any earlier
    /// handler for that name.
    pub fn install_raw(
        &mut self,
        name: impl Into<Arc<str>>,
        handler: impl Fn(&mut P, &mut Context<P>, Message) + Send + Sync + 'static,
    ) {
        self.handlers.insert(name.into(), Arc::new(handler));
    }

    /// Handles protobuf messages of type `M`, installed under `M`'s full
    /// type name. A body that does not decode as `M` is dropped with a
    /// log line; the handler never sees it.
    pub fn install<M, F>(&mut self, handler: F)
    where
        M: prost::Message + prost::Name + Default + 'static,
        F: Fn(&mut P, &mut Context<P>, &UPID, M) + Send + Sync + 'static,
    {
        let name = name_of::<M>();
        let logged = name.clone();
        self.install_raw(name, move |process, ctx, message| {
            match M::decode(message.body.clone()) {
                Ok(decoded) => handler(process, ctx, &message.from, decoded),
                Err(error) => tracing::warn!(
                    "{} dropping '{}' from {}: body is not a valid protobuf: {}",
                    ctx.self_pid(),
                    logged,
                    message.from,
                    error
                ),
            }
        });
    }

    /// Serves `GET|POST /<id><name>` with `handler` (`name` starts with
    /// `/`). A request goes to the route with the longest matching prefix
    /// of its path, on `/` boundaries. `help` is shown by `/help`.
    pub fn route(
        &mut self,
        name: &str,
        help: Option<&str>,
        handler: impl Fn(&mut P, &mut Context<P>, Request) -> Reply + Send + Sync + 'static,
    ) {
        let name = normalize_route(name);
        self.mailbox
            .set_route_help(&name, help.unwrap_or_default().to_string());
        self.routes.insert(name, Arc::new(handler));
    }

    /// Sends protobuf message `message` to `to`, named by its type.
    pub fn send<M: prost::Message + prost::Name + 'static>(&self, to: &UPID, message: &M) {
        self.send_raw(to, name_of::<M>(), Bytes::from(message.encode_to_vec()));
    }

    /// Sends a message with any name and body to `to`. Delivery is not
    /// confirmed: a message to an unreachable or unknown process is lost.
    pub fn send_raw(&self, to: &UPID, name: impl Into<Arc<str>>, body: Bytes) {
        self.runtime.send(Message {
            from: self.self_pid().clone(),
            to: to.clone(),
            name: name.into(),
            body,
        });
    }

    /// Watches `to`: this process gets `exited(to)` when `to` terminates
    /// (if local) or when the connection to its OS process breaks or
    /// cannot be made (if remote). Linking twice is harmless.
    pub fn link(&self, to: &UPID) {
        self.runtime.link(self.self_pid(), to);
    }

    /// Links to `to` over a new connection, dropping the one there is
    /// (libprocess's `link(pid, RECONNECT)`): for a peer that restarted,
    /// whose old connection may be dead without our knowing yet. Links
    /// on the old connection carry over without an `exited`.
    pub fn relink(&self, to: &UPID) {
        self.runtime.relink(self.self_pid(), to);
    }

    /// Runs `f` in this process once `after` has passed on the runtime's
    /// clock, unless the timer is cancelled or the process has terminated.
    pub fn delay(
        &self,
        after: Duration,
        f: impl FnOnce(&mut P, &mut Context<P>) + Send + 'static,
    ) -> Timer {
        let pid = self.handle();
        self.runtime.clock().timer(after, move || {
            pid.post(f);
        })
    }

    /// Cancels a timer from `delay`; returns whether it had not fired.
    pub fn cancel(&self, timer: Timer) -> bool {
        self.runtime.clock().cancel(timer)
    }

    /// Terminates this process once the current event is handled.
    pub fn terminate(&mut self) {
        self.terminating = true;
    }

    /// Runs `future` outside the process (it must not touch the process's
    /// state) and hands its output to `then`, in the process.
    pub fn defer<T, F, C>(&self, future: F, then: C)
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
        C: FnOnce(&mut P, &mut Context<P>, T) + Send + 'static,
    {
        let pid = self.handle();
        self.runtime.spawn_task(async move {
            let value = future.await;
            pid.post(move |process, ctx| then(process, ctx, value));
        });
    }
}

/// Route names are stored as `/a/b`: one leading `/`, no trailing one.
pub(crate) fn normalize_route(name: &str) -> String {
    let trimmed = name.trim_matches('/');
    format!("/{trimmed}")
}

/// A typed handle to a running process: dispatch work into it, ask for
/// its UPID, terminate it. Cheap to clone and sendable anywhere.
pub struct Pid<P: Process> {
    pub(crate) mailbox: Arc<Mailbox<P>>,
}

impl<P: Process> Clone for Pid<P> {
    fn clone(&self) -> Self {
        Pid {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<P: Process> std::fmt::Debug for Pid<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pid({})", self.upid())
    }
}

impl<P: Process> Pid<P> {
    /// The process's UPID.
    pub fn upid(&self) -> &UPID {
        self.mailbox.pid()
    }

    /// Runs `f` in the process, after the events queued before it, and
    /// resolves to its result; or to `Terminated` if the process ends
    /// before running it.
    pub fn dispatch<R, F>(&self, f: F) -> impl Future<Output = Result<R, Terminated>> + Send
    where
        R: Send + 'static,
        F: FnOnce(&mut P, &mut Context<P>) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.post(move |process, ctx| {
            let _ = tx.send(f(process, ctx));
        });
        async move { rx.await.map_err(|_| Terminated) }
    }

    /// Queues `f` to run in the process, without waiting for it. Returns
    /// false if the process has already terminated.
    pub fn post(&self, f: impl FnOnce(&mut P, &mut Context<P>) + Send + 'static) -> bool {
        self.mailbox.push(Event::Dispatch(Box::new(f)))
    }

    /// Asks the process to terminate: the request goes ahead of queued
    /// events, as libprocess injects it.
    pub fn terminate(&self) {
        self.mailbox.terminate();
    }

    /// Resolves once the process has terminated and finalized.
    pub fn terminated(&self) -> impl Future<Output = ()> + Send + 'static {
        self.mailbox.terminated()
    }
}
