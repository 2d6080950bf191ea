//! Registry operations: pure changes to the registry, applied by the
//! registrar before the master acts on them. Each finds its agent by ID
//! in the registrar's index, so it costs O(log n) however many agents
//! the registry holds.

use mesos_proto::internal::registry;
use mesos_proto::internal::Registry;
use mesos_proto::mesos::{SlaveId, SlaveInfo, TimeInfo};

use super::index::{slave_id, IndexedRegistry, Journal};

/// One change to the registry.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Admit a newly registered agent. Refused if its ID is admitted.
    AdmitSlave(SlaveInfo),
    /// Replace an admitted agent's info (it reregistered with new info);
    /// no change when the info is the same.
    UpdateSlave(SlaveInfo),
    /// Move an admitted agent to the unreachable list, keeping its
    /// draining and deactivation state.
    MarkSlaveUnreachable {
        /// The agent.
        slave_id: SlaveId,
        /// When it became unreachable, in nanoseconds since the epoch.
        time_nanos: i64,
    },
    /// Admit an agent that reregistered: move it from the unreachable
    /// list (keeping its draining and deactivation state) or admit it if
    /// unknown. An admitted agent only gets its info replaced when it
    /// differs: an agent reregistering after a master failover with the
    /// info it had changes nothing and costs no write.
    MarkSlaveReachable(SlaveInfo),
    /// Drop an admitted agent (it unregistered); it may register anew.
    RemoveSlave(SlaveId),
    /// Forget an admitted or unreachable agent for good (marked gone).
    /// Refused if it is already gone or not known at all.
    MarkSlaveGone {
        /// The agent.
        slave_id: SlaveId,
        /// When, in nanoseconds since the epoch.
        time_nanos: i64,
    },
}

fn id_of(info: &SlaveInfo) -> Result<&str, String> {
    match slave_id(info) {
        "" => Err(format!("agent '{}' has no ID", info.hostname)),
        id => Ok(id),
    }
}

impl Operation {
    /// Applies the operation to `registry`. Returns whether anything
    /// changed; `Err` when the operation does not make sense (the
    /// registry is then left as it was).
    ///
    /// This indexes the whole registry first (O(n)); the registrar keeps
    /// an index and applies operations to it instead.
    pub fn apply(&self, registry: &mut Registry) -> Result<bool, String> {
        let mut indexed = IndexedRegistry::from(registry.clone());
        let mut journal = Journal::default();
        let changed = self.perform(&mut indexed, &mut journal)?;
        if changed {
            *registry = indexed.to_registry();
        }
        Ok(changed)
    }

    /// Applies the operation to the registrar's index, recording what it
    /// changes in `journal`. Nothing changes when it fails.
    pub(crate) fn perform(
        &self,
        registry: &mut IndexedRegistry,
        journal: &mut Journal,
    ) -> Result<bool, String> {
        match self {
            Operation::AdmitSlave(info) => {
                let id = id_of(info)?;
                if registry.admitted.contains(id) {
                    return Err(format!("agent {id} is already admitted"));
                }
                registry.put_admitted(journal, id, admitted(info));
                Ok(true)
            }
            Operation::UpdateSlave(info) => {
                let id = id_of(info)?;
                let Some(slave) = registry.admitted.get(id) else {
                    return Err(format!("agent {id} is not admitted"));
                };
                if slave.info == *info {
                    return Ok(false);
                }
                let slave = registry::Slave {
                    info: info.clone(),
                    ..slave
                };
                registry.put_admitted(journal, id, slave);
                Ok(true)
            }
            Operation::MarkSlaveUnreachable {
                slave_id,
                time_nanos,
            } => {
                let id = slave_id.value.as_str();
                let Some(slave) = registry.remove_admitted(journal, id) else {
                    return Err(format!("agent {id} is not admitted"));
                };
                let unreachable = registry::UnreachableSlave {
                    id: slave_id.clone(),
                    timestamp: TimeInfo {
                        nanoseconds: *time_nanos,
                    },
                    drain_info: slave.drain_info,
                    deactivated: slave.deactivated,
                };
                registry.put_unreachable(journal, id, unreachable);
                Ok(true)
            }
            Operation::MarkSlaveReachable(info) => {
                let id = id_of(info)?;
                if let Some(slave) = registry.admitted.get(id) {
                    // Admitted already: after a master failover, agents
                    // reregister before anyone marks them unreachable.
                    if slave.info == *info {
                        return Ok(false);
                    }
                    let slave = registry::Slave {
                        info: info.clone(),
                        ..slave
                    };
                    registry.put_admitted(journal, id, slave);
                    return Ok(true);
                }
                let mut slave = admitted(info);
                // Not unreachable either: its entry there was pruned, or
                // it was never known; it is admitted all the same.
                if let Some(unreachable) = registry.remove_unreachable(journal, id) {
                    slave.drain_info = unreachable.drain_info;
                    slave.deactivated = unreachable.deactivated;
                }
                registry.put_admitted(journal, id, slave);
                Ok(true)
            }
            Operation::RemoveSlave(slave_id) => {
                let id = slave_id.value.as_str();
                match registry.remove_admitted(journal, id) {
                    Some(_) => Ok(true),
                    None => Err(format!("agent {id} is not admitted")),
                }
            }
            Operation::MarkSlaveGone {
                slave_id,
                time_nanos,
            } => {
                let id = slave_id.value.as_str();
                if registry.gone.contains(id) {
                    return Err(format!("agent {id} is already marked gone"));
                }
                let admitted = registry.remove_admitted(journal, id).is_some();
                let unreachable = registry.remove_unreachable(journal, id).is_some();
                if !admitted && !unreachable {
                    return Err(format!("agent {id} is neither admitted nor unreachable"));
                }
                let gone = registry::GoneSlave {
                    id: slave_id.clone(),
                    timestamp: TimeInfo {
                        nanoseconds: *time_nanos,
                    },
                };
                registry.put_gone(journal, id, gone);
                Ok(true)
            }
        }
    }
}

fn admitted(info: &SlaveInfo) -> registry::Slave {
    registry::Slave {
        info: info.clone(),
        ..Default::default()
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

    #[test]
    fn a_failed_operation_leaves_the_index_and_journal_untouched() {
        let mut registry = IndexedRegistry::from(Registry::default());
        let mut journal = Journal::default();
        let gone = Operation::MarkSlaveGone {
            slave_id: SlaveId { value: "x".into() },
            time_nanos: 1,
        };
        assert!(gone.perform(&mut registry, &mut journal).is_err());
        assert!(Operation::AdmitSlave(SlaveInfo::default())
            .perform(&mut registry, &mut journal)
            .is_err());
        assert!(journal.is_empty());
        assert_eq!(registry.to_registry(), Registry::default());
    }
}
