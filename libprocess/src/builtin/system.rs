//! `/system/stats.json` and the `system/*` metrics: load, CPUs, memory.

use serde_json::{Map, Value};

use crate::http::{Reply, Response};
use crate::process::{Context, Process};

/// Serves `/system/stats.json` and registers the `system/*` gauges.
pub(crate) struct System;

impl Process for System {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        crate::metrics::pull_gauge_fn("system/load_1min", || load().map(|l| l[0]));
        crate::metrics::pull_gauge_fn("system/load_5min", || load().map(|l| l[1]));
        crate::metrics::pull_gauge_fn("system/load_15min", || load().map(|l| l[2]));
        crate::metrics::pull_gauge_fn("system/cpus_total", || Some(cpus()));
        crate::metrics::pull_gauge_fn("system/mem_total_bytes", || memory().map(|m| m.0));
        crate::metrics::pull_gauge_fn("system/mem_free_bytes", || memory().map(|m| m.1));
        ctx.route(
            "/stats.json",
            Some("Shows local system metrics: load averages, cpus_total, mem_total_bytes, mem_free_bytes."),
            |_, _, request| {
                let mut stats = Map::new();
                if let Some([one, five, fifteen]) = load() {
                    stats.insert("avg_load_1min".into(), one.into());
                    stats.insert("avg_load_5min".into(), five.into());
                    stats.insert("avg_load_15min".into(), fifteen.into());
                }
                stats.insert("cpus_total".into(), cpus().into());
                if let Some((total, free)) = memory() {
                    stats.insert("mem_total_bytes".into(), total.into());
                    stats.insert("mem_free_bytes".into(), free.into());
                }
                Reply::Now(Response::json(
                    &Value::Object(stats),
                    request.query.get("jsonp").map(String::as_str),
                ))
            },
        );
    }
}

fn load() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

fn cpus() -> f64 {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64
}

/// Total and free memory in bytes, from `/proc/meminfo`.
fn memory() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024.0)
    };
    Some((field("MemTotal:")?, field("MemFree:")?))
}
