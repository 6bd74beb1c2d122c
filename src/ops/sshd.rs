//! A throwaway `sshd` on 127.0.0.1: a high port, a temporary configuration that trusts one CA,
//! its own host key, stopped by its pid when dropped. Used by `drill` and by the tests.

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ssh_key::LineEnding;

use crate::ssh::keyfile::{self, KeyType};
use crate::{Error, Result};

/// Where the OpenSSH server binary is, if installed. In debug builds `BREAKGLASS_SSHD` names it
/// instead (how the tests give a command a machine without sshd).
pub fn sshd_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BREAKGLASS_SSHD").filter(|_| cfg!(debug_assertions)) {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Where the OpenSSH client is, if installed.
pub fn ssh_path() -> Option<PathBuf> {
    ["/usr/bin/ssh", "/usr/local/bin/ssh"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A running throwaway sshd.
pub struct TestSshd {
    child: Child,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Its directory (config, host key, CA file, log).
    pub dir: PathBuf,
    log: PathBuf,
}

fn free_port() -> Result<u16> {
    let failed = |e: std::io::Error| Error::ProgramFailed {
        program: "sshd".into(),
        reason: format!("no free port on 127.0.0.1: {e}"),
    };
    let l = TcpListener::bind("127.0.0.1:0").map_err(failed)?;
    l.local_addr().map(|a| a.port()).map_err(failed)
}

impl TestSshd {
    /// Starts sshd in `dir` trusting the CA public key lines in `trusted_ca`, plus `extra` config lines.
    pub fn start(dir: &Path, trusted_ca: &str, extra: &[&str]) -> Result<TestSshd> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let ca = dir.join("trusted_user_ca.pub");
        fs::write(&ca, trusted_ca).map_err(|e| Error::io("write", &ca, e))?;
        Self::start_with_ca_file(dir, &ca, extra)
    }

    /// Starts sshd trusting the CA file `ca` (sshd reads it at each login, so it may be written
    /// later).
    pub fn start_with_ca_file(dir: &Path, ca: &Path, extra: &[&str]) -> Result<TestSshd> {
        let sshd = sshd_path().ok_or(Error::ProgramMissing {
            program: "sshd",
            package: "openssh-server",
        })?;
        fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let host_key = dir.join("ssh_host_ed25519_key");
        if !host_key.exists() {
            let k = keyfile::generate(KeyType::Ed25519, "breakglass throwaway sshd")?;
            crate::delivery::atomic::write_all(
                &[crate::delivery::atomic::PlannedFile::private(
                    &host_key,
                    k.to_openssh(LineEnding::LF)?.as_bytes().to_vec(),
                )],
                true,
            )?;
        }
        let krl = dir.join("revoked_keys");
        if !krl.exists() {
            fs::write(&krl, "").map_err(|e| Error::io("write", &krl, e))?;
        }
        if nix_is_root() {
            // sshd's privilege separation directory, needed when it runs as root.
            let _ = fs::create_dir_all("/run/sshd");
        }
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let cfg = dir.join("sshd_config");
            let mut text = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\nAuthorizedKeysFile none\nTrustedUserCAKeys {}\nRevokedKeys {}\nPubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nLogLevel VERBOSE\nPermitRootLogin prohibit-password\n",
                host_key.display(),
                ca.display(),
                krl.display()
            );
            for l in extra {
                text.push_str(l);
                text.push('\n');
            }
            fs::write(&cfg, text).map_err(|e| Error::io("write", &cfg, e))?;
            let log = dir.join("sshd.log");
            let logf = fs::File::create(&log).map_err(|e| Error::io("create", &log, e))?;
            let child = Command::new(&sshd)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(logf)
                .env_remove("BREAKGLASS_PIN")
                .spawn()
                .map_err(|e| Error::ProgramFailed {
                    program: sshd.display().to_string(),
                    reason: format!("could not start: {e}"),
                })?;
            let mut s = TestSshd {
                child,
                port,
                dir: dir.to_path_buf(),
                log,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let text = s.log();
                if text.contains("Server listening on") {
                    return Ok(s);
                }
                if let Ok(Some(_)) = s.child.try_wait() {
                    last_err = text.lines().last().unwrap_or("sshd exited").to_string();
                    break;
                }
                if Instant::now() > deadline {
                    last_err = "sshd did not start listening within 10 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(s);
        }
        Err(Error::ProgramFailed {
            program: "the throwaway sshd".into(),
            reason: last_err,
        })
    }

    /// Everything sshd logged so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Runs `ssh -i key user@127.0.0.1 command` against this sshd (certificate picked up from
    /// `key-cert.pub`), with no user configuration, agent or known_hosts involved.
    pub fn ssh(&self, key: &Path, user: &str, command: &str) -> Result<Output> {
        let ssh = ssh_path().ok_or(Error::ProgramMissing {
            program: "ssh",
            package: "openssh-client",
        })?;
        Command::new(ssh)
            .args(ssh_options(self.port))
            .arg("-i")
            .arg(key)
            .arg(format!("{user}@127.0.0.1"))
            .arg(command)
            .stdin(Stdio::null())
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("BREAKGLASS_PIN")
            .output()
            .map_err(|e| Error::ProgramFailed {
                program: "ssh".into(),
                reason: e.to_string(),
            })
    }
}

/// The client options for a throwaway sshd: no config, no agent, no known_hosts, batch mode.
pub fn ssh_options(port: u16) -> Vec<String> {
    [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "PreferredAuthentications=publickey",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["-p".to_string(), port.to_string()])
    .collect()
}

fn nix_is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        let _ = self.child.kill(); // our own child, by pid
        let _ = self.child.wait();
    }
}

/// The login name of the current user (for the drill's login).
pub fn current_user() -> String {
    crate::paths::operator()
}
