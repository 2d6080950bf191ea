//! Validation as Mesos's `master/validation.cpp`: pure checks of what
//! agents and frameworks send, returning Mesos's error texts.

/// IDs (task, executor, framework, agent): Mesos's common rules.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".into());
    }
    if id.len() > 255 {
        return Err("ID must not be greater than 255 characters".into());
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}

/// Agent registration messages.
pub mod agent {
    use mesos_common::Resources;
    use mesos_proto::internal::ReregisterSlaveMessage;
    use mesos_proto::mesos::{Resource, SlaveInfo};

    /// A registering agent's info: valid resources. Returns its total.
    pub fn registration(info: &SlaveInfo, checkpointed: &[Resource]) -> Result<Resources, String> {
        if info.hostname.is_empty() {
            return Err("Agent has an empty hostname".into());
        }
        Resources::from_proto(checkpointed)
            .map_err(|e| format!("Invalid checkpointed resources: {e}"))?;
        Resources::from_proto(&info.resources).map_err(|e| format!("Invalid resources: {e}"))
    }

    /// A reregistering agent: an ID, valid resources and tasks.
    pub fn reregistration(message: &ReregisterSlaveMessage) -> Result<Resources, String> {
        let id = message
            .slave
            .id
            .as_ref()
            .map(|i| i.value.as_str())
            .unwrap_or("");
        super::validate_id(id).map_err(|e| format!("Invalid agent ID: {e}"))?;
        let total = registration(&message.slave, &message.checkpointed_resources)?;
        for task in &message.tasks {
            super::validate_id(&task.task_id.value)
                .map_err(|e| format!("Task has an invalid TaskID: {e}"))?;
            if task.slave_id.value != id {
                return Err(format!(
                    "Task {} has an invalid SlaveID '{}'",
                    task.task_id.value, task.slave_id.value
                ));
            }
            Resources::from_proto(&task.resources)
                .map_err(|e| format!("Task uses invalid resources: {e}"))?;
        }
        for executor in &message.executor_infos {
            if executor.framework_id.is_none() {
                return Err("'ExecutorInfo.framework_id' must be set".into());
            }
        }
        Ok(total)
    }
}

/// `FrameworkInfo`.
pub mod framework {
    use mesos_common::resources::validate_role;
    use mesos_proto::mesos::FrameworkInfo;

    use crate::state::{framework_roles, Capabilities};

    /// Roles valid and allowed (`--roles`), as Mesos checks a subscription.
    pub fn validate(info: &FrameworkInfo, allowed: Option<&[String]>) -> Result<(), String> {
        let multi_role = Capabilities::of(info).multi_role;
        if multi_role && info.role.is_some() {
            return Err(
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
                    .into(),
            );
        }
        if !multi_role && !info.roles.is_empty() {
            return Err(
                "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
                    .into(),
            );
        }
        let roles = framework_roles(info);
        let mut seen = std::collections::BTreeSet::new();
        for role in &roles {
            if !seen.insert(role) {
                return Err(format!(
                    "'FrameworkInfo.roles' contains duplicate items: {role}"
                ));
            }
            validate_role(role).map_err(|e| {
                if multi_role {
                    format!("'FrameworkInfo.roles' contains invalid role: {e}")
                } else {
                    format!("'FrameworkInfo.role' is not a valid role: {e}")
                }
            })?;
            if let Some(allowed) = allowed {
                if role != "*" && !allowed.contains(role) {
                    return Err(format!(
                        "Role '{role}' is not present in the master's --roles"
                    ));
                }
            }
        }
        if let Some(id) = &info.id {
            if !id.value.is_empty() {
                super::validate_id(&id.value)
                    .map_err(|e| format!("Framework has an invalid FrameworkID: {e}"))?;
            }
        }
        Ok(())
    }

    /// What a reregistration or update may not change.
    pub fn validate_update(old: &FrameworkInfo, new: &FrameworkInfo) -> Result<(), String> {
        if old.principal != new.principal {
            return Err("Changing framework's principal is not allowed.".into());
        }
        Ok(())
    }
}

/// Offers named in ACCEPT.
pub mod offer {
    use mesos_proto::mesos::OfferId;

    use crate::state::State;

    /// Offers exist, are unique, belong to the framework and lie on one
    /// agent with one allocation role.
    pub fn validate(
        offer_ids: &[OfferId],
        state: &State,
        framework_id: &str,
    ) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut agent: Option<&str> = None;
        let mut role: Option<&str> = None;
        for id in offer_ids {
            if !seen.insert(id.value.as_str()) {
                return Err(format!("Duplicate offer {} in offer list", id.value));
            }
            let Some(offer) = state.offers.get(&id.value) else {
                return Err(format!("Offer {} is no longer valid", id.value));
            };
            if offer.framework_id != framework_id {
                return Err(format!(
                    "Offer {} has invalid framework {} while framework {framework_id} is expected",
                    id.value, offer.framework_id
                ));
            }
            match agent {
                Some(a) if a != offer.agent_id => {
                    return Err(format!(
                        "Aggregated offers must belong to one single agent. Offer {} uses agent {} and agent {a}",
                        id.value, offer.agent_id
                    ))
                }
                _ => agent = Some(&offer.agent_id),
            }
            match role {
                Some(r) if r != offer.role => {
                    return Err(format!(
                        "Aggregated offers must be allocated to the same role. Offer {} uses role {} and another offer uses role {r}",
                        id.value, offer.role
                    ))
                }
                _ => role = Some(&offer.role),
            }
        }
        if offer_ids.is_empty() {
            return Err("No offers specified".into());
        }
        Ok(())
    }
}

/// `TaskInfo` against what was offered.
pub mod task {
    use mesos_common::Resources;
    use mesos_proto::mesos::TaskInfo;

    use crate::state::{Agent, Framework};

    /// Checks `task` in Mesos's order. Returns the task's resources and,
    /// when it brings an executor the agent does not run yet, the
    /// executor's; both with their allocation role set to `role`.
    pub fn validate(
        task: &TaskInfo,
        framework: &Framework,
        agent: &Agent,
        role: &str,
        available: &Resources,
    ) -> Result<(Resources, Option<Resources>), String> {
        super::validate_id(&task.task_id.value)
            .map_err(|e| format!("Task has an invalid TaskID: {e}"))?;
        if framework.tasks.contains_key(&task.task_id.value) {
            return Err(format!("Task has duplicate ID: {}", task.task_id.value));
        }
        if framework.has_unreachable_task(&task.task_id.value) {
            return Err(format!(
                "Task reuses the ID of an unreachable task: {}",
                task.task_id.value
            ));
        }
        if task.slave_id.value != agent.id {
            return Err(format!(
                "Task uses invalid agent {} while agent {} is expected",
                task.slave_id.value, agent.id
            ));
        }
        if let Some(grace) = task
            .kill_policy
            .as_ref()
            .and_then(|k| k.grace_period.as_ref())
        {
            if grace.nanoseconds < 0 {
                return Err("Task's 'kill_policy.grace_period' must be non-negative".into());
            }
        }
        let task_resources = allocated(&task.resources, role)
            .map_err(|e| format!("Task uses invalid resources: {e}"))?;
        if task_resources.is_empty() {
            return Err("Task uses no resources".into());
        }
        if task.executor.is_some() == task.command.is_some() {
            return Err(
                "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                    .into(),
            );
        }
        let mut total = task_resources.clone();
        let mut executor_resources = None;
        if let Some(executor) = &task.executor {
            super::validate_id(&executor.executor_id.value)
                .map_err(|e| format!("Executor has an invalid ExecutorID: {e}"))?;
            if let Some(fid) = &executor.framework_id {
                if fid.value != framework.id {
                    return Err(format!(
                        "Executor has an invalid FrameworkID '{}' (expected '{}')",
                        fid.value, framework.id
                    ));
                }
            }
            if executor.command.is_none() && executor.container.is_none() {
                return Err("'ExecutorInfo.command' must be set".into());
            }
            let running = framework
                .executors
                .get(&agent.id)
                .is_some_and(|e| e.contains_key(&executor.executor_id.value));
            if !running {
                let resources = allocated(&executor.resources, role)
                    .map_err(|e| format!("Executor uses invalid resources: {e}"))?;
                total += &resources;
                executor_resources = Some(resources);
            }
        }
        if !available.contains(&total) {
            return Err(format!(
                "Total resources {total} required by task and its executor is more than available {available}"
            ));
        }
        Ok((task_resources, executor_resources))
    }

    /// Wire resources as allocated to `role` (frameworks that are not
    /// MULTI_ROLE send them without allocation info).
    fn allocated(wire: &[mesos_proto::mesos::Resource], role: &str) -> Result<Resources, String> {
        let mut resources = Resources::from_proto(wire).map_err(|e| e.to_string())?;
        if resources.iter().any(|r| r.allocation_role.is_none()) {
            resources.allocate(role);
        }
        if resources
            .iter()
            .any(|r| r.allocation_role.as_deref() != Some(role))
        {
            return Err(format!("The resources are not allocated to role '{role}'"));
        }
        Ok(resources)
    }
}

/// `mesos.scheduler.Call` envelopes.
pub mod call {
    use mesos_proto::scheduler::call::Type;
    use mesos_proto::scheduler::Call;

    /// The sub-message for the type is present, and the framework ID is
    /// given (and matches the subscription's).
    pub fn validate(call: &Call) -> Result<(), String> {
        let Some(kind) = call.r#type.and_then(|t| Type::try_from(t).ok()) else {
            return Err("Expecting 'type' to be present".into());
        };
        let expect = |present: bool, name: &str| {
            if present {
                Ok(())
            } else {
                Err(format!("Expecting '{name}' to be present"))
            }
        };
        if kind == Type::Subscribe {
            expect(call.subscribe.is_some(), "subscribe")?;
            if let (Some(id), Some(sub)) = (&call.framework_id, &call.subscribe) {
                if sub.framework_info.id.as_ref() != Some(id) {
                    return Err("'framework_id' differs from 'subscribe.framework_info.id'".into());
                }
            }
            return Ok(());
        }
        if call.framework_id.is_none() {
            return Err("Expecting 'framework_id' to be present".into());
        }
        match kind {
            Type::Accept => expect(call.accept.is_some(), "accept"),
            Type::Decline => expect(call.decline.is_some(), "decline"),
            Type::Kill => expect(call.kill.is_some(), "kill"),
            Type::Shutdown => expect(call.shutdown.is_some(), "shutdown"),
            Type::Acknowledge => expect(call.acknowledge.is_some(), "acknowledge"),
            Type::Reconcile => expect(call.reconcile.is_some(), "reconcile"),
            Type::Message => expect(call.message.is_some(), "message"),
            Type::Request => expect(call.request.is_some(), "request"),
            Type::UpdateFramework => expect(call.update_framework.is_some(), "update_framework"),
            Type::Unknown => Err("Expecting 'type' to be present".into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_mesos_rules() {
        assert!(validate_id("task-1").is_ok());
        assert_eq!(validate_id("..").unwrap_err(), "'..' is disallowed");
        assert!(validate_id("a/b")
            .unwrap_err()
            .contains("invalid characters"));
        assert!(validate_id("").is_err());
    }

    #[test]
    fn call_needs_its_sub_message() {
        use mesos_proto::scheduler::call::Type;
        let call = mesos_proto::scheduler::Call {
            r#type: Some(Type::Accept as i32),
            framework_id: Some(mesos_proto::mesos::FrameworkId { value: "f".into() }),
            ..Default::default()
        };
        assert_eq!(
            call::validate(&call).unwrap_err(),
            "Expecting 'accept' to be present"
        );
        let call = mesos_proto::scheduler::Call {
            r#type: Some(Type::Decline as i32),
            ..Default::default()
        };
        assert_eq!(
            call::validate(&call).unwrap_err(),
            "Expecting 'framework_id' to be present"
        );
    }
}
