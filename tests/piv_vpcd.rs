#![cfg(feature = "piv")]
//! The `piv` backend through the real chain: `yubikey` → libpcsclite → pcscd → vpcd driver →
//! our virtual card (REFERENCE.md §13). Needs Debian's `pcscd` and `vsmartcard-vpcd`, and
//! write access to /run/pcscd (root, as in CI). Without /run/pcscd to own (not root, or a pcscd
//! already running) it skips with one line (`pcscd`, see tests/common/skip.rs: a failure under
//! BREAKGLASS_REQUIRE_ALL=1); a missing pcscd or vpcd driver always fails.
//!
//! One pcscd per machine, so everything runs inside one #[test].

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod common;

use breakglass::token::piv::{self, PivError};
use common::*;
use vpiv_card::{CardConfig, TouchMode};

const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const PORT: u16 = 40000;
const READER: &str = "Yubico YubiKey virtual";
const PIN: &[u8] = b"123456";

/// pcscd started by this test, stopped (SIGTERM, then SIGKILL) by its own pid on drop.
struct Pcscd {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Pcscd {
    fn start(conf_dir: &Path, log_path: PathBuf) -> Pcscd {
        let bin = ["/usr/sbin/pcscd", "/usr/bin/pcscd", "/sbin/pcscd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("pcscd is not installed (apt-get install pcscd vsmartcard-vpcd): the PIV test cannot run");
        assert!(
            Path::new(VPCD_DRIVER).exists(),
            "{VPCD_DRIVER} is missing (apt-get install vsmartcard-vpcd)"
        );
        let running = Command::new("pgrep").args(["-x", "pcscd"]).output();
        if let Ok(out) = running {
            assert!(
                !out.status.success(),
                "a pcscd is already running (pid {}); this test needs its own pcscd with a private \
                 reader.conf. Stop the system one (e.g. `systemctl stop pcscd.socket pcscd`) and run again.",
                String::from_utf8_lossy(&out.stdout).trim()
            );
        }
        std::fs::create_dir_all("/run/pcscd")
            .expect("cannot create /run/pcscd (run as root, or `sudo install -d -o $USER /run/pcscd` first)");
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["--foreground", "--debug", "--apdu", "-c"])
            .arg(conf_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start pcscd");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut file = std::fs::File::create(&log_path).expect("pcscd log");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.contains("daemon ready") {
                        let _ = ready_tx.send(());
                    }
                    let _ = writeln!(file, "{line}");
                    log.lock().unwrap().push_str(&line);
                    log.lock().unwrap().push('\n');
                }
            });
        }
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log.lock().unwrap().push_str(&line);
                    log.lock().unwrap().push('\n');
                }
            });
        }
        let mut p = Pcscd { child, log };
        if ready_rx.recv_timeout(Duration::from_secs(15)).is_err() {
            let status = p.child.try_wait();
            panic!(
                "pcscd did not log 'daemon ready' within 15 s (exit: {status:?}); log:\n{}",
                p.log.lock().unwrap()
            );
        }
        eprintln!(
            "pcscd logged 'daemon ready' after {:?} (log: {})",
            started.elapsed(),
            log_path.display()
        );
        // The client library may still find no service for a moment after that line.
        while let Err(PivError::NoPcscd) = piv::list() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "pcscd's socket never answered"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("pcscd answering after {:?}", started.elapsed());
        p
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtual card in a thread, unplugged on drop.
struct VirtualCard {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
    serial: u32,
}

impl VirtualCard {
    fn plug(state_path: PathBuf, version: (u8, u8, u8), serial: u32) -> VirtualCard {
        let cfg = CardConfig {
            state_path,
            vpcd_addr: format!("127.0.0.1:{PORT}"),
            version,
            serial,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || vpiv_card::run_card(&cfg, &s));
        let card = VirtualCard {
            stop,
            thread: Some(thread),
            serial,
        };
        card.wait_seen();
        card
    }

    /// Waits until `piv::list()` reports this card (pcscd polls presence every ~0.44 s).
    fn wait_seen(&self) {
        let t = Instant::now();
        let mut last = None;
        while t.elapsed() < Duration::from_secs(15) {
            match piv::list() {
                Ok(keys) if keys.iter().any(|k| k.serial == self.serial) => {
                    eprintln!("card {} seen after {:?}", self.serial, t.elapsed());
                    return;
                }
                other => last = Some(format!("{other:?}")),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the virtual card {} was not seen within 15 s; last: {last:?}",
            self.serial
        );
    }

    fn unplug(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn digest(tag: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(tag.as_bytes()).into()
}

/// Why this machine cannot give the test its own pcscd, if it cannot: /run/pcscd not writable
/// (not root) or a pcscd already running.
fn cannot_own_pcscd() -> Option<String> {
    if let Ok(out) = Command::new("pgrep").args(["-x", "pcscd"]).output() {
        if out.status.success() {
            return Some(format!(
                "a pcscd is already running (pid {}) and this test needs its own",
                String::from_utf8_lossy(&out.stdout).trim()
            ));
        }
    }
    let writable = std::fs::create_dir_all("/run/pcscd").is_ok()
        && tempfile::tempfile_in("/run/pcscd").is_ok();
    (!writable).then(|| {
        "cannot write /run/pcscd (run as root, or `sudo install -d -o $USER /run/pcscd`)".into()
    })
}

/// Prints the one skip line and returns true when the PIV test cannot run here.
#[track_caller]
fn skip_without_pcscd() -> bool {
    skip::unless(
        &skip::PCSCD,
        cannot_own_pcscd().map(|why| format!("PIV through pcscd: {why}")),
    )
}

/// One pcscd per machine: the tests of this file take turns.
static ONE_PCSCD: Mutex<()> = Mutex::new(());

fn start_pcscd(dir: &Path) -> Pcscd {
    let conf = dir.join("reader.conf.d");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("vpcd"),
        format!("FRIENDLYNAME \"{READER}\"\nDEVICENAME /dev/null:0x{PORT:04X}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{PORT:04X}\n"),
    )
    .unwrap();
    Pcscd::start(&conf, dir.join("pcscd.log"))
}

/// `breakglass sim piv-card` as a child process, stopped by its pid.
struct CardProcess(Child);

impl Drop for CardProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `breakglass ARGS` in the world's working directory, with no backend chosen (the CA's type or
/// `--backend piv` picks the card) and the PIN, when given, in `BREAKGLASS_PIN`.
fn breakglass(w: &World, args: &[&str], pin: Option<&str>) -> std::process::Output {
    match pin {
        Some(p) => w.run_env(args, &[("BREAKGLASS_PIN", p)]),
        None => w.run(args),
    }
}

#[test]
fn init_ca_mint_and_sshd_login_through_the_piv_backend() {
    let _one = ONE_PCSCD.lock().unwrap_or_else(|e| e.into_inner());
    if skip_without_pcscd() {
        return;
    }
    let w = World::hardware();
    let dir = &w.tmp;
    let _pcscd = start_pcscd(dir.path());
    let work = w.work.clone();
    // `sim piv-card` runs the vpiv-card binary beside breakglass; cargo builds it for
    // `cargo test --workspace` (vpiv-card has integration tests), not for this package alone.
    let vpiv = bin().with_file_name("vpiv-card");
    assert!(
        vpiv.is_file(),
        "{} is missing: run this test with `cargo test --workspace`, or `cargo build -p vpiv-card` first",
        vpiv.display()
    );
    let card = w
        .cmd(&[
            "sim",
            "piv-card",
            "--vpcd",
            &format!("127.0.0.1:{PORT}"),
            "--serial",
            "7654321",
            "--state",
        ])
        .arg(dir.path().join("card.json"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _card = CardProcess(card);
    let started = Instant::now();
    while piv::list().map(|l| l.is_empty()).unwrap_or(true) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the virtual card never appeared"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // `list` sees the key, no CA yet.
    let o = breakglass(&w, &["list"], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("piv: YubiKey 7654321"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // init-ca: wrong PIN first (tries left shown), then the right one.
    let before: Vec<_> = std::fs::read_dir(&work).unwrap().collect();
    let o = breakglass(
        &w,
        &["--backend", "piv", "init-ca", "-f", "pivca"],
        Some("000000"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("wrong PIN; 2 tries left"), "{}", err(&o));
    assert!(
        err(&o).ends_with("\nRun the command again with the right PIV PIN; it blocks after 3 wrong tries in total.\n"),
        "{}",
        err(&o)
    );
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), before.len());
    let o = breakglass(
        &w,
        &["--backend", "piv", "init-ca", "-f", "pivca"],
        Some("123456"),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("default management key should be changed"),
        "{}",
        err(&o)
    );
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("  attestation: pivca.attest (PIV, breakglass test (not a built-in vendor root): YubiKey"),
        "{said}"
    );
    assert!(said.contains("firmware 5.4.3 (from"), "{said}");
    assert!(said.contains("serial 7654321)"), "{said}");
    // The virtual card's test root is no vendor's: init-ca says so at once.
    assert!(
        err(&o).contains("warning: no built-in vendor root vouches for the key that made this CA"),
        "{}",
        err(&o)
    );
    let ca = std::fs::read_to_string(work.join("pivca.pub")).unwrap();
    assert!(ca.starts_with("ecdsa-sha2-nistp256 "), "{ca}");
    assert!(ca.contains("YubiKey 7654321 slot 82"), "{ca}");

    // The card attests the CA's key: the `yubikey` crate's own ATTEST and f9 read, through
    // pcscd, in 61 xx pieces; `ca verify` checks them against the test root. The card runs
    // `sim piv-card`'s default firmware, 5.4.3: refused naming EUCLEAK, accepted knowingly.
    let (slot_der, f9_der) = {
        use der::Encode;
        use yubikey::piv::{RetiredSlotId, SlotId};
        let mut yk = yubikey::YubiKey::open_by_serial(yubikey::Serial(7654321)).unwrap();
        let slot = yubikey::piv::attest(&mut yk, SlotId::Retired(RetiredSlotId::R1)).unwrap();
        let f9 = yubikey::certificate::Certificate::read(&mut yk, SlotId::Attestation).unwrap();
        (slot.to_vec(), f9.cert.to_der().unwrap())
    };
    assert!(slot_der.len() > 256, "the answer needed GET RESPONSE");
    std::fs::write(work.join("slot82.der"), &slot_der).unwrap();
    std::fs::write(work.join("f9.der"), &f9_der).unwrap();
    let roots = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest/roots");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "ca",
            "verify",
            "pivca.pub",
            "--attestation",
            "slot82.der",
            "--attestation",
            "f9.der",
            "--roots",
            roots,
        ];
        args.extend_from_slice(extra);
        breakglass(&w, &args, None)
    };
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("firmware 5.4.3"), "{}", err(&o));
    assert!(err(&o).contains("EUCLEAK"), "{}", err(&o));
    let o = verify(&["--min-firmware", "none"]);
    assert!(o.status.success(), "{}", err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("{out}");
    for want in [
        "VALID attestation of the CA pivca.pub",
        "serial          7654321",
        "slot            82",
        "PIN policy      once",
        "touch policy    always",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
    // init-ca kept that attestation as pivca.attest (0644, beside pivca.pub): `ca verify`
    // reads it by default. `ca attest` makes it again, never over it without --force.
    assert_eq!(mode_of(&work.join("pivca.attest")), 0o644);
    // ca verify of the kept pivca.attest (the card's 5.4.3 is under the EUCLEAK floor: lifted).
    let verify_kept = [
        "ca",
        "verify",
        "pivca.pub",
        "--roots",
        roots,
        "--min-firmware",
        "none",
    ];
    let o = breakglass(&w, &verify_kept, None);
    assert!(o.status.success(), "{}", err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("{out}");
    assert!(
        out.contains("pivca.attest: VALID attestation of the CA pivca.pub"),
        "{out}"
    );
    assert!(out.contains("PIV, breakglass CA.attest"), "{out}");
    assert!(out.contains("serial          7654321"), "{out}");
    let o = breakglass(&w, &["ca", "verify", "pivca.pub"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("which is not a trusted root"),
        "{}",
        err(&o)
    );
    let first = std::fs::read(work.join("pivca.attest")).unwrap();
    let o = breakglass(&w, &["ca", "attest", "pivca.pub"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("pivca.attest already exists"),
        "{}",
        err(&o)
    );
    let o = breakglass(&w, &["ca", "attest", "pivca.pub", "--force"], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with("Wrote pivca.attest for pivca.pub (YubiKey 7654321 PIV slot 82)\n  PIV, breakglass test (not a built-in vendor root): YubiKey"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let log = std::fs::read_to_string(&w.audit).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "ca-attest");
    assert_eq!(last["result"], "ok");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .starts_with("pivca.attest on YubiKey 7654321 PIV slot 82: PIV, breakglass test"),
        "{last}"
    );
    // list: the slot's CA with the attestation at hand beside its .pub.
    let o = breakglass(&w, &["list"], None);
    assert!(o.status.success(), "{}", err(&o));
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(
        listed.contains("    PIV slot 82  ECDSA SHA256:")
            && listed.contains("  attestation ./pivca.attest\n"),
        "{listed}"
    );
    let again = std::fs::read(work.join("pivca.attest")).unwrap();
    assert_ne!(first, again, "a new slot certificate (random serial)");
    let o = breakglass(&w, &verify_kept, None);
    assert!(o.status.success(), "{}", err(&o));

    // Never over an occupied slot without --force.
    let o = breakglass(
        &w,
        &["--backend", "piv", "init-ca", "-f", "second"],
        Some("123456"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("PIV slot 82 already holds a key"),
        "{}",
        err(&o)
    );
    assert!(
        err(&o).ends_with("\nPick another slot with --slot, or use --force to replace the key (the old CA is then lost).\n"),
        "{}",
        err(&o)
    );
    assert!(!work.join("second.pub").exists());

    // mint: the CA type picks the PIV backend; ssh-keygen -L reads it; sshd accepts it.
    let user = user();
    let o = breakglass(
        &w,
        &["mint", "--ca", "pivca.pub", "-n", &user],
        Some("123456"),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("Touch your YubiKey (serial 7654321)"),
        "{}",
        err(&o)
    );
    let l = ssh_keygen(&["-L", "-f", "emergency-cert.pub"], &work);
    assert!(l.status.success(), "{}", err(&l));
    assert!(
        String::from_utf8_lossy(&l.stdout).contains("Signing CA: ECDSA SHA256:"),
        "{}",
        String::from_utf8_lossy(&l.stdout)
    );
    let sshd = start_sshd(&w, &ca);
    let o = sshd.ssh(&work.join("emergency"), &user, "true").unwrap();
    assert!(o.status.success(), "{}", sshd.log());

    // Wrong PIN at mint: tries left, nothing written; three wrong: blocked.
    let o = breakglass(
        &w,
        &["mint", "--ca", "pivca.pub", "-n", &user, "-f", "x"],
        Some("999999"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("wrong PIN; 2 tries left"), "{}", err(&o));
    assert!(!work.join("x").exists());
    let _ = breakglass(
        &w,
        &["mint", "--ca", "pivca.pub", "-n", &user, "-f", "x"],
        Some("999999"),
    );
    let _ = breakglass(
        &w,
        &["mint", "--ca", "pivca.pub", "-n", &user, "-f", "x"],
        Some("999999"),
    );
    let o = breakglass(
        &w,
        &["mint", "--ca", "pivca.pub", "-n", &user, "-f", "x"],
        Some("123456"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("PIN is blocked"), "{}", err(&o));
    assert!(err(&o).contains("PUK"), "{}", err(&o));
    assert!(
        err(&o).ends_with("\nUnblock the PIN with the PUK (`ykman piv access unblock-pin`), then run the command again.\n"),
        "{}",
        err(&o)
    );
    assert!(!work.join("x").exists());

    // A PIV CA that is on no connected key.
    std::fs::write(work.join("other.pub"), "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIERlkttyRK/vE07Y3CjPb6GnPT8pTElPa9CPDL5B2gudDpusqNPixV9Mbx5g0+SufPj3E6D+5G/rBD9IzAp2WE= x\n").unwrap();
    let o = breakglass(
        &w,
        &["mint", "--ca", "other.pub", "-n", &user, "-f", "y"],
        Some("123456"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no PIV key found"), "{}", err(&o));
    assert!(
        err(&o).contains("Insert the YubiKey that holds the CA (SHA256:"),
        "{}",
        err(&o)
    );
}

#[test]
fn piv_backend_through_real_pcscd_and_vpcd() {
    let _one = ONE_PCSCD.lock().unwrap_or_else(|e| e.into_inner());
    if skip_without_pcscd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("reader.conf.d");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("vpcd"),
        format!(
            "FRIENDLYNAME \"{READER}\"\nDEVICENAME /dev/null:0x{PORT:04X}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{PORT:04X}\n"
        ),
    )
    .unwrap();
    let log_path = std::env::var_os("BREAKGLASS_PCSCD_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("pcscd.log"));
    let pcscd = Pcscd::start(&conf, log_path);

    // No card plugged in yet: readers exist, no YubiKey.
    assert!(piv::list().unwrap().is_empty());
    assert!(matches!(
        piv::sign_digest(None, 0x82, PIN, &digest("x")),
        Err(PivError::NoYubiKey)
    ));

    // --- 5.4.3 card: 3DES default management key --------------------------------------------
    let state = dir.path().join("card-543.json");
    let card = VirtualCard::plug(state.clone(), (5, 4, 3), 1_234_567);

    let keys = piv::list().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].serial, 1_234_567);
    assert_eq!(keys[0].version, (5, 4, 3));
    assert!(keys[0].reader.starts_with(READER), "{}", keys[0].reader);
    assert_eq!(keys[0].pin_tries_left, 3);
    assert!(keys[0].slots.is_empty());

    let mut warnings = Vec::new();
    let t = Instant::now();
    let ca = piv::generate(Some(1_234_567), 0x82, PIN, false, &mut |w| {
        warnings.push(w.to_string())
    })
    .unwrap();
    eprintln!("generate took {:?}", t.elapsed());
    assert_eq!((ca.serial, ca.slot, ca.point[0]), (1_234_567, 0x82, 0x04));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("default management key should be changed"),
        "{warnings:?}"
    );
    assert_eq!(piv::list().unwrap()[0].slots, vec![(0x82, ca.point)]);

    // Sign (serial chosen implicitly: the only key) and verify with p256 against the point.
    let d = digest("to-be-signed certificate");
    let t = Instant::now();
    let der = piv::sign_digest(None, 0x82, PIN, &d).unwrap();
    eprintln!("sign_digest took {:?}", t.elapsed());
    piv::verify_der(&ca.point, &d, &der).unwrap();
    let t = Instant::now();
    piv::list().unwrap();
    eprintln!("list took {:?}", t.elapsed());
    {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&ca.point).unwrap();
        let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
        vk.verify_prehash(&d, &sig).unwrap();
    }

    // Empty slot, occupied slot, forced replacement.
    assert!(matches!(
        piv::sign_digest(None, 0x83, PIN, &d),
        Err(PivError::SlotEmpty { slot: 0x83 })
    ));
    assert!(matches!(
        piv::generate(None, 0x82, PIN, false, &mut |_| {}),
        Err(PivError::SlotOccupied { slot: 0x82 })
    ));
    let ca2 = piv::generate(None, 0x82, PIN, true, &mut |_| {}).unwrap();
    assert_ne!(ca2.point, ca.point);
    let der = piv::sign_digest(None, 0x82, PIN, &d).unwrap();
    piv::verify_der(&ca2.point, &d, &der).unwrap();

    // Wrong serial.
    assert!(matches!(
        piv::sign_digest(Some(42), 0x82, PIN, &d),
        Err(PivError::NoYubiKey)
    ));

    // Touch refused / timed out → 69 82 from the card → TouchTimeout.
    vpiv_card::set_touch_mode(&state, TouchMode::Deny, None).unwrap();
    assert!(matches!(
        piv::sign_digest(None, 0x82, PIN, &d),
        Err(PivError::TouchTimeout)
    ));
    vpiv_card::set_touch_mode(&state, TouchMode::Timeout, Some(1500)).unwrap();
    let t = Instant::now();
    assert!(matches!(
        piv::sign_digest(None, 0x82, PIN, &d),
        Err(PivError::TouchTimeout)
    ));
    assert!(t.elapsed() >= Duration::from_millis(1500));
    vpiv_card::set_touch_mode(&state, TouchMode::Approve, None).unwrap();
    piv::sign_digest(None, 0x82, PIN, &d).unwrap();

    // The PIV CA signer asks again after a wrong PIN, with the tries left, before any touch
    // prompt; a too-short PIN never reaches the card. Without a person to retype it (a PIN from
    // BREAKGLASS_PIN), a wrong PIN ends the command with the card's count.
    {
        use breakglass::token::{piv_ca, CaSigner, TokenError};
        use breakglass::ui::ScriptedUi;
        let public = piv_ca::public_key(&ca2.point, "").unwrap();
        let mut ui = ScriptedUi {
            pins: vec!["000000".into(), "12345".into(), "123456".into()],
            ask_again: true,
            ..Default::default()
        };
        piv_ca::PivCaSigner::new(1_234_567, 0x82, public.clone())
            .sign(b"asked again", &mut ui)
            .unwrap();
        let shown: Vec<&str> = ui.shown.iter().map(String::as_str).collect();
        assert_eq!(shown.len(), 6, "{shown:#?}");
        assert_eq!(shown[0], "pin: Enter PIN for YubiKey 1234567 (PIV): ");
        assert_eq!(shown[1], "note: Wrong PIN; 2 tries left.");
        assert_eq!(
            shown[2],
            "pin: Enter PIN for YubiKey 1234567 (PIV) (2 tries left): "
        );
        assert!(shown[3].starts_with("note: ") && shown[3].contains("no try was used"));
        assert_eq!(shown[4], shown[2]);
        assert!(
            shown[5].starts_with("touch: Touch your YubiKey"),
            "{shown:#?}"
        );
        assert_eq!(piv::list().unwrap()[0].pin_tries_left, 3);

        let mut ui = ScriptedUi {
            pins: vec!["000000".into()],
            ..Default::default()
        };
        let e = piv_ca::PivCaSigner::new(1_234_567, 0x82, public)
            .sign(b"not asked again", &mut ui)
            .unwrap_err();
        assert!(
            matches!(
                e,
                breakglass::Error::Token(TokenError::Piv(PivError::WrongPin { tries_left: 2 }))
            ),
            "{e:?}"
        );
        assert!(
            !ui.shown.iter().any(|s| s.starts_with("touch:")),
            "{:?}",
            ui.shown
        );
        piv::sign_digest(None, 0x82, PIN, &d).unwrap();
        assert_eq!(piv::list().unwrap()[0].pin_tries_left, 3);
    }

    // Wrong PIN: counts down, a right PIN resets, three wrong in a row block it.
    assert!(matches!(
        piv::sign_digest(None, 0x82, b"000000", &d),
        Err(PivError::WrongPin { tries_left: 2 })
    ));
    assert_eq!(piv::list().unwrap()[0].pin_tries_left, 2);
    piv::sign_digest(None, 0x82, PIN, &d).unwrap();
    assert_eq!(piv::list().unwrap()[0].pin_tries_left, 3);
    assert!(matches!(
        piv::sign_digest(None, 0x82, b"000000", &d),
        Err(PivError::WrongPin { tries_left: 2 })
    ));
    assert!(matches!(
        piv::sign_digest(None, 0x82, b"000000", &d),
        Err(PivError::WrongPin { tries_left: 1 })
    ));
    assert!(matches!(
        piv::sign_digest(None, 0x82, b"000000", &d),
        Err(PivError::PinBlocked)
    ));
    assert!(matches!(
        piv::sign_digest(None, 0x82, PIN, &d),
        Err(PivError::PinBlocked)
    ));
    assert!(matches!(
        piv::generate(None, 0x84, PIN, false, &mut |_| {}),
        Err(PivError::PinBlocked)
    ));
    assert_eq!(piv::list().unwrap()[0].pin_tries_left, 0);

    // Fresh state through the state file: the card re-reads it at the next connect.
    std::fs::remove_file(&state).unwrap();
    assert!(matches!(
        piv::sign_digest(None, 0x82, PIN, &d),
        Err(PivError::SlotEmpty { slot: 0x82 })
    ));

    // PIN-protected management key (non-default): used without the warning.
    {
        let mut st = vpiv_card::CardState::load(&state).unwrap();
        st.mgm_key = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080".into();
        st.protected_mgm = Some(st.mgm_key.clone());
        st.save(&state).unwrap();
    }
    let mut warned = false;
    let ca3 = piv::generate(None, 0x95, PIN, false, &mut |_| warned = true).unwrap();
    assert!(!warned);
    let der = piv::sign_digest(None, 0x95, PIN, &d).unwrap();
    piv::verify_der(&ca3.point, &d, &der).unwrap();
    // Neither protected nor default: a clear management-key error.
    {
        let mut st = vpiv_card::CardState::load(&state).unwrap();
        st.protected_mgm = None;
        st.save(&state).unwrap();
    }
    assert!(matches!(
        piv::generate(None, 0x94, PIN, false, &mut |_| {}),
        Err(PivError::ManagementKey(_))
    ));
    card.unplug();

    // --- 5.7.1 card: AES-192 default management key -----------------------------------------
    let state = dir.path().join("card-571.json");
    let card = VirtualCard::plug(state.clone(), (5, 7, 1), 7_654_321);
    let mut warned = false;
    let ca = piv::generate(None, 0x82, PIN, false, &mut |_| warned = true).unwrap();
    assert!(warned);
    let der = piv::sign_digest(Some(7_654_321), 0x82, PIN, &d).unwrap();
    piv::verify_der(&ca.point, &d, &der).unwrap();
    let log = pcscd.log();
    assert!(
        log.contains("00 87 0A 9B"),
        "no AES-192 GENERAL AUTHENTICATE in the pcscd log"
    );
    assert!(
        log.contains("00 87 03 9B"),
        "no 3DES GENERAL AUTHENTICATE in the pcscd log"
    );

    // Two cards at once (second vpcd slot, port 40001): several YubiKeys.
    let second = {
        let cfg = CardConfig {
            state_path: dir.path().join("card-b.json"),
            vpcd_addr: format!("127.0.0.1:{}", PORT + 1),
            version: (5, 4, 3),
            serial: 1_111_111,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let t = std::thread::spawn(move || vpiv_card::run_card(&cfg, &s));
        VirtualCard {
            stop,
            thread: Some(t),
            serial: 1_111_111,
        }
    };
    second.wait_seen();
    match piv::sign_digest(None, 0x82, PIN, &d) {
        Err(PivError::SeveralYubiKeys(s)) => assert_eq!(s, vec![1_111_111, 7_654_321]),
        other => panic!("expected SeveralYubiKeys, got {other:?}"),
    }
    piv::sign_digest(Some(7_654_321), 0x82, PIN, &d).unwrap();
    second.unplug();
    card.unplug();
    drop(pcscd);
}
