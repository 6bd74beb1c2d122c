//! A fleet host for the fleet runbooks: an sshd whose configuration lives under a temp `etc/`
//! (`ETC` in the runbooks), laid out like Debian's (`Include etc/sshd_config.d/*.conf` first, then
//! the host's own settings) and already trusting an online CA, reloaded by the Ansible role with
//! SIGHUP; and the Ansible inventory that points the role at it (connection local, no root).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::host_sshd::{make_online_ca, write_sshd_etc, HostSshd};
use super::openssh::{ssh_keygen, ssh_keygen_ok};
use super::skip::{self, Need};
use super::world::World;

/// `ansible-playbook` from the test venv (`$BREAKGLASS_WORMHOLE_VENV`, else `target/wormhole-venv`,
/// which `scripts/install-debian.sh --tests` makes), or from PATH.
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

/// What a fleet runbook needs that may be missing, and the one line a skipping test prints.
pub fn missing_tools() -> Option<(&'static Need, String)> {
    if ansible_playbook().is_none() {
        return Some((&skip::ANSIBLE, "ansible-playbook not found".into()));
    }
    if !Path::new("/usr/sbin/sshd").exists() {
        return Some((&skip::SSHD, "/usr/sbin/sshd is not installed".into()));
    }
    if Command::new("jq").arg("--version").output().is_err() {
        return Some((&skip::JQ, "jq is not installed".into()));
    }
    None
}

/// Skips the calling test (one line, see [`skip`]) and returns true when a tool is missing.
#[track_caller]
pub fn skip_without_tools() -> bool {
    match missing_tools() {
        Some((need, why)) => {
            skip::skip(need, &why);
            true
        }
        None => false,
    }
}

/// The running host.
pub struct FleetHost {
    sshd: HostSshd,
    /// sshd's directory (`ETC`).
    pub etc: PathBuf,
    /// Its main configuration, `etc/sshd_config`.
    pub config: PathBuf,
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
        let (config, port) = write_sshd_etc(
            &etc,
            &[
                "AuthorizedKeysFile none",
                "TrustedUserCAKeys {etc}/online_ca.pub",
            ],
        );
        make_online_ca(&etc);
        let log = dir.join("sshd.log");
        let sshd = HostSshd::start(&config, port, log.clone());
        let inventory = dir.join("inventory.yml");
        let h = FleetHost {
            sshd,
            etc,
            config,
            port,
            log,
            inventory,
        };
        // JSON is YAML: the inventory as ansible-inventory(1) would print it.
        fs::write(
            &h.inventory,
            serde_json::json!({"breakglass_hosts": {"hosts": {"fleet-test-host": h.role_vars()}}})
                .to_string(),
        )
        .unwrap();
        h
    }

    /// The host's variables for the Ansible role: a local connection, no root, and as the
    /// role's reload a SIGHUP to the pid sshd wrote (sshd re-executes itself).
    pub fn role_vars(&self) -> serde_json::Value {
        let reload = format!(
            "kill -HUP \"$(cat '{}')\"",
            self.etc.join("sshd.pid").display()
        );
        serde_json::json!({
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "breakglass_become": false,
            "breakglass_owner": "",
            "breakglass_group": "",
            "breakglass_reload_command": ["sh", "-c", reload],
        })
    }

    /// Everything sshd logged so far.
    pub fn log(&self) -> String {
        self.sshd.log()
    }

    /// Waits until sshd has logged `what` `count` times.
    pub fn wait_for(&self, what: &str, count: usize) {
        self.sshd.wait_for(what, count)
    }

    /// True when sshd lets `user` in with `key` (and `key-cert.pub`).
    pub fn login(&self, key: &Path, user: &str) -> bool {
        self.sshd.login(key, user)
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
