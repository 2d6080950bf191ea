//! The name of the user this process runs as, which libmesos puts in a
//! `FrameworkInfo` that leaves `user` empty.

use std::ffi::CStr;

/// The current user's name from the password database (NSS included),
/// else `$USER`, else the numeric uid.
pub fn current_user() -> String {
    // SAFETY: getuid never fails and touches no memory of ours.
    let uid = unsafe { libc::getuid() };
    lookup(uid)
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| uid.to_string())
}

fn lookup(uid: libc::uid_t) -> Option<String> {
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids); it is
    // only read after getpwuid_r has filled it.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call, and `buffer.len()` is
    // the buffer's real size; the entry's strings point into `buffer`,
    // which outlives their use below.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so pw_name is a NUL-terminated string
    // inside `buffer`.
    let name = unsafe { CStr::from_ptr(entry.pw_name) };
    name.to_str().ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_user_has_a_name() {
        let user = current_user();
        assert!(!user.is_empty());
        // SAFETY: see above.
        let uid = unsafe { libc::getuid() };
        if uid == 0 {
            assert_eq!(user, "root");
        }
    }
}
