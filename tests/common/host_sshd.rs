//! A host's own sshd, configured the way a host-side test needs it: a Debian-shaped `etc/`
//! (`sshd_config` Includes `etc/sshd_config.d/*.conf` first, as Debian's does) under a temp dir,
//! and `/usr/sbin/sshd -D -e` run from it with its log in a file. Unlike [`super::TestSshd`]
//! (the library's sshd for `drill`), the configuration is the test's: host-config and the
//! Ansible role write into it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::openssh::{ssh_keygen_ok, ssh_options};
use super::system::{free_port, is_root};
use super::world::out;

/// Makes `etc/` with a host key, an empty `sshd_config.d/` and an `sshd_config` that Includes
/// the drop-ins first, listens on a free port of 127.0.0.1, and then has `settings` (one a line,
/// from line 6 on, `{etc}` standing for the directory) before the fixed no-password, no-PAM
/// lines. Returns the `sshd_config` path and the port.
pub fn write_sshd_etc(etc: &Path, settings: &[&str]) -> (PathBuf, u16) {
    if is_root() {
        // sshd's privilege separation directory, which sshd -t/-T/-D need as root.
        let _ = fs::create_dir_all("/run/sshd");
    }
    fs::create_dir_all(etc.join("sshd_config.d")).unwrap();
    new_key(etc, "ssh_host_ed25519_key", "host key");
    let port = free_port();
    let e = etc.display().to_string();
    let mut text = format!(
        "Include {e}/sshd_config.d/*.conf\nPort {port}\nListenAddress 127.0.0.1\n\
         HostKey {e}/ssh_host_ed25519_key\nPidFile {e}/sshd.pid\n"
    );
    for s in settings {
        text.push_str(&s.replace("{etc}", &e));
        text.push('\n');
    }
    text.push_str(
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n",
    );
    let config = etc.join("sshd_config");
    fs::write(&config, text).unwrap();
    (config, port)
}

/// Makes the host's online CA, `etc/online_ca` (the CA a host trusts before breakglass).
pub fn make_online_ca(etc: &Path) {
    new_key(etc, "online_ca", "online-ca");
}

/// A new ed25519 key `dir/name` (and `name.pub`) without passphrase.
fn new_key(dir: &Path, name: &str, comment: &str) {
    ssh_keygen_ok(
        &["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", name],
        dir,
    );
}

/// `/usr/sbin/sshd -D -e -f CONFIG`, stopped by its own pid on drop.
pub struct HostSshd {
    child: Child,
    /// The file sshd logs to.
    pub log: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl HostSshd {
    /// Starts sshd from `config` (which listens on `port`), logging to `log`, and waits until
    /// it listens.
    pub fn start(config: &Path, port: u16, log: PathBuf) -> HostSshd {
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let s = HostSshd { child, log, port };
        s.wait_for("Server listening on", 1);
        s
    }

    /// Starts sshd from `config` logging to syslog as on a real host (no `-e`: each message
    /// escaped and cut at 500 characters by sshd's `log.c`), its `/dev/log` being `socket`: sshd
    /// runs in its own mount namespace (`unshare -m`, root only) whose `/dev` is `dev` (made
    /// here: `log` a symlink to `socket`, the device nodes sshd uses bind-mounted from the real
    /// `/dev`), so nothing outside it changes. `log` is the file the syslog daemon on `socket`
    /// writes sshd's lines to; waits until sshd's "Server listening" line is in it.
    pub fn start_syslog(
        config: &Path,
        port: u16,
        dev: &Path,
        socket: &Path,
        log: PathBuf,
    ) -> HostSshd {
        const SETUP: &str = r#"set -e
d=$1; sock=$2; shift 2
mount --make-rprivate /
mkdir -p "$d/pts"
for n in null zero full random urandom tty ptmx; do : > "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done
mount --rbind /dev/pts "$d/pts"
ln -s "$sock" "$d/log"
mount --rbind "$d" /dev
exec "$@""#;
        let child = Command::new("unshare")
            .args(["-m", "sh", "-c", SETUP, "sh"])
            .arg(dev)
            .arg(socket)
            .args(["/usr/sbin/sshd", "-D", "-f"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dev.with_extension("err")).unwrap())
            .spawn()
            .unwrap();
        let s = HostSshd { child, log, port };
        s.wait_for("Server listening on", 1);
        s
    }

    /// Everything sshd logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until sshd has logged `what` `count` times.
    pub fn wait_for(&self, what: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.log().matches(what).count() < count {
            assert!(
                Instant::now() < deadline,
                "sshd never logged {what:?} {count} times:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// True when sshd lets `user` in with `key` (and `key-cert.pub`), no agent.
    pub fn login(&self, key: &Path, user: &str) -> bool {
        let o = Command::new("ssh")
            .args(ssh_options(self.port))
            .arg("-i")
            .arg(key)
            .arg(format!("{user}@127.0.0.1"))
            .arg("echo in")
            .stdin(Stdio::null())
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        o.status.success() && out(&o).trim() == "in"
    }
}

impl Drop for HostSshd {
    fn drop(&mut self) {
        let _ = self.child.kill(); // our own child, by pid
        let _ = self.child.wait();
    }
}
