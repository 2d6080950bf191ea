//! Offer filters: after a framework declines resources of an agent (or
//! an offer of them is rescinded) with `Filters.refuse_seconds`, those
//! resources of that agent are not offered to that framework's role again
//! until the filter expires (Mesos's `RefusedOfferFilter`).
//!
//! Time is whatever the caller passes (the libprocess clock's `now`), so
//! tests advance a paused clock rather than wait.

use super::FastMap as HashMap;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mesos_common::resources::Resources;
use mesos_proto::mesos::Filters;

/// The longest filter Mesos accepts; longer ones are cut to this.
pub const MAX_REFUSE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The default `Filters.refuse_seconds`.
pub const DEFAULT_REFUSE: Duration = Duration::from_secs(5);

/// How long the resources given back with `filters` stay filtered, as
/// Mesos reads `Filters.refuse_seconds`: absent filters mean no filter;
/// an unset field means 5 seconds; negative or non-finite values mean 5
/// seconds; more than a year means a year; zero means no filter.
pub fn refuse_duration(filters: Option<&Filters>) -> Option<Duration> {
    let seconds = filters?
        .refuse_seconds
        .unwrap_or(DEFAULT_REFUSE.as_secs_f64());
    let duration = if !seconds.is_finite() || seconds < 0.0 {
        DEFAULT_REFUSE
    } else if seconds > MAX_REFUSE.as_secs_f64() {
        MAX_REFUSE
    } else {
        Duration::from_secs_f64(seconds)
    };
    (!duration.is_zero()).then_some(duration)
}

/// One refusal: `refused` resources (without allocation role) until
/// `expires`.
#[derive(Debug, Clone)]
pub struct OfferFilter {
    /// What was refused.
    pub refused: Resources,
    /// When the filter stops applying.
    pub expires: Instant,
}

impl OfferFilter {
    /// Whether this filter holds back an offer of `resources` at `now`:
    /// it has not expired and the offer is within what was refused.
    pub fn filters(&self, resources: &Resources, now: Instant) -> bool {
        if now >= self.expires {
            return false;
        }
        // Without persistent volumes (which must be matched one to one),
        // containment is per resource, and needs no copy of `refused`.
        if resources.iter().any(|r| r.is_persistent_volume()) {
            return self.refused.contains(resources);
        }
        resources
            .iter()
            .all(|r| self.refused.iter().any(|x| x.contains(r)))
    }
}

/// Filters by (framework, role, agent), with their expiry times so
/// expired ones can be dropped in order. Keys are the allocator's small
/// integer ids.
#[derive(Debug, Default)]
pub struct OfferFilters {
    filters: HashMap<FilterKey, Vec<OfferFilter>>,
    expiries: BTreeMap<(Instant, u64), FilterKey>,
    next: u64,
}

/// (framework, role, agent) ids.
pub type FilterKey = (u32, u32, u32);

impl OfferFilters {
    /// No filters.
    pub fn new() -> OfferFilters {
        OfferFilters::default()
    }

    /// Filters `refused` on `key` until `expires`.
    pub fn add(&mut self, key: FilterKey, refused: Resources, expires: Instant) {
        self.filters
            .entry(key)
            .or_default()
            .push(OfferFilter { refused, expires });
        self.expiries.insert((expires, self.next), key);
        self.next += 1;
    }

    /// Whether an offer of `resources` on `key` is held back at `now`.
    pub fn is_filtered(&self, key: FilterKey, resources: &Resources, now: Instant) -> bool {
        self.filters
            .get(&key)
            .is_some_and(|list| list.iter().any(|f| f.filters(resources, now)))
    }

    /// Whether any filter (expired or not) exists on `key`.
    pub fn has(&self, key: FilterKey) -> bool {
        self.filters.contains_key(&key)
    }

    /// Drops every filter that expired by `now`.
    pub fn expire(&mut self, now: Instant) {
        while let Some(entry) = self.expiries.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            if let Some(list) = self.filters.get_mut(&key) {
                list.retain(|f| f.expires > now);
                if list.is_empty() {
                    self.filters.remove(&key);
                }
            }
        }
    }

    /// Drops the filters for which `drop` is true of their key (a removed
    /// framework, agent, or a revived role).
    pub fn remove_where(&mut self, drop: impl Fn(&FilterKey) -> bool) {
        self.filters.retain(|key, _| !drop(key));
        self.expiries.retain(|_, key| !drop(key));
    }

    /// How many (framework, role, agent) keys have filters.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether there is no filter.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(text: &str) -> Resources {
        Resources::parse(text, "*").unwrap()
    }

    #[test]
    fn refuse_seconds_as_mesos_reads_them() {
        let f = |s: Option<f64>| Filters { refuse_seconds: s };
        assert_eq!(refuse_duration(None), None);
        assert_eq!(refuse_duration(Some(&f(None))), Some(DEFAULT_REFUSE));
        assert_eq!(refuse_duration(Some(&f(Some(0.0)))), None);
        assert_eq!(refuse_duration(Some(&f(Some(-3.0)))), Some(DEFAULT_REFUSE));
        assert_eq!(refuse_duration(Some(&f(Some(1e12)))), Some(MAX_REFUSE));
        assert_eq!(
            refuse_duration(Some(&f(Some(2.5)))),
            Some(Duration::from_millis(2500))
        );
    }

    #[test]
    fn filters_subsets_of_the_refused_until_expiry() {
        let now = Instant::now();
        let mut filters = OfferFilters::new();
        filters.add(
            (1, 0, 7),
            res("cpus:4;mem:512"),
            now + Duration::from_secs(5),
        );
        assert!(filters.is_filtered((1, 0, 7), &res("cpus:4;mem:512"), now));
        assert!(filters.is_filtered((1, 0, 7), &res("cpus:2"), now));
        // More than was refused is offered again.
        assert!(!filters.is_filtered((1, 0, 7), &res("cpus:8;mem:512"), now));
        // Another framework, role or agent is not filtered.
        assert!(!filters.is_filtered((2, 0, 7), &res("cpus:2"), now));
        assert!(!filters.is_filtered((1, 0, 8), &res("cpus:2"), now));

        let later = now + Duration::from_secs(5);
        assert!(!filters.is_filtered((1, 0, 7), &res("cpus:2"), later));
        filters.expire(now + Duration::from_secs(4));
        assert_eq!(filters.len(), 1);
        filters.expire(later);
        assert!(filters.is_empty());
    }
}
