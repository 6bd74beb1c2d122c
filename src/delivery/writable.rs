//! "Can we write here?" answered by writing: a mode bit or an ACL says little about a read-only
//! mount, a full quota or an immutable directory, so before the touch `mint` creates and removes
//! a small file in each directory it will write to. A directory that refuses is reported while
//! the signature has not been asked for yet.

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
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).map_err(crate::error::randomness)?;
    let probe = dir.join(format!(
        ".breakglass-probe-{}-{}",
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
    fn a_read_only_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let ro = d.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        // root ignores mode bits; the check then proves nothing, so say so and stop.
        if tempfile::tempfile_in(&ro).is_ok() {
            eprintln!("skipped: running as root, mode bits do not stop writes");
            return;
        }
        assert!(matches!(probe_dir(&ro), Err(Error::DirNotWritable { .. })));
    }
}
