//! Where the agent keeps things under `--work_dir`, following Mesos's
//! layout so operators find sandboxes and checkpoints where they expect:
//!
//! ```text
//! <work_dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>   sandbox
//! <work_dir>/meta/slaves/latest -> <agent>                                     last agent id
//! <work_dir>/meta/slaves/<agent>/slave.info
//! .../frameworks/<fw>/framework.info, framework.pid
//! .../executors/<ex>/executor.info
//! .../runs/<container>/pids/forked.pid, pids/libprocess.pid
//! .../runs/<container>/tasks/<task>/task.info, task.updates
//! ```

use std::path::{Path, PathBuf};

/// The `latest` link in `meta/slaves` and each executor's `runs`.
pub const LATEST: &str = "latest";

/// The paths of one agent's work directory.
#[derive(Debug, Clone)]
pub struct Layout {
    work_dir: PathBuf,
}

impl Layout {
    /// The layout under `work_dir`.
    pub fn new(work_dir: impl Into<PathBuf>) -> Layout {
        Layout {
            work_dir: work_dir.into(),
        }
    }

    /// `--work_dir`.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// `<work_dir>/meta`.
    pub fn meta(&self) -> PathBuf {
        self.work_dir.join("meta")
    }

    /// `meta/slaves/latest`.
    pub fn latest_agent_link(&self) -> PathBuf {
        self.meta().join("slaves").join(LATEST)
    }

    /// `meta/slaves/<agent>`.
    pub fn agent_meta(&self, agent: &str) -> PathBuf {
        self.meta().join("slaves").join(agent)
    }

    /// `meta/slaves/<agent>/slave.info`.
    pub fn agent_info(&self, agent: &str) -> PathBuf {
        self.agent_meta(agent).join("slave.info")
    }

    /// `meta/slaves/<agent>/frameworks/<fw>`.
    pub fn framework_meta(&self, agent: &str, framework: &str) -> PathBuf {
        self.agent_meta(agent).join("frameworks").join(framework)
    }

    /// `.../executors/<ex>` under the framework's meta directory.
    pub fn executor_meta(&self, agent: &str, framework: &str, executor: &str) -> PathBuf {
        self.framework_meta(agent, framework)
            .join("executors")
            .join(executor)
    }

    /// `.../runs/<container>` under the executor's meta directory.
    pub fn run_meta(
        &self,
        agent: &str,
        framework: &str,
        executor: &str,
        container: &str,
    ) -> PathBuf {
        self.executor_meta(agent, framework, executor)
            .join("runs")
            .join(container)
    }

    /// `.../tasks/<task>` under the run's meta directory.
    pub fn task_meta(
        &self,
        agent: &str,
        framework: &str,
        executor: &str,
        container: &str,
        task: &str,
    ) -> PathBuf {
        self.run_meta(agent, framework, executor, container)
            .join("tasks")
            .join(task)
    }

    /// `<work_dir>/slaves/<agent>`.
    pub fn agent_sandboxes(&self, agent: &str) -> PathBuf {
        self.work_dir.join("slaves").join(agent)
    }

    /// The executor's directory holding all its runs.
    pub fn executor_sandboxes(&self, agent: &str, framework: &str, executor: &str) -> PathBuf {
        self.agent_sandboxes(agent)
            .join("frameworks")
            .join(framework)
            .join("executors")
            .join(executor)
    }

    /// The sandbox of one run of an executor.
    pub fn sandbox(
        &self,
        agent: &str,
        framework: &str,
        executor: &str,
        container: &str,
    ) -> PathBuf {
        self.executor_sandboxes(agent, framework, executor)
            .join("runs")
            .join(container)
    }
}

/// Whether `id` is safe as one path component: framework, executor and
/// task ids come from frameworks and must not climb out of the layout.
pub fn valid_component(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.contains('/') && !id.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_layout() {
        let l = Layout::new("/w");
        assert_eq!(
            l.sandbox("S0", "F0", "E0", "C0"),
            PathBuf::from("/w/slaves/S0/frameworks/F0/executors/E0/runs/C0")
        );
        assert_eq!(
            l.task_meta("S0", "F0", "E0", "C0", "T0")
                .join("task.updates"),
            PathBuf::from(
                "/w/meta/slaves/S0/frameworks/F0/executors/E0/runs/C0/tasks/T0/task.updates"
            )
        );
        assert_eq!(
            l.latest_agent_link(),
            PathBuf::from("/w/meta/slaves/latest")
        );
    }

    #[test]
    fn ids_cannot_escape() {
        assert!(valid_component("task-1.2"));
        for bad in ["", ".", "..", "a/b", "../x"] {
            assert!(!valid_component(bad), "{bad:?}");
        }
    }
}
