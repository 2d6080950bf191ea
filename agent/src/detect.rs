//! The agent's total resources: what `--resources` gives, with `cpus`,
//! `mem`, `disk` and `ports` detected from the machine when not given,
//! as Mesos's containerizer does.

use std::path::Path;

use mesos_common::values::Ranges;
use mesos_common::{Resource, Resources};

/// Megabytes in a gigabyte.
const GB_MB: f64 = 1024.0;

/// What the machine has, as the detection rules need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Machine {
    /// Online CPUs.
    pub cpus: f64,
    /// Total memory, in MB.
    pub mem_mb: f64,
    /// Total size of the filesystem holding the work directory, in MB.
    pub disk_mb: f64,
}

impl Machine {
    /// Reads the machine this runs on; `work_dir` picks the filesystem.
    pub fn detect(work_dir: &Path) -> Machine {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as f64)
            .unwrap_or(1.0);
        let mem_mb = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map(|kb| (kb / 1024.0).floor())
            .unwrap_or(0.0);
        let disk_mb = filesystem_size_mb(work_dir).unwrap_or(0.0);
        Machine {
            cpus,
            mem_mb,
            disk_mb,
        }
    }
}

/// The size of the filesystem holding `path` (or its closest existing
/// ancestor), in MB.
pub fn filesystem_size_mb(path: &Path) -> Option<f64> {
    let stat = statvfs_existing(path)?;
    Some((stat.0 as f64 / (1024.0 * 1024.0)).floor())
}

/// The fraction of the filesystem holding `path` that is used: blocks in
/// use over all blocks, as Mesos's `fs::usage` (free blocks, not those
/// available to unprivileged users: where quotas or reservations keep
/// most of a disk from us, the latter would read as nearly full and
/// sandboxes would be collected at once).
pub fn disk_usage(path: &Path) -> Option<f64> {
    let (total, free) = statvfs_existing(path)?;
    if total == 0 {
        return None;
    }
    Some(1.0 - free as f64 / total as f64)
}

/// (total bytes, free bytes) of the filesystem holding `path`.
fn statvfs_existing(path: &Path) -> Option<(u64, u64)> {
    let mut current = Some(path);
    while let Some(p) = current {
        if let Ok(stat) = nix::sys::statvfs::statvfs(p) {
            let frsize = stat.fragment_size();
            return Some((stat.blocks() * frsize, stat.blocks_free() * frsize));
        }
        current = p.parent();
    }
    None
}

/// `given` plus, for each of `cpus`, `mem`, `disk` and `ports` it does not
/// name, the detected amount (unreserved): memory leaves 1GB (or half,
/// below 2GB) to the system, disk leaves 5GB (or half, below 10GB), and
/// ports are `[31000-32000]`.
pub fn total_resources(given: &Resources, machine: &Machine) -> Resources {
    let mut total = given.clone();
    let missing = |name: &str| given.named(name).is_empty();
    if missing("cpus") {
        total.add_resource(&Resource::scalar("cpus", machine.cpus));
    }
    if missing("mem") {
        let mem = if machine.mem_mb >= 2.0 * GB_MB {
            machine.mem_mb - GB_MB
        } else {
            (machine.mem_mb / 2.0).floor()
        };
        total.add_resource(&Resource::scalar("mem", mem));
    }
    if missing("disk") {
        let disk = if machine.disk_mb >= 10.0 * GB_MB {
            machine.disk_mb - 5.0 * GB_MB
        } else {
            (machine.disk_mb / 2.0).floor()
        };
        total.add_resource(&Resource::scalar("disk", disk));
    }
    if missing("ports") {
        total.add_resource(&Resource::ranges("ports", Ranges::single(31000, 32000)));
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: Machine = Machine {
        cpus: 8.0,
        mem_mb: 16384.0,
        disk_mb: 102400.0,
    };

    #[test]
    fn detects_what_is_not_given() {
        let total = total_resources(&Resources::new(), &BIG);
        assert_eq!(total.cpus(), Some(8.0));
        assert_eq!(total.scalar("mem"), Some(15360.0));
        assert_eq!(total.scalar("disk"), Some(97280.0));
        assert_eq!(total.ports().unwrap().to_string(), "[31000-32000]");
    }

    #[test]
    fn given_resources_win_including_reserved_ones() {
        let given = Resources::parse("cpus(role1):2;mem:100", "*").unwrap();
        let total = total_resources(&given, &BIG);
        assert_eq!(total.cpus(), Some(2.0), "a reserved cpus counts as given");
        assert_eq!(total.scalar("mem"), Some(100.0));
        assert_eq!(total.scalar("disk"), Some(97280.0));
    }

    #[test]
    fn small_machines_keep_half() {
        let small = Machine {
            cpus: 1.0,
            mem_mb: 1000.0,
            disk_mb: 4000.0,
        };
        let total = total_resources(&Resources::new(), &small);
        assert_eq!(total.scalar("mem"), Some(500.0));
        assert_eq!(total.scalar("disk"), Some(2000.0));
    }

    #[test]
    fn this_machine_is_detected() {
        let m = Machine::detect(Path::new("/"));
        assert!(m.cpus >= 1.0 && m.mem_mb > 0.0 && m.disk_mb > 0.0, "{m:?}");
    }
}
