//! "Can we write here?" answered by writing: a mode bit or an ACL says little about a read-only
//! mount, a full quota or an immutable directory, so before the touch `mint` creates and removes
//! a small file in each directory it will write to. A directory that refuses is reported while
//! the signature has not been asked for yet. A probe left by a process killed between the create
//! and the remove (found by `bench/kill-loop.sh`) is removed by the next probe in that directory
//! once its process is gone.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::{Error, Result};

/// Creates and removes a temporary file in `dir` (`.` for an empty path).
pub fn probe_dir(dir: &Path) -> Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let refused = |source: std::io::Error| Error::DirNotWritable {
        dir: dir.to_path_buf(),
        source,
    };
    sweep(dir);
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).map_err(crate::error::randomness)?;
    let probe = dir.join(format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        crate::hex::encode(&r)
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .map_err(refused)?;
    // Removing it is part of the probe: a directory we cannot unlink in would strand temp files.
    std::fs::remove_file(&probe).map_err(refused)
}

const PREFIX: &str = ".breakglass-probe-";

/// Removes the probes in `dir` whose process no longer runs (`.breakglass-probe-PID-HEX`); a
/// running process's probe is left alone (it removes its own).
fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, hex)| {
                (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| pid.parse::<libc::pid_t>().ok())
                    .flatten()
            })
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The directory a path's file lives in (`.` for a bare name).
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_directory_passes_and_keeps_nothing() {
        let d = tempfile::tempdir().unwrap();
        probe_dir(d.path()).unwrap();
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_probe_left_by_a_dead_process_goes_and_a_live_ones_stays() {
        let d = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = d.path().join(format!("{PREFIX}{dead}-0123456789abcdef"));
        let live = d
            .path()
            .join(format!("{PREFIX}{}-0123456789abcdef", std::process::id()));
        let other = d.path().join(format!("{PREFIX}{dead}-not-ours"));
        for f in [&stale, &live, &other] {
            std::fs::write(f, "").unwrap();
        }
        probe_dir(d.path()).unwrap();
        assert!(!stale.exists());
        assert!(live.exists());
        assert!(other.exists());
    }

    // A read-only directory refused, through the binary and (when the tests run as root) as an
    // unprivileged account, since root ignores mode bits and a test here could only skip:
    // tests/bad_inputs.rs, a_read_only_directory_stops_the_mint_before_the_touch.
}
