//! What every scenario shares: how to get a master to test (start our
//! binary, or use `--master`), where logs and work directories go, the
//! load generator's thread count, and the table of figures printed at
//! the end.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::target::Target;

/// The settings of a whole run.
pub struct Env {
    /// Our `mesos-master` binary.
    pub binary: PathBuf,
    /// A master someone else runs (address, and its pid if known).
    pub external: Option<(SocketAddr, Option<u32>)>,
    /// Extra flags for our master.
    pub master_flags: Vec<String>,
    /// Whether our master keeps its registry under a `--work_dir`.
    pub durable: bool,
    /// Logs and work directories go here.
    pub dir: PathBuf,
    /// Threads of the load generator's runtime.
    pub workers: usize,
    /// Whether `/master/state` readers accept gzip.
    pub poll_gzip: bool,
    masters: AtomicUsize,
    rows: Mutex<Vec<Row>>,
}

/// One line of the final table.
pub struct Row {
    /// Scenario and workload.
    pub what: String,
    /// The figure.
    pub figure: String,
    /// Mesos's figure and our goal, where the issue gives them.
    pub reference: String,
}

impl Env {
    /// Settings for a run writing under `dir`.
    pub fn new(
        binary: PathBuf,
        external: Option<(SocketAddr, Option<u32>)>,
        master_flags: Vec<String>,
        durable: bool,
        dir: PathBuf,
        workers: usize,
    ) -> Env {
        Env {
            binary,
            external,
            master_flags,
            durable,
            dir,
            workers,
            poll_gzip: false,
            masters: AtomicUsize::new(0),
            rows: Mutex::new(Vec::new()),
        }
    }

    /// A master for a scenario: a fresh one of ours (own work directory
    /// and log, named after `name`), or the external one.
    pub fn master(&self, name: &str) -> Result<Target, String> {
        if let Some((address, pid)) = self.external {
            return Ok(Target::external(address, pid));
        }
        let n = self.masters.fetch_add(1, Ordering::Relaxed) + 1;
        let log = self.dir.join(format!("master-{n}-{name}.log"));
        let work_dir = self.dir.join(format!("master-{n}-{name}"));
        let work_dir = self.durable.then_some(work_dir);
        if let Some(dir) = &work_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let target = Target::start(
            &self.binary,
            work_dir.as_deref(),
            None,
            &self.master_flags,
            &log,
        )?;
        println!(
            "  master: pid {} at {} (log {})",
            target.pid().unwrap_or(0),
            target.address(),
            log.display()
        );
        Ok(target)
    }

    /// A fresh master of ours on `port` with its own empty work
    /// directory, for a master that replaces another one.
    pub fn master_on(&self, name: &str, port: u16) -> Result<Target, String> {
        let n = self.masters.fetch_add(1, Ordering::Relaxed) + 1;
        let log = self.dir.join(format!("master-{n}-{name}.log"));
        let work_dir = self.dir.join(format!("master-{n}-{name}"));
        std::fs::create_dir_all(&work_dir)
            .map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
        let work_dir = self.durable.then_some(work_dir);
        Target::start(
            &self.binary,
            work_dir.as_deref(),
            Some(port),
            &self.master_flags,
            &log,
        )
    }

    /// Adds a line to the final table (and prints it now).
    pub fn record(
        &self,
        what: impl Into<String>,
        figure: impl Into<String>,
        reference: impl Into<String>,
    ) {
        let row = Row {
            what: what.into(),
            figure: figure.into(),
            reference: reference.into(),
        };
        println!("  => {}: {}", row.what, row.figure);
        self.rows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(row);
    }

    /// The final table, as Markdown.
    pub fn table(&self) -> String {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::from("| workload | measured | Mesos 1.11 / goal |\n|---|---|---|\n");
        for row in rows.iter() {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                row.what, row.figure, row.reference
            ));
        }
        out
    }
}

/// A size in bytes as KB/MB.
pub fn size(bytes: f64) -> String {
    if bytes.abs() >= 10.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes / 1024.0 / 1024.0)
    } else {
        format!("{:.1} KB", bytes / 1024.0)
    }
}

/// A duration in seconds with sensible precision.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// CPU used over a wall-clock span, in cores.
pub fn cores(cpu: Option<Duration>, wall: Duration) -> String {
    match cpu {
        Some(cpu) if wall > Duration::ZERO => {
            format!("{:.2}", cpu.as_secs_f64() / wall.as_secs_f64())
        }
        _ => "-".into(),
    }
}
