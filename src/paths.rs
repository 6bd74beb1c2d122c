//! Where breakglass keeps its state: the XDG base directories, overridable per item.

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() && PathBuf::from(&v).is_absolute() => PathBuf::from(v),
        _ => home().join(fallback),
    }
}

/// The simulated key's state directory: `BREAKGLASS_SIM_DIR`, else `$XDG_DATA_HOME/breakglass/sim`.
pub fn sim_dir() -> PathBuf {
    match std::env::var_os("BREAKGLASS_SIM_DIR") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => xdg("XDG_DATA_HOME", ".local/share")
            .join("breakglass")
            .join("sim"),
    }
}

/// The audit log: `BREAKGLASS_AUDIT_LOG`, else `$XDG_STATE_HOME/breakglass/audit.jsonl`.
pub fn audit_log() -> PathBuf {
    match std::env::var_os("BREAKGLASS_AUDIT_LOG") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => xdg("XDG_STATE_HOME", ".local/state")
            .join("breakglass")
            .join("audit.jsonl"),
    }
}

/// The operator's login name, for key ids and the audit log.
pub fn operator() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    login_name().unwrap_or_else(|| "unknown".into())
}

/// The login name of the real user from the password database (`getpwuid_r`), without
/// spawning `id -un`.
fn login_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: passwd is plain data; getpwuid_r writes into it and into buf (of the size we
    // pass), and sets result to null or to &pw.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pw.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pw.pw_name)
            .to_string_lossy()
            .into_owned();
        (!name.is_empty()).then_some(name)
    }
}

/// This machine's host name, for key ids and the audit log.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_database_names_the_user_running_the_tests() {
        let name = super::login_name().expect("a passwd entry for the test user");
        let id = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        assert_eq!(name, String::from_utf8_lossy(&id.stdout).trim());
    }
}
