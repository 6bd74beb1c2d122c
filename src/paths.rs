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
    std::process::Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
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
