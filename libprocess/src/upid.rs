//! `UPID`: the address of a process, `id@ip:port`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use crate::error::UpidError;

/// The address of a process: its id and the listening address of the OS
/// process that hosts it, written `id@ip:port` (`master@10.0.0.1:5050`).
///
/// Cheap to clone: the id is shared.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UPID {
    id: Arc<str>,
    address: SocketAddr,
}

impl UPID {
    /// A UPID for process `id` at `address`.
    pub fn new(id: impl Into<Arc<str>>, address: SocketAddr) -> UPID {
        UPID {
            id: id.into(),
            address,
        }
    }

    /// The process id, the part before `@`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The listening address of the hosting OS process.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The IP of the hosting OS process.
    pub fn ip(&self) -> IpAddr {
        self.address.ip()
    }

    /// The port of the hosting OS process.
    pub fn port(&self) -> u16 {
        self.address.port()
    }
}

impl fmt::Display for UPID {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // IPv6 addresses print as `[::1]:5050`, which `parse` accepts back.
        write!(f, "{}@{}", self.id, self.address)
    }
}

impl fmt::Debug for UPID {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for UPID {
    type Err = UpidError;

    /// Parses `id@ip:port`. The id must be non-empty and must not contain
    /// `/`, whitespace or `@`; the address must be a literal IP (v4, or
    /// `[v6]`) with a port. Host names are not resolved here.
    fn from_str(s: &str) -> Result<UPID, UpidError> {
        let malformed = |reason: &'static str| UpidError {
            input: s.to_string(),
            reason,
        };
        let (id, address) = s.rsplit_once('@').ok_or(malformed("missing '@'"))?;
        if id.is_empty() {
            return Err(malformed("empty id"));
        }
        if id
            .chars()
            .any(|c| c == '/' || c == '@' || c.is_whitespace() || c.is_control())
        {
            return Err(malformed("id contains '/', '@' or whitespace"));
        }
        let address: SocketAddr = address
            .parse()
            .map_err(|_| malformed("address is not ip:port"))?;
        Ok(UPID::new(id, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let pid: UPID = "slave(1)@10.0.0.2:5051".parse().unwrap();
        assert_eq!(pid.id(), "slave(1)");
        assert_eq!(pid.address(), "10.0.0.2:5051".parse().unwrap());
        assert_eq!(pid.to_string(), "slave(1)@10.0.0.2:5051");

        let v6: UPID = "master@[::1]:5050".parse().unwrap();
        assert_eq!(v6.port(), 5050);
        assert_eq!(v6.to_string().parse::<UPID>().unwrap(), v6);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "master",
            "@1.2.3.4:5",
            "master@",
            "master@1.2.3.4",
            "master@host:5050",
            "master@1.2.3.4:99999",
            "a/b@1.2.3.4:5",
            "a b@1.2.3.4:5",
        ] {
            let err = bad.parse::<UPID>().unwrap_err();
            assert!(err.to_string().contains("invalid upid"), "{bad}: {err}");
        }
    }
}
