//! `/master/tasks`: every task, paged.

use std::collections::HashMap;
use std::sync::Arc;

use libprocess::{Context, Reply, Request};
use mesos_proto::mesos::Task;

use super::cache::RenderCache;
use super::json;
use super::reads::{self, Endpoint};
use super::snapshot::Snapshot;
use crate::master::Master;

/// Help for `/master/tasks`.
pub const HELP: &str = "Lists tasks from all active frameworks.\n\
Query parameters: limit (default 100), offset (default 0),\n\
order (asc|des by timestamp, default des), framework_id, task_id.";

/// The paging a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Paging {
    /// At most this many tasks.
    pub limit: usize,
    /// Skip this many first.
    pub offset: usize,
    /// Oldest first (`asc`) rather than newest first (`des`).
    pub ascending: bool,
}

/// Reads `limit`, `offset` and `order` as Mesos does: a value that is not
/// an `int` leaves the default, a negative one wraps around to "all" (as
/// Mesos's cast to `size_t` does), and any order but `asc` is `des`.
pub fn paging(request: &Request) -> Paging {
    let number = |name: &str, default: usize| match request.query.get(name) {
        None => default,
        Some(v) => match v.trim().parse::<i32>() {
            Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
            Err(_) => default,
        },
    };
    Paging {
        limit: number("limit", 100),
        offset: number("offset", 0),
        ascending: request.query.get("order").map(String::as_str) == Some("asc"),
    }
}

fn started(task: &Task) -> f64 {
    task.statuses
        .first()
        .and_then(|s| s.timestamp)
        .unwrap_or(0.0)
}

/// A page of every task (live, unreachable, completed) of live and
/// completed frameworks, newest first unless `order=asc`, filtered by
/// `framework_id` and `task_id`.
pub fn render(
    out: &mut Vec<u8>,
    snapshot: &Snapshot,
    cache: &mut RenderCache,
    query: &HashMap<String, String>,
    paging: &Paging,
) {
    let framework = query.get("framework_id");
    let task_id = query.get("task_id");
    let mut all: Vec<&Arc<Task>> = snapshot
        .frameworks
        .iter()
        .chain(snapshot.completed_frameworks.iter().map(Arc::as_ref))
        .filter(|f| framework.is_none_or(|w| *w == f.id))
        .flat_map(|f| f.all_tasks())
        .filter(|t| task_id.is_none_or(|w| *w == t.task_id.value))
        .collect();
    all.sort_by(|a, b| {
        started(a)
            .total_cmp(&started(b))
            .then_with(|| a.task_id.value.cmp(&b.task_id.value))
    });
    if !paging.ascending {
        all.reverse();
    }
    json::object(out, |o| {
        o.array("tasks", |a| {
            for task in all.into_iter().skip(paging.offset).take(paging.limit) {
                a.raw(cache.tasks.task(task));
            }
        });
    });
}

/// `GET /master/tasks`.
pub fn tasks(master: &mut Master, ctx: &mut Context<Master>, request: Request) -> Reply {
    let paging = paging(&request);
    reads::serve(master, ctx, Endpoint::Tasks(paging), request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging_of(query: &[(&str, &str)]) -> Paging {
        paging(&Request {
            method: "GET".into(),
            path: "/master/tasks".into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: Default::default(),
            body: Default::default(),
            client: None,
        })
    }

    #[test]
    fn paging_reads_the_query_as_mesos_does() {
        let p = paging_of(&[]);
        assert_eq!((p.limit, p.offset, p.ascending), (100, 0, false));
        let p = paging_of(&[("limit", "7"), ("offset", "3"), ("order", "asc")]);
        assert_eq!((p.limit, p.offset, p.ascending), (7, 3, true));
        let p = paging_of(&[("limit", "abc"), ("offset", "1.5"), ("order", "sideways")]);
        assert_eq!((p.limit, p.offset, p.ascending), (100, 0, false));
        let p = paging_of(&[("limit", "-1"), ("offset", "99999999999")]);
        assert_eq!((p.limit, p.offset), (usize::MAX, 0));
    }
}
