//! Registry operations: pure changes to the `Registry`, applied by the
//! registrar before the master acts on them.

use mesos_proto::internal::registry;
use mesos_proto::internal::Registry;
use mesos_proto::mesos::{SlaveId, SlaveInfo, TimeInfo};

/// One change to the registry.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Admit a newly registered agent. Refused if its ID is known.
    AdmitSlave(SlaveInfo),
    /// Replace a known agent's info (it reregistered with new info).
    UpdateSlave(SlaveInfo),
    /// Move an admitted agent to the unreachable list.
    MarkSlaveUnreachable {
        /// The agent.
        slave_id: SlaveId,
        /// When it became unreachable, in nanoseconds since the epoch.
        time_nanos: i64,
    },
    /// Admit an agent that reregistered: drop it from the unreachable list
    /// if it is there, and record its info.
    MarkSlaveReachable(SlaveInfo),
    /// Drop an admitted agent (it unregistered); it may register anew.
    RemoveSlave(SlaveId),
    /// Forget an agent for good (marked gone).
    MarkSlaveGone {
        /// The agent.
        slave_id: SlaveId,
        /// When, in nanoseconds since the epoch.
        time_nanos: i64,
    },
}

fn slave_id_of(info: &SlaveInfo) -> &str {
    info.id.as_ref().map(|id| id.value.as_str()).unwrap_or("")
}

impl Operation {
    /// Applies the operation to `registry`. Returns whether anything
    /// changed; `Err` when the operation does not make sense (the
    /// registry is then left as it was).
    pub fn apply(&self, registry: &mut Registry) -> Result<bool, String> {
        let slaves = &mut registry.slaves.get_or_insert_with(Default::default).slaves;
        match self {
            Operation::AdmitSlave(info) => {
                let id = slave_id_of(info);
                if slaves.iter().any(|s| slave_id_of(&s.info) == id) {
                    return Err(format!("agent {id} is already admitted"));
                }
                slaves.push(registry::Slave {
                    info: info.clone(),
                    ..Default::default()
                });
                Ok(true)
            }
            Operation::UpdateSlave(info) => {
                let id = slave_id_of(info);
                match slaves.iter_mut().find(|s| slave_id_of(&s.info) == id) {
                    Some(slave) if slave.info == *info => Ok(false),
                    Some(slave) => {
                        slave.info = info.clone();
                        Ok(true)
                    }
                    None => Err(format!("agent {id} is not admitted")),
                }
            }
            Operation::MarkSlaveUnreachable {
                slave_id,
                time_nanos,
            } => {
                let Some(at) = slaves
                    .iter()
                    .position(|s| slave_id_of(&s.info) == slave_id.value)
                else {
                    return Err(format!("agent {} is not admitted", slave_id.value));
                };
                slaves.remove(at);
                registry
                    .unreachable
                    .get_or_insert_with(Default::default)
                    .slaves
                    .push(registry::UnreachableSlave {
                        id: slave_id.clone(),
                        timestamp: TimeInfo {
                            nanoseconds: *time_nanos,
                        },
                        ..Default::default()
                    });
                Ok(true)
            }
            Operation::MarkSlaveReachable(info) => {
                let id = slave_id_of(info).to_string();
                if let Some(unreachable) = registry.unreachable.as_mut() {
                    unreachable.slaves.retain(|s| s.id.value != id);
                }
                let slaves = &mut registry.slaves.get_or_insert_with(Default::default).slaves;
                match slaves.iter_mut().find(|s| slave_id_of(&s.info) == id) {
                    Some(slave) => slave.info = info.clone(),
                    None => slaves.push(registry::Slave {
                        info: info.clone(),
                        ..Default::default()
                    }),
                }
                Ok(true)
            }
            Operation::RemoveSlave(slave_id) => {
                let before = slaves.len();
                slaves.retain(|s| slave_id_of(&s.info) != slave_id.value);
                if slaves.len() == before {
                    return Err(format!("agent {} is not admitted", slave_id.value));
                }
                Ok(true)
            }
            Operation::MarkSlaveGone {
                slave_id,
                time_nanos,
            } => {
                slaves.retain(|s| slave_id_of(&s.info) != slave_id.value);
                if let Some(unreachable) = registry.unreachable.as_mut() {
                    unreachable.slaves.retain(|s| s.id != *slave_id);
                }
                registry
                    .gone
                    .get_or_insert_with(Default::default)
                    .slaves
                    .push(registry::GoneSlave {
                        id: slave_id.clone(),
                        timestamp: TimeInfo {
                            nanoseconds: *time_nanos,
                        },
                    });
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str) -> SlaveInfo {
        SlaveInfo {
            hostname: "h".into(),
            id: Some(SlaveId { value: id.into() }),
            ..Default::default()
        }
    }

    #[test]
    fn admit_twice_is_refused_and_changes_nothing() {
        let mut registry = Registry::default();
        assert_eq!(
            Operation::AdmitSlave(info("a")).apply(&mut registry),
            Ok(true)
        );
        let before = registry.clone();
        assert!(Operation::AdmitSlave(info("a"))
            .apply(&mut registry)
            .is_err());
        assert_eq!(registry, before);
    }

    #[test]
    fn unreachable_then_reachable_round_trips() {
        let mut registry = Registry::default();
        Operation::AdmitSlave(info("a"))
            .apply(&mut registry)
            .unwrap();
        let op = Operation::MarkSlaveUnreachable {
            slave_id: SlaveId { value: "a".into() },
            time_nanos: 5,
        };
        op.apply(&mut registry).unwrap();
        assert!(registry.slaves.as_ref().unwrap().slaves.is_empty());
        assert_eq!(registry.unreachable.as_ref().unwrap().slaves.len(), 1);
        assert!(op.apply(&mut registry).is_err());
        Operation::MarkSlaveReachable(info("a"))
            .apply(&mut registry)
            .unwrap();
        assert_eq!(registry.slaves.as_ref().unwrap().slaves.len(), 1);
        assert!(registry.unreachable.as_ref().unwrap().slaves.is_empty());
    }
}
