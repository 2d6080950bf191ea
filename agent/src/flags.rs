//! The agent's flags, declared once (names, defaults and help as Mesos's
//! `mesos-agent`), and `AgentFlags`, their checked, typed form.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use libprocess::UPID;
use mesos_common::flags::{FlagSet, FlagSpec, Flags};
use mesos_common::{master_detector, Attributes, Resources};

use crate::error::{Error, Result};

/// The flag table of `mesos-agent`.
pub const FLAGS: &[FlagSpec] = &[
    FlagSpec::string(
        "master",
        "May be one of:\n  host:port\n  zk://host1:port1,host2:port2,.../path\n  file:///path/to/file (where file contains one of the above)",
    )
    .required(),
    FlagSpec::string("ip", "IP address to listen on."),
    FlagSpec::u16("port", "Port to listen on.").default("5051"),
    FlagSpec::string("advertise_ip", "IP address advertised to reach this agent."),
    FlagSpec::u16("advertise_port", "Port advertised to reach this agent."),
    FlagSpec::string("hostname", "The hostname the agent reports to the master."),
    FlagSpec::bool("hostname_lookup", "Whether to look up the hostname of --ip.").default("true"),
    FlagSpec::path(
        "work_dir",
        "Path of the agent work directory: sandboxes and checkpointed state.",
    )
    .required(),
    FlagSpec::string(
        "resources",
        "Total consumable resources per agent, e.g. 'cpus:4;mem:1024;ports:[31000-32000]', \
         'cpus(role):2', or a JSON array of Resource objects.",
    ),
    FlagSpec::string("attributes", "Attributes of the agent, e.g. 'rack:a;zone:b'."),
    FlagSpec::string("containerizers", "Comma-separated list of containerizers.").default("mesos"),
    FlagSpec::string("isolation", "Isolation mechanisms to use.").default("posix/cpu,posix/mem"),
    FlagSpec::path(
        "launcher_dir",
        "Directory path of Mesos binaries (mesos-executor); default: the agent binary's directory.",
    ),
    FlagSpec::duration(
        "executor_registration_timeout",
        "Amount of time to wait for an executor to register before destroying it.",
    )
    .default("1mins"),
    FlagSpec::duration(
        "executor_reregistration_timeout",
        "How long a recovered agent waits for executors to re-register.",
    )
    .default("2secs"),
    FlagSpec::duration(
        "executor_shutdown_grace_period",
        "Default time an executor has to shut down before it is destroyed.",
    )
    .default("5secs"),
    FlagSpec::string(
        "recover",
        "Whether to recover status updates and reconnect with old executors \
         (reconnect) or kill them and start as a new agent (cleanup).",
    )
    .default("reconnect"),
    FlagSpec::duration(
        "recovery_timeout",
        "How long executors wait for a restarted agent before exiting.",
    )
    .default("15mins"),
    FlagSpec::bool(
        "strict",
        "Whether recovery fails on any error (true) or skips what it cannot read (false).",
    )
    .default("true"),
    FlagSpec::duration(
        "gc_delay",
        "Maximum time before an executor's sandbox is garbage collected; sooner as the disk fills.",
    )
    .default("1weeks"),
    FlagSpec::f64("gc_disk_headroom", "Disk fraction kept free by faster garbage collection.")
        .default("0.1"),
    FlagSpec::duration("disk_watch_interval", "Periodic time interval for disk usage checks.")
        .default("1mins"),
    FlagSpec::bool(
        "switch_user",
        "Run tasks as the framework's user (needs the agent to run as root).",
    )
    .default("true"),
    FlagSpec::string("default_role", "Role of resources given without one in --resources.")
        .default("*"),
    FlagSpec::duration(
        "registration_backoff_factor",
        "Initial and doubling bound of the random backoff between (re-)registration attempts.",
    )
    .default("1secs"),
    FlagSpec::u32(
        "max_completed_executors_per_framework",
        "Completed executors kept in memory per framework (for /state).",
    )
    .default("150"),
    FlagSpec::bool("http_command_executor", "Use the HTTP command executor (unsupported).")
        .default("false"),
    FlagSpec::string("logging_level", "Log level: INFO, WARNING, ERROR.").default("INFO"),
];

/// How a restarted agent treats what it checkpointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverMode {
    /// Reconnect to live executors, replay status updates.
    Reconnect,
    /// Kill old executors and start as a new agent.
    Cleanup,
}

/// The agent's checked settings.
#[derive(Debug, Clone)]
pub struct AgentFlags {
    /// The master's PID, detected from `--master`.
    pub master: UPID,
    /// `--ip`.
    pub ip: Option<IpAddr>,
    /// `--port`.
    pub port: u16,
    /// `--advertise_ip`.
    pub advertise_ip: Option<IpAddr>,
    /// `--advertise_port`.
    pub advertise_port: Option<u16>,
    /// `--hostname`.
    pub hostname: Option<String>,
    /// `--work_dir`.
    pub work_dir: PathBuf,
    /// `--resources`, parsed (auto-detection fills the rest later).
    pub resources: Resources,
    /// `--attributes`, parsed.
    pub attributes: Attributes,
    /// `--launcher_dir`.
    pub launcher_dir: PathBuf,
    /// `--executor_registration_timeout`.
    pub executor_registration_timeout: Duration,
    /// `--executor_reregistration_timeout`.
    pub executor_reregistration_timeout: Duration,
    /// `--executor_shutdown_grace_period`.
    pub executor_shutdown_grace_period: Duration,
    /// `--recover`.
    pub recover: RecoverMode,
    /// `--recovery_timeout`.
    pub recovery_timeout: Duration,
    /// `--strict`.
    pub strict: bool,
    /// `--gc_delay`.
    pub gc_delay: Duration,
    /// `--gc_disk_headroom`.
    pub gc_disk_headroom: f64,
    /// `--disk_watch_interval`.
    pub disk_watch_interval: Duration,
    /// `--switch_user`.
    pub switch_user: bool,
    /// `--default_role`.
    pub default_role: String,
    /// `--registration_backoff_factor`.
    pub registration_backoff_factor: Duration,
    /// `--max_completed_executors_per_framework`.
    pub max_completed_executors: usize,
    /// The flags as loaded, for `/flags` and `/state`.
    pub raw: Flags,
}

fn flag_error(flag: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::Flag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn ip(flags: &Flags, name: &'static str) -> Result<Option<IpAddr>> {
    flags
        .get_str(name)
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| flag_error(name, text, "not an IP address"))
        })
        .transpose()
}

/// The flag set to load from.
pub fn flag_set() -> FlagSet {
    FlagSet::new(FLAGS).with_usage_message("Usage: mesos-agent [options]")
}

impl AgentFlags {
    /// Checks and converts loaded flags.
    pub fn from_flags(flags: Flags) -> Result<AgentFlags> {
        let str_flag = |name: &str| flags.get_str(name).unwrap_or_default().to_string();
        let master_text = str_flag("master");
        let master = master_detector::detect(&master_text).map_err(Error::MasterDetector)?;
        let master = UPID::new(master.id, master.address);
        let default_role = str_flag("default_role");
        let resources = match flags.get_str("resources") {
            Some(text) => Resources::parse(text, &default_role)?,
            None => Resources::new(),
        };
        let attributes = match flags.get_str("attributes") {
            Some(text) => Attributes::parse(text)?,
            None => Attributes::default(),
        };
        let containerizers = str_flag("containerizers");
        for c in containerizers.split(',').map(str::trim) {
            if c != "mesos" {
                return Err(flag_error(
                    "containerizers",
                    &containerizers,
                    format!("unsupported containerizer '{c}' (only 'mesos')"),
                ));
            }
        }
        let isolation = str_flag("isolation");
        for i in isolation
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if !matches!(
                i,
                "posix/cpu" | "posix/mem" | "posix/disk" | "filesystem/posix"
            ) {
                return Err(flag_error(
                    "isolation",
                    &isolation,
                    format!("unsupported isolator '{i}'"),
                ));
            }
        }
        let recover_text = str_flag("recover");
        let recover = match recover_text.as_str() {
            "reconnect" => RecoverMode::Reconnect,
            "cleanup" => RecoverMode::Cleanup,
            _ => {
                return Err(flag_error(
                    "recover",
                    &recover_text,
                    "must be 'reconnect' or 'cleanup'",
                ))
            }
        };
        if flags.get_bool("http_command_executor") == Some(true) {
            return Err(flag_error(
                "http_command_executor",
                "true",
                "the HTTP command executor is not supported",
            ));
        }
        let launcher_dir = match flags.get_str("launcher_dir") {
            Some(dir) => PathBuf::from(dir),
            None => std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        let headroom = flags.get_f64("gc_disk_headroom").unwrap_or(0.1);
        if !(0.0..=1.0).contains(&headroom) {
            return Err(flag_error(
                "gc_disk_headroom",
                &headroom.to_string(),
                "must be between 0.0 and 1.0",
            ));
        }
        let duration = |name: &str| {
            flags
                .get_duration(name)
                .map(|d| d.to_std())
                .unwrap_or_default()
        };
        Ok(AgentFlags {
            master,
            ip: ip(&flags, "ip")?,
            port: flags.get_u16("port").unwrap_or(5051),
            advertise_ip: ip(&flags, "advertise_ip")?,
            advertise_port: flags.get_u16("advertise_port"),
            hostname: flags.get_str("hostname").map(str::to_string),
            work_dir: PathBuf::from(str_flag("work_dir")),
            resources,
            attributes,
            launcher_dir,
            executor_registration_timeout: duration("executor_registration_timeout"),
            executor_reregistration_timeout: duration("executor_reregistration_timeout"),
            executor_shutdown_grace_period: duration("executor_shutdown_grace_period"),
            recover,
            recovery_timeout: duration("recovery_timeout"),
            strict: flags.get_bool("strict").unwrap_or(true),
            gc_delay: duration("gc_delay"),
            gc_disk_headroom: headroom,
            disk_watch_interval: duration("disk_watch_interval"),
            switch_user: flags.get_bool("switch_user").unwrap_or(true),
            default_role,
            registration_backoff_factor: duration("registration_backoff_factor"),
            max_completed_executors: flags
                .get_u32("max_completed_executors_per_framework")
                .unwrap_or(150) as usize,
            raw: flags,
        })
    }

    /// Loads from `args` and `env` (`MESOS_*`), as the binary does.
    pub fn load<A, S, E>(args: A, env: E) -> std::result::Result<AgentFlags, String>
    where
        A: IntoIterator<Item = S>,
        S: AsRef<str>,
        E: IntoIterator<Item = (String, String)>,
    {
        let flags = flag_set()
            .load(Some("MESOS_"), args, env)
            .map_err(|e| e.to_string())?;
        AgentFlags::from_flags(flags).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> std::result::Result<AgentFlags, String> {
        let mut argv = vec!["mesos-agent"];
        argv.extend_from_slice(args);
        AgentFlags::load(argv, Vec::new())
    }

    #[test]
    fn master_is_detected_to_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master");
        std::fs::write(&file, "master@localhost:6060\n").unwrap();
        for (value, pid) in [
            ("127.0.0.1:5050", "master@127.0.0.1:5050"),
            ("master@127.0.0.1:5050", "master@127.0.0.1:5050"),
            ("localhost:5050", "master@127.0.0.1:5050"),
            (
                &format!("file://{}", file.display()),
                "master@127.0.0.1:6060",
            ),
        ] {
            let flags = load(&[&format!("--master={value}"), "--work_dir=/tmp/w"]).unwrap();
            assert_eq!(flags.master.to_string(), pid, "{value}");
        }
    }

    #[test]
    fn bad_master_is_a_detector_error() {
        for (value, expected) in [
            (
                "nonsense",
                "Failed to create a master detector: invalid master 'nonsense': expected host:port",
            ),
            (
                "zk://10.0.0.1:2181/mesos",
                "Failed to create a master detector: master 'zk://10.0.0.1:2181/mesos': \
                 ZooKeeper master detection (zk://) is not supported yet",
            ),
            (
                "slave@127.0.0.1:5050",
                "Failed to create a master detector: invalid master 'slave@127.0.0.1:5050': \
                 a master PID must have id 'master', not 'slave'",
            ),
        ] {
            let err = load(&[&format!("--master={value}"), "--work_dir=/tmp/w"]).unwrap_err();
            assert!(err.starts_with(expected), "{value}: {err}");
        }
    }

    #[test]
    fn work_dir_is_required() {
        let err = load(&["--master=127.0.0.1:5050"]).unwrap_err();
        assert_eq!(err, "Flag 'work_dir' is required, but it was not provided");
    }

    #[test]
    fn parses_resources_attributes_and_defaults() {
        let f = load(&[
            "--master=127.0.0.1:5050",
            "--work_dir=/tmp/w",
            "--resources=cpus(role1):2;cpus:1;mem:512;ports:[31000-32000]",
            "--attributes=rack:a;zone:b",
        ])
        .unwrap();
        assert_eq!(f.port, 5051);
        assert_eq!(f.resources.cpus(), Some(3.0));
        assert_eq!(f.resources.reserved(Some("role1")).cpus(), Some(2.0));
        assert_eq!(f.resources.ports().unwrap().count(), 1001);
        assert_eq!(f.attributes.len(), 2);
        assert_eq!(f.recover, RecoverMode::Reconnect);
        assert_eq!(f.executor_shutdown_grace_period, Duration::from_secs(5));
        assert_eq!(f.gc_delay, Duration::from_secs(7 * 24 * 3600));
    }

    #[test]
    fn json_resources_are_accepted() {
        let f = load(&[
            "--master=127.0.0.1:5050",
            "--work_dir=/tmp/w",
            r#"--resources=[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]"#,
        ])
        .unwrap();
        assert_eq!(f.resources.cpus(), Some(4.0));
    }

    #[test]
    fn bad_values_are_named() {
        let err = load(&[
            "--master=127.0.0.1:5050",
            "--work_dir=/w",
            "--recover=maybe",
        ])
        .unwrap_err();
        assert_eq!(
            err,
            "invalid flag --recover='maybe': must be 'reconnect' or 'cleanup'"
        );
        let err = load(&[
            "--master=127.0.0.1:5050",
            "--work_dir=/w",
            "--containerizers=docker",
        ])
        .unwrap_err();
        assert!(err.contains("unsupported containerizer 'docker'"), "{err}");
        let err = load(&[
            "--master=127.0.0.1:5050",
            "--work_dir=/w",
            "--resources=cpus:x",
        ])
        .unwrap_err();
        assert!(err.contains("cpus:x"), "{err}");
    }
}
