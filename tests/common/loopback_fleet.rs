//! A loopback fleet for the fleet drill: many real sshds on 127.0.0.1, each with its own port,
//! host key and a root directory laid out like a host's (`ROOT/etc/ssh/sshd_config` including
//! `ROOT/etc/ssh/sshd_config.d/*.conf` first, `ROOT/etc/rsyslog.d/`), configured by `breakglass
//! host-config` ([`host_config`], the one place these tests and `bench/fleet_drill.sh`'s twin
//! run it) and installed as the Ansible role would. Each sshd's `SetEnv BREAKGLASS_PROBE_ROOT`
//! points the probe at its root. Some hosts are broken on purpose ([`Breakage`]).

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::host_sshd::HostSshd;
use super::openssh::ssh_keygen_ok;
use super::system::is_root;
use super::world::{err, out, World};

/// How a host is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// Ready.
    None,
    /// Trusts no break-glass CA (host-config never ran).
    Untrusted,
    /// Trusts the primary CA but not the backup.
    OneCa,
    /// Has an older KRL than the newest.
    OldKrl,
    /// Has no alert rule.
    NoAlert,
    /// Its sshd is not running.
    Down,
    /// Its host key is not the one in known_hosts.
    HostKey,
    /// Lets an agent key in (authorized_keys) but trusts no CA.
    AgentOnly,
    /// Ready outside Match blocks, but `Match Address 127.0.0.1` (every drill login) sets the
    /// older KRL as RevokedKeys.
    MatchKrl,
    /// Lets the drill certificate in, then the session never answers (`ForceCommand sleep`
    /// replaces the probe): only the drill's own deadline ends it.
    Stalls,
}

/// One host.
pub struct LoopbackHost {
    /// `hNN`.
    pub label: String,
    /// Its root (`ROOT/etc/ssh`, `ROOT/etc/rsyslog.d`).
    pub root: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// How it is broken.
    pub breakage: Breakage,
    /// Its sshd (none when down).
    pub sshd: Option<HostSshd>,
}

impl LoopbackHost {
    /// The destination as the hosts file names it.
    pub fn destination(&self, user: &str) -> String {
        format!("{user}@127.0.0.1:{}", self.port)
    }
}

/// The fleet and the files a drill needs.
pub struct LoopbackFleet {
    /// The hosts, in the hosts file's order.
    pub hosts: Vec<LoopbackHost>,
    /// The hosts file (`user@127.0.0.1:PORT` a line).
    pub hosts_file: PathBuf,
    /// known_hosts for every host (a wrong key for [`Breakage::HostKey`]).
    pub known_hosts: PathBuf,
    /// The newest KRL (version 2).
    pub krl: PathBuf,
    /// The Ansible inventory (`breakglass_hosts`, one entry per host by label).
    pub inventory: PathBuf,
    /// The agent key that [`Breakage::AgentOnly`] hosts authorize.
    pub agent_key: PathBuf,
}

/// Skips the calling test (one line, see [`super::skip`]) and returns true when there is no
/// sshd to run a loopback fleet with.
#[track_caller]
pub fn skip_without_sshd() -> bool {
    super::skip::unless(
        &super::skip::SSHD,
        (!Path::new("/usr/sbin/sshd").exists()).then(|| "/usr/sbin/sshd is not installed".into()),
    )
}

/// A world with the two break-glass CAs a fleet trusts: `work/sk-user-ca.pub` (primary, the
/// world's simulated key) and `work/backup-ca.pub` (its own simulated key, `sim2`); its commands
/// run with `BREAKGLASS_FLEET_TEST_ROOTS=1`.
pub fn world_with_two_cas() -> World {
    let mut w = World::new();
    // The fleet's sshds point the probe at their own trees (SetEnv BREAKGLASS_PROBE_ROOT): a
    // test fleet, said so, or no host would be ready.
    w.env
        .push(("BREAKGLASS_FLEET_TEST_ROOTS".into(), "1".into()));
    w.init_ca();
    let sim2 = w.other_sim("sim2");
    let o = w.run_env(
        &["init-ca", "-f", "backup-ca"],
        &[("BREAKGLASS_SIM_DIR", sim2.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    w
}

/// `breakglass host-config ARGS` for one loopback host (`--out OUT --etc ETC --sshd-config
/// ETC/sshd_config`): the only place these tests run host-config for a fleet host. The drill's
/// CAs are simulated, so nothing proves they live in a hardware key: `--allow-unattested`, on
/// purpose (the drill tests what a host trusts, not where its CA was born; tests/host_config.rs
/// tests the attestation gate).
pub fn host_config(w: &World, etc: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "host-config".to_string(),
        "--allow-unattested".into(),
        "--out".into(),
        out.display().to_string(),
        "--etc".into(),
        etc.display().to_string(),
        "--sshd-config".into(),
        etc.join("sshd_config").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    w.run(&a)
}

/// Ports free on 127.0.0.1, all different (held open together while chosen).
fn free_ports(n: usize) -> Vec<u16> {
    let l: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    l.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// Copies the files of `from` into `to` (recursively), `rsyslog.d` into `rsyslog`.
fn install(from: &Path, to: &Path, rsyslog: &Path) {
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let (src, dst) = (e.path(), to.join(&name));
        if name == "rsyslog.d" {
            install(&src, rsyslog, rsyslog);
        } else if src.is_dir() {
            fs::create_dir_all(&dst).unwrap();
            install(&src, &dst, rsyslog);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Starts `breakages.len()` hosts in `w`'s `fleet/` directory, the break-glass CAs being
/// `work/sk-user-ca.pub` (primary) and `work/backup-ca.pub`, for `user`.
pub fn start(w: &World, breakages: &[Breakage], user: &str) -> LoopbackFleet {
    if is_root() {
        let _ = fs::create_dir_all("/run/sshd");
    }
    let dir = w.dir("fleet");
    let primary = w.path("sk-user-ca.pub");
    let backup = w.path("backup-ca.pub");
    // The KRLs: version 2 (newest, what every host should have) and version 1.
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "revoked"], &dir);
    ssh_keygen_ok(
        &["-q", "-k", "-z", "2", "-f", "new.krl", "revoked.pub"],
        &dir,
    );
    ssh_keygen_ok(&["-q", "-k", "-z", "1", "-f", "old.krl"], &dir);
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "agent_key"], &dir);
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "stranger"], &dir);
    let stranger = fs::read_to_string(dir.join("stranger.pub")).unwrap();
    let ports = free_ports(breakages.len());
    // Set up in parallel (host-config and sshd's start dominate).
    let mut hosts: Vec<LoopbackHost> = std::thread::scope(|sc| {
        let jobs: Vec<_> = breakages
            .iter()
            .zip(&ports)
            .enumerate()
            .map(|(i, (&b, &port))| {
                let dir = &dir;
                let (primary, backup) = (&primary, &backup);
                sc.spawn(move || one_host(w, dir, i, b, port, primary, backup))
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    hosts.sort_by(|a, b| a.label.cmp(&b.label));
    let mut hosts_file = String::from("# the loopback fleet\n");
    let mut known = String::new();
    let mut inventory = serde_json::Map::new();
    for h in &hosts {
        hosts_file.push_str(&h.destination(user));
        hosts_file.push('\n');
        let key = if h.breakage == Breakage::HostKey {
            stranger.clone()
        } else {
            fs::read_to_string(h.root.join("etc/ssh/ssh_host_ed25519_key.pub")).unwrap()
        };
        known.push_str(&format!("[127.0.0.1]:{} {key}", h.port));
        inventory.insert(
            h.label.clone(),
            serde_json::json!({"ansible_host": "127.0.0.1", "ansible_port": h.port, "ansible_user": user}),
        );
    }
    let fleet = LoopbackFleet {
        hosts,
        hosts_file: dir.join("hosts"),
        known_hosts: dir.join("known_hosts"),
        krl: dir.join("new.krl"),
        inventory: dir.join("inventory.json"),
        agent_key: dir.join("agent_key"),
    };
    fs::write(&fleet.hosts_file, hosts_file).unwrap();
    fs::write(&fleet.known_hosts, known).unwrap();
    fs::write(
        &fleet.inventory,
        serde_json::json!({"breakglass_hosts": {"hosts": inventory}}).to_string(),
    )
    .unwrap();
    fleet
}

fn one_host(
    w: &World,
    dir: &Path,
    i: usize,
    b: Breakage,
    port: u16,
    primary: &Path,
    backup: &Path,
) -> LoopbackHost {
    let label = format!("h{i:03}");
    let root = dir.join(&label);
    let etc = root.join("etc/ssh");
    fs::create_dir_all(etc.join("sshd_config.d")).unwrap();
    fs::create_dir_all(root.join("etc/rsyslog.d")).unwrap();
    ssh_keygen_ok(
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            "ssh_host_ed25519_key",
        ],
        &etc,
    );
    let e = etc.display();
    let mut cfg = format!(
        "Include {e}/sshd_config.d/*.conf\nPort {port}\nListenAddress 127.0.0.1\n\
         HostKey {e}/ssh_host_ed25519_key\nPidFile {e}/sshd.pid\n\
         SetEnv BREAKGLASS_PROBE_ROOT={}\nLogLevel VERBOSE\n",
        root.display()
    );
    if b == Breakage::AgentOnly {
        fs::copy(dir.join("agent_key.pub"), etc.join("authorized_keys")).unwrap();
        cfg.push_str(&format!("AuthorizedKeysFile {e}/authorized_keys\n"));
    } else {
        cfg.push_str("AuthorizedKeysFile none\n");
    }
    cfg.push_str(
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n",
    );
    fs::write(etc.join("sshd_config"), cfg).unwrap();
    if !matches!(b, Breakage::Untrusted | Breakage::AgentOnly) {
        let build = root.join("build");
        fs::create_dir(&build).unwrap();
        let (p, k) = (primary.display().to_string(), backup.display().to_string());
        let mut extra: Vec<&str> = Vec::new();
        if b != Breakage::NoAlert {
            extra.extend(["--alert", "/bin/true"]);
        }
        extra.push(&p);
        if b != Breakage::OneCa {
            extra.push(&k);
        }
        let o = host_config(w, &etc, &build, &extra);
        assert!(o.status.success(), "host-config: {}{}", out(&o), err(&o));
        install(&build, &etc, &root.join("etc/rsyslog.d"));
        let krl = if b == Breakage::OldKrl {
            "old.krl"
        } else {
            "new.krl"
        };
        fs::copy(dir.join(krl), etc.join("breakglass_revoked.krl")).unwrap();
    }
    let mut tail = String::new();
    if b == Breakage::MatchKrl {
        fs::copy(dir.join("old.krl"), etc.join("old.krl")).unwrap();
        tail = format!("Match Address 127.0.0.1\n    RevokedKeys {e}/old.krl\n");
    }
    if b == Breakage::Stalls {
        tail = "ForceCommand exec sleep 600\n".into();
    }
    if !tail.is_empty() {
        let mut cfg = fs::read_to_string(etc.join("sshd_config")).unwrap();
        cfg.push_str(&tail);
        fs::write(etc.join("sshd_config"), cfg).unwrap();
    }
    let sshd = (b != Breakage::Down)
        .then(|| HostSshd::start(&etc.join("sshd_config"), port, root.join("sshd.log")));
    LoopbackHost {
        label,
        root,
        port,
        breakage: b,
        sshd,
    }
}
