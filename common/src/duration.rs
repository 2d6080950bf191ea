//! Durations in Mesos's text syntax (stout's `Duration`).
//!
//! A duration is a signed count of nanoseconds. Its text form is a
//! non-negative decimal number followed directly by one unit: `ns`,
//! `us`, `ms`, `secs`, `mins`, `hrs`, `days` or `weeks` (`10secs`,
//! `1.5mins`). Printing picks the largest unit that keeps the number
//! whole, so `90secs` prints as `90secs` and `120secs` as `2mins`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::numfmt::{format_g, DOUBLE_DIGITS};

const NANOSECOND: i64 = 1;
const MICROSECOND: i64 = 1000 * NANOSECOND;
const MILLISECOND: i64 = 1000 * MICROSECOND;
const SECOND: i64 = 1000 * MILLISECOND;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Units in increasing size, with their Mesos spelling.
const UNITS: [(&str, i64); 8] = [
    ("ns", NANOSECOND),
    ("us", MICROSECOND),
    ("ms", MILLISECOND),
    ("secs", SECOND),
    ("mins", MINUTE),
    ("hrs", HOUR),
    ("days", DAY),
    ("weeks", WEEK),
];

/// A span of time with nanosecond resolution, as Mesos's stout
/// `Duration`. It may be negative (arithmetic can produce one), but
/// the text form only accepts non-negative values, as stout's does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);

impl Duration {
    /// The zero duration.
    pub const ZERO: Duration = Duration(0);
    /// The largest representable duration.
    pub const MAX: Duration = Duration(i64::MAX);
    /// The smallest (most negative) representable duration.
    pub const MIN: Duration = Duration(i64::MIN);

    /// A duration of `n` nanoseconds.
    pub const fn from_nanos(n: i64) -> Duration {
        Duration(n)
    }

    /// A duration of `n` microseconds (saturating).
    pub const fn from_micros(n: i64) -> Duration {
        Duration(n.saturating_mul(MICROSECOND))
    }

    /// A duration of `n` milliseconds (saturating).
    pub const fn from_millis(n: i64) -> Duration {
        Duration(n.saturating_mul(MILLISECOND))
    }

    /// A duration of `n` seconds (saturating).
    pub const fn from_secs(n: i64) -> Duration {
        Duration(n.saturating_mul(SECOND))
    }

    /// A duration of `n` minutes (saturating).
    pub const fn from_mins(n: i64) -> Duration {
        Duration(n.saturating_mul(MINUTE))
    }

    /// A duration of `n` hours (saturating).
    pub const fn from_hours(n: i64) -> Duration {
        Duration(n.saturating_mul(HOUR))
    }

    /// A duration of `n` days (saturating).
    pub const fn from_days(n: i64) -> Duration {
        Duration(n.saturating_mul(DAY))
    }

    /// A duration of `n` weeks (saturating).
    pub const fn from_weeks(n: i64) -> Duration {
        Duration(n.saturating_mul(WEEK))
    }

    /// A duration of `seconds` (fractional) seconds, truncated to whole
    /// nanoseconds; fails when it does not fit in an `i64` of nanoseconds
    /// or is not a number (stout's `Duration::create`).
    pub fn from_secs_f64(seconds: f64) -> Result<Duration> {
        let nanos = seconds * SECOND as f64;
        if nanos.is_nan() || nanos >= i64::MAX as f64 || nanos < i64::MIN as f64 {
            return Err(Error::InvalidDuration {
                value: format!("{seconds}secs"),
                reason: "out of the range a duration can represent".to_string(),
            });
        }
        Ok(Duration(nanos as i64))
    }

    /// Parses Mesos's text form: `<number><unit>`, e.g. `5secs`,
    /// `1.5mins`, `100ms`. Fails with a message naming the text on an
    /// empty or unit-less value, an unknown unit, a malformed number or
    /// a value too large for 64-bit nanoseconds.
    pub fn parse(text: &str) -> Result<Duration> {
        let invalid = |reason: String| Error::InvalidDuration {
            value: text.to_string(),
            reason,
        };

        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| invalid("expecting a number followed by a unit".to_string()))?;
        let (number, unit) = text.split_at(split);

        let value: f64 = number
            .parse()
            .map_err(|_| invalid(format!("failed to convert '{number}' to a number")))?;
        let factor = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, factor)| *factor)
            .ok_or_else(|| {
                invalid(format!(
                    "unknown unit '{unit}'; supported units are 'ns', 'us', 'ms', \
                     'secs', 'mins', 'hrs', 'days' and 'weeks'"
                ))
            })?;

        let nanos = value * factor as f64;
        if nanos >= i64::MAX as f64 {
            return Err(invalid(
                "out of the range a duration can represent".to_string(),
            ));
        }
        Ok(Duration(nanos as i64))
    }

    /// Whole nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Fractional microseconds.
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 / MICROSECOND as f64
    }

    /// Fractional milliseconds.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / MILLISECOND as f64
    }

    /// Fractional seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SECOND as f64
    }

    /// Fractional minutes.
    pub fn as_mins_f64(self) -> f64 {
        self.0 as f64 / MINUTE as f64
    }

    /// Whether this duration is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The duration as a `std::time::Duration`; negative durations
    /// become zero.
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }

    /// Sum, saturating at the bounds.
    pub const fn saturating_add(self, other: Duration) -> Duration {
        Duration(self.0.saturating_add(other.0))
    }

    /// Difference, saturating at the bounds.
    pub const fn saturating_sub(self, other: Duration) -> Duration {
        Duration(self.0.saturating_sub(other.0))
    }

    /// Multiplies by `factor`, truncating to whole nanoseconds and
    /// saturating at the bounds (backoffs scale durations this way).
    pub fn mul_f64(self, factor: f64) -> Duration {
        Duration((self.0 as f64 * factor) as i64)
    }
}

impl From<std::time::Duration> for Duration {
    /// Converts, saturating at [`Duration::MAX`].
    fn from(d: std::time::Duration) -> Duration {
        Duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

impl From<Duration> for std::time::Duration {
    /// Converts; negative durations become zero.
    fn from(d: Duration) -> std::time::Duration {
        d.to_std()
    }
}

impl FromStr for Duration {
    type Err = Error;

    fn from_str(s: &str) -> Result<Duration> {
        Duration::parse(s)
    }
}

impl std::ops::Add for Duration {
    type Output = Duration;

    /// Saturating sum.
    fn add(self, other: Duration) -> Duration {
        self.saturating_add(other)
    }
}

impl std::ops::Sub for Duration {
    type Output = Duration;

    /// Saturating difference.
    fn sub(self, other: Duration) -> Duration {
        self.saturating_sub(other)
    }
}

impl fmt::Display for Duration {
    /// Prints as stout does: `-` for negatives, then the number in the
    /// bucket unit of its magnitude, or one unit down when only that one
    /// gives a whole number (`1.5secs` → `1500ms`, `10days` stays
    /// `10days` rather than `1.42857142857143weeks`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        // i64::MIN has no positive counterpart; stout prints MAX instead.
        let magnitude: i64 = if self.0 < 0 {
            out.push('-');
            if self.0 == i64::MIN {
                i64::MAX
            } else {
                -self.0
            }
        } else {
            self.0
        };

        // Index of the bucket: the largest unit not exceeding magnitude.
        let bucket = UNITS
            .iter()
            .rposition(|(_, factor)| magnitude >= *factor)
            .unwrap_or(0);
        let (mut name, mut factor) = UNITS[bucket];
        if bucket > 0 {
            let (smaller_name, smaller) = UNITS[bucket - 1];
            if magnitude % factor != 0 && magnitude % smaller == 0 {
                name = smaller_name;
                factor = smaller;
            }
        }

        if factor == NANOSECOND {
            out.push_str(&magnitude.to_string());
        } else {
            out.push_str(&format_g(magnitude as f64 / factor as f64, DOUBLE_DIGITS));
        }
        out.push_str(name);
        f.pad(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Duration {
        Duration::parse(s).unwrap()
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(p("7ns"), Duration::from_nanos(7));
        assert_eq!(p("7us"), Duration::from_micros(7));
        assert_eq!(p("7ms"), Duration::from_millis(7));
        assert_eq!(p("7secs"), Duration::from_secs(7));
        assert_eq!(p("7mins"), Duration::from_mins(7));
        assert_eq!(p("7hrs"), Duration::from_hours(7));
        assert_eq!(p("7days"), Duration::from_days(7));
        assert_eq!(p("7weeks"), Duration::from_weeks(7));
    }

    #[test]
    fn parses_fractions() {
        assert_eq!(p("1.5secs"), Duration::from_millis(1500));
        assert_eq!(p(".5secs"), Duration::from_millis(500));
        assert_eq!(p("0.1ms"), Duration::from_micros(100));
    }

    #[test]
    fn rejects_bad_text() {
        let err = Duration::parse("5sec").unwrap_err().to_string();
        assert!(
            err.starts_with("invalid duration '5sec': unknown unit 'sec'"),
            "{err}"
        );
        assert!(Duration::parse("5").is_err());
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("secs").is_err());
        assert!(Duration::parse("-5secs").is_err());
        assert!(Duration::parse("1.2.3secs").is_err());
        assert!(Duration::parse("5 secs").is_err());
        assert!(Duration::parse("100000000weeks").is_err());
        let err = Duration::parse("5").unwrap_err().to_string();
        assert!(err.contains("'5'"), "{err}");
    }

    #[test]
    fn displays_like_stout() {
        assert_eq!(Duration::from_secs(1).to_string(), "1secs");
        assert_eq!(Duration::from_secs(15).to_string(), "15secs");
        assert_eq!(Duration::from_mins(10).to_string(), "10mins");
        assert_eq!(Duration::from_secs(90).to_string(), "90secs");
        assert_eq!(Duration::from_secs(120).to_string(), "2mins");
        assert_eq!(Duration::from_millis(1500).to_string(), "1500ms");
        assert_eq!(Duration::from_nanos(0).to_string(), "0ns");
        assert_eq!(Duration::from_nanos(999).to_string(), "999ns");
        assert_eq!(Duration::from_nanos(1001).to_string(), "1001ns");
        assert_eq!(Duration::from_days(10).to_string(), "10days");
        assert_eq!(Duration::from_weeks(2).to_string(), "2weeks");
        assert_eq!(Duration::from_hours(25).to_string(), "25hrs");
        assert_eq!(Duration::from_secs(-5).to_string(), "-5secs");
        // Not whole in either unit: fractional in the bucket unit.
        assert_eq!(p("1.0000005secs").to_string(), "1.0000005secs");
        assert_eq!(p("1.5mins").to_string(), "90secs");
    }

    #[test]
    fn round_trips_through_text() {
        for text in [
            "1secs", "20secs", "10mins", "2hrs", "3days", "1weeks", "75ms",
        ] {
            assert_eq!(p(text).to_string(), text);
        }
    }

    #[test]
    fn converts_to_and_from_std() {
        let d = p("2.5secs");
        let std: std::time::Duration = d.into();
        assert_eq!(std, std::time::Duration::from_millis(2500));
        assert_eq!(Duration::from(std), d);
        assert_eq!(Duration::from_secs(-1).to_std(), std::time::Duration::ZERO);
        assert_eq!(Duration::from(std::time::Duration::MAX), Duration::MAX);
    }

    #[test]
    fn orders_and_adds() {
        assert!(p("1mins") > p("59secs"));
        assert_eq!(p("1mins") + p("30secs"), p("90secs"));
        assert_eq!(Duration::MAX + p("1secs"), Duration::MAX);
        assert_eq!(p("1secs").mul_f64(2.5), p("2500ms"));
        assert_eq!(Duration::from_secs_f64(0.25).unwrap(), p("250ms"));
        assert!(Duration::from_secs_f64(f64::NAN).is_err());
    }
}
