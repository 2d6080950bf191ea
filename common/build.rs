//! Stamps the build for `/version`, `/master/state` and the agent's
//! `/state` (read through `mesos_common::build`): our own git
//! commit and tag, and when and by whom the build was made. Nothing here
//! may fail the build. Outside a git checkout (a tarball, a vendored
//! copy) or without `git`, packagers may pass `MESOS_BUILD_GIT_SHA` and
//! `MESOS_BUILD_GIT_TAG` in the environment; otherwise the commit reads
//! `unknown` and the tag is the crate's version. Tools expect both fields,
//! so they are always there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) for Unix seconds, as Mesos's build date.
fn format_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());

    // Reproducible builds set SOURCE_DATE_EPOCH; otherwise now.
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    println!("cargo:rustc-env=MESOS_BUILD_TIME={time}");
    println!("cargo:rustc-env=MESOS_BUILD_DATE={}", format_date(time));
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    println!("cargo:rustc-env=MESOS_BUILD_USER={user}");

    println!("cargo:rerun-if-env-changed=MESOS_BUILD_GIT_SHA");
    println!("cargo:rerun-if-env-changed=MESOS_BUILD_GIT_TAG");
    let given = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let sha = given("MESOS_BUILD_GIT_SHA")
        .or_else(|| git(&dir, &["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // The tag on the commit, else the nearest one (`v1.2-3-gabcdef`),
    // else our version.
    let tag = given("MESOS_BUILD_GIT_TAG")
        .or_else(|| git(&dir, &["describe", "--tags", "HEAD"]))
        .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
    println!("cargo:rustc-env=MESOS_BUILD_GIT_SHA={sha}");
    println!("cargo:rustc-env=MESOS_BUILD_GIT_TAG={tag}");
    // Stamp again when the checked-out commit moves (HEAD, the branch it
    // points to, packed refs); only paths that exist, since a missing one
    // would rerun this script on every build.
    if let Some(git_dir) = git(&dir, &["rev-parse", "--absolute-git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        let mut watched = vec![git_dir.join("HEAD"), git_dir.join("packed-refs")];
        if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
            watched.push(git_dir.join(branch));
        }
        for path in watched.into_iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
