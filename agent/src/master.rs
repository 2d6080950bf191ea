//! Where the master is: `--master` as Mesos accepts it.

use std::net::{SocketAddr, ToSocketAddrs};

use libprocess::UPID;

/// A master address from `--master`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterAddress {
    /// A fixed master (`host:port`, `master@host:port`).
    Standalone(UPID),
}

impl MasterAddress {
    /// Parses `host:port`, `master@host:port` or `file:///path` (whose
    /// contents are one of those). `zk://` is not supported yet.
    pub fn parse(text: &str) -> Result<MasterAddress, String> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("file://") {
            let contents = std::fs::read_to_string(path)
                .map_err(|e| format!("failed to read '{path}': {e}"))?;
            if contents.trim().starts_with("file://") {
                return Err("a master file may not point at another file".into());
            }
            return MasterAddress::parse(&contents);
        }
        if text.starts_with("zk://") {
            return Err("ZooKeeper master detection (zk://) is not supported yet".into());
        }
        let (id, address) = match text.split_once('@') {
            Some((id, address)) => (id, address),
            None => ("master", text),
        };
        let address = address.strip_prefix("http://").unwrap_or(address);
        let socket: SocketAddr = match address.parse() {
            Ok(socket) => socket,
            Err(_) => address
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve '{address}': {e}"))?
                .find(|a| a.is_ipv4())
                .ok_or_else(|| format!("'{address}' has no IPv4 address"))?,
        };
        Ok(MasterAddress::Standalone(UPID::new(id, socket)))
    }

    /// The master's UPID.
    pub fn upid(&self) -> &UPID {
        match self {
            MasterAddress::Standalone(pid) => pid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_and_pid_forms() {
        let a = MasterAddress::parse("127.0.0.1:5050").unwrap();
        assert_eq!(a.upid().to_string(), "master@127.0.0.1:5050");
        let b = MasterAddress::parse("master@127.0.0.1:5050").unwrap();
        assert_eq!(a, b);
        assert!(MasterAddress::parse("localhost:5050").is_ok());
    }

    #[test]
    fn file_and_zk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master");
        std::fs::write(&path, "127.0.0.1:6060\n").unwrap();
        let a = MasterAddress::parse(&format!("file://{}", path.display())).unwrap();
        assert_eq!(a.upid().to_string(), "master@127.0.0.1:6060");
        assert!(MasterAddress::parse("zk://h:2181/mesos")
            .unwrap_err()
            .contains("not supported"));
        assert!(MasterAddress::parse("nonsense").is_err());
    }
}
