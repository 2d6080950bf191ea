//! The fetcher: puts a task's `CommandInfo.URIs` into its sandbox before
//! the executor starts, as Mesos's fetcher does: local paths (absolute or
//! `file://`) are copied, `http(s)://` URLs downloaded, archives
//! extracted when `extract` (tar, tar.gz/tgz, zip; gz decompressed), and
//! files made executable when `executable`.
//!
//! It blocks (downloads, disk I/O), so the agent runs it on a blocking
//! thread and hears back with the result.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use mesos_proto::mesos::command_info::Uri;

use crate::error::{Error, Result};

fn fetch_error(uri: &str, reason: impl std::fmt::Display) -> Error {
    Error::Fetch {
        uri: uri.to_string(),
        reason: reason.to_string(),
    }
}

/// The file name a URI lands as: `output_file` if given (which must stay
/// inside the sandbox), else the last path segment.
pub fn destination_name(uri: &Uri) -> std::result::Result<String, String> {
    if let Some(name) = uri.output_file.as_deref().filter(|n| !n.is_empty()) {
        if name.starts_with('/') || name.split('/').any(|c| c == "..") {
            return Err(format!("output_file '{name}' must stay inside the sandbox"));
        }
        return Ok(name.to_string());
    }
    let path = uri.value.split(['?', '#']).next().unwrap_or_default();
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if name.is_empty() || name == ".." || name == "." {
        return Err(format!("cannot name a file after '{}'", uri.value));
    }
    Ok(name.to_string())
}

/// Fetches every URI into `sandbox`, in order; the first failure stops.
pub fn fetch_all(uris: &[Uri], sandbox: &Path) -> Result<()> {
    for uri in uris {
        fetch(uri, sandbox)?;
    }
    Ok(())
}

/// Fetches one URI into `sandbox`.
pub fn fetch(uri: &Uri, sandbox: &Path) -> Result<()> {
    let value = uri.value.trim();
    let name = destination_name(uri).map_err(|r| fetch_error(value, r))?;
    let target = sandbox.join(&name);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| fetch_error(value, e))?;
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        download(value, &target)?;
    } else {
        let source = value.strip_prefix("file://").unwrap_or(value);
        if !source.starts_with('/') {
            return Err(fetch_error(
                value,
                "relative paths and this URI scheme are not supported",
            ));
        }
        fs::copy(source, &target).map_err(|e| fetch_error(value, e))?;
    }
    if uri.executable.unwrap_or(false) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755))
            .map_err(|e| fetch_error(value, e))?;
    } else if uri.extract.unwrap_or(true) {
        extract(&target, sandbox).map_err(|e| fetch_error(value, e))?;
    }
    tracing::info!("fetched '{value}' to '{}'", target.display());
    Ok(())
}

fn download(url: &str, target: &Path) -> Result<()> {
    let response = ureq::get(url).call().map_err(|e| fetch_error(url, e))?;
    let mut reader = response.into_reader();
    let mut file = File::create(target).map_err(|e| fetch_error(url, e))?;
    io::copy(&mut reader, &mut file).map_err(|e| fetch_error(url, e))?;
    Ok(())
}

/// The archive kinds the fetcher extracts, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// `.tar`
    Tar,
    /// `.tar.gz`, `.tgz`
    TarGz,
    /// `.zip`
    Zip,
    /// `.gz` (one compressed file)
    Gz,
}

/// The archive kind of `name`, if it is one.
pub fn archive_kind(name: &str) -> Option<Archive> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Some(Archive::TarGz)
    } else if lower.ends_with(".tar") {
        Some(Archive::Tar)
    } else if lower.ends_with(".zip") {
        Some(Archive::Zip)
    } else if lower.ends_with(".gz") {
        Some(Archive::Gz)
    } else {
        None
    }
}

/// Extracts `file` into `dir` if it is an archive. Entries that would
/// land outside `dir` are refused.
fn extract(file: &Path, dir: &Path) -> io::Result<()> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match archive_kind(name) {
        None => Ok(()),
        Some(Archive::Tar) => tar::Archive::new(File::open(file)?).unpack(dir),
        Some(Archive::TarGz) => {
            tar::Archive::new(flate2::read::GzDecoder::new(File::open(file)?)).unpack(dir)
        }
        Some(Archive::Gz) => {
            let out: PathBuf = dir.join(&name[..name.len() - 3]);
            let mut decoder = flate2::read::GzDecoder::new(File::open(file)?);
            let mut bytes = Vec::new();
            decoder.read_to_end(&mut bytes)?;
            fs::write(out, bytes)
        }
        Some(Archive::Zip) => {
            let mut archive = zip::ZipArchive::new(File::open(file)?)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            for i in 0..archive.len() {
                let mut entry = archive
                    .by_index(i)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let Some(relative) = entry.enclosed_name() else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("zip entry '{}' escapes the sandbox", entry.name()),
                    ));
                };
                let out = dir.join(relative);
                if entry.is_dir() {
                    fs::create_dir_all(&out)?;
                    continue;
                }
                if let Some(parent) = out.parent() {
                    fs::create_dir_all(parent)?;
                }
                let mut target = File::create(&out)?;
                io::copy(&mut entry, &mut target)?;
                if let Some(mode) = entry.unix_mode() {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(&out, fs::Permissions::from_mode(mode & 0o777))?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(value: &str) -> Uri {
        Uri {
            value: value.into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_and_escapes() {
        assert_eq!(
            destination_name(&uri("http://h/a/b.tgz?x=1")).unwrap(),
            "b.tgz"
        );
        assert_eq!(destination_name(&uri("/tmp/x")).unwrap(), "x");
        let mut u = uri("/tmp/x");
        u.output_file = Some("../evil".into());
        assert!(destination_name(&u).is_err());
        assert_eq!(archive_kind("a.TAR.GZ"), Some(Archive::TarGz));
        assert_eq!(archive_kind("a.txt"), None);
    }

    #[test]
    fn copies_local_files_and_extracts_tarballs() {
        let src = tempfile::tempdir().unwrap();
        let sandbox = tempfile::tempdir().unwrap();
        // A tar.gz holding dir/hello.txt.
        let archive = src.path().join("bundle.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(
                File::create(&archive).unwrap(),
                flate2::Compression::default(),
            );
            let mut tar = tar::Builder::new(gz);
            let data = b"hello\n";
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, "dir/hello.txt", &data[..])
                .unwrap();
            tar.into_inner().unwrap().finish().unwrap();
        }
        let script = src.path().join("run.sh");
        fs::write(&script, "#!/bin/sh\necho ok\n").unwrap();

        let mut exe = uri(&format!("file://{}", script.display()));
        exe.executable = Some(true);
        fetch_all(&[uri(archive.to_str().unwrap()), exe], sandbox.path()).unwrap();
        assert_eq!(
            fs::read_to_string(sandbox.path().join("dir/hello.txt")).unwrap(),
            "hello\n"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(sandbox.path().join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
    }

    #[test]
    fn missing_sources_are_clear_errors() {
        let sandbox = tempfile::tempdir().unwrap();
        let err = fetch(&uri("/nonexistent/file"), sandbox.path()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to fetch '/nonexistent/file'"),
            "{err}"
        );
        let err = fetch(&uri("relative/file"), sandbox.path()).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }
}
