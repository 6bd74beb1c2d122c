//! The virtual FIDO2 key as a process: `breakglass-sim-hid` (the `vfido-hid` crate of this
//! workspace), installed beside breakglass, serves the simulated key through the kernel's
//! `/dev/uhid` and prints the `/dev/hidrawN` it created. `sim hid` execs it; `drill --backend
//! fido2-virtual` plugs one in for the drill ([`Plugged`]) and unplugs it (SIGTERM by pid)
//! when the drill ends, whether the drill passed or not.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// File name of the virtual key's program.
pub const PROGRAM: &str = "breakglass-sim-hid";

/// The line the program writes to stderr when it stops cleanly, before its traffic counts.
const REMOVED: &str = "virtual FIDO2 key removed; ";

/// How long the program may take to print its hidraw path. It waits up to 10 s for the kernel
/// itself, then exits with an error, so this is only a backstop against a wedged process.
const PLUG_WAIT: Duration = Duration::from_secs(20);

/// How long a SIGTERM'd program may take to remove its device (it polls every 0.5 s).
const UNPLUG_WAIT: Duration = Duration::from_secs(5);

/// The `breakglass-sim-hid` program beside the running breakglass binary.
pub fn program() -> Result<PathBuf> {
    super::beside_breakglass(PROGRAM, Error::SimHidProgramMissing)
}

/// Checks that `uhid` exists and this user may open it for reading and writing, as the program
/// will (opening it creates no device).
pub fn check_uhid(uhid: &Path) -> Result<()> {
    if !uhid.exists() {
        return Err(Error::UhidMissing(uhid.to_path_buf()));
    }
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(uhid)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(Error::UhidDenied(uhid.to_path_buf()))
        }
        Err(e) => Err(Error::io("open", uhid, e)),
    }
}

/// A virtual key the caller plugged in; unplugged (SIGTERM, then SIGKILL after 5 s) when dropped.
pub struct Plugged {
    child: Child,
    /// The `/dev/hidrawN` the kernel made for it.
    pub hidraw: String,
    log: PathBuf,
}

impl Plugged {
    /// Starts `program` on the simulated key in `sim_dir` (touches approved), its stderr going to
    /// `log`, and waits for the hidraw path it prints. The error is one line saying why (the
    /// program's own last words when it exited).
    pub fn start(
        program: &Path,
        uhid: &Path,
        sim_dir: &Path,
        log: &Path,
    ) -> std::result::Result<Plugged, String> {
        let err = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut uhid_arg = std::ffi::OsString::from("--uhid=");
        uhid_arg.push(uhid);
        let mut child = Command::new(program)
            .arg(uhid_arg)
            .env("BREAKGLASS_SIM_DIR", sim_dir)
            .env("BREAKGLASS_SIM_TOUCH", "approve")
            .env_remove("BREAKGLASS_SIM_HID_TRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        let stdout = child.stdout.take();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(PLUG_WAIT).unwrap_or_default();
        let mut plugged = Plugged {
            child,
            hidraw: line.trim().to_string(),
            log: log.to_path_buf(),
        };
        if plugged.hidraw.starts_with("/dev/hidraw") {
            return Ok(plugged);
        }
        plugged.stop();
        Err(match last_line(&plugged.log) {
            Some(why) => why,
            None => format!("{} printed no /dev/hidraw device", program.display()),
        })
    }

    /// Unplugs the key and returns the program's closing line (its CTAPHID traffic counts), or
    /// why it did not stop cleanly.
    pub fn unplug(mut self) -> std::result::Result<String, String> {
        let clean = self.stop();
        let last = last_line(&self.log).unwrap_or_default();
        match last.strip_prefix(REMOVED) {
            Some(counts) if clean => Ok(counts.to_string()),
            _ if last.is_empty() => Err("the virtual key did not stop cleanly".into()),
            _ => Err(last),
        }
    }

    /// SIGTERM by pid, then SIGKILL if it has not gone within [`UNPLUG_WAIT`]. True when the
    /// program exited by itself with status 0.
    fn stop(&mut self) -> bool {
        if let Ok(Some(st)) = self.child.try_wait() {
            return st.success();
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid, which is not reaped yet (try_wait above).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let until = Instant::now() + UNPLUG_WAIT;
        while Instant::now() < until {
            match self.child.try_wait() {
                Ok(Some(st)) => return st.success(),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Plugged {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last non-empty line of the program's stderr, without its `breakglass-sim-hid: ` prefix.
fn last_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    Some(
        line.strip_prefix("breakglass-sim-hid: ")
            .unwrap_or(line)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_uhid_tells_a_missing_device_from_one_that_opens() {
        let d = tempfile::tempdir().unwrap();
        let uhid = d.path().join("uhid");
        assert!(matches!(check_uhid(&uhid), Err(Error::UhidMissing(p)) if p == uhid));
        std::fs::write(&uhid, b"").unwrap();
        assert!(check_uhid(&uhid).is_ok());
        assert_eq!(
            std::fs::metadata(&uhid).unwrap().len(),
            0,
            "opening writes nothing"
        );
    }

    #[test]
    fn last_line_is_the_programs_reason_without_its_name() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log");
        assert_eq!(last_line(&log), None);
        std::fs::write(
            &log,
            "virtual FIDO2 key (SIMULATED) SIM-1 on /dev/hidraw0\nbreakglass-sim-hid: cannot create a HID device\n\n",
        )
        .unwrap();
        assert_eq!(
            last_line(&log).as_deref(),
            Some("cannot create a HID device")
        );
    }
}
