//! The `files` process: `/files/browse`, `/files/read` (with `offset` and
//! `length`, as the web UI tails logs), `/files/download` and
//! `/files/debug` over the sandboxes the agent attached. Nothing outside
//! an attached directory is ever served: `..` is refused, and the real
//! path (symlinks resolved) must still lie inside the directory.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use libprocess::{Context, Process, Reply, Request, Response};
use serde_json::json;

/// Longest read served at once.
const MAX_READ: u64 = 16 * 4096 * 16;

/// The files process.
#[derive(Default)]
pub struct Files {
    attached: BTreeSet<PathBuf>,
}

/// Why a path is refused, as an HTTP answer.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 400: malformed.
    BadRequest(String),
    /// 403: resolves outside its sandbox.
    Forbidden(String),
    /// 404: not attached, or does not exist.
    NotFound(String),
}

impl Refusal {
    fn response(self) -> Response {
        match self {
            Refusal::BadRequest(m) => Response::bad_request(m),
            Refusal::Forbidden(m) => Response::text(403, m),
            Refusal::NotFound(m) => Response::text(404, m),
        }
    }
}

/// Resolves `requested` against the attached directories: it must be
/// absolute, without `..`, inside one of them, exist, and its real path
/// must stay inside that directory's real path.
pub fn resolve(attached: &BTreeSet<PathBuf>, requested: &str) -> Result<PathBuf, Refusal> {
    if requested.is_empty() {
        return Err(Refusal::BadRequest(
            "Expecting 'path=value' in query.".into(),
        ));
    }
    let path = Path::new(requested);
    if requested.contains('\0')
        || path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(Refusal::BadRequest(format!(
            "Invalid path '{requested}': '..' and '.' are not allowed"
        )));
    }
    let root = attached
        .iter()
        .filter(|root| path.starts_with(root))
        .max_by_key(|root| root.as_os_str().len())
        .ok_or_else(|| Refusal::NotFound(format!("'{requested}' is not a sandbox path")))?;
    let real = path
        .canonicalize()
        .map_err(|_| Refusal::NotFound(format!("'{requested}' does not exist")))?;
    let real_root = root
        .canonicalize()
        .map_err(|_| Refusal::NotFound(format!("'{requested}' does not exist")))?;
    if !real.starts_with(&real_root) {
        return Err(Refusal::Forbidden(format!(
            "'{requested}' resolves outside its sandbox"
        )));
    }
    Ok(real)
}

fn mode_string(mode: u32, dir: bool) -> String {
    let mut s = String::with_capacity(10);
    s.push(if dir { 'd' } else { '-' });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

fn group_name(gid: u32) -> String {
    nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid))
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_else(|| gid.to_string())
}

/// How `/files/browse` describes one entry (the virtual path shown is
/// the requested directory joined with the entry's name).
fn describe(shown: &Path, meta: &std::fs::Metadata) -> serde_json::Value {
    json!({
        "path": shown.display().to_string(),
        "nlink": meta.nlink(),
        "size": meta.len(),
        "mtime": meta.mtime(),
        "mode": mode_string(meta.permissions().mode(), meta.is_dir()),
        "uid": user_name(meta.uid()),
        "gid": group_name(meta.gid()),
    })
}

fn parse_i64(request: &Request, name: &str) -> Result<Option<i64>, Response> {
    match request.query.get(name) {
        None => Ok(None),
        Some(text) => text.trim().parse().map(Some).map_err(|_| {
            Response::bad_request(format!("Failed to parse {name}: '{text}' is not a number"))
        }),
    }
}

impl Files {
    /// Serves `dir` (a sandbox) from now on.
    pub fn attach(&mut self, dir: PathBuf) {
        self.attached.insert(dir);
    }

    /// Stops serving `dir`.
    pub fn detach(&mut self, dir: &Path) {
        self.attached.remove(dir);
    }

    fn jsonp(request: &Request) -> Option<&str> {
        request.query.get("jsonp").map(String::as_str)
    }

    fn browse(&self, request: Request) -> Response {
        let requested = request.query.get("path").cloned().unwrap_or_default();
        let real = match resolve(&self.attached, &requested) {
            Ok(real) => real,
            Err(refusal) => return refusal.response(),
        };
        let entries = match std::fs::read_dir(&real) {
            Ok(entries) => entries,
            Err(_) => return Response::text(404, format!("'{requested}' is not a directory")),
        };
        let mut listing: Vec<serde_json::Value> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some(describe(&Path::new(&requested).join(e.file_name()), &meta))
            })
            .collect();
        listing.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        Response::json(&json!(listing), Files::jsonp(&request))
    }

    fn read(&self, request: Request) -> Response {
        let requested = request.query.get("path").cloned().unwrap_or_default();
        let (offset, length) = match (parse_i64(&request, "offset"), parse_i64(&request, "length"))
        {
            (Ok(o), Ok(l)) => (o.unwrap_or(-1), l),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        if offset < -1 {
            return Response::bad_request(format!("Negative offset provided: {offset}"));
        }
        if length.is_some_and(|l| l < -1) {
            return Response::bad_request(format!(
                "Negative length provided: {}",
                length.unwrap_or(0)
            ));
        }
        let real = match resolve(&self.attached, &requested) {
            Ok(real) => real,
            Err(refusal) => return refusal.response(),
        };
        if real.is_dir() {
            return Response::bad_request(format!("Cannot read a directory: '{requested}'"));
        }
        let mut file = match std::fs::File::open(&real) {
            Ok(f) => f,
            Err(e) => return Response::text(404, format!("Failed to open '{requested}': {e}")),
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if offset == -1 {
            return Response::json(&json!({"data": "", "offset": size}), Files::jsonp(&request));
        }
        let offset = (offset as u64).min(size);
        let length = match length {
            None | Some(-1) => size - offset,
            Some(l) => l as u64,
        }
        .min(MAX_READ);
        let mut data = vec![0u8; length.min(size - offset) as usize];
        let read = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut data));
        if let Err(e) = read {
            return Response::text(500, format!("Failed to read '{requested}': {e}"));
        }
        let body = json!({"data": String::from_utf8_lossy(&data), "offset": offset});
        Response::json(&body, Files::jsonp(&request))
    }

    fn download(&self, request: Request) -> Response {
        let requested = request.query.get("path").cloned().unwrap_or_default();
        let real = match resolve(&self.attached, &requested) {
            Ok(real) => real,
            Err(refusal) => return refusal.response(),
        };
        if real.is_dir() {
            return Response::bad_request(format!("Cannot download a directory: '{requested}'"));
        }
        match std::fs::read(&real) {
            Ok(bytes) => {
                let name = real
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Response::ok("application/octet-stream", bytes).with_header(
                    "Content-Disposition",
                    format!("attachment; filename={name}"),
                )
            }
            Err(e) => Response::text(404, format!("Failed to read '{requested}': {e}")),
        }
    }
}

impl Process for Files {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.route("/browse", Some("Lists a sandbox directory."), |f, _, r| {
            Reply::Now(f.browse(r))
        });
        ctx.route("/browse.json", None, |f, _, r| Reply::Now(f.browse(r)));
        ctx.route(
            "/read",
            Some("Reads part of a sandbox file (offset, length)."),
            |f, _, r| Reply::Now(f.read(r)),
        );
        ctx.route("/read.json", None, |f, _, r| Reply::Now(f.read(r)));
        ctx.route("/download", Some("Downloads a sandbox file."), |f, _, r| {
            Reply::Now(f.download(r))
        });
        ctx.route("/download.json", None, |f, _, r| Reply::Now(f.download(r)));
        ctx.route("/debug", Some("The attached directories."), |f, _, r| {
            let map: serde_json::Map<String, serde_json::Value> = f
                .attached
                .iter()
                .map(|p| (p.display().to_string(), json!(p.display().to_string())))
                .collect();
            Reply::Now(Response::json(
                &serde_json::Value::Object(map),
                Files::jsonp(&r),
            ))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_attached_sandboxes() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = dir.path().join("sandbox");
        std::fs::create_dir_all(&sandbox).unwrap();
        std::fs::write(sandbox.join("stdout"), "hi").unwrap();
        std::fs::write(dir.path().join("secret"), "no").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), sandbox.join("link")).unwrap();
        let attached: BTreeSet<PathBuf> = [sandbox.clone()].into();

        let ok = resolve(&attached, sandbox.join("stdout").to_str().unwrap()).unwrap();
        assert!(ok.ends_with("stdout"));
        let dotdot = format!("{}/../secret", sandbox.display());
        assert!(matches!(
            resolve(&attached, &dotdot),
            Err(Refusal::BadRequest(_))
        ));
        assert!(matches!(
            resolve(&attached, sandbox.join("link").to_str().unwrap()),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            resolve(&attached, dir.path().join("secret").to_str().unwrap()),
            Err(Refusal::NotFound(_))
        ));
        assert!(matches!(
            resolve(&attached, "/etc/passwd"),
            Err(Refusal::NotFound(_))
        ));
    }

    #[test]
    fn modes_print_like_ls() {
        assert_eq!(mode_string(0o755, true), "drwxr-xr-x");
        assert_eq!(mode_string(0o640, false), "-rw-r-----");
    }
}
