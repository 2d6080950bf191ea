//! Where the registry is kept: in memory, in one file under the master's
//! work directory (replaced atomically on every write), or in a storage
//! of the embedder's (as Mesos's registrar sits on a pluggable state
//! storage).

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use mesos_proto::internal::Registry;
use prost::Message;

use crate::error::MasterError;

/// A durable place for the encoded registry, other than a file.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Where the registry is, for error messages.
    fn location(&self) -> String;

    /// The stored registry's bytes; `None` when nothing was stored yet.
    fn fetch(&self) -> std::io::Result<Option<Vec<u8>>>;

    /// Replaces the stored registry with the concatenation of `pieces`,
    /// atomically: a crash leaves the old or the new registry. Runs
    /// outside the registrar, which queues operations meanwhile.
    fn store(&self, pieces: &[Bytes]) -> std::io::Result<()>;
}

/// The registry's storage.
#[derive(Debug, Clone)]
pub enum Store {
    /// Nothing survives the master.
    InMemory,
    /// `<work_dir>/registry.pb`, written as temp file + fsync + rename +
    /// fsync of the directory, so a crash leaves the old or the new
    /// registry, never a torn one.
    File(PathBuf),
    /// A storage of the embedder's.
    Custom(Arc<dyn Storage>),
}

/// The registry file's name under the work directory.
pub const REGISTRY_FILE: &str = "registry.pb";

impl Store {
    /// A durable store under `work_dir` (created if missing).
    pub fn file(work_dir: &Path) -> Result<Store, MasterError> {
        fs::create_dir_all(work_dir).map_err(|e| registry_error(work_dir, e))?;
        Ok(Store::File(work_dir.join(REGISTRY_FILE)))
    }

    /// Whether writes are skipped (nothing survives the master).
    pub fn is_in_memory(&self) -> bool {
        matches!(self, Store::InMemory)
    }

    /// The stored registry; empty when there is none yet.
    pub fn fetch(&self) -> Result<Registry, MasterError> {
        let (location, bytes) = match self {
            Store::InMemory => return Ok(Registry::default()),
            Store::File(path) => match fs::read(path) {
                Ok(bytes) => (path.display().to_string(), bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Registry::default())
                }
                Err(e) => return Err(registry_error(path, e)),
            },
            Store::Custom(storage) => match storage.fetch() {
                Ok(Some(bytes)) => (storage.location(), bytes),
                Ok(None) => return Ok(Registry::default()),
                Err(e) => return Err(storage_error(storage.location(), e)),
            },
        };
        Registry::decode(bytes.as_slice()).map_err(|e| MasterError::Registry {
            path: location,
            reason: format!("not a valid registry: {e}"),
        })
    }

    /// Replaces the stored registry with `registry`.
    pub fn store(&self, registry: &Registry) -> Result<(), MasterError> {
        if self.is_in_memory() {
            return Ok(());
        }
        self.store_pieces(&[Bytes::from(registry.encode_to_vec())])
    }

    /// Replaces the stored registry with the concatenation of `pieces`
    /// (an encoded `Registry`).
    pub fn store_pieces(&self, pieces: &[Bytes]) -> Result<(), MasterError> {
        match self {
            Store::InMemory => Ok(()),
            Store::File(path) => {
                write_atomically(path, pieces).map_err(|e| registry_error(path, e))
            }
            Store::Custom(storage) => storage
                .store(pieces)
                .map_err(|e| storage_error(storage.location(), e)),
        }
    }
}

fn write_atomically(path: &Path, pieces: &[Bytes]) -> std::io::Result<()> {
    let temp = path.with_extension("pb.tmp");
    let mut file = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&temp)?);
    for piece in pieces {
        file.write_all(piece)?;
    }
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&temp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn registry_error(path: &Path, error: std::io::Error) -> MasterError {
    storage_error(path.display().to_string(), error)
}

fn storage_error(location: String, error: std::io::Error) -> MasterError {
    MasterError::Registry {
        path: location,
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
