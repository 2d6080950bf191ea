//! The agent's HTTP endpoints on `slave(1)`: `/state` (Mesos 1.11's
//! shape), `/health`, `/flags`, and the numbers behind
//! `/monitor/statistics`.

use libprocess::{Context, Reply, Request, Response};
use serde_json::json;

use super::types::ExecutorPhase;
use super::Slave;
use crate::containerizer;
use crate::json;

impl Slave {
    pub(crate) fn install_routes(&mut self, ctx: &mut Context<Self>) {
        for path in ["/state", "/state.json"] {
            ctx.route(
                path,
                Some("Information about the state of this agent."),
                |p, ctx, r| p.state(ctx, r),
            );
        }
        // Mesos 1.11 serves it here (`/slave(1)/monitor/statistics`); the
        // `monitor` process keeps the older top-level path.
        ctx.route(
            "/monitor/statistics",
            Some("Resource usage of each executor."),
            |p, _, r| {
                Reply::Now(Response::json(
                    &p.statistics_json(),
                    r.query.get("jsonp").map(String::as_str),
                ))
            },
        );
        ctx.route("/health", Some("Health check of the agent."), |_, _, _| {
            Reply::Now(Response::status(200))
        });
        ctx.route(
            "/flags",
            Some("The agent's flag configuration."),
            |p, _, r| {
                Reply::Now(Response::json(
                    &p.flags.raw.to_json(),
                    r.query.get("jsonp").map(String::as_str),
                ))
            },
        );
    }

    fn state(&mut self, ctx: &mut Context<Self>, request: Request) -> Reply {
        let total = &self.total;
        let reserved: serde_json::Map<String, serde_json::Value> = {
            let mut roles: Vec<String> = total
                .iter()
                .filter(|r| !r.is_unreserved())
                .map(|r| r.role().to_string())
                .collect();
            roles.sort();
            roles.dedup();
            roles
                .into_iter()
                .map(|role| {
                    let summary = total.reserved(Some(&role)).to_json_summary();
                    (role, summary)
                })
                .collect()
        };
        let used = self.used_resources();
        let mut body = json!({
            "start_time": self.start_time,
            "id": self.id(),
            "pid": ctx.self_pid().to_string(),
            "hostname": self.info.hostname,
            "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
            "resources": total.to_json_summary(),
            "reserved_resources": reserved,
            "unreserved_resources": total.unreserved().to_json_summary(),
            "reserved_resources_allocated": {},
            "unreserved_resources_allocated": used.to_json_summary(),
            "attributes": self.flags.attributes.to_json(),
            "master_hostname": self.master_hostname.clone().unwrap_or_default(),
            "flags": self.flags.raw.to_json()["flags"].clone(),
            "frameworks": self.frameworks.values().map(json::framework).collect::<Vec<_>>(),
            "completed_frameworks": self.completed_frameworks.iter().map(json::framework).collect::<Vec<_>>(),
        });
        if let Some(object) = body.as_object_mut() {
            object.extend(mesos_common::build::info());
        }
        Reply::Now(Response::json(
            &body,
            request.query.get("jsonp").map(String::as_str),
        ))
    }

    /// Each live executor's resource usage, as `/monitor/statistics`
    /// lists it.
    #[allow(deprecated)]
    pub fn statistics_json(&self) -> serde_json::Value {
        let now = mesos_executor::now_secs();
        let mut entries = Vec::new();
        for framework in self.frameworks.values() {
            for executor in framework.executors.values() {
                if executor.phase == ExecutorPhase::Terminated {
                    continue;
                }
                let Some(pid) = executor.os_pid else { continue };
                let usage = containerizer::usage(pid);
                let limits =
                    mesos_common::Resources::from_proto(&executor.resources()).unwrap_or_default();
                let mut statistics = json!({
                    "timestamp": now,
                    "cpus_user_time_secs": usage.cpus_user_time_secs,
                    "cpus_system_time_secs": usage.cpus_system_time_secs,
                    "mem_rss_bytes": usage.mem_rss_bytes,
                    "processes": usage.processes,
                });
                if let Some(cpus) = limits.cpus() {
                    statistics["cpus_limit"] = json!(cpus);
                }
                if let Some(mem) = limits.mem() {
                    statistics["mem_limit_bytes"] = json!(mem.as_u64());
                }
                entries.push(json!({
                    "executor_id": executor.id,
                    "executor_name": executor.info.name.clone().unwrap_or_default(),
                    "framework_id": framework.id,
                    "source": executor.info.source.clone().unwrap_or_default(),
                    "statistics": statistics,
                }));
            }
        }
        json!(entries)
    }
}
