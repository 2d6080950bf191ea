//! The driver's settings from the `MESOS_*` environment, and the
//! registration backoff they drive.

use std::time::Duration;

use mesos_common::{FlagSet, FlagSpec};

use crate::error::{Error, Result};

/// The registration retry interval is never longer than this.
pub const REGISTRATION_RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// The flags libmesos's driver reads from `MESOS_*` variables. Only the
/// registration backoff is used; the authentication ones are accepted so
/// that environments set up for libmesos load without error.
const DRIVER_FLAGS: &[FlagSpec] = &[
    FlagSpec::duration(
        "registration_backoff_factor",
        "Scheduler driver (re-)registration retries are exponentially backed\n\
         off based on 'b', the registration backoff factor (e.g., 1st retry\n\
         uses a random value between [0, b], 2nd retry between [0, b * 2^1],\n\
         3rd retry between [0, b * 2^2]...) up to a maximum of (framework\n\
         failover timeout/10, if failover timeout is specified) or 1mins",
    )
    .default("2secs"),
    FlagSpec::string("authenticatee", "Authenticatee implementation to use.").default("crammd5"),
    FlagSpec::duration(
        "authentication_backoff_factor",
        "Backoff factor of authentication retries.",
    )
    .default("1secs"),
    FlagSpec::duration(
        "authentication_timeout_min",
        "The minimum time to wait before retrying authentication.",
    )
    .default("5secs"),
    FlagSpec::duration(
        "authentication_timeout_max",
        "The maximum time to wait before retrying authentication.",
    )
    .default("1mins"),
];

/// The driver's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverConfig {
    /// The first registration retry waits up to this long; each later
    /// one up to twice as long as the one before
    /// (`MESOS_REGISTRATION_BACKOFF_FACTOR`, default `2secs`).
    pub registration_backoff_factor: Duration,
}

impl Default for DriverConfig {
    fn default() -> DriverConfig {
        DriverConfig {
            registration_backoff_factor: Duration::from_secs(2),
        }
    }
}

impl DriverConfig {
    /// The settings from this process's `MESOS_*` environment.
    pub fn from_env() -> Result<DriverConfig> {
        DriverConfig::from_vars(std::env::vars())
    }

    /// The settings from `vars` (name, value pairs; only `MESOS_*` ones
    /// are looked at).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<DriverConfig> {
        let flags = FlagSet::new(DRIVER_FLAGS)
            .load(Some("MESOS_"), ["scheduler-driver"], vars)
            .map_err(|e| Error::Config(e.to_string()))?;
        let factor = flags
            .get_duration("registration_backoff_factor")
            .map(|d| d.to_std())
            .unwrap_or(DriverConfig::default().registration_backoff_factor);
        Ok(DriverConfig {
            registration_backoff_factor: factor,
        })
    }
}

/// When to retry registration: a random delay in `[0, max]`, where `max`
/// is `max_backoff` capped at one minute and, for a positive
/// `failover_timeout` (seconds), at a tenth of it. Returns the delay and
/// the `max_backoff` for the attempt after (twice the capped one).
/// `random` is in `[0, 1)`.
pub fn registration_retry(
    max_backoff: Duration,
    failover_timeout: Option<f64>,
    random: f64,
) -> (Duration, Duration) {
    let mut max = max_backoff.min(REGISTRATION_RETRY_INTERVAL_MAX);
    if let Some(timeout) = failover_timeout.filter(|t| t.is_finite() && *t > 0.0) {
        max = max.min(Duration::from_secs_f64(timeout / 10.0));
    }
    let delay = max.mul_f64(random.clamp(0.0, 1.0));
    (delay, max * 2)
}

/// A random number in `[0, 1)`, from the system's randomness.
pub(crate) fn random_fraction() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_secs(2);
        let (delay, next) = registration_retry(b, None, 0.5);
        assert_eq!(delay, Duration::from_secs(1));
        assert_eq!(next, Duration::from_secs(4));
        let (delay, next) = registration_retry(Duration::from_secs(600), None, 1.0);
        assert_eq!(delay, REGISTRATION_RETRY_INTERVAL_MAX);
        assert_eq!(next, REGISTRATION_RETRY_INTERVAL_MAX * 2);
        // A 10s failover timeout caps retries at 1s.
        let (delay, _) = registration_retry(Duration::from_secs(8), Some(10.0), 1.0);
        assert_eq!(delay, Duration::from_secs(1));
        // Zero means no failover timeout: no cap from it.
        let (delay, _) = registration_retry(Duration::from_secs(8), Some(0.0), 1.0);
        assert_eq!(delay, Duration::from_secs(8));
    }

    #[test]
    fn random_fraction_is_in_range() {
        for _ in 0..1000 {
            let r = random_fraction();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }

    #[test]
    fn env_sets_the_backoff_factor() {
        let vars = [(
            "MESOS_REGISTRATION_BACKOFF_FACTOR".to_string(),
            "500ms".to_string(),
        )];
        let config = DriverConfig::from_vars(vars).unwrap();
        assert_eq!(
            config.registration_backoff_factor,
            Duration::from_millis(500)
        );
        let unset = DriverConfig::from_vars(Vec::new()).unwrap();
        assert_eq!(unset, DriverConfig::default());
    }

    #[test]
    fn bad_env_is_a_clear_error() {
        let vars = [(
            "MESOS_REGISTRATION_BACKOFF_FACTOR".to_string(),
            "soon".to_string(),
        )];
        let error = DriverConfig::from_vars(vars).unwrap_err().to_string();
        assert!(error.contains("registration_backoff_factor"), "{error}");
        assert!(error.contains("soon"), "{error}");
    }
}
