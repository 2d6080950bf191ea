//! Sandbox garbage collection: paths of ended executors are removed
//! `--gc_delay` after they were scheduled, sooner when the disk fills:
//! as Mesos, the allowed age is `gc_delay * max(0, 1 - headroom - usage)`
//! and anything older is removed at the next disk check.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How old a sandbox may get, given the disk usage (a fraction).
pub fn max_allowed_age(gc_delay: Duration, headroom: f64, usage: f64) -> Duration {
    let factor = (1.0 - headroom - usage).max(0.0);
    gc_delay.mul_f64(factor)
}

#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    scheduled: Instant,
    remove_at: Instant,
}

/// Paths waiting to be removed.
#[derive(Debug, Default)]
pub struct GarbageCollector {
    entries: Vec<Entry>,
}

impl GarbageCollector {
    /// Removes `path` after `delay` (counted from `now`). Scheduling a
    /// path again replaces the earlier schedule.
    pub fn schedule(&mut self, path: PathBuf, delay: Duration, now: Instant) {
        self.entries.retain(|e| e.path != path);
        self.entries.push(Entry {
            path,
            scheduled: now,
            remove_at: now + delay,
        });
    }

    /// Keeps `path` (it is in use again).
    pub fn unschedule(&mut self, path: &std::path::Path) {
        self.entries.retain(|e| e.path != path);
    }

    /// Makes everything scheduled longer than `age` ago due now.
    pub fn prune(&mut self, age: Duration, now: Instant) {
        for entry in &mut self.entries {
            if now.saturating_duration_since(entry.scheduled) >= age {
                entry.remove_at = entry.remove_at.min(now);
            }
        }
    }

    /// The paths due at `now`, forgotten from the schedule.
    pub fn due(&mut self, now: Instant) -> Vec<PathBuf> {
        let (due, keep): (Vec<Entry>, Vec<Entry>) =
            self.entries.drain(..).partition(|e| e.remove_at <= now);
        self.entries = keep;
        due.into_iter().map(|e| e.path).collect()
    }

    /// Removes what is due at `now` from disk.
    pub fn collect(&mut self, now: Instant) {
        for path in self.due(now) {
            tracing::info!("garbage collecting '{}'", path.display());
            if let Err(error) = std::fs::remove_dir_all(&path) {
                if error.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("failed to remove '{}': {error}", path.display());
                }
            }
        }
    }

    /// How many paths are scheduled.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_shrinks_as_disk_fills() {
        let week = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(max_allowed_age(week, 0.1, 0.0), week.mul_f64(0.9));
        assert_eq!(max_allowed_age(week, 0.1, 0.95), Duration::ZERO);
    }

    #[test]
    fn paths_go_after_delay_or_when_pruned() {
        let t0 = Instant::now();
        let mut gc = GarbageCollector::default();
        gc.schedule("/a".into(), Duration::from_secs(100), t0);
        gc.schedule(
            "/b".into(),
            Duration::from_secs(100),
            t0 + Duration::from_secs(50),
        );
        assert!(gc.due(t0 + Duration::from_secs(99)).is_empty());
        assert_eq!(
            gc.due(t0 + Duration::from_secs(100)),
            vec![PathBuf::from("/a")]
        );
        gc.prune(Duration::from_secs(10), t0 + Duration::from_secs(60));
        assert_eq!(
            gc.due(t0 + Duration::from_secs(60)),
            vec![PathBuf::from("/b")]
        );
        assert!(gc.is_empty());
    }

    #[test]
    fn collect_removes_directories() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = dir.path().join("run");
        std::fs::create_dir_all(sandbox.join("x")).unwrap();
        let t0 = Instant::now();
        let mut gc = GarbageCollector::default();
        gc.schedule(sandbox.clone(), Duration::ZERO, t0);
        gc.collect(t0);
        assert!(!sandbox.exists());
    }
}
