//! Master detection: where the leading master is, from a `--master`
//! value, as Mesos's standalone detector finds it.
//!
//! Accepted forms:
//! - `host:port` (an IPv4 or `[IPv6]` literal, or a host name),
//! - `master@host:port`, a master's libprocess PID,
//! - `file:///path`, a file whose trimmed contents are one of the forms
//!   (Mesos reads it the same way; a file may name another file, up to
//!   [`MAX_FILE_INDIRECTIONS`] deep, so one naming itself cannot loop).
//!
//! Beyond Mesos, an `http://` in front of the address is tolerated, since
//! operators paste the master's web UI address. `zk://…` and `local` are
//! recognised and refused with a clear error: the first needs a ZooKeeper
//! detector (not built yet), the second an in-process cluster, which
//! `mesos-local` starts.
//!
//! Host names are resolved here, preferring an IPv4 address as libprocess
//! does. The result is the master's process id and socket address, not a
//! libprocess `UPID`: this crate sits below libprocess, so callers build
//! the `UPID` from the two parts.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::{Error, Result};

/// How many `file://` indirections are followed before giving up.
pub const MAX_FILE_INDIRECTIONS: usize = 4;

/// The id of a master's libprocess process; Mesos accepts no other id in
/// a `--master` PID.
pub const MASTER_ID: &str = "master";

/// The leading master as detected: its process id and socket address,
/// the two parts of its PID (`master@ip:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterPid {
    /// The process id, always [`MASTER_ID`].
    pub id: String,
    /// Where the master's process listens (host names resolved).
    pub address: SocketAddr,
}

impl fmt::Display for MasterPid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.address)
    }
}

/// Detects the master named by `master` (see the module docs for the
/// forms). Reads a `file://` value's file and resolves host names; fails
/// with [`Error::InvalidMaster`], [`Error::MasterFile`] or
/// [`Error::ZooKeeperUnsupported`], naming the value that failed.
pub fn detect(master: &str) -> Result<MasterPid> {
    detect_at_depth(master, 0)
}

fn detect_at_depth(master: &str, depth: usize) -> Result<MasterPid> {
    let trimmed = master.trim();
    let invalid = |reason: String| Error::InvalidMaster {
        master: trimmed.to_string(),
        reason,
    };
    if trimmed.is_empty() {
        return Err(invalid(
            "empty; expected host:port, master@host:port or file:///path".into(),
        ));
    }
    if trimmed.starts_with("zk://") {
        return Err(Error::ZooKeeperUnsupported(trimmed.to_string()));
    }
    if trimmed == "local" || trimmed == "localquiet" {
        return Err(invalid(
            "an in-process cluster is started by mesos-local; \
             start mesos-local and give its master's host:port"
                .into(),
        ));
    }
    if let Some(path) = trimmed.strip_prefix("file://") {
        if depth >= MAX_FILE_INDIRECTIONS {
            return Err(invalid(format!(
                "too many file:// indirections (at most {MAX_FILE_INDIRECTIONS})"
            )));
        }
        let file_error = |reason: String| Error::MasterFile {
            path: path.to_string(),
            reason,
        };
        let contents = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        if contents.trim().is_empty() {
            return Err(file_error("the file is empty".into()));
        }
        return detect_at_depth(&contents, depth + 1);
    }
    let address = match trimmed.split_once('@') {
        Some((MASTER_ID, address)) => address,
        Some((id, _)) => {
            return Err(invalid(format!(
                "a master PID must have id '{MASTER_ID}', not '{id}'"
            )))
        }
        None => trimmed,
    };
    let address = resolve(address).map_err(invalid)?;
    Ok(MasterPid {
        id: MASTER_ID.to_string(),
        address,
    })
}

/// Resolves `host:port` (or `[v6]:port`) to one socket address, an IPv4
/// one when the host has both.
fn resolve(address: &str) -> std::result::Result<SocketAddr, String> {
    let address = address.strip_prefix("http://").unwrap_or(address);
    let resolved = match address.parse::<SocketAddr>() {
        Ok(literal) => literal,
        Err(_) => {
            let (host, port) = address
                .rsplit_once(':')
                .ok_or_else(|| "expected host:port".to_string())?;
            if host.is_empty() {
                return Err("expected host:port, the host is empty".into());
            }
            let port: u16 = port
                .parse()
                .map_err(|_| format!("port '{port}' is not a number in 1-65535"))?;
            let all: Vec<SocketAddr> = (host, port)
                .to_socket_addrs()
                .map_err(|e| format!("failed to resolve host '{host}': {e}"))?
                .collect();
            all.iter()
                .find(|a| a.is_ipv4())
                .or_else(|| all.first())
                .copied()
                .ok_or_else(|| format!("host '{host}' resolves to no address"))?
        }
    };
    if resolved.port() == 0 {
        return Err("port 0 is not a port a master listens on".into());
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A scratch directory removed when the test ends.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "mesos-common-detector-{}-{name}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        /// Writes `contents` to `name` and returns its `file://` URI.
        fn file(&self, name: &str, contents: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, contents).unwrap();
            format!("file://{}", path.display())
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn detected(master: &str) -> String {
        detect(master)
            .unwrap_or_else(|e| panic!("{master:?}: {e}"))
            .to_string()
    }

    fn error(master: &str) -> String {
        match detect(master) {
            Ok(pid) => panic!("{master:?} detected as {pid}, expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn host_port_is_the_master_process_there() {
        let pid = detect("127.0.0.1:5050").unwrap();
        assert_eq!(pid.id, "master");
        assert_eq!(pid.address, "127.0.0.1:5050".parse().unwrap());
        assert_eq!(detected("  10.0.0.7:5051\n"), "master@10.0.0.7:5051");
        assert_eq!(detected("[::1]:5050"), "master@[::1]:5050");
    }

    #[test]
    fn master_pid_form_is_taken_as_is() {
        assert_eq!(detected("master@127.0.0.1:5051"), "master@127.0.0.1:5051");
        assert_eq!(
            detect("master@127.0.0.1:5051").unwrap(),
            detect("127.0.0.1:5051").unwrap()
        );
    }

    #[test]
    fn host_names_are_resolved_preferring_ipv4() {
        for value in ["localhost:5050", "master@localhost:5050"] {
            let pid = detect(value).unwrap();
            assert_eq!(pid.address.port(), 5050, "{value}");
            assert!(pid.address.ip().is_loopback(), "{value}: {pid}");
        }
        // localhost has an IPv4 address everywhere; libprocess uses it.
        assert!(detect("localhost:5050").unwrap().address.is_ipv4());
    }

    #[test]
    fn http_prefix_is_tolerated() {
        assert_eq!(detected("http://127.0.0.1:5050"), "master@127.0.0.1:5050");
        assert_eq!(
            detected("master@http://127.0.0.1:5050"),
            "master@127.0.0.1:5050"
        );
    }

    #[test]
    fn file_form_reads_the_trimmed_contents() {
        let scratch = Scratch::new("file");
        let plain = scratch.file("plain", "  127.0.0.1:5052\n");
        assert_eq!(detected(&plain), "master@127.0.0.1:5052");
        let pid = scratch.file("pid", "master@127.0.0.1:5053");
        assert_eq!(detected(&pid), "master@127.0.0.1:5053");
        // A file naming another file is followed, as Mesos does.
        let outer = scratch.file("outer", &format!("{plain}\n"));
        assert_eq!(detected(&outer), "master@127.0.0.1:5052");
    }

    #[test]
    fn bad_ports_are_refused() {
        for (value, expected) in [
            (
                "127.0.0.1:99999",
                "invalid master '127.0.0.1:99999': port '99999' is not a number in 1-65535",
            ),
            ("localhost:http", "port 'http' is not a number"),
            ("127.0.0.1:", "port '' is not a number"),
            ("127.0.0.1:-1", "port '-1' is not a number"),
            ("127.0.0.1:0", "port 0 is not a port a master listens on"),
            ("localhost:0", "port 0 is not a port a master listens on"),
        ] {
            let error = error(value);
            assert!(error.contains(expected), "{value:?}: {error}");
        }
    }

    #[test]
    fn file_errors_name_the_file() {
        let scratch = Scratch::new("file-errors");
        let empty = scratch.file("empty", " \n");
        let path = empty.trim_start_matches("file://");
        assert_eq!(
            error(&empty),
            format!("failed to read the master from file '{path}': the file is empty")
        );

        let missing = scratch.0.join("missing");
        let error_text = error(&format!("file://{}", missing.display()));
        assert!(
            error_text.starts_with(&format!(
                "failed to read the master from file '{}': ",
                missing.display()
            )),
            "{error_text}"
        );
        assert!(error_text.contains("No such file"), "{error_text}");

        let garbage = scratch.file("garbage", "not a master\n");
        assert_eq!(
            error(&garbage),
            "invalid master 'not a master': expected host:port"
        );

        let looping = scratch.0.join("loop");
        let uri = format!("file://{}", looping.display());
        std::fs::write(&looping, &uri).unwrap();
        assert!(error(&uri).contains("too many file:// indirections"));
    }

    #[test]
    fn zookeeper_is_refused_clearly() {
        assert_eq!(
            error(" zk://10.0.0.1:2181,10.0.0.2:2181/mesos "),
            "master 'zk://10.0.0.1:2181,10.0.0.2:2181/mesos': ZooKeeper master \
             detection (zk://) is not supported yet; give the leading master as host:port"
        );
        let scratch = Scratch::new("zk");
        let file = scratch.file("zk", "zk://10.0.0.1:2181/mesos\n");
        assert!(error(&file).contains("ZooKeeper master detection (zk://) is not supported yet"));
    }

    #[test]
    fn garbage_is_refused_naming_the_value() {
        for (value, expected) in [
            ("", "invalid master '': empty; expected host:port"),
            ("   ", "invalid master '': empty"),
            ("nonsense", "invalid master 'nonsense': expected host:port"),
            ("5050", "invalid master '5050': expected host:port"),
            (":5050", "invalid master ':5050': expected host:port, the host is empty"),
            (
                "slave@127.0.0.1:5050",
                "invalid master 'slave@127.0.0.1:5050': a master PID must have id 'master', not 'slave'",
            ),
            ("@127.0.0.1:5050", "must have id 'master', not ''"),
            (
                "no-such-host.invalid:5050",
                "invalid master 'no-such-host.invalid:5050': failed to resolve host 'no-such-host.invalid'",
            ),
            ("local", "invalid master 'local': an in-process cluster is started by mesos-local"),
            ("localquiet", "mesos-local"),
        ] {
            let error = error(value);
            assert!(error.contains(expected), "{value:?}: {error}");
        }
    }
}
