//! Master detection: turning a `--master` value into the leading master's
//! UPID and `MasterInfo`, as Mesos's standalone detector does.
//!
//! Accepted forms: `host:port`, `master@host:port` (a master's PID), and
//! `file:///path/to/file` whose trimmed contents are one of the others.
//! `zk://…` and `local` are recognised and refused with a clear error: the
//! first needs a ZooKeeper detector (a later issue), the second an
//! in-process cluster, which `mesos-local` provides, not the driver.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use libprocess::UPID;
use mesos_proto::mesos::{master_info, Address, MasterInfo};

use crate::error::{Error, Result};

/// How many `file://` indirections are followed before giving up, so a
/// file naming itself cannot loop forever.
const MAX_FILE_INDIRECTIONS: usize = 4;

/// Where the leading master is, as detected from a `--master` value.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedMaster {
    /// The master's process, `master@ip:port`.
    pub pid: UPID,
    /// What the driver hands to `Scheduler::registered` when the master
    /// itself does not say (the standalone detector's `MasterInfo`).
    pub info: MasterInfo,
}

/// Detects the master named by `master` (see the module docs for the
/// forms). Host names are resolved here, preferring IPv4 as libprocess
/// does; a `file://` value is read here.
pub fn detect(master: &str) -> Result<DetectedMaster> {
    detect_at_depth(master, 0)
}

fn detect_at_depth(master: &str, depth: usize) -> Result<DetectedMaster> {
    let invalid = |reason: &str| Error::InvalidMaster {
        master: master.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = master.trim();
    if trimmed.is_empty() {
        return Err(invalid(
            "empty; expected host:port, master@host:port or file:///path",
        ));
    }
    if trimmed.starts_with("zk://") {
        return Err(Error::ZooKeeperUnsupported(trimmed.to_string()));
    }
    if trimmed == "local" || trimmed == "localquiet" {
        return Err(invalid(
            "an in-process cluster is started by mesos-local, not by the driver; \
             start mesos-local and give its master's host:port",
        ));
    }
    if let Some(path) = trimmed.strip_prefix("file://") {
        if depth >= MAX_FILE_INDIRECTIONS {
            return Err(invalid("too many file:// indirections"));
        }
        let contents = std::fs::read_to_string(path).map_err(|source| Error::MasterFile {
            path: path.to_string(),
            source,
        })?;
        return detect_at_depth(contents.trim(), depth + 1);
    }
    let address = match trimmed.split_once('@') {
        Some(("master", address)) => address,
        Some((id, _)) => {
            return Err(invalid(&format!(
                "a master PID must have id 'master', not '{id}'"
            )))
        }
        None => trimmed,
    };
    let address = resolve(address).map_err(|reason| invalid(&reason))?;
    let pid = UPID::new("master", address);
    let info = master_info(&pid);
    Ok(DetectedMaster { pid, info })
}

/// Resolves `host:port` (or `[v6]:port`) to one socket address.
fn resolve(address: &str) -> std::result::Result<SocketAddr, String> {
    if let Ok(literal) = address.parse::<SocketAddr>() {
        return Ok(literal);
    }
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| "expected host:port".to_string())?;
    if host.is_empty() {
        return Err("expected host:port, the host is empty".to_string());
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("port '{port}' is not a number in 0-65535"))?;
    let resolved: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("failed to resolve host '{host}': {e}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("host '{host}' resolves to no address"))
}

/// The `MasterInfo` the standalone detector makes up for a master known
/// only by its PID: a unique id, the (deprecated, network-order) `ip` and
/// `port`, the `address`, the PID and the capabilities of a 1.11 master.
pub fn master_info(pid: &UPID) -> MasterInfo {
    let ip = match pid.ip() {
        // Mesos stores `in_addr.s_addr` as read on a little-endian host.
        IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
        IpAddr::V6(_) => 0,
    };
    let capabilities = [
        master_info::capability::Type::AgentUpdate,
        master_info::capability::Type::AgentDraining,
        master_info::capability::Type::QuotaV2,
    ]
    .into_iter()
    .map(|t| master_info::Capability {
        r#type: Some(t as i32),
    })
    .collect();
    MasterInfo {
        id: format!("{pid}-{}", uuid::Uuid::new_v4()),
        ip,
        port: u32::from(pid.port()),
        pid: Some(pid.to_string()),
        address: Some(Address {
            hostname: None,
            ip: Some(pid.ip().to_string()),
            port: i32::from(pid.port()),
        }),
        capabilities,
        ..MasterInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_and_pid_forms() {
        let plain = detect("127.0.0.1:5050").unwrap();
        assert_eq!(plain.pid.to_string(), "master@127.0.0.1:5050");
        let pid = detect("master@127.0.0.1:5051").unwrap();
        assert_eq!(pid.pid.to_string(), "master@127.0.0.1:5051");
        let named = detect("localhost:5050").unwrap();
        assert_eq!(named.pid.port(), 5050);
        assert!(named.pid.ip().is_loopback());
    }

    #[test]
    fn master_info_matches_what_mesos_reports() {
        let info = detect("127.0.0.1:15150").unwrap().info;
        // The value a real 1.11 master put in FrameworkRegisteredMessage.
        assert_eq!(info.ip, 16777343);
        assert_eq!(info.port, 15150);
        assert_eq!(info.pid.as_deref(), Some("master@127.0.0.1:15150"));
        assert!(info.id.starts_with("master@127.0.0.1:15150-"));
        assert_eq!(info.capabilities.len(), 3);
    }

    #[test]
    fn file_form_reads_the_file() {
        let dir = std::env::temp_dir().join(format!("sched-detect-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("master");
        std::fs::write(&file, "  127.0.0.1:5052\n").unwrap();
        let detected = detect(&format!("file://{}", file.display())).unwrap();
        assert_eq!(detected.pid.to_string(), "master@127.0.0.1:5052");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let cases = [
            ("", "invalid master '': empty"),
            ("5050", "invalid master '5050': expected host:port"),
            ("127.0.0.1:99999", "port '99999' is not a number"),
            ("127.0.0.1:", "port '' is not a number"),
            (":5050", "the host is empty"),
            ("slave@127.0.0.1:5050", "must have id 'master', not 'slave'"),
            (
                "no-such-host.invalid:5050",
                "failed to resolve host 'no-such-host.invalid'",
            ),
            (
                "zk://127.0.0.1:2181/mesos",
                "ZooKeeper master detection (zk://) is not supported yet",
            ),
            ("local", "mesos-local"),
            (
                "file:///nonexistent/master",
                "failed to read the master from file '/nonexistent/master'",
            ),
        ];
        for (value, expected) in cases {
            let error = detect(value).unwrap_err().to_string();
            assert!(error.contains(expected), "{value:?}: {error}");
        }
    }

    #[test]
    fn self_referencing_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("sched-detect-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("loop");
        std::fs::write(&file, format!("file://{}", file.display())).unwrap();
        let error = detect(&format!("file://{}", file.display())).unwrap_err();
        assert!(
            error.to_string().contains("too many file:// indirections"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
