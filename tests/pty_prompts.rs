//! What a person sees in a real terminal (a pseudo-terminal here, the binary's controlling tty):
//! a wrong PIN is asked for again with the tries left, the live "waiting for touch… Ns" line
//! counts while the simulated finger takes its time and is cleared when the touch comes, and a
//! bare-number `-V` is asked about and minted after a yes.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child on a new pseudo-terminal, its output collected as it comes.
struct Pty {
    child: Child,
    master: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Pty {
        let (mut m, mut s) = (0, 0);
        // SAFETY: openpty writes two fds into the two ints; null name/termios/winsize are allowed.
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both fds were just opened by openpty and are owned here.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        let mut c = Command::new(env!("CARGO_BIN_EXE_breakglass"));
        c.args(args)
            .current_dir(dir)
            .env("BREAKGLASS_BACKEND", "sim")
            .env("BREAKGLASS_SIM_DIR", dir.join("sim"))
            .env("BREAKGLASS_AUDIT_LOG", dir.join("audit.jsonl"))
            .env("TERM", "xterm")
            .env_remove("BREAKGLASS_PIN")
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("NO_COLOR")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        for (k, v) in env {
            c.env(k, v);
        }
        // SAFETY: only async-signal-safe calls between fork and exec: a new session whose
        // controlling terminal is the pty (so /dev/tty, where the PIN is read, is the pty).
        unsafe {
            c.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = c.spawn().unwrap();
        let master = std::fs::File::from(master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), Arc::clone(&seen));
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child and its terminal are gone.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            master,
            seen,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until the output contains `what`, counting occurrences (the n-th one).
    fn expect(&self, what: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.text().matches(what).count() < n {
            assert!(
                Instant::now() < deadline,
                "no {what:?} (#{n}) in:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, line: &str) {
        self.master.write_all(line.as_bytes()).unwrap();
        self.master.write_all(b"\n").unwrap();
    }

    fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(200)); // the reader drains the last bytes
        (status, self.text())
    }
}

fn run_ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let o = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .args(args)
        .current_dir(dir)
        .env("BREAKGLASS_BACKEND", "sim")
        .env("BREAKGLASS_SIM_DIR", dir.join("sim"))
        .env("BREAKGLASS_AUDIT_LOG", dir.join("audit.jsonl"))
        .env_remove("BREAKGLASS_PIN")
        .env_remove("BREAKGLASS_SIM_TOUCH")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_wrong_pin_is_asked_again_and_the_touch_wait_counts_then_clears() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["init-ca"], &[]);
    run_ok(
        d.path(),
        &["sim", "set-pin"],
        &[("BREAKGLASS_NEW_PIN", "123456")],
    );
    // Without the CA files, finding the CA on the key needs the PIN.
    std::fs::remove_file(d.path().join("sk-user-ca")).unwrap();
    std::fs::remove_file(d.path().join("sk-user-ca.pub")).unwrap();
    let mut p = Pty::spawn(
        d.path(),
        &["mint", "-n", "ubuntu"],
        &[("BREAKGLASS_SIM_TOUCH_WAIT", "2")],
    );
    p.expect("Enter PIN for simulated key", 1);
    p.send("000000");
    p.expect("Wrong PIN; 7 tries left.", 1);
    p.expect("(7 tries left): ", 1);
    p.send("12"); // too short: never reaches the key
    p.expect(
        "Too short; the PIN has at least 4 characters (no try was used).",
        1,
    );
    p.expect("(7 tries left): ", 2);
    p.send("123456");
    p.expect("Touch your security key", 1);
    p.expect("waiting for touch… 1s", 1);
    let (status, text) = p.finish();
    assert!(status.success(), "{text}");
    // The live line was cleared before the result was printed.
    let waiting = text.rfind("waiting for touch…").unwrap();
    let cleared = text[waiting..].find("\r\x1b[K").map(|i| i + waiting);
    let minted = text.find("Minted emergency-cert.pub").unwrap();
    assert!(
        cleared.is_some_and(|c| c < minted),
        "the waiting line was not cleared before the result:\n{text:?}"
    );
    assert!(d.path().join("emergency-cert.pub").is_file());
}

#[test]
fn two_different_new_pins_set_nothing() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["init-ca"], &[]);
    let mut p = Pty::spawn(d.path(), &["sim", "set-pin"], &[]);
    p.expect("New PIN for the simulated key: ", 1);
    p.send("123456");
    p.expect("Repeat the new PIN: ", 1);
    p.send("654321");
    let (status, text) = p.finish();
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        text.contains("\nRun the command again and type the same PIN twice.\r\n"),
        "{text:?}"
    );
    let state = std::fs::read_to_string(d.path().join("sim/token.json")).unwrap();
    assert!(state.contains("\"pin\": null"), "a PIN was set: {state}");
}

#[test]
fn a_bare_seconds_lifetime_is_asked_about_on_a_terminal() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["init-ca"], &[]);
    let mut p = Pty::spawn(
        d.path(),
        &["mint", "-n", "ubuntu", "-V", "+60", "-f", "no"],
        &[],
    );
    p.expect("Mint it anyway? [y/N] ", 1);
    p.send("n");
    let (status, text) = p.finish();
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(
        text.contains("Write the unit: -V +60m for minutes"),
        "{text}"
    );
    assert!(!d.path().join("no-cert.pub").exists());

    let mut p = Pty::spawn(
        d.path(),
        &["mint", "-n", "ubuntu", "-V", "+60", "-f", "yes"],
        &[],
    );
    p.expect("-V +60 leaves only ", 1);
    p.send("y");
    let (status, text) = p.finish();
    assert!(status.success(), "{text}");
    assert!(d.path().join("yes-cert.pub").is_file());
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["init-ca"], &[]);
    run_ok(
        d.path(),
        &["mint", "-n", "ubuntu", "-f", "old"],
        &[("BREAKGLASS_NOW", "1700000000")],
    );
    let p = Pty::spawn(d.path(), &["inspect", "old-cert.pub"], &[]);
    let (status, text) = p.finish();
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        text.contains("Status: \x1b[1;31mEXPIRED\x1b[0m"),
        "{text:?}"
    );
    assert!(text.contains("\x1b[1;31mbreakglass:\x1b[0m"), "{text:?}");
    // A success and a warning, each coloured by the kind the command gives its word.
    run_ok(
        d.path(),
        &["mint", "-n", "ubuntu", "-V", "+4m", "-f", "short"],
        &[],
    );
    let p = Pty::spawn(d.path(), &["inspect", "short-cert.pub"], &[]);
    let (status, text) = p.finish();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("Status: \x1b[32mvalid\x1b[0m, "), "{text:?}");
    assert!(
        text.contains("\x1b[33mwarning:\x1b[0m short-cert.pub has only "),
        "{text:?}"
    );
    let p = Pty::spawn(d.path(), &["inspect", "old-cert.pub"], &[("NO_COLOR", "1")]);
    let (_, text) = p.finish();
    assert!(
        text.contains("Status: EXPIRED") && !text.contains('\x1b'),
        "{text:?}"
    );
}
