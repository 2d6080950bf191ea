//! Mesos's checks of an executor call that need no agent state
//! (`validateExecutorCall`), with its error texts.

use mesos_proto::executor::call::Type;
use mesos_proto::executor::Call;
use mesos_proto::mesos::{task_status, TaskState, TaskStatus};

/// Whether `bytes` are a UUID as Mesos accepts one: 16 bytes whose version
/// nibble names a known version (1 to 5).
pub fn valid_uuid(bytes: &[u8]) -> bool {
    bytes.len() == 16 && (1..=5).contains(&(bytes[6] >> 4))
}

/// Why `call` is invalid, or Ok.
pub fn validate_call(call: &Call) -> Result<(), String> {
    let Some(kind) = call.r#type else {
        return Err("Expecting 'type' to be present".into());
    };
    let executor = &call.executor_id.value;
    let framework = &call.framework_id.value;
    match Type::try_from(kind).unwrap_or(Type::Unknown) {
        Type::Subscribe if call.subscribe.is_none() => {
            Err("Expecting 'subscribe' to be present".into())
        }
        Type::Update => match &call.update {
            Some(update) => validate_update(&update.status, executor, framework),
            None => Err("Expecting 'update' to be present".into()),
        },
        Type::Message if call.message.is_none() => Err("Expecting 'message' to be present".into()),
        _ => Ok(()),
    }
}

/// Why a status from executor `executor` of `framework` is invalid (in an
/// UPDATE call, or resent with SUBSCRIBE), or Ok.
pub fn validate_update(status: &TaskStatus, executor: &str, framework: &str) -> Result<(), String> {
    let Some(uuid) = &status.uuid else {
        return Err("Expecting 'uuid' to be present".into());
    };
    if !valid_uuid(uuid) {
        return Err("Not a valid UUID".into());
    }
    if let Some(id) = &status.executor_id {
        if id.value != executor {
            return Err(format!(
                "ExecutorID in Call: {executor} does not match ExecutorID in TaskStatus: {}",
                id.value
            ));
        }
    }
    if status.source != Some(task_status::Source::Executor as i32) {
        return Err(format!(
            "Received Call from executor {executor} of framework {framework} with invalid \
             source, expecting 'SOURCE_EXECUTOR'"
        ));
    }
    if status.state == TaskState::TaskStaging as i32 {
        return Err(format!(
            "Received TASK_STAGING from executor {executor} of framework {framework} which \
             is not allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use mesos_proto::executor::call;
    use mesos_proto::mesos::{ExecutorId, FrameworkId};

    fn update(status: TaskStatus) -> Call {
        Call {
            executor_id: ExecutorId { value: "e".into() },
            framework_id: FrameworkId { value: "f".into() },
            r#type: Some(Type::Update as i32),
            update: Some(call::Update { status }),
            ..Default::default()
        }
    }

    fn status() -> TaskStatus {
        TaskStatus {
            state: TaskState::TaskRunning as i32,
            source: Some(task_status::Source::Executor as i32),
            uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
            ..Default::default()
        }
    }

    #[test]
    fn updates_are_checked_as_mesos_checks_them() {
        assert_eq!(validate_call(&update(status())), Ok(()));

        let mut s = status();
        s.uuid = None;
        assert_eq!(
            validate_call(&update(s)).unwrap_err(),
            "Expecting 'uuid' to be present"
        );
        let mut s = status();
        s.uuid = Some(Bytes::from_static(&[0; 16]));
        assert_eq!(validate_call(&update(s)).unwrap_err(), "Not a valid UUID");
        let mut s = status();
        s.executor_id = Some(ExecutorId { value: "x".into() });
        assert!(validate_call(&update(s))
            .unwrap_err()
            .contains("does not match ExecutorID in TaskStatus: x"));
        let mut s = status();
        s.source = Some(task_status::Source::Slave as i32);
        assert!(validate_call(&update(s))
            .unwrap_err()
            .contains("expecting 'SOURCE_EXECUTOR'"));
        let mut s = status();
        s.state = TaskState::TaskStaging as i32;
        assert!(validate_call(&update(s))
            .unwrap_err()
            .contains("TASK_STAGING"));
    }

    #[test]
    fn calls_need_a_type_and_their_body() {
        let mut call = update(status());
        call.r#type = None;
        assert_eq!(
            validate_call(&call).unwrap_err(),
            "Expecting 'type' to be present"
        );
        for (kind, text) in [
            (Type::Subscribe, "Expecting 'subscribe' to be present"),
            (Type::Update, "Expecting 'update' to be present"),
            (Type::Message, "Expecting 'message' to be present"),
        ] {
            let call = Call {
                r#type: Some(kind as i32),
                ..Default::default()
            };
            assert_eq!(validate_call(&call).unwrap_err(), text);
        }
        let heartbeat = Call {
            r#type: Some(Type::Heartbeat as i32),
            ..Default::default()
        };
        assert_eq!(validate_call(&heartbeat), Ok(()));
    }
}
