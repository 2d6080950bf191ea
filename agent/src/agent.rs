//! Starting an agent: the runtime, the `files` process and `slave(1)`,
//! after reading back (and checking) what a previous run checkpointed.

use std::net::{IpAddr, Ipv4Addr};

use libprocess::{Config, Pid, Runtime};
use mesos_common::values::Value;
use mesos_common::{Attributes, Resources};
use mesos_proto::mesos::{value, Attribute, SlaveInfo};

use crate::detect::{total_resources, Machine};
use crate::error::{Error, Result};
use crate::files::Files;
use crate::flags::{AgentFlags, RecoverMode};
use crate::paths::Layout;
use crate::slave::Slave;
use crate::state::{recover::recover, AgentState};

/// A running agent.
pub struct Agent {
    /// Its runtime (one listening socket).
    pub runtime: Runtime,
    /// The agent process.
    pub slave: Pid<Slave>,
    /// The files process.
    pub files: Pid<Files>,
}

impl Agent {
    /// Stops the agent's runtime. Executors keep running, as after a crash.
    pub fn shutdown(&self) {
        self.runtime.shutdown();
    }
}

/// `--attributes` as wire attributes.
pub fn attributes_to_proto(attributes: &Attributes) -> Vec<Attribute> {
    attributes
        .iter()
        .map(|a| {
            let mut out = Attribute {
                name: a.name.clone(),
                ..Default::default()
            };
            match &a.value {
                Value::Scalar(s) => {
                    out.r#type = value::Type::Scalar as i32;
                    out.scalar = Some(value::Scalar { value: s.value() });
                }
                Value::Ranges(r) => {
                    out.r#type = value::Type::Ranges as i32;
                    out.ranges = Some(value::Ranges {
                        range: r
                            .intervals()
                            .iter()
                            .map(|(b, e)| value::Range { begin: *b, end: *e })
                            .collect(),
                    });
                }
                Value::Text(t) => {
                    out.r#type = value::Type::Text as i32;
                    out.text = Some(value::Text { value: t.clone() });
                }
                Value::Set(s) => {
                    out.r#type = value::Type::Set as i32;
                    out.set = Some(value::Set {
                        item: s.iter().cloned().collect(),
                    });
                }
            }
            out
        })
        .collect()
}

/// Whether a recovered agent may continue as `current` (Mesos's
/// `--reconfiguration_policy=equal`): same hostname, resources and
/// attributes.
pub fn check_compatible(
    recovered: &SlaveInfo,
    current: &SlaveInfo,
) -> std::result::Result<(), String> {
    if recovered.hostname != current.hostname {
        return Err(format!(
            "hostname changed from '{}' to '{}'",
            recovered.hostname, current.hostname
        ));
    }
    let old = Resources::from_proto(&recovered.resources).map_err(|e| e.to_string())?;
    let new = Resources::from_proto(&current.resources).map_err(|e| e.to_string())?;
    if old != new {
        return Err(format!("resources changed from '{old}' to '{new}'"));
    }
    let mut a: Vec<String> = recovered
        .attributes
        .iter()
        .map(|x| format!("{x:?}"))
        .collect();
    let mut b: Vec<String> = current
        .attributes
        .iter()
        .map(|x| format!("{x:?}"))
        .collect();
    a.sort();
    b.sort();
    if a != b {
        return Err("attributes changed".to_string());
    }
    Ok(())
}

/// Reads the checkpointed agent and checks it against `info`.
pub fn recover_checked(flags: &AgentFlags, info: &SlaveInfo) -> Result<Option<AgentState>> {
    let layout = Layout::new(&flags.work_dir);
    let state = recover(&layout, flags.strict)?;
    if let (Some(state), RecoverMode::Reconnect) = (&state, flags.recover) {
        check_compatible(&state.info, info).map_err(|reason| {
            Error::Incompatible(reason, layout.latest_agent_link().display().to_string())
        })?;
    }
    Ok(state)
}

/// Starts an agent with `flags` in this OS process.
pub fn start(flags: AgentFlags) -> Result<Agent> {
    std::fs::create_dir_all(&flags.work_dir)
        .map_err(|e| Error::io("failed to create work directory", &flags.work_dir, e))?;
    let mut config = Config::from_env()?;
    config.ip = flags
        .ip
        .unwrap_or(if std::env::var("LIBPROCESS_IP").is_ok() {
            config.ip
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    config.port = flags.port;
    if flags.advertise_ip.is_some() {
        config.advertise_ip = flags.advertise_ip;
    }
    if flags.advertise_port.is_some() {
        config.advertise_port = flags.advertise_port;
    }
    let runtime = Runtime::start(config)?;
    let address = runtime.address();
    let hostname = flags.hostname.clone().unwrap_or_else(|| {
        if address.ip().is_loopback() {
            "localhost".to_string()
        } else {
            libprocess::config::hostname()
        }
    });
    let total = total_resources(&flags.resources, &Machine::detect(&flags.work_dir));
    let info = SlaveInfo {
        hostname,
        resources: total.to_proto(),
        attributes: attributes_to_proto(&flags.attributes),
        id: None,
        checkpoint: Some(true),
        port: Some(address.port() as i32),
        domain: None,
    };
    let recovered = match recover_checked(&flags, &info) {
        Ok(state) => state,
        Err(error) => {
            runtime.shutdown();
            return Err(error);
        }
    };
    let files = runtime.spawn("files", Files::default())?;
    let id = runtime.generate_id("slave");
    tracing::info!(
        "agent {id} starting at {address} with resources {total}, work_dir '{}'",
        flags.work_dir.display()
    );
    let slave = Slave::new(flags, total, info, Some(files.clone()), recovered);
    let slave = runtime.spawn(&id, slave)?;
    runtime.spawn("monitor", crate::monitor::Monitor::new(slave.clone()))?;
    Ok(Agent {
        runtime,
        slave,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_convert_by_kind() {
        let attrs = Attributes::parse("rack:a;cores:8;slots:[1-5]").unwrap();
        let proto = attributes_to_proto(&attrs);
        assert_eq!(proto[0].text.as_ref().unwrap().value, "a");
        assert_eq!(proto[1].scalar.as_ref().unwrap().value, 8.0);
        assert_eq!(proto[2].ranges.as_ref().unwrap().range[0].end, 5);
    }

    #[test]
    fn changed_resources_are_incompatible() {
        let a = SlaveInfo {
            hostname: "h".into(),
            resources: Resources::parse("cpus:2", "*").unwrap().to_proto(),
            ..Default::default()
        };
        let mut b = a.clone();
        assert!(check_compatible(&a, &b).is_ok());
        b.resources = Resources::parse("cpus:3", "*").unwrap().to_proto();
        assert!(check_compatible(&a, &b)
            .unwrap_err()
            .contains("resources changed"));
    }
}
