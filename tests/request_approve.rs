#![cfg(feature = "wormhole")]
//! `request` / `approve` end to end against a local mailbox server and transit relay (the
//! Python ones from the venv in $BREAKGLASS_WORMHOLE_VENV), a real sshd, hostile peers written
//! with the crate, and the Python `wormhole` CLI for the fallback. Nothing talks to the public
//! servers.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use breakglass::delivery::exchange;
use breakglass::delivery::messages::{self, Message};
use breakglass::delivery::transfer::WormholeConfig;
use breakglass::ops::sshd::{ssh_options, TestSshd};
use common::*;

/// The tests share two cores with everything else: one wormhole test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn venv() -> Option<PathBuf> {
    let dir = std::env::var_os("BREAKGLASS_WORMHOLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wormhole-venv"));
    let ok = ["twist", "wormhole"]
        .iter()
        .all(|t| dir.join("bin").join(t).exists());
    if !ok {
        skip::skip(
            &skip::WORMHOLE_VENV,
            &format!("no wormhole venv at {}", dir.display()),
        );
    }
    ok.then_some(dir)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A mailbox server and a transit relay on free loopback ports, stopped (by pid) when dropped.
struct Servers {
    children: Vec<Child>,
    mailbox_port: u16,
    relay_port: u16,
    venv: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Servers {
    fn start() -> Option<Servers> {
        let venv = venv()?;
        let dir = tempfile::tempdir().unwrap();
        let (mailbox_port, relay_port) = (free_port(), free_port());
        let spawn = |args: &[String]| {
            Command::new(venv.join("bin/twist"))
                .args(args)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start twist")
        };
        let children = vec![
            spawn(&[
                "wormhole-mailbox".into(),
                format!("--port=tcp:{mailbox_port}:interface=127.0.0.1"),
                "--channel-db=:memory:".into(),
            ]),
            spawn(&[
                "transitrelay".into(),
                format!("--port=tcp:{relay_port}:interface=127.0.0.1"),
            ]),
        ];
        let s = Servers {
            children,
            mailbox_port,
            relay_port,
            venv,
            _dir: dir,
        };
        for port in [mailbox_port, relay_port] {
            let start = Instant::now();
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(start.elapsed() < Duration::from_secs(30), "port {port}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(s)
    }

    fn cfg(&self) -> WormholeConfig {
        WormholeConfig {
            mailbox_url: format!("ws://127.0.0.1:{}/v1", self.mailbox_port),
            relay_url: format!("tcp://127.0.0.1:{}", self.relay_port),
            timeout: Duration::from_secs(30),
            direct: false,
        }
    }

    /// A world (own simulated key, audit log, directory) that talks to these servers.
    fn world(&self) -> World {
        let mut w = World::new();
        let c = self.cfg();
        w.env.push(("BREAKGLASS_MAILBOX_URL".into(), c.mailbox_url));
        w.env.push(("BREAKGLASS_RELAY_URL".into(), c.relay_url));
        w
    }

    fn python(&self) -> Command {
        let mut c = Command::new(self.venv.join("bin/wormhole"));
        c.arg("--relay-url")
            .arg(format!("ws://127.0.0.1:{}/v1", self.mailbox_port))
            .arg("--transit-helper")
            .arg(format!("tcp:127.0.0.1:{}", self.relay_port))
            .env_remove("WORMHOLE_RELAY_URL")
            .env_remove("WORMHOLE_TRANSIT_HELPER")
            .stdin(Stdio::null());
        c
    }
}

/// A process that printed a wormhole code; its stdout is collected in the background.
struct Running {
    child: Child,
    code: String,
    out: std::thread::JoinHandle<String>,
}

impl Running {
    fn finish(self) -> (Output, String) {
        let o = self.child.wait_with_output().unwrap();
        let out = self.out.join().unwrap();
        (o, out)
    }
}

/// Spawns `c` and waits for the `Wormhole code: …` (or Python's `Wormhole code is: …`) line on
/// stdout or stderr.
fn spawn_coded(mut c: Command) -> Running {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let tx2 = tx.clone();
    let out = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(code) = line.strip_prefix("Wormhole code: ") {
                let _ = tx2.send(code.trim().to_string());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Python prints its code on stderr; keep the rest of stderr for the output.
    if c.get_program().to_string_lossy().ends_with("wormhole") {
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(code) = line.strip_prefix("Wormhole code is: ") {
                    let _ = tx.send(code.trim().to_string());
                }
            }
        });
    }
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(code) => Running { child, code, out },
        Err(_) => {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("no code printed: {}", String::from_utf8_lossy(&o.stderr));
        }
    }
}

fn request(w: &World, args: &[&str]) -> Running {
    let mut all = vec!["request"];
    all.extend_from_slice(args);
    spawn_coded(w.cmd(&all))
}

fn approve(w: &World, code: &str, args: &[&str]) -> Output {
    let mut all = vec!["approve", code];
    all.extend_from_slice(args);
    w.run(&all)
}

fn user() -> String {
    breakglass::operator()
}

fn cert_principals(path: &Path) -> (Vec<String>, u64, u64) {
    let (c, _) = breakglass::ssh::summary::read_cert_line(path).unwrap();
    (
        c.valid_principals().to_vec(),
        c.valid_after(),
        c.valid_before(),
    )
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn request_approve_narrowed_then_sshd_logs_in() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    let ca = approver.init_ca();
    std::fs::write(requester.path("ca.pub"), &ca).unwrap();
    let u = user();
    let asked = format!("{u},root-not-granted");
    let r = request(
        &requester,
        &[
            "-n",
            &asked,
            "-V",
            "-5m:+60m",
            "--reason",
            "INC-9: db down",
            "--ca",
            "ca.pub",
        ],
    );
    let before = breakglass::now();
    let a = approve(&approver, &r.code, &["-n", &u, "-V", "-1m:+20m", "--yes"]);
    let (o, out) = r.finish();
    assert!(a.status.success(), "approve: {}", err(&a));
    assert!(o.status.success(), "request: {}", err(&o));
    // The approver saw the request (requester, key, what was asked, the reason).
    let shown = err(&a);
    assert!(
        shown.contains(&format!("asks for:   {u}, root-not-granted")),
        "{shown}"
    );
    assert!(shown.contains("reason:     INC-9: db down"), "{shown}");
    assert!(
        common::out(&a).contains("The requester checked and stored it."),
        "{}",
        common::out(&a)
    );
    // The requester got exactly what the approver granted.
    assert!(
        out.contains("Got a certificate; wrote emergency, emergency.pub, emergency-cert.pub"),
        "{out}"
    );
    assert!(out.contains("the approver narrowed it"), "{out}");
    let (principals, va, vb) = cert_principals(&requester.path("emergency-cert.pub"));
    assert_eq!(principals, std::slice::from_ref(&u));
    assert!(va >= before - 120 && va <= before, "{va} {before}");
    assert!(
        vb <= breakglass::now() + 20 * 60 && vb > before + 19 * 60,
        "{vb}"
    );
    for f in ["emergency", "emergency.pub", "emergency-cert.pub"] {
        assert_eq!(mode_of(&requester.path(f)), 0o600, "{f}");
    }
    // Nothing private on the approver's side: only the CA files it had.
    let mut names: Vec<_> = std::fs::read_dir(&approver.work)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["sk-user-ca", "sk-user-ca.attest", "sk-user-ca.pub"]);
    // Both audit logs: what was asked, what was signed, never a key.
    let alog = std::fs::read_to_string(&approver.audit).unwrap();
    assert!(alog.contains("\"action\":\"approve-request\""), "{alog}");
    assert!(
        alog.contains(&format!("\"principals\":[\"{u}\",\"root-not-granted\"]")),
        "{alog}"
    );
    assert!(alog.contains(&format!("request from {u}@")), "{alog}");
    assert!(
        alog.contains("\"action\":\"approve\",\"result\":\"ok\""),
        "{alog}"
    );
    let rlog = std::fs::read_to_string(&requester.audit).unwrap();
    assert!(
        rlog.contains("\"action\":\"request\",\"result\":\"ok\""),
        "{rlog}"
    );
    assert!(
        rlog.contains(&format!("asked for {u},root-not-granted -V ")),
        "{rlog}"
    );
    assert!(!alog.contains("PRIVATE") && !rlog.contains("PRIVATE"));
    // A real sshd that trusts the CA lets the requester in.
    let sshd = TestSshd::start(&requester.tmp.path().join("sshd"), &ca, &[]).unwrap();
    let login = sshd
        .ssh(&requester.path("emergency"), &u, "echo in")
        .unwrap();
    assert!(login.status.success(), "{}", sshd.log());
    assert_eq!(String::from_utf8_lossy(&login.stdout).trim(), "in");
}

/// The hints a user reads under each refusal (pinned here: a trycmd case cannot bring a peer).
const HINT_REFUSED: &str = "\nAsk the approver why; if -n or -V was the problem, run breakglass request again with what they will sign.\n";
const HINT_DECLINED: &str =
    "\nNothing was signed. If that was a mistake, ask the requester for a new code.\n";
const HINT_POLICY: &str = "\nNothing was signed and the requester was told why; sign a narrower -V, or pass --allow-long (and say why with --reason) if the request is right.\n";
const HINT_WIDENED: &str = "\nAn approver may only narrow a request: give -n a subset of the principals asked for and a -V inside the validity asked for. The requester was told; they can send a new request.\n";
const HINT_INVALID: &str =
    "\nNothing was signed and the requester was told why; they can run breakglass request again.\n";
const HINT_REPLY_REFUSED: &str = "\nTell the approver what was refused and start a new request; do not use anything from this exchange.\n";
const HINT_PEER_FAILED: &str = "\nStart again with a new code; check that both sides run a breakglass that speaks the same protocol version.\n";

#[test]
fn declined_request_ends_with_the_reason_and_writes_nothing() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    approver.init_ca();
    let r = request(&requester, &["-n", "alice"]);
    let mut c = approver.cmd(&["approve", &r.code]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let a = child.wait_with_output().unwrap();
    let (o, _) = r.finish();
    assert_eq!(a.status.code(), Some(1), "{}", err(&a));
    assert!(err(&a).contains("Sign this request? [y/N]"), "{}", err(&a));
    assert!(err(&a).contains("breakglass: the request was declined; the requester was told."));
    assert!(err(&a).ends_with(HINT_DECLINED), "{}", err(&a));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("breakglass: the approver refused the request: the approver declined."),
        "{}",
        err(&o)
    );
    assert!(err(&o).ends_with(HINT_REFUSED), "{}", err(&o));
    assert!(snapshot(&requester.work).is_empty());
    let alog = std::fs::read_to_string(&approver.audit).unwrap();
    assert!(
        alog.contains("\"action\":\"approve\",\"result\":\"declined\""),
        "{alog}"
    );
    let rlog = std::fs::read_to_string(&requester.audit).unwrap();
    assert!(
        rlog.contains("\"result\":\"failed: request-refused\""),
        "{rlog}"
    );
}

#[test]
fn policy_refusals_reach_the_requester() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    approver.init_ca();
    let cases: &[(&[&str], &[&str], &str, &str)] = &[
        (
            &["-n", "alice", "-V", "-5m:+2d"],
            &[],
            "the request fails the policy: -V ",
            HINT_POLICY,
        ),
        (
            &["-n", "alice", "-V", "always:forever"],
            &[],
            "has no start or no end (always/forever)",
            HINT_POLICY,
        ),
        (
            &["-n", "alice"],
            &["-n", "root"],
            "-n names 'root', which the request did not ask for",
            HINT_WIDENED,
        ),
    ];
    for (rargs, aargs, want, hint) in cases {
        let r = request(&requester, rargs);
        let mut args = aargs.to_vec();
        args.push("--yes");
        let a = approve(&approver, &r.code, &args);
        let (o, _) = r.finish();
        assert_eq!(a.status.code(), Some(1), "{}", err(&a));
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        assert!(err(&a).contains(want), "approver: {}", err(&a));
        assert!(err(&a).ends_with(hint), "approver: {}", err(&a));
        assert!(
            err(&o).contains("the approver refused the request: ") && err(&o).contains(want),
            "requester: {}",
            err(&o)
        );
        assert!(err(&o).ends_with(HINT_REFUSED), "requester: {}", err(&o));
        assert!(snapshot(&requester.work).is_empty());
    }
    // A bad principal can only come from a hand-made request: the refusal reaches it too.
    let reply = hostile_request(&s, &approver, &["--yes"], |key| {
        let mut r = good_request(key);
        r.principals = vec!["a b".into()];
        Message::Request(r).to_bytes()
    });
    assert_eq!(reply.1.status.code(), Some(1));
    assert!(err(&reply.1).ends_with(HINT_INVALID), "{}", err(&reply.1));
    assert!(
        matches!(&reply.0, Some(Message::Refusal(r)) if r.contains("a principal it asks for is empty or contains a comma or blanks")),
        "{:?}",
        reply.0
    );
    // A requester name (256 bytes allowed) that would make the default key id longer than sshd
    // keeps whole: refused, and the requester is told why.
    let reply = hostile_request(&s, &approver, &["--yes"], |key| {
        let mut r = good_request(key);
        r.requester = format!("{}@evil", "m".repeat(200));
        Message::Request(r).to_bytes()
    });
    assert_eq!(reply.1.status.code(), Some(1), "{}", err(&reply.1));
    let why = "characters as sshd logs it (a byte above 0x7f counts 4, a backslash 2), more than the 160 allowed so that sshd's log line keeps the certificate's serial and CA";
    assert!(err(&reply.1).contains(why), "{}", err(&reply.1));
    // The approver's hint names who can fix it (not "your login name", which is mint's).
    assert!(
        err(&reply.1).contains("It is made from the requester's name and reason: ask them to send a shorter --reason, or approve with a key id of your own (-I)."),
        "{}",
        err(&reply.1)
    );
    assert!(
        matches!(&reply.0, Some(Message::Refusal(r)) if r.starts_with("the default key id is ") && r.ends_with(why)),
        "{:?}",
        reply.0
    );
}

fn good_request(key: &str) -> messages::Request {
    let now = breakglass::now();
    messages::Request {
        public_key: key.into(),
        principals: vec!["alice".into()],
        valid_after: now - 60,
        valid_before: now + 3600,
        reason: None,
        requester: "mallory@evil".into(),
    }
}

/// A hand-made requester: sends `make(public key line)` as its first message to a breakglass
/// approver run with `args`; returns what the approver answered and the approver's output.
fn hostile_request(
    s: &Servers,
    approver: &World,
    args: &[&str],
    make: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
) -> (Option<Message>, Output) {
    let cfg = s.cfg();
    let key = breakglass::ssh::keyfile::generate(breakglass::ssh::keyfile::KeyType::Ed25519, "k")
        .unwrap();
    let line = breakglass::ssh::keyfile::public_line(key.public_key()).unwrap();
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        async_io::block_on(async {
            let mut ex = exchange::open(&cfg, |c| tx.send(c.to_string()).unwrap())
                .await
                .unwrap();
            ex.send_raw(make(line.trim())).await.unwrap();
            let got = ex.receive(Duration::from_secs(30), "answer").await;
            ex.close().await;
            got.ok().and_then(Result::ok)
        })
    });
    let code = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let a = approve(approver, &code, args);
    (t.join().unwrap(), a)
}

#[test]
fn hostile_requests_are_refused_and_never_shown_raw() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let approver = s.world();
    approver.init_ca();
    type Make = Box<dyn FnOnce(&str) -> Vec<u8> + Send>;
    let cases: Vec<(Make, &str)> = vec![
        (
            Box::new(|k| {
                let mut r = good_request(k);
                r.reason = Some("\x1b[2J\x1b]0;owned\x07 look".into());
                Message::Request(r).to_bytes()
            }),
            "the request cannot be signed: its reason contains control characters",
        ),
        (
            Box::new(|k| {
                let mut r = good_request(k);
                r.requester = "x".repeat(100_000);
                Message::Request(r).to_bytes()
            }),
            "the request cannot be signed: the message is 100",
        ),
        (
            Box::new(|k| {
                let mut v = Message::Request(good_request(k)).to_json();
                v["version"] = 2.into();
                v.to_string().into_bytes()
            }),
            "the message is protocol version 2; this breakglass speaks version 1",
        ),
        (
            Box::new(|k| {
                let mut r = good_request(k);
                r.public_key = k.replace("ssh-ed25519", "ssh-dss");
                Message::Request(r).to_bytes()
            }),
            "the request cannot be signed: its public key does not parse",
        ),
        (
            Box::new(|_| b"\x1b[31mnot json".to_vec()),
            "the request cannot be signed: the message is not JSON",
        ),
    ];
    for (make, want) in cases {
        let (answer, a) = hostile_request(&s, &approver, &["--yes"], make);
        assert_eq!(a.status.code(), Some(1), "{}", err(&a));
        assert!(err(&a).contains(want), "want {want:?}: {}", err(&a));
        assert!(!err(&a).contains('\x1b') && !out(&a).contains('\x1b'));
        // The requester is told the same reason.
        let reason = want.trim_start_matches("the request cannot be signed: ");
        assert!(
            matches!(&answer, Some(Message::Refusal(t)) | Some(Message::Error(t)) if t.contains(reason)),
            "want {reason:?} told: {answer:?}"
        );
    }
    // A requester that reports a failure instead of asking: the approver stops, and says so.
    let (_, a) = hostile_request(&s, &approver, &["--yes"], |_| {
        Message::Error("the key could not be made".into()).to_bytes()
    });
    assert_eq!(a.status.code(), Some(1), "{}", err(&a));
    assert!(
        err(&a)
            .contains("breakglass: the other side stopped the exchange: the key could not be made"),
        "{}",
        err(&a)
    );
    assert!(err(&a).ends_with(HINT_PEER_FAILED), "{}", err(&a));
    // Nothing was signed for any of them.
    let log = std::fs::read_to_string(&approver.audit).unwrap();
    assert!(
        !log.contains("\"action\":\"approve\",\"result\":\"ok\""),
        "{log}"
    );
}

/// A file CA made with ssh-keygen (plain ECDSA, as a PIV CA's public key would be).
fn file_ca(dir: &Path, name: &str) -> PathBuf {
    let o = ssh_keygen(
        &["-q", "-t", "ecdsa", "-N", "", "-C", name, "-f", name],
        dir,
    );
    assert!(o.status.success());
    dir.join(name)
}

/// Signs the public key line `key` with `ca` through ssh-keygen; returns the certificate line.
fn keygen_sign(dir: &Path, ca: &Path, key: &str, extra: &[&str]) -> String {
    let kp = dir.join("subject.pub");
    std::fs::write(&kp, format!("{key}\n")).unwrap();
    let _ = std::fs::remove_file(dir.join("subject-cert.pub"));
    let mut args = vec!["-q", "-s", ca.to_str().unwrap(), "-I", "hostile"];
    args.extend_from_slice(extra);
    args.push("subject.pub");
    let o = ssh_keygen(&args, dir);
    assert!(o.status.success(), "{}", err(&o));
    std::fs::read_to_string(dir.join("subject-cert.pub")).unwrap()
}

#[test]
fn tampered_replies_are_refused_and_nothing_is_written() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let requester = s.world();
    let lab = tempfile::tempdir().unwrap();
    let ca = file_ca(lab.path(), "ca");
    let rogue = file_ca(lab.path(), "rogue");
    let ca_pub = format!("{}.pub", ca.display());
    let other = file_ca(lab.path(), "other"); // just a key pair for "another key"
    let other_pub = std::fs::read_to_string(format!("{}.pub", other.display())).unwrap();
    type Reply = Box<dyn Fn(&str) -> Vec<u8>>;
    let lp = lab.path().to_path_buf();
    let sign = move |ca: &Path, key: &str, extra: &[&str]| -> Vec<u8> {
        Message::Certificate(keygen_sign(&lp, ca, key, extra).trim().to_string()).to_bytes()
    };
    let (c1, c2, c3, c4, c5, c6, c7) = (
        ca.clone(),
        rogue.clone(),
        ca.clone(),
        ca.clone(),
        ca.clone(),
        ca.clone(),
        ca.clone(),
    );
    let (s1, s2, s3, s4, s5, s6, s7) = (
        sign.clone(),
        sign.clone(),
        sign.clone(),
        sign.clone(),
        sign.clone(),
        sign.clone(),
        sign.clone(),
    );
    let cases: Vec<(Reply, &str)> = vec![
        (
            Box::new(move |_| s1(&c1, other_pub.trim(), &["-n", "alice", "-V", "-1m:+10m"])),
            "it certifies another key",
        ),
        (
            Box::new(move |k| s2(&c2, k, &["-n", "alice", "-V", "-1m:+10m"])),
            "it was signed by another CA",
        ),
        (
            Box::new(move |k| s3(&c3, k, &["-h", "-n", "alice", "-V", "-1m:+10m"])),
            "it is a host certificate, not a user certificate",
        ),
        (
            Box::new(move |k| s4(&c4, k, &["-n", "alice", "-V", "-4m:-1m"])),
            "it is not valid now (the certificate expired at",
        ),
        (
            Box::new(move |k| s5(&c5, k, &["-n", "alice,root", "-V", "-1m:+10m"])),
            "it names the principal 'root', which was not asked for",
        ),
        (
            Box::new(move |k| s6(&c6, k, &["-n", "alice", "-V", "-1m:+3h"])),
            "later than the",
        ),
        (
            Box::new(move |k| {
                // Flip the last byte of the blob (inside the CA signature).
                let line =
                    String::from_utf8(s7(&c7, k, &["-n", "alice", "-V", "-1m:+10m"])).unwrap();
                let m = messages::parse(line.as_bytes()).unwrap();
                let Message::Certificate(c) = m else { panic!() };
                let mut parts = c.split(' ');
                let t = parts.next().unwrap();
                use ssh_key::encoding::base64::{Base64, Encoding};
                let mut blob = Base64::decode_vec(parts.next().unwrap()).unwrap();
                *blob.last_mut().unwrap() ^= 1;
                Message::Certificate(format!("{t} {}", Base64::encode_string(&blob))).to_bytes()
            }),
            "its CA signature does not verify",
        ),
        (
            Box::new(|_| b"{\"version\":1,\"type\":\"certificate\",\"certificate\":42}".to_vec()),
            "the answer cannot be read",
        ),
    ];
    for (reply, want) in cases {
        let r = request(
            &requester,
            &["-n", "alice", "-V", "-5m:+60m", "--ca", &ca_pub],
        );
        let cfg = s.cfg();
        let ack = async_io::block_on(async {
            let mut ex = exchange::join(&cfg, &r.code).await.unwrap();
            let got = ex
                .receive(Duration::from_secs(30), "request")
                .await
                .unwrap()
                .unwrap();
            let Message::Request(req) = got else {
                panic!("{got:?}")
            };
            ex.send_raw(reply(&req.public_key)).await.unwrap();
            let ack = ex.receive(Duration::from_secs(30), "ack").await;
            ex.close().await;
            ack.ok().and_then(Result::ok)
        });
        let (o, _) = r.finish();
        assert_eq!(o.status.code(), Some(1), "{want}: {}", err(&o));
        assert!(err(&o).contains(want), "want {want:?}: {}", err(&o));
        assert!(
            err(&o).contains("breakglass: refused the certificate the approver sent: "),
            "{}",
            err(&o)
        );
        assert!(err(&o).ends_with(HINT_REPLY_REFUSED), "{}", err(&o));
        assert!(
            snapshot(&requester.work).is_empty(),
            "{want}: files written"
        );
        if want != "the answer cannot be read" {
            assert!(
                matches!(&ack, Some(Message::Received(r)) if !r.accepted),
                "{want}: {ack:?}"
            );
        }
    }
    let log = std::fs::read_to_string(&requester.audit).unwrap();
    assert_eq!(
        log.matches("\"result\":\"failed: reply-refused\"").count(),
        8,
        "{log}"
    );
}

#[test]
fn hardware_bound_request_logs_in_only_with_the_requesters_key() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    let ca = approver.init_ca();
    let lib = provider();
    // The colleague's own security key: a second simulated token, enrolled by ssh-keygen.
    let theirs = requester.other_sim("colleague-key");
    let keygen = |args: &[&str], sim: &Path| {
        Command::new("ssh-keygen")
            .args(args)
            .current_dir(&requester.work)
            .env("BREAKGLASS_SIM_DIR", sim)
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = keygen(
        &[
            "-q",
            "-t",
            "ecdsa-sk",
            "-f",
            "id_ecdsa_sk",
            "-N",
            "",
            "-w",
            lib.to_str().unwrap(),
        ],
        &theirs,
    );
    assert!(o.status.success(), "{}", err(&o));
    let u = user();
    let r = request(&requester, &["--pubkey", "id_ecdsa_sk.pub", "-n", &u]);
    let a = approve(&approver, &r.code, &["--yes"]);
    let (o, out) = r.finish();
    assert!(a.status.success(), "{}", err(&a));
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&a).contains("logging in will also need their touch of it"),
        "{}",
        err(&a)
    );
    assert!(
        out.contains("bound to a security key: logging in needs that key and its touch too"),
        "{out}"
    );
    assert!(
        out.contains("Got a certificate; wrote id_ecdsa_sk-cert.pub"),
        "{out}"
    );
    assert!(
        out.contains(&format!("ssh -i id_ecdsa_sk {u}@HOST")),
        "{out}"
    );
    assert_eq!(mode_of(&requester.path("id_ecdsa_sk-cert.pub")), 0o644);
    // Only the certificate was written; asking again refuses to replace it without --force.
    let again = requester.run(&["request", "--pubkey", "id_ecdsa_sk.pub", "-n", &u]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        err(&again).contains("id_ecdsa_sk-cert.pub already exists"),
        "{}",
        err(&again)
    );

    let sshd = TestSshd::start(&requester.tmp.path().join("sshd"), &ca, &[]).unwrap();
    let login = |provider: &str, sim: &Path| {
        Command::new("ssh")
            .args(ssh_options(sshd.port))
            .args(["-o", &format!("SecurityKeyProvider={provider}")])
            .args(["-i", "id_ecdsa_sk"])
            .arg(format!("{u}@127.0.0.1"))
            .arg("echo in")
            .current_dir(&requester.work)
            .env("BREAKGLASS_SIM_DIR", sim)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let ok = login(lib.to_str().unwrap(), &theirs);
    assert!(ok.status.success(), "{}\n{}", err(&ok), sshd.log());
    // Not without the colleague's key: with another (empty) token the certificate itself
    // passes sshd's checks, but no signature can be made for it.
    let empty = requester.other_sim("empty-key");
    let refused = login(lib.to_str().unwrap(), &empty);
    assert_eq!(refused.status.code(), Some(255), "{}", err(&refused));
    // OpenSSH's own words when the provider cannot sign (SSH_SK_ERR_GENERAL, as sk-usbhid
    // returns for a key that holds no such credential).
    assert!(
        err(&refused).contains(
            "sign_and_send_pubkey: signing failed for ECDSA-SK \"id_ecdsa_sk\": invalid format"
        ) && err(&refused).contains("Permission denied (publickey)"),
        "{}",
        err(&refused)
    );
    let log = sshd.log();
    let last = &log[log.rfind("Connection from ").unwrap()..];
    assert!(
        last.contains("Accepted certificate ID \"breakglass ")
            && !last.contains("Accepted publickey"),
        "the certificate was refused, or the login let in:\n{last}"
    );
}

#[test]
fn python_colleague_sends_a_public_key_and_receives_the_certificate() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let approver = s.world();
    let ca = approver.init_ca();
    let colleague = tempfile::tempdir().unwrap();
    let o = ssh_keygen(
        &["-q", "-t", "ecdsa", "-N", "", "-f", "id_ecdsa"],
        colleague.path(),
    );
    assert!(o.status.success());
    let line = std::fs::read_to_string(colleague.path().join("id_ecdsa.pub")).unwrap();
    let mut send = s.python();
    send.args(["send", "--text", line.trim()]);
    let py = spawn_coded(send);
    let u = user();
    let mut a = approver.cmd(&[
        "approve", "--text", &py.code, "-n", &u, "-V", "+30m", "--yes",
    ]);
    a.stdout(Stdio::piped());
    let a = spawn_coded(a);
    let mut recv = s.python();
    recv.args(["receive", "--accept-file", &a.code])
        .current_dir(colleague.path());
    let got = recv.output().unwrap();
    let (ao, aout) = a.finish();
    let (po, _) = py.finish();
    assert!(po.status.success(), "python send: {}", err(&po));
    assert!(got.status.success(), "python receive: {}", err(&got));
    assert!(ao.status.success(), "approve: {}", err(&ao));
    assert!(
        aout.contains("On the other side:  wormhole receive "),
        "{aout}"
    );
    let cert = colleague.path().join("id_ecdsa-cert.pub");
    let (principals, _, vb) = cert_principals(&cert);
    assert_eq!(principals, std::slice::from_ref(&u));
    assert!(vb <= breakglass::now() + 30 * 60);
    let sshd = TestSshd::start(&colleague.path().join("sshd"), &ca, &[]).unwrap();
    let login = sshd
        .ssh(&colleague.path().join("id_ecdsa"), &u, "true")
        .unwrap();
    assert!(login.status.success(), "{}", sshd.log());
    let log = std::fs::read_to_string(&approver.audit).unwrap();
    assert!(
        log.contains("public key from wormhole send --text"),
        "{log}"
    );
    // Without -n there is nothing to sign: refused before anything is received.
    let no_n = approver.run(&["approve", "--text", "7-aa-bb"]);
    assert_eq!(no_n.status.code(), Some(2));
    assert!(
        err(&no_n).contains("approve --text needs -n"),
        "{}",
        err(&no_n)
    );
}

/// The fenced blocks of `markdown` whose info string is exactly `sh TAG`, in order.
fn tagged_blocks(markdown: &str, tag: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in markdown.lines() {
        let t = line.trim_start();
        if !inside && t == format!("```sh {tag}") {
            inside = true;
        } else if inside && t.starts_with("```") {
            inside = false;
        } else if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn handoff_runbook_runs_requester_and_approver() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    let ca = approver.init_ca();
    std::fs::write(requester.path("sk-user-ca.pub"), &ca).unwrap();
    let sshd = TestSshd::start(&requester.tmp.path().join("sshd"), &ca, &[]).unwrap();
    let md = std::fs::read_to_string("runbooks/handoff.md").unwrap();
    let (req_sh, appr_sh) = (
        tagged_blocks(&md, "requester"),
        tagged_blocks(&md, "approver"),
    );
    assert!(req_sh.contains("breakglass request") && appr_sh.contains("breakglass approve"));
    // PATH: the built binary, and an ssh wrapper that points ssh at the test sshd.
    let bin_dir = requester.tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let cfg = requester.tmp.path().join("ssh_config");
    std::fs::write(&cfg, format!("Host *\n  Port {}\n  HostName 127.0.0.1\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  IdentitiesOnly yes\n  IdentityAgent none\n  BatchMode yes\n  LogLevel ERROR\n", sshd.port)).unwrap();
    std::fs::write(
        bin_dir.join("ssh"),
        format!("#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n", cfg.display()),
    )
    .unwrap();
    std::fs::set_permissions(bin_dir.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}:{}",
        bin_dir.display(),
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = |w: &World, body: &str| {
        let mut b = Command::new("bash");
        b.arg("-c")
            .arg(format!("set -euo pipefail\n{body}"))
            .current_dir(&w.work)
            .env("PATH", &path)
            .env("TARGET_USER", user())
            .env("TARGET_HOST", "runbook-host")
            .env("INCIDENT", "INC-31")
            .env("BREAKGLASS_KIT", &w.work)
            .env("BREAKGLASS_BACKEND", "sim")
            .env("BREAKGLASS_SIM_DIR", &w.sim)
            .env("BREAKGLASS_AUDIT_LOG", &w.audit)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null());
        for (k, v) in &w.env {
            b.env(k, v);
        }
        b
    };
    let r = spawn_coded(script(&requester, &req_sh));
    let a = script(&approver, &appr_sh)
        .env("CODE", &r.code)
        .output()
        .unwrap();
    let (o, out) = r.finish();
    assert!(a.status.success(), "approver: {}", err(&a));
    assert!(o.status.success(), "requester: {}\n{}", err(&o), sshd.log());
    assert!(out.contains("requested access works on"), "{out}");
    let log = std::fs::read_to_string(&approver.audit).unwrap();
    assert!(log.contains("INC-31: need a shell"), "{log}");
}

/// An ssh-agent of our own, stopped (by pid) when dropped.
struct Agent {
    child: Child,
    sock: PathBuf,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let sock = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while !sock.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "ssh-agent did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { child, sock }
    }

    fn list(&self) -> String {
        let o = Command::new("ssh-add")
            .arg("-l")
            .env("SSH_AUTH_SOCK", &self.sock)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn request_agent_and_json_keep_the_key_off_the_disk() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    approver.init_ca();
    let agent = Agent::start(requester.tmp.path());
    let mut c = requester.cmd(&["--json", "request", "-n", "alice", "--agent", "-V", "+10m"]);
    c.env("SSH_AUTH_SOCK", &agent.sock);
    let r = spawn_coded_stderr(c);
    let a = approve(&approver, &r.code, &["--json", "--yes"]);
    let (o, out) = r.finish();
    assert!(a.status.success(), "{}", err(&a));
    assert!(o.status.success(), "{}", err(&o));
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        got["certificate"]["principals"],
        serde_json::json!(["alice"])
    );
    assert!(got["agent_lifetime"].as_u64().unwrap() <= 600);
    assert_eq!(got["files"], serde_json::json!([]));
    let signed: serde_json::Value = serde_json::from_str(&common::out(&a)).unwrap();
    assert_eq!(signed["accepted"], serde_json::json!(true));
    assert_eq!(
        signed["request"]["principals"],
        serde_json::json!(["alice"])
    );
    assert!(
        snapshot(&requester.work).is_empty(),
        "request --agent wrote files"
    );
    assert!(agent.list().contains("ECDSA-CERT"), "{}", agent.list());
}

/// Like [`spawn_coded`], for `--json` runs: the code line is on stderr, stdout is the JSON.
fn spawn_coded_stderr(mut c: Command) -> Running {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut s);
        s
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(code) = line.strip_prefix("Wormhole code: ") {
                let _ = tx.send(code.trim().to_string());
            }
        }
    });
    let code = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a code on stderr");
    Running { child, code, out }
}

#[test]
fn a_refusal_with_terminal_escapes_is_shown_sanitised() {
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let requester = s.world();
    let r = request(&requester, &["-n", "alice"]);
    let cfg = s.cfg();
    async_io::block_on(async {
        let mut ex = exchange::join(&cfg, &r.code).await.unwrap();
        let _ = ex
            .receive(Duration::from_secs(30), "request")
            .await
            .unwrap();
        ex.send(&Message::Refusal(
            "\x1b[2J\x1b]0;pwned\x07no \u{202e}way".into(),
        ))
        .await
        .unwrap();
        ex.close().await;
    });
    let (o, _) = r.finish();
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains(
            r"the approver refused the request: \u{1b}[2J\u{1b}]0;pwned\u{7}no \u{202e}way."
        ),
        "{e}"
    );
    assert!(!e.contains('\x1b') && !e.contains('\u{202e}'));
    assert!(snapshot(&requester.work).is_empty());
}

/// sshd's escaping of its log message (`strnvis`, VIS_CSTYLE|VIS_OCTAL) for printable text.
fn sshd_escaped(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'\\' => "\\\\".to_string(),
            0x80.. => format!("\\{b:03o}"),
            b => (b as char).to_string(),
        })
        .collect()
}

/// The longest key id allowed (160 characters as sshd logs it, with a backslash and non-ASCII),
/// signed through request / approve over the loopback wormhole: the requester's certificate logs
/// in to a real sshd that logs through a real rsyslogd with the `--alert` rule, and the page
/// names the certificate's serial and the CA's fingerprint (#23 §1).
#[test]
fn the_longest_key_id_through_request_and_approve_logs_in_and_pages_with_serial_and_ca() {
    use common::rsyslog::{
        accepted_line, port_of, start_rsyslogd, wait_for_pages, write_recording_pager,
    };
    if !std::path::Path::new("/usr/sbin/sshd").exists() {
        return skip::skip(&skip::SSHD, "/usr/sbin/sshd is not installed");
    }
    for p in ["rsyslogd", "logger", "unshare"] {
        if !have(p) {
            return skip::skip(&skip::RSYSLOG, &format!("{p} is not installed"));
        }
    }
    if !is_root() {
        return skip::skip(
            &skip::ROOT,
            "needs root (sshd logs to a syslog socket of the test's in its own mount namespace)",
        );
    }
    let _g = serial();
    let Some(s) = Servers::start() else { return };
    let (requester, approver) = (s.world(), s.world());
    let ca = approver.init_ca();
    std::fs::write(requester.path("ca.pub"), &ca).unwrap();
    let u = user();
    let fp = fingerprint(&approver.path("sk-user-ca.pub"));

    // The host: sshd's etc with the CA trusted and the alert rule (a recording pager).
    let etc = approver.tmp.path().join("etc");
    let (config, port) = write_sshd_etc(
        &etc,
        &[
            "AuthorizedKeysFile {etc}/authorized_keys",
            "TrustedUserCAKeys {etc}/online_ca.pub",
        ],
    );
    make_online_ca(&etc);
    let calls = approver.tmp.path().join("calls");
    let pager = approver.tmp.path().join("page-oncall");
    write_recording_pager(&pager, &calls);
    let etc_s = etc.to_str().unwrap();
    approver.ok(&[
        "host-config",
        // A simulated CA: nothing proves it lives in a hardware key (this test is about the
        // key id on the host's log line, tests/host_config.rs about the attestation gate).
        "--allow-unattested",
        "--out",
        etc_s,
        "--etc",
        etc_s,
        "--sshd-config",
        config.to_str().unwrap(),
        "--alert",
        pager.to_str().unwrap(),
        "sk-user-ca.pub",
    ]);

    // 160 characters as sshd logs it: 8 for "INC-9 \", 8 for each "é" (two bytes, \303\251).
    let id = format!("INC-9 \\{}", "é".repeat(19));
    assert_eq!(sshd_escaped(&id).len(), 160);
    // One more is a usage error, before any wormhole is opened.
    let over = approver.run(&["approve", "7-not-used", "-I", &format!("{id}x"), "--yes"]);
    assert_eq!(over.status.code(), Some(2), "{}", err(&over));
    assert!(err(&over).contains("160"), "{}", err(&over));

    let r = request(
        &requester,
        &[
            "-n",
            &u,
            "-V",
            "-5m:+30m",
            "--reason",
            "INC-9: db down — é",
            "--ca",
            "ca.pub",
        ],
    );
    let a = approve(&approver, &r.code, &["-I", &id, "-z", "23", "--yes"]);
    let (o, out) = r.finish();
    assert!(a.status.success(), "approve: {}", err(&a));
    assert!(o.status.success(), "request: {}", err(&o));
    assert!(out.contains("Got a certificate"), "{out}");
    let (c, _) =
        breakglass::ssh::summary::read_cert_line(&requester.path("emergency-cert.pub")).unwrap();
    assert_eq!(c.key_id(), id);
    assert_eq!(c.serial(), 23);

    let rs_dir = approver.tmp.path().join("rsyslog");
    std::fs::create_dir(&rs_dir).unwrap();
    let sshd_log = rs_dir.join("sshd.log");
    let rsyslogd = start_rsyslogd(
        &rs_dir,
        &format!(
            "template(name=\"sshd_line\" type=\"string\" string=\"%msg%\\n\")\n\
             if $programname == \"sshd\" then action(type=\"omfile\" file=\"{}\" template=\"sshd_line\")\n",
            sshd_log.display()
        ),
        &etc.join("rsyslog.d/30-breakglass-alert.conf"),
    );
    let sshd = HostSshd::start_syslog(
        &config,
        port,
        &approver.tmp.path().join("dev"),
        &rsyslogd.socket,
        sshd_log.clone(),
    );
    assert!(
        sshd.login(&requester.path("emergency"), &u),
        "{}",
        sshd.log()
    );
    sshd.wait_for("Accepted publickey for ", 1);
    let line = accepted_line(&sshd.log());
    let escaped = sshd_escaped(&id);
    assert!(
        line.ends_with(&format!(" ID {escaped} (serial 23) CA ECDSA-SK {fp}")),
        "{line}"
    );
    assert!(line.len() < 500, "{line}");
    let want = format!(
        "CALL [{u}] [127.0.0.1] [{}] [{escaped}] [23] [{fp}]",
        port_of(&line)
    );
    wait_for_pages(&calls);
    drop(sshd);
    drop(rsyslogd);
    let text = std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [want.as_str()],
        "rsyslogd said: {}",
        std::fs::read_to_string(rs_dir.join("rsyslogd.err")).unwrap_or_default()
    );
}
