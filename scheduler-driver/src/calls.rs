//! The `mesos.scheduler.Call`s the driver sends, built as pure functions
//! with the fields libmesos 1.11 sets (compare the decoded captures in
//! `shared/compat/captures/`): `Filters` always present on ACCEPT and
//! DECLINE, `offer_constraints` always present on SUBSCRIBE, the framework
//! id and `force` only once the framework has an id.

use std::collections::BTreeSet;

use bytes::Bytes;
use mesos_proto::mesos::{
    offer, ExecutorId, Filters, FrameworkId, FrameworkInfo, OfferId, Request, SlaveId, TaskId,
    TaskInfo, TaskStatus,
};
use mesos_proto::scheduler::{call, Call, OfferConstraints};

/// A call of `kind` on behalf of framework `framework_id`.
fn call(framework_id: Option<&FrameworkId>, kind: call::Type) -> Call {
    Call {
        framework_id: framework_id.cloned(),
        r#type: Some(kind as i32),
        ..Call::default()
    }
}

/// Whether `framework` has been assigned an id (an empty one counts as none).
pub fn has_id(framework: &FrameworkInfo) -> bool {
    framework.id.as_ref().is_some_and(|id| !id.value.is_empty())
}

/// SUBSCRIBE: registers `framework`, or re-registers it when it has an
/// id; `force` (set only with an id) asks the master to replace any
/// scheduler instance still connected for it, as a failover does.
pub fn subscribe(
    framework: &FrameworkInfo,
    suppressed_roles: &BTreeSet<String>,
    offer_constraints: &OfferConstraints,
    force: bool,
) -> Call {
    let with_id = has_id(framework);
    let mut subscribe = Call {
        subscribe: Some(call::Subscribe {
            framework_info: framework.clone(),
            force: with_id.then_some(force),
            suppressed_roles: suppressed_roles.iter().cloned().collect(),
            offer_constraints: Some(offer_constraints.clone()),
        }),
        ..call(None, call::Type::Subscribe)
    };
    if with_id {
        subscribe.framework_id = framework.id.clone();
    }
    subscribe
}

/// TEARDOWN: the framework is done; the master kills its tasks and
/// forgets it.
pub fn teardown(framework_id: &FrameworkId) -> Call {
    call(Some(framework_id), call::Type::Teardown)
}

/// ACCEPT: uses `offer_ids` for `operations`; what is left of the offers
/// is declined with `filters`.
pub fn accept(
    framework_id: &FrameworkId,
    offer_ids: &[OfferId],
    operations: &[offer::Operation],
    filters: &Filters,
) -> Call {
    Call {
        accept: Some(call::Accept {
            offer_ids: offer_ids.to_vec(),
            operations: operations.to_vec(),
            filters: Some(*filters),
        }),
        ..call(Some(framework_id), call::Type::Accept)
    }
}

/// The LAUNCH operation for `tasks`.
pub fn launch(tasks: &[TaskInfo]) -> offer::Operation {
    offer::Operation {
        r#type: Some(offer::operation::Type::Launch as i32),
        launch: Some(offer::operation::Launch {
            task_infos: tasks.to_vec(),
        }),
        ..offer::Operation::default()
    }
}

/// DECLINE: gives `offer_id` back, not to be offered again for `filters`.
pub fn decline(framework_id: &FrameworkId, offer_id: &OfferId, filters: &Filters) -> Call {
    Call {
        decline: Some(call::Decline {
            offer_ids: vec![offer_id.clone()],
            filters: Some(*filters),
        }),
        ..call(Some(framework_id), call::Type::Decline)
    }
}

/// KILL: kills task `task_id`.
pub fn kill(framework_id: &FrameworkId, task_id: &TaskId) -> Call {
    Call {
        kill: Some(call::Kill {
            task_id: task_id.clone(),
            slave_id: None,
            kill_policy: None,
        }),
        ..call(Some(framework_id), call::Type::Kill)
    }
}

/// REVIVE: clears offer filters and suppression, for `roles` (all roles
/// when empty).
pub fn revive(framework_id: &FrameworkId, roles: &[String]) -> Call {
    Call {
        revive: (!roles.is_empty()).then(|| call::Revive {
            roles: roles.to_vec(),
        }),
        ..call(Some(framework_id), call::Type::Revive)
    }
}

/// SUPPRESS: stops offers for `roles` (all roles when empty).
pub fn suppress(framework_id: &FrameworkId, roles: &[String]) -> Call {
    Call {
        suppress: (!roles.is_empty()).then(|| call::Suppress {
            roles: roles.to_vec(),
        }),
        ..call(Some(framework_id), call::Type::Suppress)
    }
}

/// ACKNOWLEDGE: the update `uuid` of task `task_id` on `slave_id` was
/// handled; the agent may forward the next one.
pub fn acknowledge(
    framework_id: &FrameworkId,
    slave_id: &SlaveId,
    task_id: &TaskId,
    uuid: &Bytes,
) -> Call {
    Call {
        acknowledge: Some(call::Acknowledge {
            slave_id: slave_id.clone(),
            task_id: task_id.clone(),
            uuid: uuid.clone(),
        }),
        ..call(Some(framework_id), call::Type::Acknowledge)
    }
}

/// RECONCILE: asks for the latest state of the tasks in `statuses` (of
/// every known task when empty); only their task and agent ids are sent.
pub fn reconcile(framework_id: &FrameworkId, statuses: &[TaskStatus]) -> Call {
    let tasks = statuses
        .iter()
        .map(|status| call::reconcile::Task {
            task_id: status.task_id.clone(),
            slave_id: status.slave_id.clone(),
        })
        .collect();
    Call {
        reconcile: Some(call::Reconcile { tasks }),
        ..call(Some(framework_id), call::Type::Reconcile)
    }
}

/// MESSAGE: `data` for executor `executor_id` on `slave_id`, relayed by
/// the master.
pub fn message(
    framework_id: &FrameworkId,
    slave_id: &SlaveId,
    executor_id: &ExecutorId,
    data: &Bytes,
) -> Call {
    Call {
        message: Some(call::Message {
            slave_id: slave_id.clone(),
            executor_id: executor_id.clone(),
            data: data.clone(),
        }),
        ..call(Some(framework_id), call::Type::Message)
    }
}

/// REQUEST: asks the allocator for resources (advisory).
pub fn request(framework_id: &FrameworkId, requests: &[Request]) -> Call {
    Call {
        request: Some(call::Request {
            requests: requests.to_vec(),
        }),
        ..call(Some(framework_id), call::Type::Request)
    }
}

/// UPDATE_FRAMEWORK: replaces the framework's `FrameworkInfo`, suppressed
/// roles and offer constraints at the master. `framework` must have its id.
pub fn update_framework(
    framework: &FrameworkInfo,
    suppressed_roles: &BTreeSet<String>,
    offer_constraints: &OfferConstraints,
) -> Call {
    Call {
        update_framework: Some(call::UpdateFramework {
            framework_info: framework.clone(),
            suppressed_roles: suppressed_roles.iter().cloned().collect(),
            offer_constraints: Some(offer_constraints.clone()),
        }),
        ..call(framework.id.as_ref(), call::Type::UpdateFramework)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn framework() -> FrameworkInfo {
        FrameworkInfo {
            user: "root".into(),
            name: "Test Framework (C++)".into(),
            checkpoint: Some(false),
            hostname: Some("vm".into()),
            principal: Some("test-principal".into()),
            capabilities: vec![
                mesos_proto::mesos::framework_info::Capability { r#type: Some(6) },
                mesos_proto::mesos::framework_info::Capability { r#type: Some(7) },
            ],
            roles: vec!["*".into()],
            ..FrameworkInfo::default()
        }
    }

    #[test]
    fn first_subscribe_is_byte_for_byte_what_libmesos_sends() {
        // The body of the first SUBSCRIBE in
        // real_mesos_1.11_master-agent-framework.transcript.txt.
        let expected: &[u8] = b"\x10\x01\x1aA\n=\n\x04root\x12\x14Test Framework (C++)(\x00:\x02vmB\x0etest-principalR\x02\x08\x06R\x02\x08\x07b\x01*\"\x00";
        let call = subscribe(
            &framework(),
            &BTreeSet::new(),
            &OfferConstraints::default(),
            false,
        );
        assert_eq!(call.encode_to_vec(), expected);
    }

    #[test]
    fn resubscribe_carries_the_id_and_force() {
        let mut info = framework();
        info.id = Some(FrameworkId {
            value: "f-1".into(),
        });
        let call = subscribe(
            &info,
            &BTreeSet::from(["a".to_string()]),
            &OfferConstraints::default(),
            true,
        );
        assert_eq!(call.framework_id.unwrap().value, "f-1");
        let subscribe = call.subscribe.unwrap();
        assert_eq!(subscribe.force, Some(true));
        assert_eq!(subscribe.suppressed_roles, vec!["a".to_string()]);
    }

    #[test]
    fn acknowledge_is_byte_for_byte_what_libmesos_sends() {
        let expected: &[u8] = b"\n+\n)0d572a1f-36d1-4189-afe5-16cd45ea4fc7-0000\x10\x08BB\n)\n'0d572a1f-36d1-4189-afe5-16cd45ea4fc7-S0\x12\x03\n\x011\x1a\x10\xf3a[\xa9@\xb9K\x99\x8d'\xd4-j\xba%\x91";
        let call = acknowledge(
            &FrameworkId {
                value: "0d572a1f-36d1-4189-afe5-16cd45ea4fc7-0000".into(),
            },
            &SlaveId {
                value: "0d572a1f-36d1-4189-afe5-16cd45ea4fc7-S0".into(),
            },
            &TaskId { value: "1".into() },
            &Bytes::from_static(b"\xf3a[\xa9@\xb9K\x99\x8d'\xd4-j\xba%\x91"),
        );
        assert_eq!(call.encode_to_vec(), expected);
    }

    #[test]
    fn teardown_is_byte_for_byte_what_libmesos_sends() {
        let expected: &[u8] = b"\n+\n)0d572a1f-36d1-4189-afe5-16cd45ea4fc7-0000\x10\x02";
        let call = teardown(&FrameworkId {
            value: "0d572a1f-36d1-4189-afe5-16cd45ea4fc7-0000".into(),
        });
        assert_eq!(call.encode_to_vec(), expected);
    }

    #[test]
    fn accept_always_carries_filters() {
        let id = FrameworkId { value: "f".into() };
        let call = accept(
            &id,
            &[OfferId { value: "o".into() }],
            &[launch(&[])],
            &Filters::default(),
        );
        let bytes = call.encode_to_vec();
        // ...the empty Filters message at the end: field 3, length 0.
        assert!(bytes.ends_with(b"\x1a\x00"), "{bytes:?}");
        assert_eq!(call.r#type, Some(call::Type::Accept as i32));
    }

    #[test]
    fn revive_and_suppress_name_roles_only_when_given() {
        let id = FrameworkId { value: "f".into() };
        assert!(revive(&id, &[]).revive.is_none());
        assert_eq!(
            suppress(&id, &["r".into()]).suppress.unwrap().roles,
            vec!["r".to_string()]
        );
    }
}
