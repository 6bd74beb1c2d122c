//! Two-person break-glass (`host-config --two-person`) against a real sshd on 127.0.0.1: two
//! custodians (two simulated keys) each certify a different key of the operator's with
//! `mint --pubkey`; the dedicated account opens only to both together. The gate's syslog lines go
//! through a real `rsyslogd -n` running the generated `--alert` rule.
//!
//! Needs root (sshd must switch to the test account, which the test creates with `useradd` and
//! removes again), /usr/sbin/sshd, rsyslogd, logger and sftp; skips with one line otherwise.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::rsyslog::{start_rsyslogd, write_recording_pager, Rsyslogd};
use common::*;

fn usable() -> bool {
    if !is_root() {
        skip::skip(
            &skip::ROOT,
            "needs root (sshd must log in a test account made with useradd)",
        );
        return false;
    }
    for (p, need) in [
        ("/usr/sbin/sshd", &skip::SSHD),
        ("rsyslogd", &skip::RSYSLOG),
        ("logger", &skip::RSYSLOG),
        ("sftp", &skip::OPENSSH_CLIENT),
    ] {
        if !have(p) {
            skip::skip(need, &format!("{p} is not installed"));
            return false;
        }
    }
    // useradd and userdel (passwd) are part of every Debian: missing, they fail the test below.
    true
}

/// A local account for the test, removed (with its home) on drop.
struct Account(String);

impl Account {
    fn new(tag: &str) -> Account {
        let name = format!("bg2p{}{tag}", std::process::id() % 100_000);
        // '*' (not '!'): with UsePAM no, sshd refuses an account whose password is locked.
        let o = Command::new("useradd")
            .args(["-m", "-s", "/bin/bash", "-p", "*", &name])
            .output()
            .unwrap();
        assert!(o.status.success(), "useradd: {}", err(&o));
        Account(name)
    }
    fn home(&self) -> PathBuf {
        PathBuf::from("/home").join(&self.0)
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        let _ = Command::new("userdel").args(["-r", &self.0]).output();
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// rsyslogd on its own socket: the generated alert rule, and every breakglass-gate line to a file.
fn start_gate_rsyslogd(dir: &Path, rule: &Path, gate_log: &Path) -> Rsyslogd {
    let r = start_rsyslogd(
        dir,
        &format!(
            "template(name=\"gate\" type=\"string\" string=\"%programname%:%msg%\\n\")\n\
             if $programname == \"breakglass-gate\" then action(type=\"omfile\" file=\"{g}\" template=\"gate\")\n",
            g = gate_log.display(),
        ),
        rule,
    );
    // The gate runs as the test account.
    fs::set_permissions(&r.socket, fs::Permissions::from_mode(0o666)).unwrap();
    r
}

struct Setup {
    w: World,
    acct: Account,
    etc: PathBuf,
    config: PathBuf,
    port: u16,
    fp_a: String,
    fp_b: String,
    fp_c: String,
    gate_log: PathBuf,
    calls: PathBuf,
    _rsyslogd: Rsyslogd,
}

impl Setup {
    /// Three custodians (custA.pub on the world's sim, custB.pub on a second one, custC a plain
    /// ed25519 key that `ssh-keygen -s` signs with, as a custodian may), the account,
    /// host-config's output in etc/, and rsyslogd. `tag` makes the account's name unique among
    /// the tests running at once.
    fn new(tag: &str) -> Setup {
        let w = World::new();
        // sshd runs the gate as the test account: it must reach etc/ and the socket.
        fs::set_permissions(w.tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let _ = fs::create_dir_all("/run/sshd");
        w.ok(&["init-ca", "-f", "custA"]);
        let sim_b = w.other_sim("simB");
        let o = w.run_env(
            &["init-ca", "-f", "custB"],
            &[("BREAKGLASS_SIM_DIR", sim_b.to_str().unwrap())],
        );
        assert!(o.status.success(), "{}", err(&o));
        let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", "custC"], &w.work);
        assert!(o.status.success(), "{}", err(&o));
        // A and B prove their keys under the test root; C, a software key, cannot.
        attest_beside(&w.path("custA.pub"));
        attest_beside(&w.path("custB.pub"));
        let acct = Account::new(tag);
        let etc = w.tmp.path().join("etc");
        let (config, port) = write_sshd_etc(
            &etc,
            &[
                "AuthorizedKeysFile {etc}/authorized_keys",
                "Subsystem sftp internal-sftp",
            ],
        );
        let rs = w.tmp.path().join("rsyslog");
        fs::create_dir(&rs).unwrap();
        fs::set_permissions(&rs, fs::Permissions::from_mode(0o755)).unwrap();
        let gate_log = rs.join("gate.log");
        let calls = w.tmp.path().join("calls");
        let pager = w.tmp.path().join("page-oncall");
        write_recording_pager(&pager, &calls);
        let socket = rs.join("log.sock");
        let o = w.run(&[
            "host-config",
            "--out",
            etc.to_str().unwrap(),
            "--etc",
            etc.to_str().unwrap(),
            "--sshd-config",
            config.to_str().unwrap(),
            "--two-person",
            "custA.pub",
            "custB.pub",
            "custC.pub",
            "--two-person-user",
            &acct.0,
            "--two-person-log-socket",
            socket.to_str().unwrap(),
            "--alert",
            pager.to_str().unwrap(),
            "--roots",
            TEST_ROOTS,
            // custC is a plain ssh-keygen key: trusted on purpose, with a warning.
            "--allow-unattested",
        ]);
        assert!(o.status.success(), "{}", err(&o));
        let verdict: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(etc.join("breakglass_attestation/verdict.json")).unwrap(),
        )
        .unwrap();
        let statuses: Vec<(&str, &str)> = verdict["cas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["role"].as_str().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("custodian", "verified"),
                ("custodian", "verified"),
                ("custodian", "unattested")
            ]
        );
        assert!(
            out(&o).contains("custC.pub: the custodian CA "),
            "no warning about custC: {}",
            out(&o)
        );
        let rsyslogd = start_gate_rsyslogd(
            &rs,
            &etc.join("rsyslog.d/30-breakglass-alert.conf"),
            &gate_log,
        );
        assert_eq!(rsyslogd.socket, socket);
        Setup {
            fp_a: fingerprint(&w.path("custA.pub")),
            fp_b: fingerprint(&w.path("custB.pub")),
            fp_c: fingerprint(&w.path("custC.pub")),
            w,
            acct,
            etc,
            config,
            port,
            gate_log,
            calls,
            _rsyslogd: rsyslogd,
        }
    }

    /// An operator key `name` (made unless it exists), certified by custodian `a` or `b` (with
    /// `mint --pubkey`) or `c` (with plain `ssh-keygen -s`) for the account.
    fn cert(&self, name: &str, custodian: char, id: &str, serial: &str, env: &[(&str, &str)]) {
        if !self.w.path(name).exists() {
            let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", name], &self.w.work);
            assert!(o.status.success(), "{}", err(&o));
        }
        if custodian == 'c' {
            let pubkey = format!("{name}.pub");
            let args = [
                "-q",
                "-s",
                "custC",
                "-I",
                id,
                "-n",
                &self.acct.0,
                "-z",
                serial,
                "-V",
                "-5m:+1h",
                &pubkey,
            ];
            let o = ssh_keygen(&args, &self.w.work);
            assert!(o.status.success(), "ssh-keygen -s: {}", err(&o));
            return;
        }
        let sim_b = self.w.other_sim("simB");
        let mut env: Vec<(&str, &str)> = env.to_vec();
        let ca = if custodian == 'a' {
            "custA.pub"
        } else {
            env.push(("BREAKGLASS_SIM_DIR", sim_b.to_str().unwrap()));
            "custB.pub"
        };
        let pubkey = format!("{name}.pub");
        let o = self.w.run_env(
            &[
                "mint",
                "--ca",
                ca,
                "--pubkey",
                &pubkey,
                "-n",
                &self.acct.0,
                "-I",
                id,
                "-z",
                serial,
            ],
            &env,
        );
        assert!(o.status.success(), "mint: {}", err(&o));
        assert!(self.w.path(&format!("{name}-cert.pub")).exists());
    }

    fn start_sshd(&self) -> HostSshd {
        HostSshd::start(&self.config, self.port, self.etc.join("sshd.log"))
    }

    /// `ssh -i K… OPTIONS user@127.0.0.1 [COMMAND]`, stdin from `input`.
    fn ssh(
        &self,
        user: &str,
        keys: &[&str],
        extra: &[&str],
        command: Option<&str>,
        input: &str,
    ) -> Output {
        let mut c = Command::new("ssh");
        c.args(breakglass::ops::sshd::ssh_options(self.port));
        for k in keys {
            c.arg("-i").arg(self.w.path(k));
        }
        c.args(extra)
            .arg(format!("{user}@127.0.0.1"))
            .args(command)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    }

    fn gate_lines(&self) -> Vec<String> {
        fs::read_to_string(&self.gate_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn two_person_account_needs_two_custodians_and_everything_else_is_refused() {
    if !usable() {
        return;
    }
    let s = Setup::new("a");
    let u = s.acct.0.clone();
    let o = Command::new("/usr/sbin/sshd")
        .args(["-t", "-f", s.config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "sshd -t: {}", err(&o));
    let gate = s.etc.join("breakglass_two_person_gate.sh");
    assert_eq!(
        fs::metadata(&gate).unwrap().permissions().mode() & 0o777,
        0o755
    );

    s.cert("k1", 'a', "alice approves INC-7", "101", &[]);
    s.cert("k2", 'b', "bob \"approves\" INC-7", "202", &[]);
    s.cert("k3", 'a', "alice again", "103", &[]);
    // Minted two hours ago for ten minutes: expired.
    let past = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 7200)
        .to_string();
    s.cert(
        "k4",
        'b',
        "bob expired",
        "204",
        &[("BREAKGLASS_NOW", &past)],
    );
    // A custodian certificate naming root, and root's own plain key.
    let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", "plain"], &s.w.work);
    assert!(o.status.success());
    fs::copy(s.w.path("plain.pub"), s.etc.join("authorized_keys")).unwrap();
    let o = s.w.run(&[
        "mint",
        "--ca",
        "custA.pub",
        "--pubkey",
        "plain.pub",
        "-n",
        "root",
        "-I",
        "alone",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let sshd = s.start_sshd();
    let sshd_log = || sshd.log();

    // One certificate: sshd wants a second key; the gate never runs.
    let o = s.ssh(&u, &["k1"], &[], None, "");
    assert_eq!(o.status.code(), Some(255), "{}", err(&o));
    assert!(err(&o).contains("Permission denied"), "{}", err(&o));
    // (sshd logs the first step, "Partial publickey", only at LogLevel VERBOSE.)
    assert!(
        sshd_log().contains("refusing previously-used ED25519-CERT key"),
        "{}",
        sshd_log()
    );

    // Two certificates from the same custodian: sshd lets them through, the gate refuses.
    let o = s.ssh(&u, &["k1", "k3"], &[], None, "");
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let fp_a = &s.fp_a;
    let fp_b = &s.fp_b;
    assert_eq!(
        err(&o),
        format!("breakglass-gate: refused: both certificates are from the same custodian CA {fp_a} (ID \"alice approves INC-7\" serial 101 and ID \"alice again\" serial 103); two different custodians must each certify a key.\n")
    );

    // Two custodians: a command, a login shell, sftp.
    let o = s.ssh(&u, &["k1", "k2"], &[], Some("echo in; id -un"), "");
    assert!(o.status.success(), "{}\n{}", err(&o), sshd_log());
    assert_eq!(out(&o), format!("in\n{u}\n"));
    let o = s.ssh(
        &u,
        &["k1", "k2"],
        &["-T"],
        None,
        "echo shell $((40 + 2))\nexit\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "shell 42\n");
    fs::write(s.w.path("payload"), "two keys\n").unwrap();
    fs::write(s.w.path("batch"), "put payload\nls -1\n").unwrap();
    let mut sftp = Command::new("sftp");
    sftp.args(breakglass::ops::sshd::ssh_options(s.port).iter().take(16))
        .args(["-P", &s.port.to_string(), "-b"])
        .arg(s.w.path("batch"))
        .arg("-i")
        .arg(s.w.path("k1"))
        .arg("-i")
        .arg(s.w.path("k2"))
        .arg(format!("{u}@127.0.0.1"))
        .current_dir(&s.w.work)
        .env_remove("SSH_AUTH_SOCK");
    let o = sftp.output().unwrap();
    assert!(o.status.success(), "sftp: {}\n{}", err(&o), sshd_log());
    assert_eq!(
        fs::read_to_string(s.acct.home().join("payload")).unwrap(),
        "two keys\n"
    );

    // Forwarding is refused even with both custodians.
    let o = s.ssh(
        &u,
        &["k1", "k2"],
        &["-W", &format!("127.0.0.1:{}", s.port)],
        None,
        "",
    );
    assert_eq!(o.status.code(), Some(255), "{}", err(&o));
    assert!(err(&o).contains("stdio forwarding failed"), "{}", err(&o));
    let o = s.ssh(
        &u,
        &["k1", "k2"],
        &[
            "-o",
            "ExitOnForwardFailure=yes",
            "-N",
            "-R",
            &format!("127.0.0.1:{}:127.0.0.1:22", free_port()),
        ],
        None,
        "",
    );
    assert_eq!(o.status.code(), Some(255), "{}", err(&o));
    assert!(
        err(&o).contains("remote port forwarding failed"),
        "{}",
        err(&o)
    );

    // An expired second certificate: sshd refuses it.
    let o = s.ssh(&u, &["k1", "k4"], &[], Some("echo in"), "");
    assert_eq!(o.status.code(), Some(255), "{}", err(&o));
    assert!(sshd_log().contains("expired"), "{}", sshd_log());

    // Normal users are unaffected: root's plain key works, no gate, and a custodian certificate
    // is worth nothing outside the two-person account.
    let o = s.ssh("root", &["plain"], &[], Some("echo root-in"), "");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "root-in\n");
    fs::remove_file(s.etc.join("authorized_keys")).unwrap();
    let o = s.ssh("root", &["plain"], &[], Some("echo root-in"), "");
    assert_eq!(
        o.status.code(),
        Some(255),
        "custodian cert let root in alone"
    );

    // The gate's lines, through rsyslogd: one ACCEPTED per two-custodian session (command,
    // shell, sftp; the forwarding attempts open no session) and the one refusal.
    wait_for("the gate's log lines", || {
        s.gate_lines()
            .iter()
            .filter(|l| l.contains("ACCEPTED"))
            .count()
            >= 3
    });
    std::thread::sleep(Duration::from_millis(500));
    let lines = s.gate_lines();
    let refused: Vec<&String> = lines.iter().filter(|l| l.contains("REFUSED")).collect();
    assert_eq!(refused.len(), 1, "{lines:#?}");
    assert!(refused[0].starts_with(&format!(
        "breakglass-gate: REFUSED two-person login for {u} from 127.0.0.1 port "
    )));
    assert!(refused[0].ends_with(&format!(": both certificates are from the same custodian CA {fp_a} (ID \"alice approves INC-7\" serial 101 and ID \"alice again\" serial 103); two different custodians must each certify a key")), "{}", refused[0]);
    let accepted: Vec<&String> = lines.iter().filter(|l| l.contains("ACCEPTED")).collect();
    assert_eq!(accepted.len(), 3, "{lines:#?}");
    for l in &accepted {
        assert!(l.ends_with(&format!(": serial 101 CA {fp_a} ID \"alice approves INC-7\", serial 202 CA {fp_b} ID \"bob ?approves? INC-7\"")), "{l}");
    }

    // The alert names both custodians for each two-person login.
    wait_for("the pager", || {
        fs::read_to_string(&s.calls)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                l.ends_with(&format!(
                    "[alice approves INC-7] [101] [{fp_a}] [bob ?approves? INC-7] [202] [{fp_b}]"
                ))
            })
            .count()
            >= accepted.len()
    });
    let calls = fs::read_to_string(&s.calls).unwrap();
    for l in calls.lines().filter(|l| l.contains("[101]")) {
        assert!(
            l.starts_with(&format!("CALL [{u}] [127.0.0.1] [")),
            "{calls}"
        );
    }
}

/// The gate run directly, as sshd's ForceCommand would run it: `SSH_USER_AUTH` holds one
/// `publickey TYPE BLOB` line per certificate file in `certs` (what ExposeAuthInfo writes).
fn drive_gate(s: &Setup, certs: &[&str]) -> Output {
    let mut auth = String::new();
    for c in certs {
        let text = fs::read_to_string(s.w.path(c)).unwrap();
        let mut f = text.split_whitespace();
        auth.push_str(&format!(
            "publickey {} {}\n",
            f.next().unwrap(),
            f.next().unwrap()
        ));
    }
    let file = s.w.path("user-auth");
    fs::write(&file, auth).unwrap();
    Command::new("sh")
        .arg(s.etc.join("breakglass_two_person_gate.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("SSH_USER_AUTH", &file)
        .env("SSH_CONNECTION", "192.0.2.4 40404 127.0.0.1 22")
        .env("USER", &s.acct.0)
        .env("SHELL", "/bin/sh")
        .env("SSH_ORIGINAL_COMMAND", "echo let-in")
        .output()
        .unwrap()
}

#[test]
fn the_gate_refuses_a_forged_serial_line_and_one_key_certified_by_two_custodians() {
    if !usable() {
        return;
    }
    let s = Setup::new("g");
    let u = s.acct.0.clone();
    let (fp_a, fp_c) = (&s.fp_a, &s.fp_c);
    // A custodian's own certificate (plain ssh-keygen) whose key id writes ssh-keygen -L's next
    // lines itself: "Serial: 999" where the real serial, 303, would be.
    let forged = "x\"\n        Serial: 999\n        Valid: forever";
    s.cert("k1", 'a', "alice approves INC-9", "101", &[]);
    s.cert("f1", 'c', forged, "303", &[]);
    let listing = ssh_keygen(&["-L", "-f", "f1-cert.pub"], &s.w.work);
    assert!(out(&listing).contains("        Key ID: \"x\"\n        Serial: 999\n"));
    let sshd = s.start_sshd();
    let o = s.ssh(&u, &["k1", "f1"], &[], Some("echo in"), "");
    assert_eq!(o.status.code(), Some(1), "{}\n{}", err(&o), sshd.log());
    assert_eq!(out(&o), "");
    let forged_refusal = "certificate 2: ssh-keygen -L lists 2 Serial: lines, not one (a key id or principal with a line break)";
    assert_eq!(
        err(&o),
        format!("breakglass-gate: refused: {forged_refusal}.\n")
    );

    // One key certified by two custodians: sshd would see one key twice and refuse the second
    // use itself; the gate refuses it too, given both certificates.
    s.cert("k5", 'a', "alice k5", "105", &[]);
    fs::rename(s.w.path("k5-cert.pub"), s.w.path("k5a-cert.pub")).unwrap();
    s.cert("k5", 'c', "carol k5", "305", &[]);
    let key = fingerprint(&s.w.path("k5.pub"));
    let o = drive_gate(&s, &["k5a-cert.pub", "k5-cert.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(out(&o), "");
    let same_key = format!("both certificates are for the same public key {key} (CA {fp_a} ID \"alice k5\" serial 105 and CA {fp_c} ID \"carol k5\" serial 305); two custodians must each certify a different key");
    assert_eq!(err(&o), format!("breakglass-gate: refused: {same_key}.\n"));
    // A key id with a control character (here an escape) on its one line: refused.
    s.cert("k7", 'c', "carol \u{1b}[2J", "307", &[]);
    let o = drive_gate(&s, &["k1-cert.pub", "k7-cert.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let control = "certificate 2: its key id holds a control character";
    assert_eq!(err(&o), format!("breakglass-gate: refused: {control}.\n"));
    // The same drive with two keys lets in and logs each certificate's own serial and key id.
    s.cert("k6", 'c', "carol approves INC-9", "306", &[]);
    let o = drive_gate(&s, &["k1-cert.pub", "k6-cert.pub"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "let-in\n");

    wait_for("the gate's log lines", || s.gate_lines().len() >= 4);
    std::thread::sleep(Duration::from_millis(500));
    let lines = s.gate_lines();
    let at = |port: &str| format!("two-person login for {u} from {port}");
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(
        lines[0].starts_with(&format!(
            "breakglass-gate: REFUSED {} port ",
            at("127.0.0.1")
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(&format!(": {forged_refusal}")),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        format!(
            "breakglass-gate: REFUSED {} port 40404: {same_key}",
            at("192.0.2.4")
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "breakglass-gate: REFUSED {} port 40404: {control}",
            at("192.0.2.4")
        )
    );
    assert_eq!(lines[3], format!("breakglass-gate: ACCEPTED {} port 40404: serial 101 CA {fp_a} ID \"alice approves INC-9\", serial 306 CA {fp_c} ID \"carol approves INC-9\"", at("192.0.2.4")));
}

/// Two custodian CAs in a fresh world (custA.pub, custB.pub), no sshd, no root needed.
fn custodians(w: &World) {
    w.ok(&["init-ca", "-f", "custA"]);
    let o = w.run_env(
        &["init-ca", "-f", "custB"],
        &[("BREAKGLASS_SIM_DIR", w.other_sim("simB").to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    // Attested under the test root: host-config verifies them with --roots TEST_ROOTS.
    attest_beside(&w.path("custA.pub"));
    attest_beside(&w.path("custB.pub"));
}

/// A host configuration under the world's temp dir: `etc/sshd_config` including
/// `etc/sshd_config.d/*.conf`, and a host key. Returns (etc, config).
fn tiny_host(w: &World) -> (String, String) {
    let etc = w.tmp.path().join("etc");
    fs::create_dir_all(etc.join("sshd_config.d")).unwrap();
    let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", "hk"], &etc);
    assert!(o.status.success(), "{}", err(&o));
    let e = etc.display();
    fs::write(
        etc.join("sshd_config"),
        format!("Include {e}/sshd_config.d/*.conf\nHostKey {e}/hk\nUsePAM no\n"),
    )
    .unwrap();
    (
        etc.to_str().unwrap().to_string(),
        etc.join("sshd_config").to_str().unwrap().to_string(),
    )
}

#[test]
fn cloud_init_carries_the_gate_the_custodian_cas_and_the_account() {
    if !have("cloud-init") {
        return skip::skip(&skip::CLOUD_INIT, "cloud-init is not installed");
    }
    let w = World::new();
    custodians(&w);
    let (etc, config) = tiny_host(&w);
    let o = w.run(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--cloud-init",
        "--etc",
        &etc,
        "--sshd-config",
        &config,
        "--two-person",
        "custA.pub",
        "custB.pub",
        "--two-person-user",
        "oncall2p",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let doc = out(&o);
    for want in [
        &format!("  - path: \"{etc}/breakglass_two_person_gate.sh\"\n    owner: \"root:root\"\n    permissions: \"0755\"\n    content: |\n      #!/bin/sh\n"),
        &format!("  - path: \"{etc}/breakglass_custodian_ca.pub\"\n"),
        &format!("  - path: \"{etc}/breakglass_principals/oncall2p\"\n"),
        &"      Match User oncall2p\n".to_string(),
        &format!("        ForceCommand {etc}/breakglass_two_person_gate.sh\n"),
        &"runcmd:\n  - [sh, -c, \"id -u oncall2p >/dev/null 2>&1 || useradd -m -s /bin/bash -p '*' oncall2p\"]\n".to_string(),
    ] {
        assert!(doc.contains(want), "missing {want:?} in:\n{doc}");
    }
    let file = w.tmp.path().join("cloud.yaml");
    fs::write(&file, &doc).unwrap();
    let s = Command::new("cloud-init")
        .args(["schema", "--config-file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(s.status.success(), "{}\n{}\n{doc}", out(&s), err(&s));
}

#[test]
fn two_person_bad_inputs_are_refused_and_nothing_is_written() {
    let w = World::new();
    custodians(&w);
    let (etc, config) = tiny_host(&w);
    let outdir = w.tmp.path().join("out");
    fs::create_dir(&outdir).unwrap();
    let base = [
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--out",
        outdir.to_str().unwrap(),
        "--etc",
        &etc,
        "--sshd-config",
        &config,
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let o = w.run(&args);
        assert!(
            fs::read_dir(&outdir).unwrap().next().is_none(),
            "{extra:?} wrote files"
        );
        o
    };
    // One custodian (twice the same key is still one).
    for extra in [
        &["--two-person", "custA.pub"][..],
        &["--two-person", "custA.pub", "custA.pub"][..],
    ] {
        let o = run(extra);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(err(&o), "breakglass: --two-person: at least two different custodian CA keys are needed.\nPass at least two custodians' CA public keys to --two-person and a plain account name to --two-person-user.\n");
    }
    let o = run(&[
        "--two-person",
        "custA.pub",
        "custB.pub",
        "--two-person-user",
        "a,b",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a mistyped --two-person-user exits 2"
    );
    assert!(
        err(&o)
            .starts_with("breakglass: --two-person: --two-person-user 'a,b' is not a login name"),
        "{}",
        err(&o)
    );
    let o = run(&[
        "--two-person",
        "custA.pub",
        "custB.pub",
        "--principals",
        "breakglass=x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("--principals names the two-person account breakglass"),
        "{}",
        err(&o)
    );
    fs::write(w.path("junk.pub"), "not a key\n").unwrap();
    let o = run(&["--two-person", "custA.pub", "junk.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("junk.pub: line 1 is not an OpenSSH public key"),
        "{}",
        err(&o)
    );
    // --two-person-user without --two-person is a mistyped command line.
    let o = run(&["--two-person-user", "x", "custA.pub"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_plan_shows_the_custodians_and_the_match_block() {
    let w = World::new();
    custodians(&w);
    let (etc, config) = tiny_host(&w);
    let plan = w.ok(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--etc",
        &etc,
        "--sshd-config",
        &config,
        "--two-person",
        "custA.pub",
        "custB.pub",
    ]);
    let fp_a = fingerprint(&w.path("custA.pub"));
    assert!(
        plan.contains(&format!(
            "  custodian    sk-ecdsa-sha2-nistp256@openssh.com {fp_a} "
        )),
        "{plan}"
    );
    for want in [
        format!("      Match User breakglass\n          TrustedUserCAKeys {etc}/breakglass_custodian_ca.pub\n          AuthorizedKeysFile none\n          AuthorizedPrincipalsFile {etc}/breakglass_principals/breakglass\n"),
        format!("          AuthenticationMethods publickey,publickey\n          ExposeAuthInfo yes\n          ForceCommand {etc}/breakglass_two_person_gate.sh\n          DisableForwarding yes\n"),
        format!("  breakglass_two_person_gate.sh -> {etc}/breakglass_two_person_gate.sh (0755)\n"),
    ] {
        assert!(plan.contains(&want), "missing {want:?} in:\n{plan}");
    }
    // The break-glass CA file trusts no custodian for everyone else.
    assert!(!plan.contains("  break-glass  "), "{plan}");
}

#[test]
fn the_alert_script_pages_both_custodians_for_the_gate_line_only() {
    let w = World::new();
    custodians(&w);
    let (etc, config) = tiny_host(&w);
    let calls = w.tmp.path().join("calls");
    let pager = w.tmp.path().join("page");
    fs::write(
        &pager,
        format!(
            "#!/bin/sh\n{{ printf 'CALL'; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; printf '\\n'; }} >> {}\n",
            calls.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&pager, fs::Permissions::from_mode(0o755)).unwrap();
    w.ok(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--out",
        &etc,
        "--etc",
        &etc,
        "--sshd-config",
        &config,
        "--two-person",
        "custA.pub",
        "custB.pub",
        "--alert",
        pager.to_str().unwrap(),
    ]);
    let a = fingerprint(&w.path("custA.pub"));
    let b = fingerprint(&w.path("custB.pub"));
    let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let line = |fa: &str, fb: &str, id2: &str| {
        format!("ACCEPTED two-person login for bg from 10.0.0.9 port 5555: serial 7 CA {fa} ID \"alice $(x) 'q'\", serial 8 CA {fb} ID \"{id2}\"")
    };
    let input = [
        format!("REFUSED two-person login for bg from 10.0.0.9 port 5555: both certificates are from the same custodian CA {a}"),
        line(&a, other, "bob"),
        line(&a, &b, "bob, serial 9 CA x ID "),
        line(&a, &b, "bob ; `id`"),
    ]
    .join("\n");
    let mut child = Command::new(Path::new(&etc).join("breakglass_alert.sh"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{input}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    wait_for("both pages", || {
        fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .count()
            >= 2
    });
    std::thread::sleep(Duration::from_millis(500));
    // The pages run in the background, in either order. A key id that imitates the line's
    // fields is passed on whole; the unknown CA and the refusal page nobody; nothing is run.
    let mut got: Vec<String> = fs::read_to_string(&calls)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            format!("CALL [bg] [10.0.0.9] [5555] [alice $(x) 'q'] [7] [{a}] [bob ; `id`] [8] [{b}]"),
            format!("CALL [bg] [10.0.0.9] [5555] [alice $(x) 'q'] [7] [{a}] [bob, serial 9 CA x ID ] [8] [{b}]"),
        ]
    );
}
