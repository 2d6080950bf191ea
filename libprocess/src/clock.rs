//! The runtime's clock. Every timer (`delay`, timeouts, backoffs) goes
//! through it, so tests can pause time and advance it instead of sleeping,
//! as with libprocess's `Clock`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

type Callback = Box<dyn FnOnce() + Send>;

/// A scheduled timer, for `Clock::cancel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timer {
    deadline: Instant,
    id: u64,
}

impl Timer {
    /// When the timer fires, on this clock's time line.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

/// A clock that can be paused and advanced. Cheap to clone; clones share
/// the time line and the timers.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    changed: Notify,
}

struct State {
    /// The frozen time while paused.
    paused: Option<Instant>,
    /// How far this clock runs ahead of real time (the sum of advances).
    offset: Duration,
    timers: BTreeMap<Timer, Callback>,
    next_id: u64,
}

impl State {
    fn now(&self) -> Instant {
        self.paused.unwrap_or_else(|| Instant::now() + self.offset)
    }

    fn take_due(&mut self) -> Vec<Callback> {
        let now = self.now();
        let mut due = Vec::new();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            due.push(entry.remove());
        }
        due
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}

impl Clock {
    /// A running clock with no timers. Timers fire only once `run` is
    /// driving it (the runtime does that).
    pub fn new() -> Clock {
        Clock {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    paused: None,
                    offset: Duration::ZERO,
                    timers: BTreeMap::new(),
                    next_id: 0,
                }),
                changed: Notify::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking timer callback runs outside the lock, so poisoning
        // cannot leave the state half-updated.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current time on this clock.
    pub fn now(&self) -> Instant {
        self.state().now()
    }

    /// Whether time is paused.
    pub fn paused(&self) -> bool {
        self.state().paused.is_some()
    }

    /// Freezes time: timers fire only when `advance` reaches them.
    pub fn pause(&self) {
        let mut state = self.state();
        if state.paused.is_none() {
            state.paused = Some(state.now());
        }
    }

    /// Lets time run again from where it stands (never backwards).
    pub fn resume(&self) {
        {
            let mut state = self.state();
            if let Some(at) = state.paused.take() {
                state.offset = at.saturating_duration_since(Instant::now());
            }
        }
        self.inner.changed.notify_one();
    }

    /// Moves time forward by `by` and fires, in deadline order, every timer
    /// that is now due. The callbacks run before this returns.
    pub fn advance(&self, by: Duration) {
        let due = {
            let mut state = self.state();
            match state.paused.as_mut() {
                Some(at) => *at += by,
                None => state.offset += by,
            }
            state.take_due()
        };
        for callback in due {
            callback();
        }
        self.inner.changed.notify_one();
    }

    /// Runs `callback` once `after` has passed on this clock.
    pub fn timer(&self, after: Duration, callback: impl FnOnce() + Send + 'static) -> Timer {
        let (timer, earliest) = {
            let mut state = self.state();
            let id = state.next_id;
            state.next_id += 1;
            let timer = Timer {
                deadline: state.now() + after,
                id,
            };
            state.timers.insert(timer, Box::new(callback));
            let earliest = state.timers.keys().next() == Some(&timer);
            (timer, earliest)
        };
        if earliest {
            self.inner.changed.notify_one();
        }
        timer
    }

    /// Cancels `timer`; returns whether it had not fired yet.
    pub fn cancel(&self, timer: Timer) -> bool {
        self.state().timers.remove(&timer).is_some()
    }

    /// Fires due timers as real time passes, until the task is dropped.
    pub(crate) async fn run(self) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (due, wait) = {
                let mut state = self.state();
                let due = state.take_due();
                let wait = match (state.paused, state.timers.keys().next()) {
                    (None, Some(next)) => {
                        Some(next.deadline.saturating_duration_since(state.now()))
                    }
                    _ => None,
                };
                (due, wait)
            };
            let fired = !due.is_empty();
            for callback in due {
                callback();
            }
            if fired {
                continue;
            }
            match wait {
                Some(wait) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = &mut notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn paused_timers_fire_on_advance_in_order() {
        let clock = Clock::new();
        clock.pause();
        let log = Arc::new(Mutex::new(Vec::new()));
        for (i, secs) in [(1, 30), (2, 10), (3, 20)] {
            let log = log.clone();
            clock.timer(Duration::from_secs(secs), move || {
                log.lock().unwrap().push(i)
            });
        }
        clock.advance(Duration::from_secs(15));
        assert_eq!(*log.lock().unwrap(), vec![2]);
        clock.advance(Duration::from_secs(15));
        assert_eq!(*log.lock().unwrap(), vec![2, 3, 1]);
    }

    #[test]
    fn cancelled_timer_never_fires() {
        let clock = Clock::new();
        clock.pause();
        let fired = Arc::new(AtomicUsize::new(0));
        let f = fired.clone();
        let timer = clock.timer(Duration::from_secs(1), move || {
            f.fetch_add(1, Ordering::SeqCst);
        });
        assert!(clock.cancel(timer));
        clock.advance(Duration::from_secs(2));
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        assert!(!clock.cancel(timer));
    }

    #[test]
    fn paused_time_stands_still_and_resumes_forward() {
        let clock = Clock::new();
        clock.pause();
        let t0 = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clock.now() - t0, Duration::from_secs(3600));
        clock.resume();
        assert!(clock.now() >= t0 + Duration::from_secs(3600));
    }

    #[tokio::test]
    async fn running_clock_fires_timers_in_real_time() {
        let clock = Clock::new();
        tokio::spawn(clock.clone().run());
        let (tx, rx) = tokio::sync::oneshot::channel();
        clock.timer(Duration::from_millis(5), move || {
            let _ = tx.send(());
        });
        tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("timer fired within the bound")
            .unwrap();
    }
}
