//! Mesos's value types: scalars, ranges, sets and text, with their
//! text syntax and arithmetic (Mesos's `Value` and `values.cpp`).
//!
//! Text syntax, spaces ignored: `[1-5,10-20]` is ranges, `{a,b}` is a
//! set, something that reads as a number is a scalar, and anything else
//! is text. Resources use scalars, ranges and sets; attributes use
//! scalars, ranges and text.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::{Error, Result};
use crate::numfmt::{format_g, DOUBLE_DIGITS};

/// A non-integral quantity such as `cpus:1.5`, kept as a whole number
/// of thousandths so sums and differences are exact; Mesos rounds every
/// scalar to three decimals the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(i64);

impl Scalar {
    /// Zero.
    pub const ZERO: Scalar = Scalar(0);

    /// `value` rounded to the nearest thousandth (halves away from
    /// zero). Non-finite values saturate; validate input first with
    /// [`Scalar::validate_input`].
    pub fn from_f64(value: f64) -> Scalar {
        // `as` saturates and maps NaN to zero, which is what we want for
        // values that validation already rejects.
        Scalar((value * 1000.0).round() as i64)
    }

    /// A scalar of `millis` thousandths.
    pub const fn from_millis(millis: i64) -> Scalar {
        Scalar(millis)
    }

    /// The value as thousandths.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The value as a double, computed from the integral and fractional
    /// parts separately so `0.1 + 0.2` reads back as `0.3`.
    pub fn value(self) -> f64 {
        (self.0 / 1000) as f64 + (self.0 % 1000) as f64 / 1000.0
    }

    /// Checks a user-supplied number as Mesos does before it becomes a
    /// scalar: it must be finite, normal (or zero) and not negative.
    pub fn validate_input(value: f64) -> std::result::Result<(), String> {
        if value.is_nan() {
            Err("NaN not supported".to_string())
        } else if value.is_infinite() {
            Err("infinite values not supported".to_string())
        } else if value != 0.0 && value.is_subnormal() {
            Err("subnormal values not supported".to_string())
        } else if value < 0.0 {
            Err("negative values not supported".to_string())
        } else {
            Ok(())
        }
    }

    /// Sum (saturating).
    pub const fn saturating_add(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_add(other.0))
    }

    /// Difference (saturating; may go below zero).
    pub const fn saturating_sub(self, other: Scalar) -> Scalar {
        Scalar(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Scalar {
    /// Up to 15 significant digits, no trailing zeros: `2`, `0.5`, `1024`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format_g(self.value(), DOUBLE_DIGITS))
    }
}

/// A set of non-negative integer intervals, such as ports
/// `[31000-32000, 40000-40010]`. Always kept sorted and coalesced:
/// overlapping or adjacent intervals are merged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    /// No intervals.
    pub const fn new() -> Ranges {
        Ranges(Vec::new())
    }

    /// Intervals from inclusive `(begin, end)` pairs, coalesced. Fails
    /// on a pair with `begin > end`.
    pub fn from_pairs<I: IntoIterator<Item = (u64, u64)>>(pairs: I) -> Result<Ranges> {
        let pairs: Vec<(u64, u64)> = pairs.into_iter().collect();
        if let Some((b, e)) = pairs.iter().find(|(b, e)| b > e) {
            return Err(Error::InvalidValue {
                value: format!("[{b}-{e}]"),
                reason: "range begin is greater than its end".to_string(),
            });
        }
        Ok(Ranges(coalesce(pairs)))
    }

    /// The single interval `[begin, end]`, or none when `begin > end`.
    pub fn single(begin: u64, end: u64) -> Ranges {
        if begin > end {
            Ranges::new()
        } else {
            Ranges(vec![(begin, end)])
        }
    }

    /// The sorted, disjoint, non-adjacent intervals.
    pub fn intervals(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// Whether there are no intervals.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many integers the intervals cover (saturating).
    pub fn count(&self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |n, (b, e)| n.saturating_add(e - b).saturating_add(1))
    }

    /// Whether `value` lies in one of the intervals.
    pub fn contains_value(&self, value: u64) -> bool {
        self.0.iter().any(|(b, e)| *b <= value && value <= *e)
    }

    /// Whether every integer of `other` is in `self`.
    pub fn contains(&self, other: &Ranges) -> bool {
        other
            .0
            .iter()
            .all(|(ob, oe)| self.0.iter().any(|(b, e)| b <= ob && oe <= e))
    }

    /// The union of both.
    pub fn union(&self, other: &Ranges) -> Ranges {
        let mut all = self.0.clone();
        all.extend_from_slice(&other.0);
        Ranges(coalesce(all))
    }

    /// The integers of `self` not in `other`.
    pub fn difference(&self, other: &Ranges) -> Ranges {
        let mut result = Vec::new();
        for &(begin, end) in &self.0 {
            let mut start = begin;
            let mut open = true;
            for &(ob, oe) in &other.0 {
                if oe < start || ob > end {
                    continue;
                }
                if ob > start {
                    result.push((start, ob - 1));
                }
                if oe >= end {
                    open = false;
                    break;
                }
                start = oe + 1;
            }
            if open {
                result.push((start, end));
            }
        }
        Ranges(result)
    }
}

impl fmt::Display for Ranges {
    /// `[31000-32000, 40000-40010]`, as Mesos prints ranges.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(b, e)| format!("{b}-{e}")).collect();
        f.pad(&format!("[{}]", parts.join(", ")))
    }
}

/// Sorts and merges overlapping or adjacent intervals.
fn coalesce(mut pairs: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    pairs.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(pairs.len());
    for (begin, end) in pairs {
        match out.last_mut() {
            Some(last) if begin <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => out.push((begin, end)),
        }
    }
    out
}

/// A value in any of Mesos's four value types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number, e.g. `2` or `0.5`.
    Scalar(Scalar),
    /// Integer intervals, e.g. `[1-5]`.
    Ranges(Ranges),
    /// Distinct strings, e.g. `{a,b}`.
    Set(BTreeSet<String>),
    /// Free text (attributes only), e.g. `rack1`.
    Text(String),
}

impl Value {
    /// The type name Mesos uses on the wire and in JSON: `SCALAR`,
    /// `RANGES`, `SET` or `TEXT`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "SCALAR",
            Value::Ranges(_) => "RANGES",
            Value::Set(_) => "SET",
            Value::Text(_) => "TEXT",
        }
    }
}

impl fmt::Display for Value {
    /// Mesos's print form: `2`, `[1-5, 7-9]`, `{a, b}`, or the text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(s) => s.fmt(f),
            Value::Ranges(r) => r.fmt(f),
            Value::Set(s) => f.pad(&format_set(s)),
            Value::Text(t) => f.pad(t),
        }
    }
}

/// `{a, b}`, as Mesos prints a set.
pub(crate) fn format_set(set: &BTreeSet<String>) -> String {
    let items: Vec<&str> = set.iter().map(String::as_str).collect();
    format!("{{{}}}", items.join(", "))
}

/// Parses one value in Mesos's text syntax (spaces are ignored). Ranges
/// are coalesced; a set with a repeated item, a range with begin above
/// end, or a negative, infinite or NaN scalar is an error.
pub fn parse_value(text: &str) -> Result<Value> {
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    let invalid = |reason: &str| Error::InvalidValue {
        value: text.to_string(),
        reason: reason.to_string(),
    };

    if compact.is_empty() {
        return Err(invalid("expecting a non-empty value"));
    }
    if !brackets_match(&compact) {
        return Err(invalid("mismatched brackets"));
    }

    match compact.find('[') {
        Some(0) => parse_ranges(&compact).map_err(|reason| invalid(&reason)),
        Some(_) => Err(invalid("unexpected '[' found")),
        None => match compact.find('{') {
            Some(0) => {
                let mut set = BTreeSet::new();
                for item in tokenize(&compact, &['{', '}', ',', '\n']) {
                    if !set.insert(item.to_string()) {
                        return Err(invalid(&format!("duplicate set item '{item}'")));
                    }
                }
                Ok(Value::Set(set))
            }
            Some(_) => Err(invalid("unexpected '{' found")),
            None => match parse_number(&compact) {
                Some(number) => {
                    Scalar::validate_input(number).map_err(|reason| invalid(&reason))?;
                    Ok(Value::Scalar(Scalar::from_f64(number)))
                }
                None => Ok(Value::Text(compact)),
            },
        },
    }
}

/// Parses `[a-b,c-d]` (already without spaces).
#[allow(
    clippy::manual_is_multiple_of,
    reason = "is_multiple_of needs Rust 1.87; the workspace MSRV is 1.85"
)]
fn parse_ranges(compact: &str) -> std::result::Result<Value, String> {
    let tokens = tokenize(compact, &['[', ']', '-', ',', '\n']);
    if tokens.len() % 2 != 0 {
        return Err("expecting one or more ranges like '[1-5]'".to_string());
    }
    let mut pairs = Vec::with_capacity(tokens.len() / 2);
    for pair in tokens.chunks(2) {
        let begin = pair[0].parse::<u64>();
        let end = pair[1].parse::<u64>();
        match (begin, end) {
            (Ok(b), Ok(e)) if b <= e => pairs.push((b, e)),
            (Ok(b), Ok(e)) => return Err(format!("range begin {b} is greater than its end {e}")),
            _ => {
                return Err(format!(
                    "expecting non-negative integers in '{}-{}'",
                    pair[0], pair[1]
                ))
            }
        }
    }
    Ok(Value::Ranges(Ranges(coalesce(pairs))))
}

/// Reads a decimal number the way a C++ stream conversion accepts it
/// (optional sign, digits, fraction, exponent); `inf`/`nan` words and
/// other text are not numbers here.
fn parse_number(text: &str) -> Option<f64> {
    let looks_numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    if !looks_numeric {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Splits on any of `delims`, dropping empty tokens (stout's tokenize).
pub(crate) fn tokenize<'a>(text: &'a str, delims: &[char]) -> Vec<&'a str> {
    text.split(|c| delims.contains(&c))
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether each kind of bracket opens before it closes and balances,
/// without nesting of the same kind.
fn brackets_match(text: &str) -> bool {
    [('{', '}'), ('[', ']'), ('(', ')')]
        .iter()
        .all(|(open, close)| {
            let mut depth: i64 = 0;
            for c in text.chars() {
                if c == *open {
                    depth += 1;
                } else if c == *close {
                    depth -= 1;
                }
                if depth < 0 {
                    return false;
                }
            }
            depth == 0
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(pairs: &[(u64, u64)]) -> Ranges {
        Ranges::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn scalars_are_fixed_point() {
        let a = Scalar::from_f64(0.1);
        let b = Scalar::from_f64(0.2);
        assert_eq!(a.saturating_add(b).value(), 0.3);
        assert_eq!(Scalar::from_f64(1.0005).as_millis(), 1001);
        assert_eq!(Scalar::from_f64(0.0004), Scalar::ZERO);
        assert_eq!(Scalar::from_f64(2.0).to_string(), "2");
        assert_eq!(Scalar::from_f64(0.5).to_string(), "0.5");
        assert_eq!(Scalar::from_f64(1.23456).to_string(), "1.235");
    }

    #[test]
    fn parses_each_type() {
        assert_eq!(
            parse_value("2").unwrap(),
            Value::Scalar(Scalar::from_millis(2000))
        );
        assert_eq!(
            parse_value("[1-5, 3-8,10-10]").unwrap(),
            Value::Ranges(ranges(&[(1, 8), (10, 10)]))
        );
        let Value::Set(set) = parse_value("{a, b,c}").unwrap() else {
            panic!("expected a set")
        };
        assert_eq!(set.len(), 3);
        assert_eq!(parse_value("rack1").unwrap(), Value::Text("rack1".into()));
        assert_eq!(parse_value("{}").unwrap(), Value::Set(BTreeSet::new()));
    }

    #[test]
    fn rejects_bad_values() {
        let err = parse_value("-1").unwrap_err().to_string();
        assert!(err.contains("negative"), "{err}");
        assert!(parse_value("").is_err());
        assert!(parse_value("[1-5").is_err());
        assert!(parse_value("[1-2-3]").is_err());
        assert!(parse_value("[a-b]").is_err());
        let err = parse_value("[5-1]").unwrap_err().to_string();
        assert!(err.contains("greater"), "{err}");
        let err = parse_value("{a,a}").unwrap_err().to_string();
        assert!(err.contains("duplicate set item 'a'"), "{err}");
        assert!(parse_value("x[1-2]").is_err());
        assert!(parse_value("x{a}").is_err());
        assert!(parse_value("1e999").is_err());
    }

    #[test]
    fn ranges_coalesce_and_subtract() {
        let r = ranges(&[(31000, 32000), (32001, 32005), (40000, 40010)]);
        assert_eq!(r.intervals(), &[(31000, 32005), (40000, 40010)]);
        assert_eq!(r.to_string(), "[31000-32005, 40000-40010]");
        assert_eq!(r.count(), 1006 + 11);

        let hole = r.difference(&ranges(&[(31500, 31600), (40000, 40000)]));
        assert_eq!(
            hole.intervals(),
            &[(31000, 31499), (31601, 32005), (40001, 40010)]
        );
        assert!(r.contains(&hole));
        assert!(!hole.contains(&r));
        assert_eq!(hole.union(&r), r);

        let all = ranges(&[(1, 10)]);
        assert!(all.difference(&ranges(&[(0, 20)])).is_empty());
        assert_eq!(
            all.difference(&ranges(&[(1, 1), (10, 10)])).intervals(),
            &[(2, 9)]
        );
        assert_eq!(
            all.difference(&ranges(&[(3, 4), (6, 7)])).intervals(),
            &[(1, 2), (5, 5), (8, 10)]
        );
        assert!(Ranges::from_pairs([(5, 1)]).is_err());
        assert_eq!(
            ranges(&[(0, u64::MAX), (5, 6)]).intervals(),
            &[(0, u64::MAX)]
        );
    }
}
