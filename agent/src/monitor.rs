//! The `monitor` process: `/monitor/statistics`, each executor's resource
//! usage, as Mesos's resource monitor serves it. It asks the agent
//! process for the numbers.

use libprocess::{Context, Pid, Process, Reply, Response};

use crate::slave::Slave;

/// The monitor process.
pub struct Monitor {
    slave: Pid<Slave>,
}

impl Monitor {
    /// A monitor reading from `slave`.
    pub fn new(slave: Pid<Slave>) -> Monitor {
        Monitor { slave }
    }
}

impl Process for Monitor {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        for path in ["/statistics", "/statistics.json"] {
            ctx.route(
                path,
                Some("Resource usage of each executor."),
                |m, _, request| {
                    let usage = m.slave.dispatch(|s, _| s.statistics_json());
                    let jsonp = request.query.get("jsonp").cloned();
                    Reply::later(async move {
                        match usage.await {
                            Ok(json) => Response::json(&json, jsonp.as_deref()),
                            Err(_) => Response::text(503, "the agent is not running"),
                        }
                    })
                },
            );
        }
    }
}
