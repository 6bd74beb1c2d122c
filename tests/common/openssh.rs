//! Real OpenSSH around the binary: `ssh-keygen`, a private `ssh-agent`, a throwaway `sshd` (the
//! library's own, which `breakglass drill` uses too), an `ssh` that points at it, and the
//! SecurityKeyProvider library (`sk-provider/`) that OpenSSH loads to reach the simulated key.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use breakglass::ops::sshd::{ssh_options, TestSshd};

use super::files::write_script;
use super::world::{bin, World};

/// Runs `ssh-keygen ARGS` in `cwd`.
pub fn ssh_keygen(args: &[&str], cwd: &Path) -> Output {
    Command::new("ssh-keygen")
        .args(args)
        .current_dir(cwd)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen is installed")
}

/// Runs `ssh-keygen ARGS` in `cwd` and asserts that it succeeded.
pub fn ssh_keygen_ok(args: &[&str], cwd: &Path) {
    let o = ssh_keygen(args, cwd);
    assert!(
        o.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The SHA256 fingerprint of the public key file `pub_file`, as `ssh-keygen -l` prints it.
pub fn fingerprint(pub_file: &Path) -> String {
    let o = ssh_keygen(&["-l", "-f", pub_file.to_str().unwrap()], Path::new("/"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

/// A throwaway sshd in the world's `sshd/` directory, trusting the CA line(s) `ca`.
pub fn start_sshd(w: &World, ca: &str) -> TestSshd {
    TestSshd::start(&w.tmp.path().join("sshd"), ca, &[]).unwrap()
}

/// A throwaway sshd trusting whatever the CA file `ca` holds at each login (it may not exist
/// yet: a runbook creates it).
pub fn start_sshd_with_ca_file(w: &World, ca: &Path) -> TestSshd {
    TestSshd::start_with_ca_file(&w.tmp.path().join("sshd"), ca, &[]).unwrap()
}

/// A directory holding an `ssh` that runs the real one against the test sshd on `port` (any
/// host name, no known_hosts, no agent, batch mode), for scripts that type `ssh user@host`.
pub fn ssh_wrapper(dir: &Path, port: u16) -> PathBuf {
    let wrap = dir.join("ssh-wrapper");
    std::fs::create_dir_all(&wrap).unwrap();
    let cfg = wrap.join("ssh_config");
    std::fs::write(
        &cfg,
        format!(
            "Host *\n  Port {port}\n  HostName 127.0.0.1\n  StrictHostKeyChecking no\n  \
             UserKnownHostsFile /dev/null\n  IdentitiesOnly yes\n  IdentityAgent none\n  \
             BatchMode yes\n  LogLevel ERROR\n"
        ),
    )
    .unwrap();
    write_script(
        &wrap.join("ssh"),
        &format!("#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n", cfg.display()),
    );
    wrap
}

/// A private `ssh-agent -D` on a socket in a temporary directory; stopped by its own pid on
/// drop. Confirmation prompts fail at once (no display, askpass `/bin/false`).
pub struct TestAgent {
    child: Child,
    pub sock: PathBuf,
    pub dir: tempfile::TempDir,
}

impl TestAgent {
    pub fn start() -> TestAgent {
        TestAgent::start_with(&[], &[])
    }

    /// With more arguments (e.g. `-P` for the providers it may load) and environment.
    pub fn start_with(args: &[&str], env: &[(&str, &Path)]) -> TestAgent {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("agent.sock");
        let mut c = Command::new("ssh-agent");
        c.arg("-D")
            .arg("-a")
            .arg(&sock)
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env("SSH_ASKPASS", "/bin/false")
            .env("SSH_ASKPASS_REQUIRE", "force")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().expect("start ssh-agent");
        let agent = TestAgent { child, sock, dir };
        let start = Instant::now();
        while !agent.sock.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "ssh-agent did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        agent
    }

    /// Runs `ssh-add ARGS` against this agent only.
    pub fn ssh_add(&self, args: &[&str]) -> Output {
        Command::new("ssh-add")
            .args(args)
            .env("SSH_AUTH_SOCK", &self.sock)
            .env_remove("SSH_ASKPASS")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .output()
            .expect("run ssh-add")
    }

    /// What `ssh-add -l` says (stdout and stderr).
    pub fn list(&self) -> String {
        let o = self.ssh_add(&["-l"]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        // Child::kill signals exactly this child's pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The provider library beside the binary, built once per test process (the same target
/// directory as the binary).
pub fn provider() -> PathBuf {
    super::built::beside_breakglass("breakglass-sk", "libbreakglass_sk.so")
}
