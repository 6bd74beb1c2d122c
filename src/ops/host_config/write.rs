//! `host-config --out DIR`: the plan's files written under DIR, all or none
//! ([`crate::delivery::atomic`]), never over an existing file without `--force`, never over an
//! existing KRL.

use std::path::{Path, PathBuf};

use super::{HostConfigError, HostPlan};
use crate::delivery::atomic::{self, PlannedFile};

/// What [`write`] did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Written {
    /// The `--out` directory.
    pub out: PathBuf,
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Files left as they were (an existing KRL).
    pub kept: Vec<PathBuf>,
}

/// Writes the plan's files under `out` (0644, the scripts 0755), all or none. An existing
/// file is an error unless `force`; an existing KRL is always kept.
pub fn write(plan: &HostPlan, out: &Path, force: bool) -> Result<Written, HostConfigError> {
    match std::fs::metadata(out) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(HostConfigError::OutNotDir(out.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HostConfigError::OutMissing(out.to_path_buf()))
        }
        Err(e) => return Err(HostConfigError::io("open", out, e)),
    }
    let mut result = Written {
        out: out.to_path_buf(),
        ..Written::default()
    };
    let mut planned = Vec::new();
    for f in &plan.files {
        let path = out.join(&f.rel);
        let exists = std::fs::symlink_metadata(&path).is_ok();
        if exists && f.keep_existing {
            result.kept.push(path);
            continue;
        }
        if exists && !force {
            return Err(HostConfigError::Exists(path));
        }
        planned.push(PlannedFile {
            path,
            bytes: zeroize::Zeroizing::new(f.bytes.clone()),
            mode: f.mode,
        });
    }
    // Subdirectories (sshd_config.d, breakglass_principals, rsyslog.d) are made just before the
    // write and removed again if it fails and they were new.
    let mut made = Vec::new();
    for p in &planned {
        let dir = p.path.parent().unwrap_or(out);
        if !dir.exists() {
            if let Err(e) = std::fs::create_dir(dir) {
                remove_dirs(&made);
                return Err(HostConfigError::io("create the directory", dir, e));
            }
            made.push(dir.to_path_buf());
        }
    }
    if let Err(e) = atomic::write_all(&planned, force) {
        remove_dirs(&made);
        return Err(from_atomic(e));
    }
    result.written = planned.into_iter().map(|p| p.path).collect();
    Ok(result)
}

/// The atomic writer's failure as host-config's own.
fn from_atomic(e: atomic::AtomicError) -> HostConfigError {
    match e {
        atomic::AtomicError::FileExists(p) => HostConfigError::Exists(p),
        atomic::AtomicError::Io {
            action,
            path,
            source,
        } => HostConfigError::Io {
            action,
            path,
            source,
        },
        other => HostConfigError::Unsupported(other.to_string()),
    }
}

fn remove_dirs(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}
