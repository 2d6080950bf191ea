//! Process trees on Linux, read from `/proc`: who descends from whom,
//! killing a whole tree (as stout's `os::killtree`), and what a wait
//! status means. The agent uses these too.

use std::collections::BTreeSet;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The process id.
    pub pid: i32,
    /// Its parent.
    pub ppid: i32,
    /// Its process group.
    pub pgid: i32,
    /// Its session.
    pub sid: i32,
    /// Whether it is a zombie (exited, not reaped).
    pub zombie: bool,
    /// User-mode CPU time, in clock ticks.
    pub utime: u64,
    /// Kernel-mode CPU time, in clock ticks.
    pub stime: u64,
    /// Resident set size, in pages.
    pub rss_pages: u64,
}

/// Parses the contents of `/proc/<pid>/stat`. The command name is in
/// parentheses and may itself hold spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcessInfo> {
    let pid = text.split_whitespace().next()?.parse().ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is the state (field 3 of stat(5)).
    let field = |n: usize| fields.get(n - 3).copied();
    Some(ProcessInfo {
        pid,
        zombie: matches!(field(3)?, "Z" | "X"),
        ppid: field(4)?.parse().ok()?,
        pgid: field(5)?.parse().ok()?,
        sid: field(6)?.parse().ok()?,
        utime: field(14)?.parse().ok()?,
        stime: field(15)?.parse().ok()?,
        rss_pages: field(24)?.parse().ok()?,
    })
}

/// One process, or `None` if it does not exist.
pub fn process(pid: i32) -> Option<ProcessInfo> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Every process currently visible in `/proc`.
pub fn processes() -> Vec<ProcessInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(process)
        .collect()
}

/// Whether `pid` is alive: it exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    process(pid).is_some_and(|p| !p.zombie)
}

/// `root` and everything descending from it, plus every process in the
/// sessions and groups those started: what must die with `root`. A
/// daemonizing child that called `setsid` is still found through its
/// parent link while that parent lives, and through its session after.
pub fn tree(root: i32, all: &[ProcessInfo]) -> Vec<ProcessInfo> {
    let mut members: BTreeSet<i32> = BTreeSet::new();
    if all.iter().any(|p| p.pid == root) {
        members.insert(root);
    }
    loop {
        let sessions: BTreeSet<i32> = all
            .iter()
            .filter(|p| members.contains(&p.pid) && p.sid == p.pid)
            .map(|p| p.sid)
            .collect();
        let groups: BTreeSet<i32> = all
            .iter()
            .filter(|p| members.contains(&p.pid) && p.pgid == p.pid)
            .map(|p| p.pgid)
            .collect();
        let before = members.len();
        for p in all {
            if p.pid != 1
                && (members.contains(&p.ppid)
                    || sessions.contains(&p.sid)
                    || groups.contains(&p.pgid))
            {
                members.insert(p.pid);
            }
        }
        if members.len() == before {
            break;
        }
    }
    all.iter()
        .filter(|p| members.contains(&p.pid))
        .copied()
        .collect()
}

/// Sends `signal` to `root` and its whole tree (see [`tree`]). The tree
/// is stopped first so that nobody forks while it is being signalled,
/// then signalled, then continued. Returns the pids signalled.
pub fn killtree(root: i32, signal: Signal) -> Vec<i32> {
    let members = tree(root, &processes());
    let pids: Vec<i32> = members.iter().map(|p| p.pid).collect();
    let me = std::process::id() as i32;
    let pids: Vec<i32> = pids.into_iter().filter(|p| *p != me).collect();
    for pid in &pids {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGSTOP);
    }
    for pid in &pids {
        let _ = kill(Pid::from_raw(*pid), signal);
    }
    for pid in &pids {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGCONT);
    }
    pids
}

/// How a process ended, worded as Mesos's `WSTRINGIFY`:
/// `exited with status 3`, `terminated with signal Killed`.
pub fn describe_exit(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        format!("exited with status {code}")
    } else if let Some(signal) = status.signal() {
        format!("terminated with signal {}", signal_name(signal))
    } else {
        "exited with unknown status".to_string()
    }
}

/// The wait status as the `int` Mesos puts in `ExitedExecutorMessage`.
pub fn raw_wait_status(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.into_raw()
}

/// `strsignal` text for the common signals.
pub fn signal_name(signal: i32) -> String {
    match Signal::try_from(signal) {
        Ok(Signal::SIGHUP) => "Hangup".into(),
        Ok(Signal::SIGINT) => "Interrupt".into(),
        Ok(Signal::SIGQUIT) => "Quit".into(),
        Ok(Signal::SIGILL) => "Illegal instruction".into(),
        Ok(Signal::SIGABRT) => "Aborted".into(),
        Ok(Signal::SIGFPE) => "Floating point exception".into(),
        Ok(Signal::SIGKILL) => "Killed".into(),
        Ok(Signal::SIGSEGV) => "Segmentation fault".into(),
        Ok(Signal::SIGPIPE) => "Broken pipe".into(),
        Ok(Signal::SIGALRM) => "Alarm clock".into(),
        Ok(Signal::SIGTERM) => "Terminated".into(),
        Ok(Signal::SIGUSR1) => "User defined signal 1".into(),
        Ok(Signal::SIGUSR2) => "User defined signal 2".into(),
        _ => format!("Unknown signal {signal}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, ppid: i32, pgid: i32, sid: i32) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid,
            pgid,
            sid,
            zombie: false,
            utime: 0,
            stime: 0,
            rss_pages: 0,
        }
    }

    #[test]
    fn parses_stat_with_odd_command_names() {
        let text = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 123 4096 55 18446744073709551615";
        let info = parse_stat(text).unwrap();
        assert_eq!(
            (info.pid, info.ppid, info.pgid, info.sid),
            (4242, 1, 4242, 4242)
        );
        assert_eq!((info.utime, info.stime, info.rss_pages), (7, 3, 55));
        assert!(!info.zombie);
    }

    #[test]
    fn tree_follows_children_sessions_and_groups() {
        let all = vec![
            p(1, 0, 1, 1),
            p(10, 1, 10, 10),  // root: session leader
            p(11, 10, 10, 10), // child
            p(12, 11, 12, 12), // grandchild that called setsid
            p(13, 1, 12, 12),  // orphan left in the grandchild's session
            p(20, 1, 20, 20),  // unrelated
        ];
        let pids: Vec<i32> = tree(10, &all).iter().map(|p| p.pid).collect();
        assert_eq!(pids, vec![10, 11, 12, 13]);
        assert!(tree(99, &all).is_empty());
    }

    #[test]
    fn exits_are_worded_as_mesos() {
        use std::os::unix::process::ExitStatusExt;
        let exited = std::process::ExitStatus::from_raw(3 << 8);
        assert_eq!(describe_exit(&exited), "exited with status 3");
        let killed = std::process::ExitStatus::from_raw(9);
        assert_eq!(describe_exit(&killed), "terminated with signal Killed");
    }
}
