//! The state a framework keeps across its own restarts, as Marathon keeps
//! its in ZooKeeper: its framework id and the tasks it launched. Written
//! to a JSON file (atomically: a temporary file renamed over the old one)
//! before each launch and after each status update, so a framework killed
//! at any point restarts knowing every task it may have launched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One task the framework launched (or was about to launch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The agent it was launched on.
    pub slave_id: String,
    /// Its latest known state (`TASK_STAGING` until an update arrives).
    pub state: String,
}

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameworkState {
    /// The id the master assigned, once registered.
    pub framework_id: Option<String>,
    /// Every task launched, by task id.
    pub tasks: BTreeMap<String, TaskRecord>,
    /// The next sequence number for task ids.
    pub next_task: u64,
}

/// The framework's state, with the file it is kept in (if any).
#[derive(Debug, Clone, Default)]
pub struct StateStore {
    path: Option<PathBuf>,
    /// The state itself; call `save` after changing it.
    pub state: FrameworkState,
}

impl StateStore {
    /// The state in `path`, empty when the file does not exist yet; with
    /// no path the state lives in memory only.
    pub fn open(path: Option<&Path>) -> Result<StateStore> {
        let Some(path) = path else {
            return Ok(StateStore::default());
        };
        let state = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::State {
                action: "read",
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FrameworkState::default(),
            Err(e) => {
                return Err(Error::State {
                    action: "read",
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        Ok(StateStore {
            path: Some(path.to_path_buf()),
            state,
        })
    }

    /// Writes the state to its file.
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let failed = |e: &dyn std::fmt::Display| Error::State {
            action: "write",
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let text = serde_json::to_string_pretty(&self.state).map_err(|e| failed(&e))?;
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, text).map_err(|e| failed(&e))?;
        std::fs::rename(&temporary, path).map_err(|e| failed(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("examples-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let _ = std::fs::remove_file(&path);

        let mut store = StateStore::open(Some(&path)).unwrap();
        assert_eq!(store.state, FrameworkState::default());
        store.state.framework_id = Some("f-1".into());
        store.state.tasks.insert(
            "0".into(),
            TaskRecord {
                slave_id: "a".into(),
                state: "TASK_RUNNING".into(),
            },
        );
        store.save().unwrap();
        let again = StateStore::open(Some(&path)).unwrap();
        assert_eq!(again.state, store.state);

        std::fs::write(&path, "{not json").unwrap();
        let error = StateStore::open(Some(&path)).unwrap_err().to_string();
        assert!(error.starts_with("failed to read state file"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
