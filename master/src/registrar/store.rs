//! Where the registry is kept: in memory, or in one file under the
//! master's work directory, replaced atomically on every write.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use mesos_proto::internal::Registry;
use prost::Message;

use crate::error::MasterError;

/// The registry's storage.
#[derive(Debug)]
pub enum Store {
    /// Nothing survives the master.
    InMemory,
    /// `<work_dir>/registry.pb`, written as temp file + fsync + rename +
    /// fsync of the directory, so a crash leaves the old or the new
    /// registry, never a torn one.
    File(PathBuf),
}

/// The registry file's name under the work directory.
pub const REGISTRY_FILE: &str = "registry.pb";

impl Store {
    /// A durable store under `work_dir` (created if missing).
    pub fn file(work_dir: &Path) -> Result<Store, MasterError> {
        fs::create_dir_all(work_dir).map_err(|e| registry_error(work_dir, e))?;
        Ok(Store::File(work_dir.join(REGISTRY_FILE)))
    }

    /// The stored registry; empty when there is none yet.
    pub fn fetch(&self) -> Result<Registry, MasterError> {
        match self {
            Store::InMemory => Ok(Registry::default()),
            Store::File(path) => match fs::read(path) {
                Ok(bytes) => {
                    Registry::decode(bytes.as_slice()).map_err(|e| MasterError::Registry {
                        path: path.display().to_string(),
                        reason: format!("not a valid registry: {e}"),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
                Err(e) => Err(registry_error(path, e)),
            },
        }
    }

    /// Replaces the stored registry with `registry`.
    pub fn store(&self, registry: &Registry) -> Result<(), MasterError> {
        let Store::File(path) = self else {
            return Ok(());
        };
        let temp = path.with_extension("pb.tmp");
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temp)?;
            file.write_all(&registry.encode_to_vec())?;
            file.sync_all()?;
            fs::rename(&temp, path)?;
            if let Some(dir) = path.parent() {
                fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| registry_error(path, e))
    }
}

fn registry_error(path: &Path, error: std::io::Error) -> MasterError {
    MasterError::Registry {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::internal::registry;
    use mesos_proto::mesos::MasterInfo;

    #[test]
    fn file_store_round_trips_and_starts_empty() {
        let dir = std::env::temp_dir().join(format!("registry-test-{}", uuid::Uuid::new_v4()));
        let store = Store::file(&dir).unwrap();
        assert_eq!(store.fetch().unwrap(), Registry::default());
        let registry = Registry {
            master: Some(registry::Master {
                info: MasterInfo {
                    id: "m".into(),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        store.store(&registry).unwrap();
        assert_eq!(Store::file(&dir).unwrap().fetch().unwrap(), registry);
        assert!(!dir.join("registry.pb.tmp").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_file_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("registry-test-{}", uuid::Uuid::new_v4()));
        let store = Store::file(&dir).unwrap();
        fs::write(dir.join(REGISTRY_FILE), b"\xff\xff\xff").unwrap();
        let err = store.fetch().unwrap_err().to_string();
        assert!(err.contains("not a valid registry"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }
}
