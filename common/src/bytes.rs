//! Byte sizes in Mesos's text syntax (stout's `Bytes`).
//!
//! The text form is a whole number directly followed by a unit `B`,
//! `KB`, `MB`, `GB` or `TB` (any letter case), units being powers of
//! 1024. Printing raises the unit only while no information is lost:
//! `1024MB` prints as `1GB`, `1536MB` as `1536MB`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

const KILOBYTE: u64 = 1024;
const MEGABYTE: u64 = 1024 * KILOBYTE;
const GIGABYTE: u64 = 1024 * MEGABYTE;
const TERABYTE: u64 = 1024 * GIGABYTE;

/// A count of bytes, as Mesos's stout `Bytes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(u64);

impl Bytes {
    /// Exactly `n` bytes.
    pub const fn new(n: u64) -> Bytes {
        Bytes(n)
    }

    /// `n` kilobytes (saturating).
    pub const fn from_kilobytes(n: u64) -> Bytes {
        Bytes(n.saturating_mul(KILOBYTE))
    }

    /// `n` megabytes (saturating).
    pub const fn from_megabytes(n: u64) -> Bytes {
        Bytes(n.saturating_mul(MEGABYTE))
    }

    /// `n` gigabytes (saturating).
    pub const fn from_gigabytes(n: u64) -> Bytes {
        Bytes(n.saturating_mul(GIGABYTE))
    }

    /// `n` terabytes (saturating).
    pub const fn from_terabytes(n: u64) -> Bytes {
        Bytes(n.saturating_mul(TERABYTE))
    }

    /// Parses Mesos's text form, e.g. `512MB`, `10gb`, `100B`. Fails with
    /// a message naming the text on a fraction, a missing or unknown
    /// unit, or a value that overflows 64 bits.
    pub fn parse(text: &str) -> Result<Bytes> {
        let invalid = |reason: String| Error::InvalidBytes {
            value: text.to_string(),
            reason,
        };

        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| invalid("expecting a number followed by a unit".to_string()))?;
        let (number, unit) = text.split_at(split);
        if unit.starts_with('.') {
            return Err(invalid("fractional bytes are not supported".to_string()));
        }

        let value: u64 = number
            .parse()
            .map_err(|_| invalid(format!("failed to convert '{number}' to a number")))?;
        let factor = match unit.to_ascii_uppercase().as_str() {
            "B" => 1,
            "KB" => KILOBYTE,
            "MB" => MEGABYTE,
            "GB" => GIGABYTE,
            "TB" => TERABYTE,
            _ => {
                return Err(invalid(format!(
                    "unknown unit '{unit}'; supported units are 'B', 'KB', 'MB', 'GB' and 'TB'"
                )))
            }
        };
        value
            .checked_mul(factor)
            .map(Bytes)
            .ok_or_else(|| invalid("too large for 64 bits".to_string()))
    }

    /// The number of bytes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Whole megabytes, rounded down (the unit of `mem` and `disk`).
    pub const fn as_megabytes(self) -> u64 {
        self.0 / MEGABYTE
    }

    /// Difference, stopping at zero.
    pub const fn saturating_sub(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_sub(other.0))
    }
}

impl FromStr for Bytes {
    type Err = Error;

    fn from_str(s: &str) -> Result<Bytes> {
        Bytes::parse(s)
    }
}

impl std::ops::Add for Bytes {
    type Output = Bytes;

    /// Saturating sum.
    fn add(self, other: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for Bytes {
    /// Prints in the largest unit that divides the count exactly:
    /// `0B`, `100B`, `4KB`, `512MB`, `1GB`, `2TB`.
    #[allow(
        clippy::manual_is_multiple_of,
        reason = "is_multiple_of needs Rust 1.87; the workspace MSRV is 1.85"
    )]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let text = if n == 0 {
            "0B".to_string()
        } else if n % KILOBYTE != 0 {
            format!("{n}B")
        } else if n % MEGABYTE != 0 {
            format!("{}KB", n / KILOBYTE)
        } else if n % GIGABYTE != 0 {
            format!("{}MB", n / MEGABYTE)
        } else if n % TERABYTE != 0 {
            format!("{}GB", n / GIGABYTE)
        } else {
            format!("{}TB", n / TERABYTE)
        };
        f.pad(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_in_any_case() {
        assert_eq!(Bytes::parse("100B").unwrap(), Bytes::new(100));
        assert_eq!(Bytes::parse("4KB").unwrap(), Bytes::from_kilobytes(4));
        assert_eq!(Bytes::parse("512MB").unwrap(), Bytes::from_megabytes(512));
        assert_eq!(Bytes::parse("10gb").unwrap(), Bytes::from_gigabytes(10));
        assert_eq!(Bytes::parse("1Tb").unwrap(), Bytes::from_terabytes(1));
    }

    #[test]
    fn rejects_bad_text() {
        let err = Bytes::parse("1.5GB").unwrap_err().to_string();
        assert!(
            err.starts_with("invalid bytes '1.5GB': fractional"),
            "{err}"
        );
        let err = Bytes::parse("10XB").unwrap_err().to_string();
        assert!(err.contains("unknown unit 'XB'"), "{err}");
        assert!(Bytes::parse("1024").is_err());
        assert!(Bytes::parse("").is_err());
        assert!(Bytes::parse("MB").is_err());
        assert!(Bytes::parse("-1MB").is_err());
        assert!(Bytes::parse("99999999999TB").is_err());
    }

    #[test]
    fn displays_like_stout() {
        assert_eq!(Bytes::new(0).to_string(), "0B");
        assert_eq!(Bytes::new(1023).to_string(), "1023B");
        assert_eq!(Bytes::new(2048).to_string(), "2KB");
        assert_eq!(Bytes::from_megabytes(1024).to_string(), "1GB");
        assert_eq!(Bytes::from_megabytes(1536).to_string(), "1536MB");
        assert_eq!(Bytes::from_gigabytes(2048).to_string(), "2TB");
        assert_eq!(Bytes::from_megabytes(3).as_megabytes(), 3);
    }
}
