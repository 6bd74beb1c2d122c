//! The rollout: `deploy/ansible` (role `breakglass_host`) installs what `host-config --out`
//! wrote onto a local target whose paths sit under a temp dir (connection local, no real /etc),
//! run by the real `ansible-playbook`. Twice (the second run changes nothing); then a real sshd
//! reloaded by the role accepts certificates from both break-glass CAs and still the host's
//! online CA; a signed KRL is installed only when `ssh-keygen -Y verify` accepts its signature.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// `ansible-playbook` from the test venv (`$BREAKGLASS_WORMHOLE_VENV`, as `.ci/run` makes it,
/// else `target/wormhole-venv`), or from PATH.
fn ansible_playbook() -> Option<PathBuf> {
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

fn user() -> String {
    breakglass::operator()
}

struct Sshd {
    child: Child,
    log: PathBuf,
}

impl Sshd {
    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
    fn wait_for(&self, what: &str, count: usize) {
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
    fn login(&self, port: u16, key: &Path, user: &str) -> bool {
        let o = Command::new("ssh")
            .args(breakglass::ops::sshd::ssh_options(port))
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

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill(); // our own child, by pid
        let _ = self.child.wait();
    }
}

fn keygen_ok(args: &[&str], cwd: &Path) {
    let o = ssh_keygen(args, cwd);
    assert!(o.status.success(), "ssh-keygen {args:?}: {}", err(&o));
}

/// Runs the example playbook against localhost with `vars` (JSON) and returns the output.
fn playbook(ansible: &Path, vars: &serde_json::Value, dir: &Path) -> Output {
    let vars_file = dir.join("vars.json");
    fs::write(&vars_file, vars.to_string()).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(ansible)
        .current_dir(repo.join("deploy/ansible"))
        .args(["-i", "localhost,", "-c", "local", "-e"])
        .arg(format!("@{}", vars_file.display()))
        .arg("playbook.yml")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", dir.join("ansible-remote"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `changed=N` from the PLAY RECAP line.
fn changed(o: &Output) -> usize {
    let text = out(o);
    let recap = text
        .lines()
        .rev()
        .find(|l| l.starts_with("localhost") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no PLAY RECAP:\n{text}\n{}", err(o)));
    recap
        .split_whitespace()
        .find_map(|f| f.strip_prefix("changed="))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_ansible_role_installs_idempotently_and_sshd_accepts_break_glass_and_online_certificates() {
    let Some(ansible) = ansible_playbook() else {
        eprintln!("skipped: ansible-playbook not found (pip install ansible-core into $BREAKGLASS_WORMHOLE_VENV)");
        return;
    };
    if !Path::new("/usr/sbin/sshd").exists() {
        eprintln!("skipped: /usr/sbin/sshd is not installed (apt install openssh-server)");
        return;
    }
    let w = World::new();
    let u = user();
    w.init_ca();
    let sim2 = w.other_sim("sim2");
    let o = w.run_env(
        &["init-ca", "-f", "backup-ca"],
        &[("BREAKGLASS_SIM_DIR", sim2.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));

    // The target: a host under a temp dir with an online CA and a running sshd trusting it.
    let t = w.tmp.path();
    let etc = t.join("etc");
    fs::create_dir_all(etc.join("sshd_config.d")).unwrap();
    keygen_ok(
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
    keygen_ok(
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "online-ca",
            "-f",
            "online_ca",
        ],
        &etc,
    );
    if fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0")))
    {
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
    let log = t.join("sshd.log");
    let sshd = Sshd {
        child: Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        log,
    };
    sshd.wait_for("Server listening on", 1);

    // Certificates: one per break-glass key, one from the online CA.
    w.ok(&["mint", "-n", &u, "-f", "primary"]);
    let o = w.run_env(
        &["mint", "--ca", "backup-ca.pub", "-n", &u, "-f", "backup"],
        &[("BREAKGLASS_SIM_DIR", sim2.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "online"], &w.work);
    let ca = etc.join("online_ca");
    keygen_ok(
        &[
            "-q",
            "-s",
            ca.to_str().unwrap(),
            "-I",
            "online",
            "-n",
            &u,
            "online.pub",
        ],
        &w.work,
    );
    assert!(sshd.login(port, &w.path("online"), &u), "{}", sshd.log());
    assert!(
        !sshd.login(port, &w.path("primary"), &u),
        "trusted before the rollout"
    );

    // host-config on the controller, for this target.
    let build = t.join("build");
    fs::create_dir(&build).unwrap();
    w.ok(&[
        "host-config",
        "--out",
        build.to_str().unwrap(),
        "--etc",
        etc.to_str().unwrap(),
        "--sshd-config",
        config.to_str().unwrap(),
        "--two-person",
        "sk-user-ca.pub",
        "backup-ca.pub",
        "--principals",
        &format!("{u}=bg-{u}"),
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);

    let pidfile = etc.join("sshd.pid");
    let mut vars = serde_json::json!({
        "breakglass_target": "localhost",
        "breakglass_become": false,
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "breakglass_src": build,
        "breakglass_etc": etc,
        "breakglass_owner": "",
        "breakglass_group": "",
        "breakglass_reload_command": ["sh", "-c", format!("kill -HUP \"$(cat '{}')\"", pidfile.display())],
    });
    let first = playbook(&ansible, &vars, t);
    assert!(
        first.status.success(),
        "first run failed:\n{}\n{}",
        out(&first),
        err(&first)
    );
    assert!(changed(&first) >= 3, "{}", out(&first));
    let second = playbook(&ansible, &vars, t);
    assert!(
        second.status.success(),
        "second run failed:\n{}\n{}",
        out(&second),
        err(&second)
    );
    assert_eq!(
        changed(&second),
        0,
        "second run changed something:\n{}",
        out(&second)
    );
    // The role reloaded sshd once (SIGHUP: sshd re-executes itself and listens again).
    sshd.wait_for("Server listening on", 2);
    for f in [
        "breakglass_user_ca.pub",
        "sshd_config.d/00-breakglass.conf",
        "breakglass_revoked.krl",
        &format!("breakglass_principals/{u}"),
        "breakglass_custodian_ca.pub",
        "breakglass_two_person_gate.sh",
        "breakglass_principals/breakglass",
    ] {
        assert_eq!(
            fs::read(etc.join(f)).unwrap(),
            fs::read(build.join(f)).unwrap(),
            "{f}"
        );
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| fs::metadata(etc.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("breakglass_two_person_gate.sh"), 0o755);
        assert_eq!(mode("breakglass_custodian_ca.pub"), 0o644);
    }
    assert!(
        sshd.login(port, &w.path("primary"), &u),
        "primary refused:\n{}",
        sshd.log()
    );
    assert!(
        sshd.login(port, &w.path("backup"), &u),
        "backup refused:\n{}",
        sshd.log()
    );
    assert!(
        sshd.login(port, &w.path("online"), &u),
        "online CA refused:\n{}",
        sshd.log()
    );

    // A signed KRL revoking the primary certificate replaces the installed one...
    let krl = t.join("new.krl");
    keygen_ok(
        &["-q", "-k", "-f", krl.to_str().unwrap(), "primary-cert.pub"],
        &w.work,
    );
    keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "krl_signer"], t);
    keygen_ok(
        &[
            "-q",
            "-Y",
            "sign",
            "-n",
            "breakglass-krl",
            "-f",
            "krl_signer",
            "new.krl",
        ],
        t,
    );
    let signer = fs::read_to_string(t.join("krl_signer.pub")).unwrap();
    let allowed = t.join("allowed_signers");
    fs::write(
        &allowed,
        format!("breakglass-ca namespaces=\"breakglass-krl\" {signer}"),
    )
    .unwrap();
    vars["breakglass_krl_src"] = serde_json::json!(krl);
    vars["breakglass_krl_signature"] = serde_json::json!(t.join("new.krl.sig"));
    vars["breakglass_krl_allowed_signers"] = serde_json::json!(allowed);
    let signed = playbook(&ansible, &vars, t);
    assert!(
        signed.status.success(),
        "signed KRL run failed:\n{}\n{}",
        out(&signed),
        err(&signed)
    );
    assert_eq!(changed(&signed), 1, "{}", out(&signed));
    assert_eq!(
        fs::read(etc.join("breakglass_revoked.krl")).unwrap(),
        fs::read(&krl).unwrap()
    );
    assert!(
        !sshd.login(port, &w.path("primary"), &u),
        "revoked certificate accepted"
    );
    assert!(sshd.login(port, &w.path("backup"), &u), "{}", sshd.log());
    assert!(sshd.login(port, &w.path("online"), &u), "{}", sshd.log());
    assert!(sshd.log().contains("revoked by file"), "{}", sshd.log());

    // ...but one whose signature does not verify is refused and the installed KRL stays.
    let tampered = t.join("tampered.krl");
    let mut bytes = fs::read(&krl).unwrap();
    bytes.push(0);
    fs::write(&tampered, bytes).unwrap();
    vars["breakglass_krl_src"] = serde_json::json!(tampered);
    let bad = playbook(&ansible, &vars, t);
    assert!(
        !bad.status.success(),
        "a tampered KRL was accepted:\n{}",
        out(&bad)
    );
    assert!(
        out(&bad).contains("Signature verification failed"),
        "{}",
        out(&bad)
    );
    assert_eq!(
        fs::read(etc.join("breakglass_revoked.krl")).unwrap(),
        fs::read(&krl).unwrap()
    );
}
