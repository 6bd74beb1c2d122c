//! A fleet host for the fleet runbooks: an sshd whose configuration lives under a temp `etc/`
//! (`ETC` in the runbooks), laid out like Debian's (`Include etc/sshd_config.d/*.conf` first, then
//! the host's own settings) and already trusting an online CA, reloaded by the Ansible role with
//! SIGHUP; and the Ansible inventory that points the role at it (connection local, no root).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::openssh::{ssh_keygen, ssh_keygen_ok, ssh_options};
use super::world::{out, World};

/// `ansible-playbook` from the test venv (`$BREAKGLASS_WORMHOLE_VENV`, as `.ci/run` makes it,
/// else `target/wormhole-venv`), or from PATH.
pub fn ansible_playbook() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(v) = std::env::var_os("BREAKGLASS_WORMHOLE_VENV") {
        dirs.push(PathBuf::from(v).join("bin"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wormhole-venv/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join("ansible-playbook"))
        .find(|p| p.exists())
}

/// What a fleet runbook needs that may be missing, as the one line a skipping test prints.
pub fn missing_tools() -> Option<String> {
    if ansible_playbook().is_none() {
        return Some(
            "ansible-playbook not found (pip install ansible-core into $BREAKGLASS_WORMHOLE_VENV)"
                .into(),
        );
    }
    if !Path::new("/usr/sbin/sshd").exists() {
        return Some("/usr/sbin/sshd is not installed (apt install openssh-server)".into());
    }
    if Command::new("jq").arg("--version").output().is_err() {
        return Some("jq is not installed (apt install jq)".into());
    }
    None
}

/// The running host.
pub struct FleetHost {
    child: Child,
    /// sshd's directory (`ETC`).
    pub etc: PathBuf,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// The file sshd logs to (`SSHD_LOG`).
    pub log: PathBuf,
    /// The Ansible inventory naming this host in `breakglass_hosts` (`INVENTORY`).
    pub inventory: PathBuf,
}

impl FleetHost {
    /// Starts the host in `w`'s `host/` directory, trusting a fresh online CA
    /// (`etc/online_ca`, see [`FleetHost::online_login`]).
    pub fn start(w: &World) -> FleetHost {
        let dir = w.dir("host");
        let etc = dir.join("etc");
        fs::create_dir_all(etc.join("sshd_config.d")).unwrap();
        let key = |name: &str, comment: &str| {
            ssh_keygen_ok(
                &["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", name],
                &etc,
            )
        };
        key("ssh_host_ed25519_key", "host key");
        key("online_ca", "online-ca");
        if fs::read_to_string("/proc/self/status")
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0")))
        {
            // sshd's privilege separation directory, needed when it runs as root.
            let _ = fs::create_dir_all("/run/sshd");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = etc.display();
        let config = etc.join("sshd_config");
        fs::write(
            &config,
            format!(
                "Include {e}/sshd_config.d/*.conf\nPort {port}\nListenAddress 127.0.0.1\n\
                 HostKey {e}/ssh_host_ed25519_key\nPidFile {e}/sshd.pid\nAuthorizedKeysFile none\n\
                 TrustedUserCAKeys {e}/online_ca.pub\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            ),
        )
        .unwrap();
        let log = dir.join("sshd.log");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // The role's reload: SIGHUP to the pid sshd wrote (sshd re-executes itself).
        let reload = format!("kill -HUP \"$(cat '{}')\"", etc.join("sshd.pid").display());
        let inventory = dir.join("inventory.yml");
        let vars = serde_json::json!({
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "breakglass_become": false,
            "breakglass_owner": "",
            "breakglass_group": "",
            "breakglass_reload_command": ["sh", "-c", reload],
        });
        // JSON is YAML: the inventory as ansible-inventory(1) would print it.
        fs::write(
            &inventory,
            serde_json::json!({"breakglass_hosts": {"hosts": {"fleet-test-host": vars}}})
                .to_string(),
        )
        .unwrap();
        let h = FleetHost {
            child,
            etc,
            port,
            log,
            inventory,
        };
        h.wait_for("Server listening on", 1);
        h
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

    /// True when sshd lets `user` in with `key` (and `key-cert.pub`).
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

    /// A key `dir/name` certified for `user` by the host's online CA (its normal access), and
    /// whether sshd lets it in.
    pub fn online_login(&self, dir: &Path, name: &str, user: &str) -> bool {
        ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", name], dir);
        let ca = self.etc.join("online_ca");
        let pubkey = format!("{name}.pub");
        let o = ssh_keygen(
            &[
                "-q",
                "-s",
                ca.to_str().unwrap(),
                "-I",
                "online",
                "-n",
                user,
                &pubkey,
            ],
            dir,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        self.login(&dir.join(name), user)
    }
}

impl Drop for FleetHost {
    fn drop(&mut self) {
        let _ = self.child.kill(); // our own child, by pid
        let _ = self.child.wait();
    }
}
