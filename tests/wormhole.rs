#![cfg(feature = "wormhole")]
//! End-to-end wormhole tests against a local mailbox server and transit relay
//! (the Python ones, from the venv in $BREAKGLASS_WORMHOLE_VENV), and against
//! the Python `wormhole` CLI itself. Nothing here talks to the public servers.
//! The servers, the Python CLI and the senders are in tests/common/wormhole.rs.

mod common;

use breakglass::delivery::transfer::*;
use breakglass::Diagnostic;
use common::wormhole::{free_port, Sender, Servers};
use common::*;
use serde_json::json;
use std::{
    io::{BufRead, BufReader},
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Stdio},
    sync::{mpsc, Mutex},
    time::{Duration, Instant},
};

/// The tests share two cores with everything else: run them one at a time so
/// timing assertions mean something.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn files() -> Vec<OutFile> {
    let key: Vec<u8> = (0..1500u32).map(|i| (i * 7 + 3) as u8).collect();
    vec![
        OutFile {
            name: "emergency".into(),
            bytes: key.into(),
            mode: 0o600,
        },
        OutFile {
            name: "emergency.pub".into(),
            bytes: b"ssh-ed25519 AAAAC3Nz test\n".to_vec().into(),
            mode: 0o644,
        },
        OutFile {
            name: "emergency-cert.pub".into(),
            bytes: vec![b'c'; 500].into(),
            mode: 0o644,
        },
    ]
}

type OnCode = Box<dyn FnOnce(&str) + Send>;
type Sent = Result<String, TransferError>;

/// Runs `send` on a thread (it reports its code through the callback) and
/// `recv(code)` here. Returns both results.
fn pair<R>(
    send: impl FnOnce(OnCode) -> Sent + Send + 'static,
    recv: impl FnOnce(String) -> R,
) -> (Sent, R) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        send(Box::new(move |c: &str| {
            let _ = tx.send(c.to_owned());
        }))
    });
    let r = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(code) => recv(code),
        Err(_) => panic!(
            "the sender never produced a code: {:?}",
            handle.join().unwrap()
        ),
    };
    (handle.join().unwrap(), r)
}

fn send_dir_thread(
    cfg: WormholeConfig,
    dir: &'static str,
    files: Vec<OutFile>,
) -> impl FnOnce(OnCode) -> Sent + Send + 'static {
    move |on_code| async_io::block_on(send_dir(&cfg, dir, &files, on_code))
}

fn send_raw_thread(
    cfg: WormholeConfig,
    offer: serde_json::Value,
    payload: Vec<u8>,
    cut_after: Option<usize>,
) -> impl FnOnce(OnCode) -> Sent + Send + 'static {
    move |on_code| async_io::block_on(send_raw_offer(&cfg, offer, &payload, cut_after, on_code))
}

// ---------------------------------------------------------------- 1. Rust ↔ Rust

#[test]
fn rust_pair_relay_only_keeps_bytes_and_modes() {
    let _g = serial();
    let s = Servers::start();
    let cfg = s.cfg();
    let sent = files();
    let (sres, rres) = pair(
        send_dir_thread(cfg.clone(), "emergency-access", sent.clone()),
        |code| async_io::block_on(receive(&cfg, &code)),
    );
    let nameplate = sres.expect("send_dir");
    assert!(nameplate.parse::<u32>().is_ok(), "nameplate {nameplate:?}");
    match rres.expect("receive") {
        Received::Files { dir_name, files } => {
            assert_eq!(dir_name, "emergency-access");
            assert_eq!(files, sent, "bytes, names and modes must survive");
            assert_eq!(files[0].mode, 0o600);
        }
        other => panic!("expected files, got {other:?}"),
    }
}

#[test]
fn relay_only_never_falls_back_to_direct() {
    // Both sides relay-only and the relay is down: the transfer must fail
    // (it would succeed if either side had offered a direct connection).
    let _g = serial();
    let s = Servers::start();
    let mut cfg = s.cfg();
    cfg.relay_url = format!("tcp://127.0.0.1:{}", free_port());
    cfg.timeout = Duration::from_secs(20);
    let (sres, rres) = pair(send_dir_thread(cfg.clone(), "d", files()), |code| {
        async_io::block_on(receive(&cfg, &code))
    });
    assert!(sres.is_err(), "sender must fail without a relay: {sres:?}");
    let err = rres.expect_err("receiver must fail without a relay");
    assert!(
        matches!(err, TransferError::Other(ref m) if m.contains("transit relay"))
            || matches!(err, TransferError::Timeout(_)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- 2. Rust → Python

#[test]
fn rust_send_dir_to_python_receive_keeps_0600() {
    let _g = serial();
    let s = Servers::start();
    let out = tempfile::tempdir().unwrap();
    let sent = files();
    let py = s.python();
    let outdir = out.path().to_path_buf();
    let (sres, pyout) = pair(
        send_dir_thread(s.cfg(), "emergency-access", sent.clone()),
        move |code| {
            let mut py = py;
            py.args(["receive", "--accept-file", "--hide-progress", "-o"])
                .arg(&outdir)
                .arg(&code);
            py.output().expect("run python wormhole receive")
        },
    );
    let log = String::from_utf8_lossy(&pyout.stderr).into_owned()
        + &String::from_utf8_lossy(&pyout.stdout);
    assert!(pyout.status.success(), "python receive failed: {log}");
    sres.expect("send_dir");
    assert!(
        log.contains("->relay:"),
        "python must have received through the relay: {log}"
    );
    let folder = out.path().join("emergency-access");
    assert!(folder.is_dir(), "folder missing: {log}");
    for f in &sent {
        let p = folder.join(&f.name);
        assert_eq!(std::fs::read(&p).unwrap(), *f.bytes, "{}", f.name);
        assert_eq!(mode_of(&p), f.mode, "mode of {}", f.name);
    }
    assert_eq!(mode_of(&folder.join("emergency")), 0o600);
}

// ---------------------------------------------------------------- 3. Python → Rust

#[test]
fn python_send_dir_file_and_text_to_rust_receive() {
    let _g = serial();
    let s = Servers::start();
    let cfg = s.cfg();
    let src = tempfile::tempdir().unwrap();
    let dir = src.path().join("handover");
    std::fs::create_dir(&dir).unwrap();
    for f in files() {
        let p = dir.join(&f.name);
        std::fs::write(&p, &f.bytes[..]).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(f.mode)).unwrap();
    }

    // A directory.
    let sender = s.python_send(&["handover"], src.path());
    let code = sender.code.clone();
    let got = async_io::block_on(receive(&cfg, &code));
    let log = err(&sender.finish());
    assert!(
        log.contains("->relay:"),
        "python must have sent through the relay: {log}"
    );
    match got.expect("receive dir") {
        Received::Files {
            dir_name,
            mut files,
        } => {
            assert_eq!(dir_name, "handover");
            files.sort_by(|a, b| a.name.cmp(&b.name));
            let mut want = self::files();
            want.sort_by(|a, b| a.name.cmp(&b.name));
            assert_eq!(files, want);
        }
        other => panic!("expected files, got {other:?}"),
    }

    // A single file.
    let sender = s.python_send(&["handover/emergency.pub"], src.path());
    let code = sender.code.clone();
    let got = async_io::block_on(receive(&cfg, &code));
    sender.finish();
    match got.expect("receive file") {
        Received::File(f) => {
            assert_eq!(f.name, "emergency.pub");
            assert_eq!(&f.bytes[..], b"ssh-ed25519 AAAAC3Nz test\n");
            assert_eq!(f.mode, 0o600);
        }
        other => panic!("expected a file, got {other:?}"),
    }

    // A text message.
    let sender = s.python_send(&["--text", "hello"], src.path());
    let code = sender.code.clone();
    let got = async_io::block_on(receive(&cfg, &code));
    sender.finish();
    assert_eq!(got.expect("receive text"), Received::Text("hello".into()));
}

// ---------------------------------------------------------------- 4. Hostile and broken peers

fn dir_offer(zip: &[u8], numbytes: u64, numfiles: u64) -> serde_json::Value {
    json!({"directory": {"mode": "zipfile/deflated", "dirname": "d", "zipsize": zip.len(),
        "numbytes": numbytes, "numfiles": numfiles}})
}

fn entry<'a>(name: &'a str, data: &'a [u8], mode: u32, deflate: bool) -> zipdir::ZipEntry<'a> {
    zipdir::ZipEntry {
        name,
        data,
        mode,
        deflate,
        declared_size: None,
    }
}

/// Sends a raw offer + payload to `receive`; expects a Hostile refusal whose
/// message contains `want`, and a failure on the sending side.
fn expect_hostile(s: &Servers, offer: serde_json::Value, payload: Vec<u8>, want: &str) {
    let cfg = s.cfg();
    let (sres, rres) = pair(
        send_raw_thread(cfg.clone(), offer.clone(), payload, None),
        |code| async_io::block_on(receive(&cfg, &code)),
    );
    match rres {
        Err(ref e @ TransferError::Hostile(ref msg)) => {
            // What `receive` prints under the refusal.
            assert_eq!(
                e.hint(),
                "Nothing was written: ask the sender what they sent, and don't retry with a code from someone you don't know."
            );
            assert!(
                msg.contains(want),
                "offer {offer}: expected '{want}' in '{msg}'"
            );
            assert!(
                !msg.chars().any(|c| c.is_control()),
                "unsanitised message {msg:?}"
            );
        }
        other => panic!("offer {offer}: expected Hostile, got {other:?}"),
    }
    assert!(
        sres.is_err(),
        "the hostile sender should see a refusal: {sres:?}"
    );
}

#[test]
fn hostile_offers_are_refused() {
    let _g = serial();
    let s = Servers::start();

    let zip = |entries: &[zipdir::ZipEntry]| zipdir::write_zip(entries).to_vec();
    let z = zip(&[entry("../x", b"pwned", 0o100600, false)]);
    expect_hostile(&s, dir_offer(&z, 5, 1), z, "leave the target directory");

    let z = zip(&[entry("/etc/cron.d/x", b"pwned", 0o100600, true)]);
    expect_hostile(&s, dir_offer(&z, 5, 1), z, "absolute path");

    let z = zip(&[entry("..\\..\\x", b"pwned", 0o100600, false)]);
    expect_hostile(&s, dir_offer(&z, 5, 1), z, "backslash");

    let z = zip(&[entry(
        "authorized_keys",
        b"/root/.ssh/authorized_keys",
        0o120777,
        false,
    )]);
    expect_hostile(&s, dir_offer(&z, 26, 1), z, "symbolic link");

    // Zip bomb, honest headers, lying offer: refused before inflating.
    let zeros = vec![0u8; 16 << 20];
    let z = zip(&[entry("bomb", &zeros, 0o100600, true)]);
    assert!(z.len() < 100 * 1024);
    expect_hostile(&s, dir_offer(&z, 1000, 1), z, "unpack to more than");

    // Zip bomb with a lying header too: refused while inflating.
    let z = zip(&[zipdir::ZipEntry {
        declared_size: Some(1000),
        ..entry("bomb", &zeros, 0o100600, true)
    }]);
    expect_hostile(&s, dir_offer(&z, 1000, 1), z, "inflates to more than");

    // Honest offers over the caps: refused before any byte is transferred.
    let z = zip(&[entry("a", b"a", 0o100600, false)]);
    expect_hostile(
        &s,
        dir_offer(&z, 16 << 20, 1),
        z.clone(),
        "more than the 1048576 allowed",
    );
    expect_hostile(&s, dir_offer(&z, 1, 17), z.clone(), "17 files");
    expect_hostile(
        &s,
        json!({"directory": {"mode": "tarball", "dirname": "d", "zipsize": 1, "numbytes": 1, "numfiles": 1}}),
        z.clone(),
        "unknown directory mode",
    );

    // Too many entries inside, though the offer says one.
    let names: Vec<String> = (0..17).map(|i| format!("f{i}")).collect();
    let entries: Vec<_> = names
        .iter()
        .map(|n| entry(n, b"x", 0o100600, false))
        .collect();
    let z = zip(&entries);
    expect_hostile(
        &s,
        dir_offer(&z, 17, 1),
        z,
        "more than the 16 files allowed",
    );

    // Single-file offers.
    expect_hostile(
        &s,
        json!({"file": {"filename": "../../.ssh/authorized_keys", "filesize": 5}}),
        b"pwned".to_vec(),
        "leave the target directory",
    );
    expect_hostile(
        &s,
        json!({"file": {"filename": "x\u{1b}]0;owned\u{7}", "filesize": 5}}),
        b"pwned".to_vec(),
        "not printable ASCII",
    );
    expect_hostile(
        &s,
        json!({"file": {"filename": "big", "filesize": 100u64 << 20}}),
        vec![0; 16],
        "more than the 1048576 allowed",
    );
    // A directory name that escapes.
    let z = zip(&[entry("a", b"a", 0o100600, false)]);
    let mut offer = dir_offer(&z, 1, 1);
    offer["directory"]["dirname"] = json!("../../etc");
    expect_hostile(&s, offer, z, "leave the target directory");
}

#[test]
fn wrong_code_is_wrong_code() {
    let _g = serial();
    let s = Servers::start();
    let cfg = s.cfg();
    let (sres, rres) = pair(send_dir_thread(cfg.clone(), "d", files()), |code| {
        let nameplate = code.split('-').next().unwrap().to_owned();
        let wrong = format!("{nameplate}-aardvark-zulu");
        assert_ne!(wrong, code);
        async_io::block_on(receive(&cfg, &wrong))
    });
    assert!(
        matches!(rres, Err(TransferError::WrongCode)),
        "receiver: {rres:?}"
    );
    assert!(
        matches!(sres, Err(TransferError::WrongCode)),
        "sender: {sres:?}"
    );
}

#[test]
fn malformed_code_is_bad_code() {
    let cfg = WormholeConfig {
        mailbox_url: format!("ws://127.0.0.1:{}/v1", free_port()),
        relay_url: format!("tcp://127.0.0.1:{}", free_port()),
        timeout: Duration::from_secs(5),
        direct: false,
    };
    for bad in [
        "",
        "hello",
        "7",
        "seven-foo-bar",
        "7-foo",
        "7-foo bar",
        "7-../etc",
    ] {
        let r = async_io::block_on(receive(&cfg, bad));
        assert!(matches!(r, Err(TransferError::BadCode)), "{bad:?}: {r:?}");
    }
}

#[test]
fn mailbox_down_is_unreachable_quickly() {
    let _g = serial();
    let cfg = WormholeConfig {
        mailbox_url: format!("ws://127.0.0.1:{}/v1", free_port()),
        relay_url: format!("tcp://127.0.0.1:{}", free_port()),
        timeout: Duration::from_secs(60),
        direct: false,
    };
    let start = Instant::now();
    let r = async_io::block_on(receive(&cfg, "7-guitarist-revenge"));
    assert!(
        matches!(r, Err(TransferError::MailboxUnreachable(_))),
        "{r:?}"
    );
    let r = async_io::block_on(send_dir(&cfg, "d", &files(), |_| {
        panic!("no code without a mailbox")
    }));
    assert!(
        matches!(r, Err(TransferError::MailboxUnreachable(_))),
        "{r:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("127.0.0.1"), "{msg}");
}

#[test]
fn peer_never_comes() {
    let _g = serial();
    let s = Servers::start();
    let mut cfg = s.cfg();
    cfg.timeout = Duration::from_secs(2);
    let start = Instant::now();
    let mut code = None;
    let r = async_io::block_on(send_dir(&cfg, "d", &files(), |c| code = Some(c.to_owned())));
    assert!(code.is_some(), "a code is printed before waiting");
    assert!(matches!(r, Err(TransferError::PeerNeverCame)), "{r:?}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "took {took:?}"
    );

    // A receiver whose nameplate nobody holds: told at once.
    let start = Instant::now();
    let r = async_io::block_on(receive(&cfg, "999-guitarist-revenge"));
    assert!(matches!(r, Err(TransferError::PeerNeverCame)), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn peer_gone_mid_transfer_is_cut() {
    let _g = serial();
    let s = Servers::start();
    let cfg = s.cfg();
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let offer = dir_offer(&payload, 300_000, 1);
    let start = Instant::now();
    let (sres, rres) = pair(
        send_raw_thread(cfg.clone(), offer, payload, Some(100_000)),
        |code| async_io::block_on(receive(&cfg, &code)),
    );
    sres.expect("the vanishing sender itself reports nothing");
    assert!(matches!(rres, Err(TransferError::Cut)), "{rres:?}");
    // What `receive` prints under the error.
    assert_eq!(
        rres.unwrap_err().hint(),
        "Nothing was written: start a new transfer (check the network and the transit relay)."
    );
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
}

// ---------------------------------------------------------------- 5. The CLI: send / receive / --agent
/// A world whose `send` and `receive` use the local servers.
fn kit(s: &Servers) -> World {
    let mut w = World::new();
    w.env.extend(s.env());
    w
}

/// `init-ca`, then `mint -n alice EXTRA`, in the world's working directory; returns the CA line.
fn init_and_mint(w: &World, extra: &[&str]) -> String {
    let ca = w.init_ca();
    let mut args = vec!["mint", "-n", "alice"];
    args.extend_from_slice(extra);
    w.ok(&args);
    ca
}

#[test]
fn cli_send_to_cli_receive_writes_a_checked_key_0600() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    init_and_mint(&k, &[]);
    let sender = Sender::breakglass(k.cmd(&["send"]));
    let code = sender.code.clone();
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    let out = k.ok_in(&["receive", &code, "--ca", "../work/sk-user-ca.pub"], &recv);
    sender.finish();
    assert!(
        out.contains("Wrote emergency, emergency.pub, emergency-cert.pub"),
        "{out}"
    );
    assert_eq!(
        listing(&recv),
        ["emergency", "emergency-cert.pub", "emergency.pub"]
    );
    for f in ["emergency", "emergency.pub", "emergency-cert.pub"] {
        assert_eq!(mode_of(&recv.join(f)), 0o600, "{f}");
    }
    assert_eq!(
        std::fs::read(recv.join("emergency-cert.pub")).unwrap(),
        std::fs::read(k.work.join("emergency-cert.pub")).unwrap()
    );
    // The audit log has both sides with the nameplate, never the key.
    let log = std::fs::read_to_string(k.tmp.path().join("audit.jsonl")).unwrap();
    let np = code.split('-').next().unwrap();
    assert!(
        log.contains("\"action\":\"send\"") && log.contains("\"action\":\"receive\""),
        "{log}"
    );
    assert!(log.contains(&format!("nameplate {np}")), "{log}");
    assert!(!log.contains("PRIVATE KEY"));
    // Receiving again into the same place never overwrites: the receiver refuses before it
    // even connects, so the sender is left waiting and gives up after its --timeout.
    let sender = Sender::breakglass(k.cmd(&["send", "--timeout", "3s"]));
    let code = sender.code.clone();
    let o = k.cmd_in(&["receive", &code], &recv).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "emergency already exists");
    let s = sender.wait();
    assert_eq!(s.status.code(), Some(1));
    assert_stderr(&s, "The other side never showed up");
    assert_stderr(&s, "\nMake sure the other side uses the same code and the same mailbox server before the timeout; check the number at the start of the code, or start a new transfer.\n");
}

#[test]
fn cli_send_to_python_receive_then_ssh_logs_in() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    let user = user();
    k.ok(&["init-ca"]);
    k.ok(&["mint", "-n", &user]);
    let ca = std::fs::read_to_string(k.work.join("sk-user-ca.pub")).unwrap();
    let sender = Sender::breakglass(k.cmd(&["send"]));
    let code = sender.code.clone();
    let outdir = k.tmp.path().join("py");
    std::fs::create_dir(&outdir).unwrap();
    let mut py = s.python();
    py.args(["receive", "--accept-file", "--hide-progress", "-o"])
        .arg(&outdir)
        .arg(&code);
    let o = py.output().unwrap();
    sender.finish();
    assert!(
        o.status.success(),
        "python receive: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let folder = outdir.join("emergency-access");
    assert_eq!(mode_of(&folder.join("emergency")), 0o600);
    let sshd = start_sshd(&k, &ca);
    let o = sshd
        .ssh(&folder.join("emergency"), &user, "echo via-python")
        .unwrap();
    assert!(o.status.success(), "{}", sshd.log());
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "via-python");
}

#[test]
fn python_sends_to_cli_receive_dir_file_and_text() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    init_and_mint(&k, &[]);
    // A folder with the three files, as a colleague without breakglass would send it.
    let folder = k.tmp.path().join("handoff");
    std::fs::create_dir(&folder).unwrap();
    for f in ["emergency", "emergency.pub", "emergency-cert.pub"] {
        std::fs::copy(k.work.join(f), folder.join(f)).unwrap();
    }
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    let sender = s.python_send(&["handoff"], k.tmp.path());
    let code = sender.code.clone();
    let out = k.ok_in(&["receive", &code], &recv);
    sender.finish();
    assert!(out.contains("Wrote emergency"), "{out}");
    assert_eq!(mode_of(&recv.join("emergency")), 0o600);
    // A single file holding only the key: refused, nothing written.
    let sender = s.python_send(&["handoff/emergency"], k.tmp.path());
    let code = sender.code.clone();
    let o = k
        .cmd_in(&["receive", &code, "-f", "single"], &recv)
        .output()
        .unwrap();
    sender.wait();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("expected a private key and its certificate, got a key and no certificate"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!recv.join("single").exists());
    // A peer that sends a key with another key's certificate, or an expired certificate:
    // refused on receipt, nothing written.
    k.ok(&["mint", "-n", "bob", "-f", "bobkey"]);
    k.ok(&["mint", "-n", "carol", "-V", "-2m:+2s", "-f", "brief"]);
    let mixed = k.tmp.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(k.work.join("emergency"), mixed.join("emergency")).unwrap();
    std::fs::copy(
        k.work.join("bobkey-cert.pub"),
        mixed.join("emergency-cert.pub"),
    )
    .unwrap();
    let stale = k.tmp.path().join("stale");
    std::fs::create_dir(&stale).unwrap();
    std::fs::copy(k.work.join("brief"), stale.join("brief")).unwrap();
    std::fs::copy(k.work.join("brief-cert.pub"), stale.join("brief-cert.pub")).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    for (dir, want) in [
        (
            "mixed",
            "the certificate is for another key than the private key",
        ),
        ("stale", "the certificate expired at"),
    ] {
        let sender = s.python_send(&[dir], k.tmp.path());
        let code = sender.code.clone();
        let o = k
            .cmd_in(&["receive", &code, "-f", "hostile"], &recv)
            .output()
            .unwrap();
        sender.wait();
        assert_ne!(o.status.code(), Some(0), "{dir}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{dir}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !recv.join("hostile").exists() && !recv.join("hostile-cert.pub").exists(),
            "{dir}: files written"
        );
    }
    // A bundle from a CA we were not told to check, with a principal that is a shell command:
    // accepted (no --ca), but the suggested ssh line quotes it. A host certificate is refused.
    let evil = k.tmp.path().join("evil");
    std::fs::create_dir(&evil).unwrap();
    let kg = |args: &[&str]| ssh_keygen_ok(args, &evil);
    kg(&["-q", "-t", "ed25519", "-N", "", "-f", "ca"]);
    kg(&["-q", "-t", "ed25519", "-N", "", "-f", "emergency"]);
    kg(&[
        "-q",
        "-s",
        "ca",
        "-I",
        "x",
        "-n",
        "a;touch pwned",
        "-V",
        "-1m:+1h",
        "emergency.pub",
    ]);
    std::fs::remove_file(evil.join("ca")).unwrap();
    std::fs::remove_file(evil.join("ca.pub")).unwrap();
    let sender = s.python_send(&["evil"], k.tmp.path());
    let code = sender.code.clone();
    let out = k.ok_in(&["receive", &code, "-f", "evil"], &recv);
    sender.wait();
    assert!(out.contains("ssh -i evil 'a;touch pwned'@HOST"), "{out}");
    std::fs::remove_file(evil.join("emergency-cert.pub")).unwrap();
    kg(&["-q", "-t", "ed25519", "-N", "", "-f", "hostca"]);
    kg(&[
        "-q",
        "-s",
        "hostca",
        "-h",
        "-I",
        "host",
        "-n",
        "h",
        "-V",
        "-1m:+1h",
        "emergency.pub",
    ]);
    std::fs::remove_file(evil.join("hostca")).unwrap();
    std::fs::remove_file(evil.join("hostca.pub")).unwrap();
    let sender = s.python_send(&["evil"], k.tmp.path());
    let code = sender.code.clone();
    let o = k
        .cmd_in(&["receive", &code, "-f", "hostcert"], &recv)
        .output()
        .unwrap();
    sender.wait();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "a host certificate, not a user certificate");
    assert!(!recv.join("hostcert").exists());
    // A text message is shown, sanitised.
    let sender = s.python_send(
        &["--text", "call me on the bridge \u{1b}[31m now"],
        k.tmp.path(),
    );
    let code = sender.code.clone();
    let out = k.ok_in(&["receive", &code, "-f", "note"], &recv);
    sender.finish();
    assert!(out.contains("Received a text message"), "{out}");
    assert!(
        out.contains("call me on the bridge \\u{1b}[31m now"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'));
}

#[test]
fn cli_receive_refuses_bad_bundles_and_writes_nothing() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    init_and_mint(&k, &["-V", "-2m:+3s", "-f", "short"]);
    // Another key's certificate next to a key: refused by the sender already.
    k.ok(&["mint", "-n", "bob", "-f", "other"]);
    std::fs::copy(k.work.join("other-cert.pub"), k.work.join("mixed-cert.pub")).unwrap();
    std::fs::copy(k.work.join("short"), k.work.join("mixed")).unwrap();
    let o = k.cmd(&["send", "mixed"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the certificate is for another key than the private key"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // An expired certificate is not sent.
    std::thread::sleep(Duration::from_secs(4));
    let o = k.cmd(&["send", "short"]).output().unwrap();
    // Not a usage error: the command line was right, the certificate is old.
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "breakglass: the certificate expired at ");
    assert_stderr(&o, "\nMint a new one.\n");
    // A certificate from another CA than --ca.
    let other_ca = k.tmp.path().join("otherca");
    std::fs::create_dir(&other_ca).unwrap();
    let o = k
        .cmd_in(&["init-ca", "-f", "ca2"], &other_ca)
        .env("BREAKGLASS_SIM_DIR", k.tmp.path().join("sim2"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let sender = Sender::breakglass(k.cmd(&["send", "other"]));
    let code = sender.code.clone();
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    let o = k
        .cmd_in(&["receive", &code, "--ca", "../otherca/ca2.pub"], &recv)
        .output()
        .unwrap();
    sender.wait();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "signed by another CA");
    assert!(listing(&recv).is_empty());
    // A wrong code, a malformed code, and the mailbox down: one sentence each, nothing written.
    let sender = Sender::breakglass(k.cmd(&["send", "other"]));
    let code = sender.code.clone();
    let wrong = format!("{}-wrong-words", code.split('-').next().unwrap());
    let o = k.cmd_in(&["receive", &wrong], &recv).output().unwrap();
    sender.wait();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "The code did not match");
    assert_stderr(&o, "\nCheck the words for typos, then ask the sender to start a new transfer: this code is used up (a repeated failure can mean someone is guessing codes).\n");
    let o = k
        .cmd_in(&["receive", "not a code"], &recv)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a mistyped code exits 2");
    assert_stderr(&o, "That is not a wormhole code");
    let o = k
        .cmd_in(
            &[
                "receive",
                "7-guitarist-revenge",
                "--mailbox-url",
                &format!("ws://127.0.0.1:{}/v1", free_port()),
            ],
            &recv,
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "Could not reach the wormhole mailbox server");
    assert!(listing(&recv).is_empty());
}

#[test]
fn receive_agent_and_mint_agent_keep_the_key_off_the_disk_and_expire() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    let user = user();
    k.ok(&["init-ca"]);
    k.ok(&["mint", "-n", &user, "-V", "-1m:+6s", "-f", "brief"]);
    let ca = std::fs::read_to_string(k.work.join("sk-user-ca.pub")).unwrap();
    let agent = TestAgent::start();
    let sender = Sender::breakglass(k.cmd(&["send", "brief"]));
    let code = sender.code.clone();
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    let o = k
        .cmd_in(&["receive", &code, "--agent"], &recv)
        .env("SSH_AUTH_SOCK", &agent.sock)
        .output()
        .unwrap();
    sender.wait();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(listing(&recv).is_empty(), "receive --agent wrote files");
    assert!(agent.list().contains("ECDSA-CERT"), "{}", agent.list());
    // ssh logs in with the agent's certificate (no key file).
    let sshd = start_sshd(&k, &ca);
    let mut opts = ssh_options(sshd.port);
    for o in opts.iter_mut() {
        if o == "IdentityAgent=none" {
            *o = format!("IdentityAgent={}", agent.sock.display());
        }
        if o == "IdentitiesOnly=yes" {
            *o = "IdentitiesOnly=no".into();
        }
    }
    let o = std::process::Command::new("ssh")
        .args(&opts)
        .arg(format!("{user}@127.0.0.1"))
        .arg("echo agent-ok")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        sshd.log()
    );
    // Gone once the certificate's time is up.
    let t = Instant::now();
    while agent.list().contains("ECDSA-CERT") {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "still in the agent: {}",
            agent.list()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // mint --agent: nothing on disk, listed as a certificate.
    let before = listing(&k.work);
    let o = k
        .cmd(&["mint", "-n", &user, "--agent", "-f", "agentonly"])
        .env("SSH_AUTH_SOCK", &agent.sock)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(listing(&k.work), before);
    assert!(agent.list().contains("ECDSA-CERT"), "{}", agent.list());
    // No agent: a clear error, before any touch.
    let o = k.cmd(&["mint", "-n", &user, "--agent"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(
        &o,
        "breakglass: no ssh-agent is running (SSH_AUTH_SOCK is not set).\n\
         Start one with `eval \"$(ssh-agent)\"` and run again, or write the key to a file without --agent.\n",
    );
}

#[test]
fn mint_send_mints_and_sends_in_one_go() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    k.ok(&["init-ca"]);
    let sender = Sender::breakglass(k.cmd(&["mint", "-n", "alice", "--send"]));
    let code = sender.code.clone();
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    k.ok_in(&["receive", &code], &recv);
    sender.finish();
    assert_eq!(
        std::fs::read(recv.join("emergency-cert.pub")).unwrap(),
        std::fs::read(k.work.join("emergency-cert.pub")).unwrap()
    );
}

// ---------------------------------------------------------------- 7. Peers that attack the process

/// Starts `tests/peers/hostile_peer.py ROLE MODE [CODE]` against the local servers; for ROLE
/// `send`, also returns the code it printed.
fn hostile_peer(
    s: &Servers,
    role: &str,
    mode: &str,
    code: Option<&str>,
) -> (std::process::Child, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/hostile_peer.py");
    let mut c = Command::new(common::wormhole::venv().join("bin/python"));
    c.arg(script)
        .arg(format!("ws://127.0.0.1:{}/v1", s.mailbox_port))
        .arg(format!("tcp:127.0.0.1:{}", s.relay_port))
        .args([role, mode])
        .args(code)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = c.spawn().expect("python runs");
    let code = match code {
        Some(c) => c.to_string(),
        None => {
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert!(!line.trim().is_empty(), "the hostile peer printed no code");
            line.trim().to_string()
        }
    };
    (child, code)
}

/// Limits the address space of a command to 2 GiB: as on a machine without overcommit, an
/// allocation of the 4 GiB a peer announces then fails (the process aborted before the fix).
fn limit_memory(c: &mut Command) {
    use std::os::unix::process::CommandExt;
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Waits for `child` (stdout already taken or read elsewhere) and returns its exit code (None
/// when a signal ended it), its stderr and its peak RSS in KiB (wait4's `ru_maxrss`).
fn wait_measured(mut child: std::process::Child) -> (Option<i32>, String, i64) {
    use std::io::Read;
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, reader.join().unwrap(), usage.ru_maxrss)
}

fn last_audit_entry(k: &World) -> serde_json::Value {
    let log = std::fs::read_to_string(&k.audit).unwrap_or_default();
    let last = log.lines().last().expect("an audit entry");
    serde_json::from_str(last).unwrap()
}

#[test]
fn a_peer_announcing_a_4gib_record_is_refused_by_receive_and_send() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);

    // A sender that offers a file, then announces a transit record of 0xffffffff bytes.
    let (mut peer, code) = hostile_peer(&s, "send", "huge-record", None);
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    let mut c = k.cmd_in(&["receive", &code], &recv);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    limit_memory(&mut c);
    let (exit, stderr, rss) = wait_measured(c.spawn().unwrap());
    let _ = peer.kill();
    let _ = peer.wait();
    eprintln!("receive against a 4 GiB record: exit {exit:?}, peak RSS {rss} KiB");
    assert_eq!(exit, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "Refused what the other side sent: the peer announced a transit record of 4294967295 bytes, more than the 65536 allowed"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was written"), "{stderr}");
    assert!(rss < 64 * 1024, "peak RSS {rss} KiB");
    assert!(listing(&recv).is_empty(), "{:?}", listing(&recv));
    let e = last_audit_entry(&k);
    assert_eq!(e["action"], "receive");
    assert_eq!(e["result"], "failed: hostile-peer");

    // A receiver that accepts our offer, then answers with such a record instead of its ack.
    init_and_mint(&k, &[]);
    let mut c = k.cmd_in(&["send"], &k.work);
    limit_memory(&mut c);
    let sender = Sender::breakglass(c);
    let code = sender.code.clone();
    let (mut peer, _) = hostile_peer(&s, "receive", "huge-record", Some(&code));
    let (exit, stderr, rss) = sender.wait_measured();
    let _ = peer.kill();
    let _ = peer.wait();
    eprintln!("send against a 4 GiB record: exit {exit:?}, peak RSS {rss} KiB");
    assert_eq!(exit, Some(1), "{stderr}");
    assert!(
        stderr.contains("the peer announced a transit record of 4294967295 bytes"),
        "{stderr}"
    );
    assert!(rss < 64 * 1024, "peak RSS {rss} KiB");
    let e = last_audit_entry(&k);
    assert_eq!(e["action"], "send");
    assert_eq!(e["result"], "failed: hostile-peer");
}

#[test]
fn an_oversized_text_message_is_refused_as_hostile_not_a_panic() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();

    // 9 MB of text: more than the mailbox's websocket takes in one message (the crate once
    // panicked on it).
    let (mut peer, code) = hostile_peer(&s, "send", "huge-text", None);
    let o = k.cmd_in(&["receive", &code], &recv).output().unwrap();
    let _ = peer.kill();
    let _ = peer.wait();
    let stderr = String::from_utf8_lossy(&o.stderr);
    eprintln!(
        "receive of a 9 MB text message: {:?}\n{stderr}",
        o.status.code()
    );
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    // The size is the whole JSON frame the server relays (the text hex-encoded, encrypted, and
    // the server's fields, whose length varies by a few bytes): check it, not the exact number.
    let size: u64 = stderr
        .strip_prefix("breakglass: Refused what the other side sent: a message of ")
        .and_then(|r| r.strip_suffix(" bytes came through the mailbox, more than the 16777216 allowed.\nNothing was written: ask the sender what they sent, and don't retry with a code from someone you don't know.\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not the size refusal:\n{stderr}"));
    assert!((18_000_000..18_001_000).contains(&size), "{size}");
    assert!(listing(&recv).is_empty(), "{:?}", listing(&recv));
    let e = last_audit_entry(&k);
    assert_eq!(e["action"], "receive");
    assert_eq!(e["result"], "failed: hostile-peer");

    // 100,000 bytes: within the websocket's limit, over the text message's; the peer is told.
    let (mut peer, code) = hostile_peer(&s, "send", "long-text", None);
    let o = k.cmd_in(&["receive", &code], &recv).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let mut answer = String::new();
    BufReader::new(peer.stdout.as_mut().unwrap())
        .read_line(&mut answer)
        .unwrap();
    let _ = peer.kill();
    let _ = peer.wait();
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "breakglass: Refused what the other side sent: the text message is longer than 65536 bytes.\n"
        ),
        "{stderr}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer).unwrap(),
        serde_json::json!({"error": "refused: the text message is longer than 65536 bytes"}),
        "what the peer was told"
    );
    assert!(listing(&recv).is_empty(), "{:?}", listing(&recv));
    let e = last_audit_entry(&k);
    assert_eq!(e["action"], "receive");
    assert_eq!(e["result"], "failed: hostile-peer");
}

// ---------------------------------------------------------------- 8. Relay URLs as Python writes them

#[test]
fn relay_urls_in_twisted_syntax_work_for_send_and_receive() {
    let _g = serial();
    let s = Servers::start();
    let k = kit(&s);
    init_and_mint(&k, &[]);
    let twisted = format!("tcp:127.0.0.1:{}", s.relay_port);
    // The sender through the environment, the receiver through the flag.
    let mut c = k.cmd_in(&["send"], &k.work);
    c.env("BREAKGLASS_RELAY_URL", &twisted);
    let sender = Sender::breakglass(c);
    let code = sender.code.clone();
    let recv = k.tmp.path().join("recv");
    std::fs::create_dir(&recv).unwrap();
    let o = k
        .cmd_in(&["receive", &code, "--relay-url", &twisted], &recv)
        .env_remove("BREAKGLASS_RELAY_URL")
        .output()
        .unwrap();
    sender.finish();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        listing(&recv),
        ["emergency", "emergency-cert.pub", "emergency.pub"]
    );
    // Anything else is refused before a server is contacted, with what to write instead.
    let empty = k.tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = k
        .cmd_in(
            &[
                "receive",
                "7-guitarist-revenge",
                "--relay-url",
                "udp:127.0.0.1:4001",
            ],
            &empty,
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(
        &o,
        "The transit relay 'udp:127.0.0.1:4001' is not a TCP relay.\n",
    );
    assert_stderr(&o, "Write the relay as tcp:HOST:PORT or tcp://HOST:PORT");
    assert!(listing(&empty).is_empty());
}
