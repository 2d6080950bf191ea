//! Hooks for tests, as Mesos's `FUTURE_PROTOBUF` and `DROP_PROTOBUFS`:
//! await a message of a given name on its way to a process of this
//! runtime, or drop such messages before delivery.
//!
//! Filters see every message a process of this runtime is about to
//! receive, whether sent locally or arriving over the network.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::message::Message;
use crate::upid::UPID;

/// Which messages a rule matches: by name, and optionally by sender and
/// receiver.
#[derive(Debug, Clone, Default)]
pub struct Match {
    /// The message name (`mesos.internal.PingSlaveMessage`).
    pub name: String,
    /// Only messages from this process, if set.
    pub from: Option<UPID>,
    /// Only messages to this process, if set.
    pub to: Option<UPID>,
}

impl Match {
    /// Matches every message named `name`.
    pub fn name(name: impl Into<String>) -> Match {
        Match {
            name: name.into(),
            ..Match::default()
        }
    }

    /// Matches messages of protobuf type `M`.
    pub fn protobuf<M: prost::Name + 'static>() -> Match {
        Match::name(&*crate::message::name_of::<M>())
    }

    /// Only messages from `from`.
    pub fn from(mut self, from: &UPID) -> Match {
        self.from = Some(from.clone());
        self
    }

    /// Only messages to `to`.
    pub fn to(mut self, to: &UPID) -> Match {
        self.to = Some(to.clone());
        self
    }

    fn matches(&self, message: &Message) -> bool {
        *message.name == *self.name
            && self.from.as_ref().is_none_or(|f| *f == message.from)
            && self.to.as_ref().is_none_or(|t| *t == message.to)
    }
}

enum Rule {
    /// Hand a copy of the next match to the waiting test; deliver it too.
    Future(Match, Option<oneshot::Sender<Message>>),
    /// Drop every match.
    Drop(Match),
}

/// The rules installed on one runtime.
#[derive(Default)]
pub struct Filters {
    rules: Mutex<Vec<Rule>>,
}

impl Filters {
    /// Resolves with the next message matching `what` (which is still
    /// delivered).
    pub fn future(&self, what: Match) -> oneshot::Receiver<Message> {
        let (tx, rx) = oneshot::channel();
        self.lock().push(Rule::Future(what, Some(tx)));
        rx
    }

    /// Drops every message matching `what` from now on.
    pub fn drop_all(&self, what: Match) {
        self.lock().push(Rule::Drop(what));
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `message` may be delivered; fulfils matching futures.
    pub(crate) fn admit(&self, message: &Message) -> bool {
        let mut rules = self.lock();
        let mut admit = true;
        for rule in rules.iter_mut() {
            match rule {
                Rule::Future(what, waiter) if waiter.is_some() && what.matches(message) => {
                    if let Some(waiter) = waiter.take() {
                        let _ = waiter.send(message.clone());
                    }
                }
                Rule::Drop(what) if what.matches(message) => admit = false,
                _ => {}
            }
        }
        rules.retain(|rule| !matches!(rule, Rule::Future(_, None)));
        admit
    }
}

/// Shared so that the runtime and the test both hold it.
pub type SharedFilters = Arc<Filters>;
