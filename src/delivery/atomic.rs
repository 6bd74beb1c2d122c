//! Files that appear all together or not at all.
//!
//! Each file is first written to a temporary file in its target directory, created with its
//! final mode from the first byte (`O_CREAT|O_EXCL`, 0600 for secrets) and fsync'd. Only then are
//! the files moved into place: without `force` by `link(2)` (which refuses to replace anything,
//! even a file that appeared since we checked), with `force` by `rename(2)`. The directory is
//! fsync'd last. Any error removes every temporary file and every file already placed.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::{Error, Result};

/// One file to write: its path, its bytes (zeroized on drop) and its mode.
pub struct PlannedFile {
    /// Final path.
    pub path: PathBuf,
    /// Content.
    pub bytes: Zeroizing<Vec<u8>>,
    /// Permission bits, e.g. `0o600`.
    pub mode: u32,
}

impl PlannedFile {
    /// A secret (or at least private) file, mode 0600.
    pub fn private(path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) -> Self {
        PlannedFile {
            path: path.into(),
            bytes: Zeroizing::new(bytes.into()),
            mode: 0o600,
        }
    }
    /// A public file, mode 0644.
    pub fn public(path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) -> Self {
        PlannedFile {
            path: path.into(),
            bytes: Zeroizing::new(bytes.into()),
            mode: 0o644,
        }
    }
}

/// Checks that every file can be written (directory exists, no file in the way unless `force`)
/// without touching the disk. Call before asking the token to sign, so a touch is never wasted.
pub fn preflight(paths: &[&Path], force: bool) -> Result<()> {
    for path in paths {
        let dir = parent_dir(path);
        if !dir.is_dir() {
            return Err(Error::DirMissing(dir.to_path_buf()));
        }
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(Error::IsDirectory(path.to_path_buf())),
            Ok(_) if !force => return Err(Error::FileExists(path.to_path_buf())),
            _ => {}
        }
    }
    Ok(())
}

/// Temporary files written and synced, not yet in place. Dropping it removes them.
pub struct Staged {
    temps: Vec<(PathBuf, PathBuf)>, // (temp, final)
    force: bool,
}

/// Writes every file to a temporary file beside its target and syncs it.
pub fn stage(files: &[PlannedFile], force: bool) -> Result<Staged> {
    preflight(
        &files.iter().map(|f| f.path.as_path()).collect::<Vec<_>>(),
        force,
    )?;
    let mut staged = Staged {
        temps: Vec::new(),
        force,
    };
    for file in files {
        let temp = write_temp(file)?;
        staged.temps.push((temp, file.path.clone()));
    }
    Ok(staged)
}

impl Staged {
    /// Moves every staged file into place, or none of them.
    pub fn commit(mut self) -> Result<()> {
        let mut placed: Vec<PathBuf> = Vec::new();
        let mut backups: Vec<(PathBuf, PathBuf)> = Vec::new(); // (backup, original path)
        let temps = std::mem::take(&mut self.temps);
        let mut result = Ok(());
        for (temp, target) in &temps {
            let r = if self.force {
                // Keep what we replace until the whole set is in place.
                if fs::symlink_metadata(target).is_ok_and(|m| !m.is_dir()) {
                    let backup = backup_name(target);
                    match fs::hard_link(target, &backup) {
                        Ok(()) => backups.push((backup, target.clone())),
                        Err(e) => {
                            result = Err(Error::io("keep a copy of", target, e));
                            break;
                        }
                    }
                }
                fs::rename(temp, target).map_err(|e| Error::io("replace", target, e))
            } else {
                match fs::hard_link(temp, target) {
                    Ok(()) => {
                        let _ = fs::remove_file(temp);
                        Ok(())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Err(Error::FileExists(target.clone()))
                    }
                    Err(e) => Err(Error::io("create", target, e)),
                }
            };
            match r {
                Ok(()) => placed.push(target.clone()),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if let Err(e) = result {
            for (temp, _) in &temps {
                let _ = fs::remove_file(temp);
            }
            for target in placed {
                let _ = fs::remove_file(target);
            }
            for (backup, original) in &backups {
                let _ = fs::rename(backup, original);
            }
            return Err(e);
        }
        for (backup, _) in &backups {
            let _ = fs::remove_file(backup);
        }
        let mut dirs: Vec<&Path> = temps.iter().map(|(_, t)| parent_dir(t)).collect();
        dirs.dedup();
        for dir in dirs {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (temp, _) in &self.temps {
            let _ = fs::remove_file(temp);
        }
    }
}

/// Writes all files atomically as a set (stage + commit).
pub fn write_all(files: &[PlannedFile], force: bool) -> Result<()> {
    stage(files, force)?.commit()
}

fn backup_name(path: &Path) -> PathBuf {
    let mut rnd = [0u8; 6];
    let _ = getrandom::fill(&mut rnd);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(path).join(format!(".{name}.old-{}", crate::hex::encode(&rnd)))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn write_temp(file: &PlannedFile) -> Result<PathBuf> {
    let dir = parent_dir(&file.path);
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for _ in 0..16 {
        let mut rnd = [0u8; 6];
        getrandom::fill(&mut rnd).map_err(crate::error::randomness)?;
        let suffix: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{name}.tmp-{suffix}"));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(file.mode)
            .open(&temp);
        let mut f = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("create a file in", dir, e)),
        };
        // The umask may have narrowed the mode; make it exact (never wider than asked), on the
        // open handle (fchmod), so a path swapped since the create cannot be chmodded instead.
        use std::os::unix::fs::PermissionsExt;
        let written = f
            .set_permissions(fs::Permissions::from_mode(file.mode))
            .and_then(|()| f.write_all(&file.bytes))
            .and_then(|()| f.sync_all());
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(Error::io("write", &temp, e));
        }
        return Ok(temp);
    }
    Err(Error::io(
        "create a temporary file in",
        dir,
        std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    ))
}

/// Appends one line to `path` (created 0600), then fsyncs it. Used by the audit log.
pub fn append_line_synced(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    f.write_all(&buf)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_all_files_with_their_modes() {
        let d = tempfile::tempdir().unwrap();
        write_all(
            &[
                PlannedFile::private(d.path().join("k"), b"secret".to_vec()),
                PlannedFile::public(d.path().join("k.pub"), b"pub".to_vec()),
            ],
            false,
        )
        .unwrap();
        assert_eq!(names(d.path()), ["k", "k.pub"]);
        assert_eq!(
            fs::metadata(d.path().join("k"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(d.path().join("k.pub"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o644
        );
        assert_eq!(fs::read(d.path().join("k")).unwrap(), b"secret");
    }

    #[test]
    fn an_existing_file_stops_everything_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("b"), "old").unwrap();
        let err = write_all(
            &[
                PlannedFile::private(d.path().join("a"), b"1".to_vec()),
                PlannedFile::private(d.path().join("b"), b"2".to_vec()),
            ],
            false,
        )
        .unwrap_err();
        assert!(matches!(err, Error::FileExists(_)));
        assert_eq!(names(d.path()), ["b"]);
        assert_eq!(fs::read_to_string(d.path().join("b")).unwrap(), "old");
    }

    #[test]
    fn a_file_that_appears_after_staging_is_not_replaced_and_the_set_is_rolled_back() {
        let d = tempfile::tempdir().unwrap();
        let staged = stage(
            &[
                PlannedFile::private(d.path().join("a"), b"1".to_vec()),
                PlannedFile::private(d.path().join("b"), b"2".to_vec()),
            ],
            false,
        )
        .unwrap();
        fs::write(d.path().join("b"), "raced").unwrap();
        assert!(matches!(staged.commit().unwrap_err(), Error::FileExists(_)));
        assert_eq!(names(d.path()), ["b"]);
        assert_eq!(fs::read_to_string(d.path().join("b")).unwrap(), "raced");
    }

    #[test]
    fn force_replaces_and_dropping_a_stage_cleans_up() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a"), "old").unwrap();
        write_all(
            &[PlannedFile::private(d.path().join("a"), b"new".to_vec())],
            true,
        )
        .unwrap();
        assert_eq!(fs::read_to_string(d.path().join("a")).unwrap(), "new");
        let staged = stage(
            &[PlannedFile::private(d.path().join("c"), b"x".to_vec())],
            false,
        )
        .unwrap();
        drop(staged);
        assert_eq!(names(d.path()), ["a"]);
    }

    #[test]
    fn a_forced_set_that_fails_part_way_restores_what_it_replaced() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("a"), "old a").unwrap();
        fs::write(d.path().join("b"), "old b").unwrap();
        let staged = stage(
            &[
                PlannedFile::private(d.path().join("a"), b"new a".to_vec()),
                PlannedFile::private(d.path().join("b"), b"new b".to_vec()),
            ],
            true,
        )
        .unwrap();
        // b becomes a non-empty directory: renaming a file over it fails after a was replaced.
        fs::remove_file(d.path().join("b")).unwrap();
        fs::create_dir(d.path().join("b")).unwrap();
        fs::write(d.path().join("b/x"), "x").unwrap();
        assert!(staged.commit().is_err());
        assert_eq!(fs::read_to_string(d.path().join("a")).unwrap(), "old a");
        assert_eq!(names(d.path()), ["a", "b"]);
    }

    #[test]
    fn missing_directory_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let err = write_all(
            &[PlannedFile::private(
                d.path().join("no/such/k"),
                b"1".to_vec(),
            )],
            false,
        )
        .unwrap_err();
        assert!(matches!(err, Error::DirMissing(_)));
    }
}
