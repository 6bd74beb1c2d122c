//! Runs a shell script inside a throwaway qemu guest that has `/dev/uhid` (`run-in-guest.sh`):
//! the host's root read-only, a writable job directory at the same path as on the host.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What a guest run produced.
pub struct GuestRun {
    /// The job's stdout and stderr, interleaved.
    pub output: String,
    /// The job's exit code; 124 when the guest timed out, 125 when it did not boot.
    pub code: i32,
    /// Wall time from starting qemu to the result (boot included).
    pub elapsed: Duration,
    /// The guest's serial console (kernel messages), for failure reports.
    pub console: String,
}

/// The runner script.
pub fn runner() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/run-in-guest.sh")
}

/// Why the guest cannot run here (one line), or `None` when qemu, a kernel with its uhid module
/// (plain, `.ko.xz` or `.ko.zst`, with the program that unpacks it) and a static busybox are
/// installed.
pub fn missing() -> Option<String> {
    let have = |p: &str| Path::new(p).exists();
    if !have("/usr/bin/qemu-system-x86_64") {
        return Some("qemu-system-x86_64 is not installed (apt install qemu-system-x86)".into());
    }
    let Some(version) = kernel_version() else {
        return Some("no kernel in /boot (apt install linux-image-amd64)".into());
    };
    let hid = format!("/lib/modules/{version}/kernel/drivers/hid");
    let Some(module) = MODULE_FORMS
        .iter()
        .map(|(suffix, _)| format!("{hid}/uhid{suffix}"))
        .find(|p| have(p))
    else {
        return Some(format!("the uhid module of kernel {version} is missing"));
    };
    if let Some((_, Some((tool, package)))) = MODULE_FORMS
        .iter()
        .find(|(suffix, _)| module.ends_with(suffix))
    {
        if !on_path(tool) {
            return Some(format!(
                "{module} needs {tool} to unpack it (apt install {package})"
            ));
        }
    }
    if !have("/bin/busybox") {
        return Some("busybox is not installed (apt install busybox-static)".into());
    }
    None
}

/// The forms a kernel module comes in, longest suffix first, with the program (and its Debian
/// package) `run-in-guest.sh` unpacks it with.
pub const MODULE_FORMS: [(&str, Option<(&str, &str)>); 4] = [
    (".ko.zst", Some(("zstd", "zstd"))),
    (".ko.xz", Some(("xz", "xz-utils"))),
    (".ko.gz", Some(("gzip", "gzip"))),
    (".ko", None),
];

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

/// The kernel the guest boots: the newest `/boot/vmlinuz-VERSION` by version order (as
/// `sort -V` in `run-in-guest.sh`), so `6.1.0-57` beats `6.1.0-9`.
pub fn kernel_version() -> Option<String> {
    let names = std::fs::read_dir("/boot")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned());
    newest(names.filter_map(|n| n.strip_prefix("vmlinuz-").map(str::to_string)))
}

/// The highest of `versions` in version order.
pub fn newest(versions: impl Iterator<Item = String>) -> Option<String> {
    versions.max_by(|a, b| version_order(a, b))
}

/// Compares two version strings as `sort -V` does for kernel versions: runs of digits by their
/// value, everything else byte by byte.
pub fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    /// The string as alternating runs: (true, digits) or (false, other bytes).
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            out.push((digit, &rest[..end]));
            rest = &rest[end..];
        }
        out
    }
    for (x, y) in runs(a).into_iter().zip(runs(b)) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            // A number sorts before text at the same place.
            ((true, _), (false, _)) => std::cmp::Ordering::Less,
            ((false, _), (true, _)) => std::cmp::Ordering::Greater,
            ((false, x), (false, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    runs(a).len().cmp(&runs(b).len())
}

#[test]
fn kernels_are_picked_by_version_order_not_string_order() {
    let pick = |v: &[&str]| newest(v.iter().map(|s| s.to_string())).unwrap();
    assert_eq!(pick(&["6.1.0-9-amd64", "6.1.0-57-amd64"]), "6.1.0-57-amd64");
    assert_eq!(pick(&["6.1.0-57-amd64", "6.1.0-9-amd64"]), "6.1.0-57-amd64");
    assert_eq!(pick(&["6.10.0-1-amd64", "6.9.12-amd64"]), "6.10.0-1-amd64");
    assert_eq!(pick(&["5.10.0-30-amd64", "6.1.0-9-amd64"]), "6.1.0-9-amd64");
    assert_eq!(pick(&["6.1.0-9-amd64"]), "6.1.0-9-amd64");
    use std::cmp::Ordering::*;
    assert_eq!(version_order("6.1.0-09", "6.1.0-9"), Equal);
    assert_eq!(version_order("6.1", "6.1.0"), Less);
    assert_eq!(version_order("6.1.0-9-amd64", "6.1.0-9-cloud-amd64"), Less);
}

/// A job directory for one guest run; removed when dropped.
pub struct Job {
    pub dir: tempfile::TempDir,
}

impl Job {
    /// A fresh job directory (absolute, under the system temp dir). `BREAKGLASS_VM_KEEP=1`
    /// keeps it after the test, for looking at a failure.
    pub fn new() -> Job {
        let keep = std::env::var("BREAKGLASS_VM_KEEP").as_deref() == Ok("1");
        let dir = tempfile::Builder::new()
            .prefix("bg-vm-")
            .disable_cleanup(keep)
            .tempdir()
            .expect("create a job directory");
        if keep {
            eprintln!("guest job directory kept: {}", dir.path().display());
        }
        Job { dir }
    }

    /// The job directory's path, the same inside the guest.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path the guest can run `program` by. The guest mounts a fresh tmpfs on /tmp and /run
    /// (guest-init), so a program there, say in a `CARGO_TARGET_DIR=/tmp/…` build, would be
    /// "not found" (exit 127) inside it; such a program is copied into the job directory's
    /// `bin/` (programs found beside each other stay beside each other), which the guest sees.
    /// The repository itself is carried into the guest, so its `target/` needs no copy.
    pub fn carry(&self, program: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let hidden = ["/tmp", "/run"].iter().any(|d| program.starts_with(d))
            && !program.starts_with(repo)
            && !program.starts_with(self.path());
        if !hidden {
            return program.to_path_buf();
        }
        let bin = self.path().join("bin");
        std::fs::create_dir_all(&bin).expect("create the job's bin/");
        // Open to every account: the jobs also run programs as nobody (setpriv).
        for d in [self.path(), bin.as_path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let copy = bin.join(program.file_name().expect("a program file"));
        std::fs::copy(program, &copy).unwrap_or_else(|e| {
            panic!(
                "copy {} into the guest's job directory: {e}",
                program.display()
            )
        });
        copy
    }

    /// Runs `script` (POSIX sh, run with `set -e` off, cwd = the job directory) in a guest,
    /// killing it after `timeout`.
    pub fn run(&self, script: &str, timeout: Duration) -> GuestRun {
        self.run_with(script, timeout, &[])
    }

    /// [`Job::run`] with more environment for `run-in-guest.sh` (e.g. its module root).
    pub fn run_with(&self, script: &str, timeout: Duration, env: &[(&str, &Path)]) -> GuestRun {
        // One guest at a time per test binary: each takes a whole (shared) core under TCG.
        static ONE_GUEST: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_GUEST.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::write(self.path().join("job.sh"), script).expect("write job.sh");
        let start = Instant::now();
        let st = Command::new(runner())
            .arg("-t")
            .arg(timeout.as_secs().to_string())
            .arg(self.path())
            .envs(env.iter().copied())
            .status()
            .expect("run run-in-guest.sh");
        let elapsed = start.elapsed();
        let read = |n: &str| std::fs::read_to_string(self.path().join(n)).unwrap_or_default();
        GuestRun {
            output: read("out"),
            code: st.code().unwrap_or(-1),
            elapsed,
            console: read("console.log"),
        }
    }
}
