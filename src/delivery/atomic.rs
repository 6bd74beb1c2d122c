//! Files that appear all together or not at all — also across a crash.
//!
//! Each file is first written to a temporary file in its target directory (`.NAME.tmp-R`),
//! created with its final mode from the first byte (`O_CREAT|O_EXCL`, 0600 for secrets). At the
//! commit, an intent file (`.NAME.set-R`, naming every final path, its temporary file and the
//! inode that will stand there) is written beside them, and the first barrier makes exactly what
//! the set wrote durable: the data of each temporary file and of the intent (`fdatasync`) and
//! the directory that names them (`fsync`), side by side — never the whole filesystem (`syncfs`
//! would also flush whatever else is dirty there, a neighbour's build included). Nothing has been moved
//! into place yet, so an intent cut short by a crash before that barrier can only describe a
//! set none of whose files was placed (a set of one file syncs just that file: its rename is
//! atomic and a lost temporary is swept by [`recover`]). Then the files are moved into place in the
//! order given (callers put the certificate last): without `force` by `link(2)` (which refuses
//! to replace anything, even a file that appeared since we checked), with `force` by
//! `rename(2)` after keeping each replaced file as `.NAME.old-R`. SIGINT, SIGTERM and SIGHUP wait until the set is in place. The directory is
//! fsync'd last (the second barrier), then the temporaries, the copies of replaced files and the
//! intent file go. A set of one file needs no intent and no copy: `rename(2)`/`link(2)` alone
//! is atomic, and a crash leaves at most its temporary file, which [`recover`] removes.
//!
//! A process killed half-way (SIGKILL, power loss) leaves an intent file behind; [`recover`],
//! run before a command writes into a directory, finishes a set that is wholly in place, or puts
//! back the old set, and removes every temporary file (they may hold private keys). An error
//! without a crash rolls back at once.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::diagnostic::{Diagnostic, FAILURE};

/// What writing a file set can fail with, with its next step ([`Diagnostic`]). Its own type,
/// so this module is a leaf (it imports only `diagnostic`) that the token backends (the
/// simulated key's state) use without the crate's errors.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    /// A file of the set is already there (and `force` was not given).
    #[error("{} already exists", .0.display())]
    FileExists(PathBuf),
    /// A path of the set names a directory.
    #[error("{} is a directory", .0.display())]
    IsDirectory(PathBuf),
    /// The directory of a file does not exist.
    #[error("directory {} does not exist", .0.display())]
    DirMissing(PathBuf),
    /// A filesystem operation failed.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What we tried, e.g. "create".
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No random name for a temporary file (getrandom failed).
    #[error("the system's random number generator failed: {0}")]
    Randomness(String),
}

impl Diagnostic for AtomicError {
    fn hint(&self) -> String {
        match self {
            AtomicError::FileExists(_) => {
                "Use -f to pick another name, or --force to replace it.".into()
            }
            AtomicError::IsDirectory(_) => "Use -f to name a file, not a directory.".into(),
            AtomicError::DirMissing(_) => {
                "Create the directory first, or pick another path with -f.".into()
            }
            AtomicError::Io { .. } => {
                "Check the path and its permissions, then run the command again.".into()
            }
            AtomicError::Randomness(_) => {
                "Check the system (getrandom failed), then run the command again.".into()
            }
        }
    }

    /// Always [`FAILURE`]: the files and the system, never the command line.
    fn exit_code(&self) -> u8 {
        match self {
            AtomicError::FileExists(_)
            | AtomicError::IsDirectory(_)
            | AtomicError::DirMissing(_)
            | AtomicError::Io { .. }
            | AtomicError::Randomness(_) => FAILURE,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            AtomicError::FileExists(_) => "file-exists",
            AtomicError::IsDirectory(_) => "is-directory",
            AtomicError::DirMissing(_) => "dir-missing",
            AtomicError::Io { .. } => "io",
            AtomicError::Randomness(_) => "randomness",
        }
    }
}

impl AtomicError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        AtomicError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

type Result<T> = std::result::Result<T, AtomicError>;

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
            return Err(AtomicError::DirMissing(dir.to_path_buf()));
        }
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(AtomicError::IsDirectory(path.to_path_buf())),
            Ok(_) if !force => return Err(AtomicError::FileExists(path.to_path_buf())),
            _ => {}
        }
    }
    Ok(())
}

/// Temporary files written, not yet in place. Dropping it removes them.
pub struct Staged {
    temps: Vec<(PathBuf, PathBuf)>, // (temp, final)
    force: bool,
    /// The temporary files' data is durable already ([`Staged::sync_data`]).
    synced: bool,
}

/// Writes every file to a temporary file beside its target (made durable by the commit's
/// barrier, together with its intent file).
pub fn stage(files: &[PlannedFile], force: bool) -> Result<Staged> {
    preflight(
        &files.iter().map(|f| f.path.as_path()).collect::<Vec<_>>(),
        force,
    )?;
    let mut staged = Staged {
        temps: Vec::new(),
        force,
        synced: false,
    };
    for file in files {
        let temp = write_temp(file)?;
        staged.temps.push((temp, file.path.clone()));
    }
    Ok(staged)
}

/// The data of the files at `paths` (`fdatasync` each) and, with `dir`, that directory's entries
/// (`fsync`), durable — and nothing else on the filesystem. The barriers run side by side, one
/// thread each, so the caller waits once (a journaling filesystem commits them together) rather
/// than once per file: on a busy machine every wait also costs a wait for a CPU to run on. A
/// thread that cannot be started leaves its barrier to this one.
fn sync_files(paths: &[&Path], dir: Option<&Path>) -> Result<()> {
    let one = |p: &Path, all: bool| {
        File::open(p)
            .and_then(|f| if all { f.sync_all() } else { f.sync_data() })
            .map_err(|e| AtomicError::io("sync", p, e))
    };
    let mut jobs: Vec<(&Path, bool)> = paths.iter().map(|p| (*p, false)).collect();
    jobs.extend(dir.map(|d| (d, true)));
    let Some(((mine, mine_all), rest)) = jobs.split_first() else {
        return Ok(());
    };
    std::thread::scope(|s| {
        let others: Vec<_> = rest
            .iter()
            .map(|&(p, all)| {
                let spawned = std::thread::Builder::new().spawn_scoped(s, move || one(p, all));
                (p, all, spawned.ok())
            })
            .collect();
        let mut result = one(mine, *mine_all);
        for (p, all, h) in others {
            let r = match h {
                Some(h) => h.join().unwrap_or_else(|_| one(p, all)),
                None => one(p, all),
            };
            result = result.and(r);
        }
        result
    })
}

/// One line of an intent file: the final path, the temporary file, the inode that will stand at
/// the final path, and the copy of the file it replaces (force only).
struct Step {
    target: PathBuf,
    temp: PathBuf,
    ino: u64,
    backup: Option<PathBuf>,
}

impl Staged {
    /// Makes the temporary files' data durable now, so that the commit's first barrier has only
    /// the intent and the directory left: a caller can run it beside a barrier of its own that
    /// must come before the files move (revoke: the audit entry, then the new KRL). Never for
    /// bytes that must not reach the disk before something else (a certificate before its
    /// audit entry).
    pub fn sync_data(&mut self) -> Result<()> {
        let temps: Vec<&Path> = self.temps.iter().map(|(t, _)| t.as_path()).collect();
        sync_files(&temps, None)?;
        self.synced = true;
        Ok(())
    }

    /// Moves every staged file into place, or none of them.
    pub fn commit(mut self) -> Result<()> {
        let temps = std::mem::take(&mut self.temps);
        let Some((_, last)) = temps.last() else {
            return Ok(());
        };
        let dir = parent_dir(last).to_path_buf();
        let single = temps.len() == 1;
        let mut steps = Vec::new();
        for (temp, target) in &temps {
            use std::os::unix::fs::MetadataExt;
            let ino = fs::metadata(temp)
                .map_err(|e| AtomicError::io("read", temp, e))?
                .ino();
            // One file is replaced by one atomic rename: no copy of the old one is needed.
            let backup =
                (self.force && !single && fs::symlink_metadata(target).is_ok_and(|m| !m.is_dir()))
                    .then(|| backup_name(target));
            steps.push(Step {
                target: target.clone(),
                temp: temp.clone(),
                ino,
                backup,
            });
        }
        let _signals = HeldSignals::new();
        let remove_temps = |intent: Option<&Path>| {
            for s in &steps {
                let _ = fs::remove_file(&s.temp);
            }
            if let Some(i) = intent {
                let _ = fs::remove_file(i);
            }
        };
        let intent = if single {
            None
        } else {
            Some(write_intent(&dir, last, self.force, &steps).inspect_err(|_| remove_temps(None))?)
        };
        // The first barrier: the temporary files and the intent, durable before anything moves
        // — their data and (for a set) the directory entries that let recovery find the
        // intent. Only what this set wrote is flushed. One file needs only its own data: its
        // rename or link is atomic, and a temporary name lost in a crash is only debris.
        let mut written: Vec<&Path> = if self.synced {
            Vec::new()
        } else {
            steps.iter().map(|s| s.temp.as_path()).collect()
        };
        written.extend(intent.as_deref());
        sync_files(&written, (!single).then_some(dir.as_path()))
            .inspect_err(|_| remove_temps(intent.as_deref()))?;
        fault("commit-intent", &steps[0].target);
        let mut result = Ok(());
        for (i, s) in steps.iter().enumerate() {
            let r = place(s, self.force, i, &steps[0].target);
            if let Err(e) = r {
                result = Err(e);
                break;
            }
        }
        if let Err(e) = result {
            roll_back(&steps);
            if let Some(i) = &intent {
                let _ = fs::remove_file(i);
            }
            return Err(e);
        }
        fault("commit-placed", &steps[0].target);
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        for s in &steps {
            let _ = fs::remove_file(&s.temp);
            if let Some(b) = &s.backup {
                let _ = fs::remove_file(b);
            }
        }
        if let Some(i) = &intent {
            let _ = fs::remove_file(i);
        }
        Ok(())
    }
}

/// Moves one file into place (the `i`th of its set, whose first file is `first`).
fn place(s: &Step, force: bool, i: usize, first: &Path) -> Result<()> {
    fault(&format!("commit-place-{}", i + 1), first);
    if force {
        if let Some(b) = &s.backup {
            fs::hard_link(&s.target, b)
                .map_err(|e| AtomicError::io("keep a copy of", &s.target, e))?;
        }
        // Link first, so the temporary name stays until the whole set is in place: recovery
        // and rollback find the new file by it.
        let tmp2 = new_name(&s.temp);
        fs::hard_link(&s.temp, &tmp2).map_err(|e| AtomicError::io("replace", &s.target, e))?;
        fs::rename(&tmp2, &s.target).map_err(|e| {
            let _ = fs::remove_file(&tmp2);
            AtomicError::io("replace", &s.target, e)
        })
    } else {
        match fs::hard_link(&s.temp, &s.target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(AtomicError::FileExists(s.target.clone()))
            }
            Err(e) => Err(AtomicError::io("create", &s.target, e)),
        }
    }
}

/// The second name of a temporary file while it replaces its target (`force`).
fn new_name(temp: &Path) -> PathBuf {
    let mut n = temp.as_os_str().to_owned();
    n.push(".new");
    PathBuf::from(n)
}

/// True when the file at `target` is the one this set put there.
fn is_ours(target: &Path, ino: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(target).is_ok_and(|m| m.ino() == ino)
}

/// Puts back what was there before the set: our files go, replaced files return.
fn roll_back(steps: &[Step]) {
    for s in steps {
        if is_ours(&s.target, s.ino) {
            match &s.backup {
                Some(b) if b.exists() => {
                    let _ = fs::rename(b, &s.target);
                }
                _ => {
                    let _ = fs::remove_file(&s.target);
                }
            }
        } else if let Some(b) = &s.backup {
            let _ = fs::remove_file(b);
        }
        let _ = fs::remove_file(&s.temp);
        let _ = fs::remove_file(new_name(&s.temp));
    }
}

const INTENT_MAGIC: &str = "breakglass-file-set-v1";

fn write_intent(dir: &Path, last: &Path, force: bool, steps: &[Step]) -> Result<PathBuf> {
    let mut text = format!(
        "{INTENT_MAGIC} {}\n",
        if force { "force" } else { "create" }
    );
    for s in steps {
        let name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            name(&s.target),
            name(&s.temp),
            s.ino,
            s.backup.as_deref().map(name).unwrap_or_else(|| "-".into())
        ));
    }
    let intent = hidden_name(last, "set");
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&intent)
        .map_err(|e| AtomicError::io("create a file in", dir, e))?;
    // Synced by the commit's first barrier, with the temporary files.
    f.write_all(text.as_bytes()).map_err(|e| {
        let _ = fs::remove_file(&intent);
        AtomicError::io("write", &intent, e)
    })?;
    Ok(intent)
}

/// Finishes or undoes what a killed process left in `dir`: for each intent file, a set wholly in
/// place is kept, any other is rolled back to what was there before; temporary files (which may
/// hold private keys) and copies of replaced files are removed. Returns one line per thing done.
pub fn recover(dir: &Path) -> Vec<String> {
    let mut done = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return done;
    };
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for n in names.iter().filter(|n| is_debris(n, "set")) {
        let path = dir.join(n);
        let text = fs::read_to_string(&path).unwrap_or_default();
        let mut lines = text.lines();
        if !lines.next().is_some_and(|l| l.starts_with(INTENT_MAGIC)) {
            // Cut short by a crash before the commit's barrier (an intent is complete on disk
            // before any file of its set moves), so nothing was placed: the temporary files
            // are swept below with the other debris.
            if fs::remove_file(&path).is_ok() {
                done.push(format!("removed {} left by a crash", path.display()));
            }
            continue;
        }
        let steps: Vec<Step> = lines
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let [target, temp, ino, backup] = f[..] else {
                    return None;
                };
                Some(Step {
                    target: dir.join(target),
                    temp: dir.join(temp),
                    ino: ino.parse().ok()?,
                    backup: (backup != "-").then(|| dir.join(backup)),
                })
            })
            .collect();
        let complete = !steps.is_empty() && steps.iter().all(|s| is_ours(&s.target, s.ino));
        let what = steps
            .iter()
            .map(|s| s.target.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if complete {
            for s in &steps {
                let _ = fs::remove_file(&s.temp);
                let _ = fs::remove_file(new_name(&s.temp));
                if let Some(b) = &s.backup {
                    let _ = fs::remove_file(b);
                }
            }
            done.push(format!("finished writing {what}, interrupted by a crash"));
        } else {
            roll_back(&steps);
            done.push(format!(
                "undid the unfinished writing of {what}, interrupted by a crash"
            ));
        }
        let _ = fs::remove_file(&path);
    }
    // Debris without an intent: staging interrupted before the commit began.
    let Ok(entries) = fs::read_dir(dir) else {
        return done;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let n = e.file_name().to_string_lossy().into_owned();
        if (is_debris(&n, "tmp") || is_debris(&n, "old")) && fs::remove_file(e.path()).is_ok() {
            done.push(format!("removed {} left by a crash", e.path().display()));
        }
    }
    done
}

/// `.NAME.KIND-HEX[.new]`, as this module names its temporary files.
fn is_debris(name: &str, kind: &str) -> bool {
    let name = name.strip_suffix(".new").unwrap_or(name);
    name.starts_with('.')
        && name
            .rsplit_once(&format!(".{kind}-"))
            .is_some_and(|(_, r)| r.len() == 12 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The crash tests' hook: in debug builds `BREAKGLASS_FAULT=kill:STEP@NAME` kills this process
/// with SIGKILL at the step STEP of writing the set whose first file is named NAME (nothing runs
/// after it, as with a real crash), and `stop:STEP@NAME` stops it there (SIGSTOP) until a
/// SIGCONT, so a test can signal it at exactly that step. Release builds ignore it.
fn fault(step: &str, first: &Path) {
    if !cfg!(debug_assertions) {
        return;
    }
    let Ok(v) = std::env::var("BREAKGLASS_FAULT") else {
        return;
    };
    let name = first
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let here = format!("{step}@{name}");
    let signal = match v.split_once(':') {
        Some(("kill", at)) if at == here => libc::SIGKILL,
        Some(("stop", at)) if at == here => libc::SIGSTOP,
        _ => return,
    };
    // SAFETY: sending a signal to ourselves.
    unsafe {
        libc::kill(libc::getpid(), signal);
    }
}

/// SIGINT, SIGTERM and SIGHUP blocked while a set is being placed; delivered when dropped.
struct HeldSignals(libc::sigset_t);

impl HeldSignals {
    fn new() -> Self {
        // SAFETY: sigset manipulation on local values and pthread_sigmask on this thread.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, s);
            }
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            HeldSignals(old)
        }
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in new().
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut());
        }
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
    hidden_name(path, "old")
}

/// `.NAME.KIND-R` beside `path`, R 12 random hex digits.
fn hidden_name(path: &Path, kind: &str) -> PathBuf {
    let mut rnd = [0u8; 6];
    let _ = getrandom::fill(&mut rnd);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(path).join(format!(".{name}.{kind}-{}", crate::hex::encode(&rnd)))
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
        getrandom::fill(&mut rnd).map_err(|e| AtomicError::Randomness(e.to_string()))?;
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
            Err(e) => return Err(AtomicError::io("create a file in", dir, e)),
        };
        // The umask may have narrowed the mode; make it exact (never wider than asked), on the
        // open handle (fchmod), so a path swapped since the create cannot be chmodded instead.
        use std::os::unix::fs::PermissionsExt;
        let written = f
            .set_permissions(fs::Permissions::from_mode(file.mode))
            .and_then(|()| f.write_all(&file.bytes));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(AtomicError::io("write", &temp, e));
        }
        fault("stage-temp", &file.path);
        return Ok(temp);
    }
    Err(AtomicError::io(
        "create a temporary file in",
        dir,
        std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    ))
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
    fn an_intent_cut_short_before_the_barrier_is_removed_with_its_temporaries() {
        // A crash before the commit's first barrier can leave an intent file empty or without its
        // header (its data never reached the disk); none of its files was placed then.
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join(".k-cert.pub.set-0123456789ab"), "").unwrap();
        fs::write(d.path().join(".k.tmp-0123456789ab"), "secret").unwrap();
        fs::write(d.path().join("k.pub"), "someone else's").unwrap();
        let done = recover(d.path());
        assert_eq!(done.len(), 2, "{done:?}");
        assert_eq!(names(d.path()), ["k.pub"]);
    }

    #[test]
    fn a_single_file_replaced_with_force_leaves_nothing_beside_it() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("state"), "old").unwrap();
        write_all(
            &[PlannedFile::private(
                d.path().join("state"),
                b"new".to_vec(),
            )],
            true,
        )
        .unwrap();
        assert_eq!(names(d.path()), ["state"]);
        assert_eq!(fs::read(d.path().join("state")).unwrap(), b"new");
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
        assert!(matches!(err, AtomicError::FileExists(_)));
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
        assert!(matches!(
            staged.commit().unwrap_err(),
            AtomicError::FileExists(_)
        ));
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
        assert!(matches!(err, AtomicError::DirMissing(_)));
    }
}
