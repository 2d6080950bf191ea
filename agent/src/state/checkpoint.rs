//! Writing checkpoints so that a crash (even SIGKILL) never leaves a
//! half-written file: whole records go to a temporary file renamed over
//! the old one; logs (`task.updates`) are appended record by record, each
//! length-prefixed as Mesos's `protobuf::write` does, so a torn last
//! record is detected and dropped on reading.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use prost::Message;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("failed to create", parent, e))?;
    }
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = (|| -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.flush()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("failed to checkpoint", path, e)
    })
}

/// Checkpoints one protobuf message (length-prefixed, as Mesos's
/// `state::checkpoint` writes them).
pub fn write_record<M: Message>(path: &Path, message: &M) -> Result<()> {
    write_bytes(path, &frame(message))
}

/// Checkpoints text (pids).
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

fn frame<M: Message>(message: &M) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Appends one record to the log at `path`, creating it and its parents.
pub fn append_record<M: Message>(path: &Path, message: &M) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("failed to create", parent, e))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("failed to open", path, e))?;
    // One write call, so a crash leaves at most one torn record at the end.
    file.write_all(&frame(message))
        .map_err(|e| Error::io("failed to append to", path, e))
}

/// Reads a file written by `write_record`.
pub fn read_record<M: Message + Default>(path: &Path) -> Result<M> {
    let (mut records, torn) = read_records::<M>(path)?;
    if torn || records.len() != 1 {
        return Err(Error::Corrupt {
            path: path.display().to_string(),
            reason: format!("expected one whole record, found {}", records.len()),
        });
    }
    Ok(records.remove(0))
}

/// Reads every whole record of a log; the flag says a torn record was
/// found at the end (a crash mid-append) and ignored.
pub fn read_records<M: Message + Default>(path: &Path) -> Result<(Vec<M>, bool)> {
    let bytes = fs::read(path).map_err(|e| Error::io("failed to read", path, e))?;
    let mut records = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Ok((records, true));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if rest.len() < 4 + len {
            return Ok((records, true));
        }
        let record = M::decode(&rest[4..4 + len]).map_err(|e| Error::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        records.push(record);
        rest = &rest[4 + len..];
    }
    Ok((records, false))
}

/// Points the symlink `link` at `target` (a sibling's name), replacing it
/// atomically.
pub fn link_latest(link: &Path, target: &str) -> Result<()> {
    if let Some(parent) = link.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("failed to create", parent, e))?;
    }
    let tmp = link.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    std::os::unix::fs::symlink(target, &tmp).map_err(|e| Error::io("failed to link", &tmp, e))?;
    fs::rename(&tmp, link).map_err(|e| Error::io("failed to link", link, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::TaskId;

    #[test]
    fn records_round_trip_and_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a/b/task.updates");
        for i in 0..3 {
            append_record(
                &log,
                &TaskId {
                    value: format!("t{i}"),
                },
            )
            .unwrap();
        }
        // Simulate a crash in the middle of a fourth append.
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(&[9, 0, 0, 0, 1]).unwrap();
        let (records, torn) = read_records::<TaskId>(&log).unwrap();
        assert!(torn);
        assert_eq!(records.len(), 3);
        assert_eq!(records[2].value, "t2");

        let one = dir.path().join("x.info");
        write_record(&one, &TaskId { value: "x".into() }).unwrap();
        assert_eq!(read_record::<TaskId>(&one).unwrap().value, "x");
        std::fs::write(&one, b"\x05\x00").unwrap();
        assert!(read_record::<TaskId>(&one).is_err());
    }

    #[test]
    fn latest_link_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("slaves/latest");
        link_latest(&link, "S1").unwrap();
        link_latest(&link, "S2").unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("S2"));
    }
}
