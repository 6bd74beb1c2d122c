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

/// Why the guest cannot run here (one line), or `None` when qemu, a kernel with modules and a
/// static busybox are installed.
pub fn missing() -> Option<String> {
    let have = |p: &str| Path::new(p).exists();
    if !have("/usr/bin/qemu-system-x86_64") {
        return Some("qemu-system-x86_64 is not installed (apt install qemu-system-x86)".into());
    }
    let kernel = std::fs::read_dir("/boot").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_prefix("vmlinuz-").map(str::to_string))
            .max()
    });
    let Some(version) = kernel else {
        return Some("no kernel in /boot (apt install linux-image-amd64)".into());
    };
    if !have(&format!(
        "/lib/modules/{version}/kernel/drivers/hid/uhid.ko"
    )) {
        return Some(format!("the uhid module of kernel {version} is missing"));
    }
    if !have("/bin/busybox") {
        return Some("busybox is not installed (apt install busybox-static)".into());
    }
    None
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

    /// Runs `script` (POSIX sh, run with `set -e` off, cwd = the job directory) in a guest,
    /// killing it after `timeout`.
    pub fn run(&self, script: &str, timeout: Duration) -> GuestRun {
        // One guest at a time per test binary: each takes a whole (shared) core under TCG.
        static ONE_GUEST: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_GUEST.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::write(self.path().join("job.sh"), script).expect("write job.sh");
        let start = Instant::now();
        let st = Command::new(runner())
            .arg("-t")
            .arg(timeout.as_secs().to_string())
            .arg(self.path())
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
