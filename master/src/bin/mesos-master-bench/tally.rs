//! What the simulated agents and frameworks saw, shared with the thread
//! that runs a scenario: counters the scenario waits on (polling, so the
//! actors never block), the time of the last event of each kind, and
//! latency samples taken while a measurement window is open.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A counter with the time it last moved.
#[derive(Default)]
pub struct Counter {
    count: AtomicU64,
    /// Nanoseconds after `Tally::epoch` of the last increment.
    last: AtomicU64,
}

impl Counter {
    fn bump(&self, epoch: Instant, by: u64) {
        self.count.fetch_add(by, Ordering::Relaxed);
        let at = epoch.elapsed().as_nanos() as u64;
        self.last.fetch_max(at, Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Everything the load generator counts.
pub struct Tally {
    epoch: Instant,
    /// Agents that got `SlaveRegisteredMessage` (first time each).
    pub registered: Counter,
    /// Agents that got `SlaveReregisteredMessage`.
    pub reregistered: Counter,
    /// Agents that saw the master go away (link broke).
    pub disconnected: Counter,
    /// `ShutdownMessage`s agents got (a refusal).
    pub shutdowns: Counter,
    /// Frameworks that got `FrameworkRegisteredMessage`.
    pub subscribed: Counter,
    /// Frameworks that got `FrameworkReregisteredMessage`.
    pub resubscribed: Counter,
    /// `FrameworkErrorMessage`s frameworks got.
    pub framework_errors: Counter,
    /// Offers frameworks received.
    pub offers: Counter,
    /// Offers declined (nothing fit, or launching paused).
    pub declined: Counter,
    /// Offers rescinded.
    pub rescinded: Counter,
    /// Tasks put in ACCEPT calls.
    pub launched: Counter,
    /// TASK_RUNNING updates frameworks received.
    pub running: Counter,
    /// TASK_FINISHED updates frameworks received.
    pub finished: Counter,
    /// Other terminal updates (lost, dropped, error, failed, killed).
    pub failed: Counter,
    /// Status updates agents sent again because no ack came in time.
    pub update_retries: Counter,
    /// `RunTaskMessage`s agents received.
    pub run_tasks: Counter,
    /// Tasks agents keep RUNNING (never finish).
    pub kept_running: Counter,
    /// Whether frameworks launch tasks on offers (else they decline).
    launching: AtomicBool,
    recording: AtomicBool,
    samples: Mutex<Samples>,
    /// Agent ID → when a framework last accepted an offer of it.
    accepted_at: Mutex<HashMap<String, Instant>>,
}

#[derive(Default)]
struct Samples {
    /// ACCEPT sent → TASK_FINISHED received, per task.
    task: Vec<Duration>,
    /// ACCEPT of an agent's offer → the next offer of that agent.
    offer_round_trip: Vec<Duration>,
}

impl Tally {
    /// An empty tally; frameworks launch tasks until told otherwise.
    pub fn new() -> Tally {
        Tally {
            epoch: Instant::now(),
            registered: Counter::default(),
            reregistered: Counter::default(),
            disconnected: Counter::default(),
            shutdowns: Counter::default(),
            subscribed: Counter::default(),
            resubscribed: Counter::default(),
            framework_errors: Counter::default(),
            offers: Counter::default(),
            declined: Counter::default(),
            rescinded: Counter::default(),
            launched: Counter::default(),
            running: Counter::default(),
            finished: Counter::default(),
            failed: Counter::default(),
            update_retries: Counter::default(),
            run_tasks: Counter::default(),
            kept_running: Counter::default(),
            launching: AtomicBool::new(true),
            recording: AtomicBool::new(false),
            samples: Mutex::new(Samples::default()),
            accepted_at: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event on `counter`.
    pub fn bump(&self, counter: impl Fn(&Tally) -> &Counter) {
        counter(self).bump(self.epoch, 1);
    }

    /// Counts `by` events on `counter`.
    pub fn add(&self, counter: impl Fn(&Tally) -> &Counter, by: u64) {
        counter(self).bump(self.epoch, by);
    }

    /// When `counter` last moved.
    pub fn last(&self, counter: impl Fn(&Tally) -> &Counter) -> Instant {
        self.epoch + Duration::from_nanos(counter(self).last.load(Ordering::Relaxed))
    }

    /// Waits until `done` holds or `bound` passes; returns whether it holds.
    pub fn wait(&self, bound: Duration, done: impl Fn(&Tally) -> bool) -> bool {
        let deadline = Instant::now() + bound;
        loop {
            if done(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Whether frameworks should launch on offers.
    pub fn launching(&self) -> bool {
        self.launching.load(Ordering::Relaxed)
    }

    /// Turns launching on or off.
    pub fn set_launching(&self, on: bool) {
        self.launching.store(on, Ordering::Relaxed);
    }

    /// Starts keeping latency samples (dropping earlier ones).
    pub fn start_recording(&self) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        *samples = Samples::default();
        self.recording.store(true, Ordering::Relaxed);
    }

    /// Stops keeping samples and hands back (task latencies, offer round
    /// trips), each sorted.
    pub fn stop_recording(&self) -> (Vec<Duration>, Vec<Duration>) {
        self.recording.store(false, Ordering::Relaxed);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = std::mem::take(&mut *samples);
        taken.task.sort();
        taken.offer_round_trip.sort();
        (taken.task, taken.offer_round_trip)
    }

    /// Records a task's ACCEPT → TASK_FINISHED latency.
    pub fn task_latency(&self, latency: Duration) {
        if self.recording.load(Ordering::Relaxed) {
            self.samples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .task
                .push(latency);
        }
    }

    /// A framework accepted an offer of `agent` at `at`.
    pub fn offer_accepted(&self, agent: &str, at: Instant) {
        self.accepted_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(agent.to_string(), at);
    }

    /// An offer of `agent` arrived: records the round trip from the last
    /// accepted offer of that agent, if any.
    pub fn offer_received(&self, agent: &str, at: Instant) {
        let accepted = self
            .accepted_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(agent);
        if let (Some(accepted), true) = (accepted, self.recording.load(Ordering::Relaxed)) {
            self.samples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .offer_round_trip
                .push(at.saturating_duration_since(accepted));
        }
    }
}

/// The `q`-quantile (0..=1) of sorted `samples`.
pub fn quantile(samples: &[Duration], q: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let index = ((samples.len() - 1) as f64 * q).round() as usize;
    samples.get(index.min(samples.len() - 1)).copied()
}

/// `p50/p99` of sorted samples in milliseconds, or `-`.
pub fn p50_p99(samples: &[Duration]) -> String {
    match (quantile(samples, 0.5), quantile(samples, 0.99)) {
        (Some(a), Some(b)) => format!("{} / {} ms", ms(a), ms(b)),
        _ => "-".into(),
    }
}

/// A duration in milliseconds with sensible precision.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_hundred() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&samples, 0.5), Some(Duration::from_millis(51)));
        assert_eq!(quantile(&samples, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
