//! Master detection for the driver: the leading master's UPID and the
//! `MasterInfo` Mesos's standalone detector makes up for it.
//!
//! Parsing `--master` (`host:port`, `master@host:port`, `file:///path`;
//! `zk://` and `local` refused) is `mesos_common::master_detector`'s, the
//! one the agent uses too; this module adds what needs libprocess and the
//! protobuf types.

use std::net::IpAddr;

use libprocess::UPID;
use mesos_common::master_detector;
use mesos_proto::mesos::{master_info, Address, MasterInfo};

use crate::error::Result;

/// Where the leading master is, as detected from a `--master` value.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedMaster {
    /// The master's process, `master@ip:port`.
    pub pid: UPID,
    /// What the driver hands to `Scheduler::registered` when the master
    /// itself does not say (the standalone detector's `MasterInfo`).
    pub info: MasterInfo,
}

/// Detects the master named by `master` with mesos-common's detector
/// (which reads `file://` values and resolves host names) and makes up
/// its `MasterInfo`. Errors are [`crate::Error::Detector`].
pub fn detect(master: &str) -> Result<DetectedMaster> {
    let found = master_detector::detect(master)?;
    let pid = UPID::new(found.id, found.address);
    let info = master_info(&pid);
    Ok(DetectedMaster { pid, info })
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
    fn detect_gives_the_master_pid_and_its_info() {
        let detected = detect("localhost:5050").unwrap();
        assert_eq!(detected.pid.to_string(), "master@127.0.0.1:5050");
        assert_eq!(detected.info.pid.as_deref(), Some("master@127.0.0.1:5050"));
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
    fn detection_errors_keep_the_detectors_words() {
        let error = detect("zk://127.0.0.1:2181/mesos").unwrap_err().to_string();
        assert!(
            error.contains("ZooKeeper master detection (zk://) is not supported yet"),
            "{error}"
        );
        let error = detect("nonsense").unwrap_err().to_string();
        assert_eq!(error, "invalid master 'nonsense': expected host:port");
    }
}
