//! How a runtime listens and what it advertises: `--ip`, `--port` and the
//! `LIBPROCESS_*` environment variables.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::Error;

/// Default limit on the body of one incoming request.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The settings of one runtime (one listening socket).
#[derive(Debug, Clone)]
pub struct Config {
    /// The IP to bind (`--ip`, `LIBPROCESS_IP`); `0.0.0.0` binds all.
    pub ip: IpAddr,
    /// The port to bind (`--port`, `LIBPROCESS_PORT`); 0 picks a free one.
    pub port: u16,
    /// The IP put in this runtime's UPIDs, when it differs from `ip`
    /// (`LIBPROCESS_ADVERTISE_IP`).
    pub advertise_ip: Option<IpAddr>,
    /// The port put in this runtime's UPIDs (`LIBPROCESS_ADVERTISE_PORT`).
    pub advertise_port: Option<u16>,
    /// Requests with a larger body are answered `413` and dropped.
    pub max_body_bytes: usize,
    /// Threads that run processes and serve HTTP
    /// (`LIBPROCESS_NUM_WORKER_THREADS`; default: one per core).
    pub worker_threads: usize,
    /// Threads (named `lp-reader`) that serve readers: connections whose
    /// first request is a GET (endpoints, metrics, the web UI). They run
    /// at a lower priority
    /// ([`READER_NICE`]), so that however many readers there are and
    /// however large what they read, the processes keep the CPU they
    /// need. 0 serves readers on the worker threads.
    pub reader_threads: usize,
}

/// The nice value of the reader threads.
pub const READER_NICE: i32 = 10;

impl Default for Config {
    fn default() -> Config {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Config {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            advertise_ip: None,
            advertise_port: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            worker_threads: cores,
            reader_threads: 1,
        }
    }
}

impl Config {
    /// The defaults overridden by `LIBPROCESS_IP`, `LIBPROCESS_PORT`,
    /// `LIBPROCESS_ADVERTISE_IP`, `LIBPROCESS_ADVERTISE_PORT` and
    /// `LIBPROCESS_NUM_WORKER_THREADS` when set.
    pub fn from_env() -> Result<Config, Error> {
        Config::default().with_env(|name| std::env::var(name).ok())
    }

    /// Applies the `LIBPROCESS_*` variables that `lookup` finds.
    pub fn with_env(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        if let Some(v) = lookup("LIBPROCESS_IP") {
            self.ip = parse_ip("LIBPROCESS_IP", &v)?;
        }
        if let Some(v) = lookup("LIBPROCESS_PORT") {
            self.port = parse_port("LIBPROCESS_PORT", &v)?;
        }
        if let Some(v) = lookup("LIBPROCESS_ADVERTISE_IP") {
            self.advertise_ip = Some(parse_ip("LIBPROCESS_ADVERTISE_IP", &v)?);
        }
        if let Some(v) = lookup("LIBPROCESS_NUM_WORKER_THREADS") {
            self.worker_threads = match v.trim().parse() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(Error::Config {
                        name: "LIBPROCESS_NUM_WORKER_THREADS",
                        value: v,
                        reason: "not a positive number".into(),
                    })
                }
            };
        }
        if let Some(v) = lookup("LIBPROCESS_ADVERTISE_PORT") {
            self.advertise_port = Some(parse_port("LIBPROCESS_ADVERTISE_PORT", &v)?);
        }
        Ok(self)
    }

    /// The address to bind.
    pub fn bind_address(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// The address peers reach this runtime at, given the port actually
    /// bound. An unspecified bind IP advertises the host's own address, so
    /// that peers can dial back.
    pub fn advertised_address(&self, bound_port: u16) -> SocketAddr {
        let ip = self.advertise_ip.unwrap_or_else(|| {
            if self.ip.is_unspecified() {
                host_ip()
            } else {
                self.ip
            }
        });
        SocketAddr::new(ip, self.advertise_port.unwrap_or(bound_port))
    }
}

/// Parses an IP setting, naming it in the error.
pub fn parse_ip(name: &'static str, value: &str) -> Result<IpAddr, Error> {
    value.trim().parse().map_err(|_| Error::Config {
        name,
        value: value.to_string(),
        reason: "not an IP address".into(),
    })
}

/// Parses a port setting, naming it in the error.
pub fn parse_port(name: &'static str, value: &str) -> Result<u16, Error> {
    value.trim().parse().map_err(|_| Error::Config {
        name,
        value: value.to_string(),
        reason: "not a port number (0-65535)".into(),
    })
}

/// The first non-loopback IPv4 address the host name resolves to, else
/// loopback: what libprocess advertises when bound to `0.0.0.0`.
fn host_ip() -> IpAddr {
    use std::net::ToSocketAddrs;
    let host = hostname();
    (host.as_str(), 0)
        .to_socket_addrs()
        .ok()
        .and_then(|addrs| {
            addrs
                .map(|a| a.ip())
                .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        })
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// This host's name, as `gethostname(2)` reports it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let env = |name: &str| match name {
            "LIBPROCESS_IP" => Some("127.0.0.2".to_string()),
            "LIBPROCESS_PORT" => Some("5050".to_string()),
            "LIBPROCESS_ADVERTISE_PORT" => Some("6060".to_string()),
            _ => None,
        };
        let config = Config::default().with_env(env).unwrap();
        assert_eq!(config.bind_address(), "127.0.0.2:5050".parse().unwrap());
        assert_eq!(
            config.advertised_address(5050),
            "127.0.0.2:6060".parse().unwrap()
        );
    }

    #[test]
    fn bad_env_is_a_clear_error() {
        let env = |name: &str| (name == "LIBPROCESS_PORT").then(|| "50x".to_string());
        let err = Config::default().with_env(env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid LIBPROCESS_PORT '50x': not a port number (0-65535)"
        );
    }
}
