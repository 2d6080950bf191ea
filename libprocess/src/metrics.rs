//! Metrics: our recorder behind the `metrics` crate's facade, so any crate
//! registers counters, gauges and timers with the usual macros, plus pull
//! gauges computed on demand inside their process. `/metrics/snapshot`
//! reads them all.
//!
//! Histograms are timers as libprocess keeps them: the last value under the
//! metric's name, and over the last `TIMER_WINDOW` values `/count`, `/min`,
//! `/max`, `/p50`, `/p90`, `/p95`, `/p99`, `/p999`, `/p9999`.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

use crate::process::{Pid, Process};

/// Values a timer keeps for its statistics, as libprocess's time series.
pub const TIMER_WINDOW: usize = 1000;

type PullFuture = Pin<Box<dyn Future<Output = Option<f64>> + Send>>;
type Pull = Arc<dyn Fn() -> PullFuture + Send + Sync>;

/// Every metric of this OS process.
#[derive(Default)]
pub struct Registry {
    counters: RwLock<BTreeMap<String, Arc<AtomicU64>>>,
    gauges: RwLock<BTreeMap<String, Arc<AtomicU64>>>,
    timers: RwLock<BTreeMap<String, Arc<TimerValues>>>,
    pulls: RwLock<BTreeMap<String, Pull>>,
}

/// The recent values of one timer.
#[derive(Default)]
struct TimerValues {
    values: Mutex<VecDeque<f64>>,
}

impl HistogramFn for TimerValues {
    fn record(&self, value: f64) {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if values.len() == TIMER_WINDOW {
            values.pop_front();
        }
        values.push_back(value);
    }
}

struct Facade(Arc<Registry>);

fn get_or_insert<T: Default>(map: &RwLock<BTreeMap<String, Arc<T>>>, name: &str) -> Arc<T> {
    if let Some(existing) = map.read().unwrap_or_else(|e| e.into_inner()).get(name) {
        return existing.clone();
    }
    map.write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(name.to_string())
        .or_default()
        .clone()
}

impl Recorder for Facade {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(get_or_insert(&self.0.counters, key.name()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(get_or_insert(&self.0.gauges, key.name()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(get_or_insert(&self.0.timers, key.name()))
    }
}

static REGISTRY: OnceLock<Arc<Registry>> = OnceLock::new();

/// The registry, installing it as the global `metrics` recorder on first
/// use. If another recorder was installed first, macros go there and only
/// pull gauges reach the snapshot.
pub fn install() -> &'static Arc<Registry> {
    REGISTRY.get_or_init(|| {
        let registry = Arc::new(Registry::default());
        if metrics::set_global_recorder(Facade(registry.clone())).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; /metrics/snapshot will miss its metrics"
            );
        }
        registry
    })
}

/// Adds a gauge whose value `read` computes from process `pid`'s state,
/// in the process, when a snapshot is taken. It is left out of snapshots
/// once the process has terminated, or when it does not answer in time.
pub fn pull_gauge<P: Process>(
    name: &str,
    pid: &Pid<P>,
    read: impl Fn(&P) -> f64 + Send + Sync + 'static,
) {
    let pid = pid.clone();
    let read = Arc::new(read);
    install().add_pull(
        name,
        Arc::new(move || {
            let read = read.clone();
            let value = pid.dispatch(move |process, _| read(process));
            Box::pin(async move { value.await.ok() })
        }),
    );
}

/// Adds a gauge computed by `read` when a snapshot is taken (outside any
/// process; `read` must be quick). `None` leaves it out.
pub fn pull_gauge_fn(name: &str, read: impl Fn() -> Option<f64> + Send + Sync + 'static) {
    let read = Arc::new(read);
    install().add_pull(
        name,
        Arc::new(move || {
            let value = read();
            Box::pin(async move { value })
        }),
    );
}

/// Removes a pull gauge.
pub fn remove_pull_gauge(name: &str) {
    install()
        .pulls
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(name);
}

impl Registry {
    fn add_pull(&self, name: &str, pull: Pull) {
        self.pulls
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), pull);
    }

    /// Every metric's value, by name. Pull gauges that do not answer
    /// within `timeout` are left out, as libprocess leaves out metrics
    /// whose value is still pending.
    pub async fn snapshot(&self, timeout: Option<Duration>) -> BTreeMap<String, f64> {
        let mut snapshot = BTreeMap::new();
        for (name, counter) in self
            .counters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            snapshot.insert(name.clone(), counter.load(Ordering::Relaxed) as f64);
        }
        for (name, gauge) in self.gauges.read().unwrap_or_else(|e| e.into_inner()).iter() {
            snapshot.insert(name.clone(), f64::from_bits(gauge.load(Ordering::Relaxed)));
        }
        for (name, timer) in self.timers.read().unwrap_or_else(|e| e.into_inner()).iter() {
            let values = timer
                .values
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            timer_statistics(name, values.into(), &mut snapshot);
        }
        let pulls: Vec<(String, Pull)> = self
            .pulls
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(n, p)| (n.clone(), p.clone()))
            .collect();
        let pending = pulls.into_iter().map(|(name, pull)| async move {
            let value = match timeout {
                Some(timeout) => tokio::time::timeout(timeout, pull()).await.ok().flatten(),
                None => pull().await,
            };
            (name, value)
        });
        for (name, value) in futures::future::join_all(pending).await {
            if let Some(value) = value {
                snapshot.insert(name, value);
            }
        }
        snapshot
    }
}

/// Adds a timer's last value and, with two values or more, its statistics.
fn timer_statistics(name: &str, mut values: Vec<f64>, out: &mut BTreeMap<String, f64>) {
    let Some(&last) = values.last() else {
        return;
    };
    out.insert(name.to_string(), last);
    if values.len() < 2 {
        return;
    }
    values.sort_by(f64::total_cmp);
    out.insert(format!("{name}/count"), values.len() as f64);
    out.insert(format!("{name}/min"), values[0]);
    out.insert(format!("{name}/max"), values[values.len() - 1]);
    for (suffix, p) in [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p999", 0.999),
        ("p9999", 0.9999),
    ] {
        out.insert(format!("{name}/{suffix}"), percentile(&values, p));
    }
}

/// Linear interpolation between the two nearest ranks of sorted `values`.
fn percentile(values: &[f64], p: f64) -> f64 {
    let position = p * (values.len() - 1) as f64;
    let index = position.floor() as usize;
    let delta = position - index as f64;
    match values.get(index + 1) {
        Some(next) => values[index] + (next - values[index]) * delta,
        None => values[index],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_statistics_interpolate() {
        let mut out = BTreeMap::new();
        timer_statistics("t_ms", (1..=101).map(f64::from).rev().collect(), &mut out);
        assert_eq!(out["t_ms"], 1.0);
        assert_eq!(out["t_ms/count"], 101.0);
        assert_eq!(out["t_ms/min"], 1.0);
        assert_eq!(out["t_ms/max"], 101.0);
        assert_eq!(out["t_ms/p50"], 51.0);
        assert_eq!(out["t_ms/p90"], 91.0);
        assert!((out["t_ms/p999"] - 100.9).abs() < 1e-9);
    }

    #[test]
    fn one_value_has_no_statistics() {
        let mut out = BTreeMap::new();
        timer_statistics("t_ms", vec![3.0], &mut out);
        assert_eq!(out.len(), 1);
    }

    #[tokio::test]
    async fn facade_metrics_reach_the_snapshot() {
        install();
        metrics::counter!("test/facade_counter").increment(3);
        metrics::gauge!("test/facade_gauge").set(2.5);
        for v in [1.0, 2.0, 3.0] {
            metrics::histogram!("test/facade_timer_ms").record(v);
        }
        pull_gauge_fn("test/pulled", || Some(7.0));
        let snapshot = install().snapshot(Some(Duration::from_secs(5))).await;
        assert_eq!(snapshot["test/facade_counter"], 3.0);
        assert_eq!(snapshot["test/facade_gauge"], 2.5);
        assert_eq!(snapshot["test/facade_timer_ms"], 3.0);
        assert_eq!(snapshot["test/facade_timer_ms/count"], 3.0);
        assert_eq!(snapshot["test/facade_timer_ms/p50"], 2.0);
        assert_eq!(snapshot["test/pulled"], 7.0);
    }
}
