//! Differential test of `breakglass::ssh::validity` against the real OpenSSH 9.2
//! `/usr/bin/ssh-keygen -V` (results, error texts, exit status 255, and the
//! `-L` "Valid:" line).
//!
//! This file holds a single `#[test]` on purpose: it changes the process-wide
//! `TZ` variable (read by `chrono::Local`), so no other test thread may run
//! in this binary at the same time.

use breakglass::ssh::validity::*;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn set_tz(tz: &str) {
    // `set_var` is `unsafe` from edition 2024; this binary has one test
    // thread, so nothing reads the environment concurrently.
    #[allow(unused_unsafe)]
    unsafe {
        std::env::set_var("TZ", tz)
    };
}

/// Runs `f` with `TZ=tz` as seen by `chrono::Local`. chrono caches the zone
/// per thread and re-reads `TZ` at most once a second, so `f` runs on a
/// fresh thread (joined before returning: still no concurrency).
fn with_tz<T: Send + 'static>(tz: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    set_tz(tz);
    std::thread::spawn(f).join().expect("worker thread")
}

fn b64decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => panic!("bad base64 byte {c}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);
impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> Vec<u8> {
        let n = self.u32() as usize;
        self.take(n).to_vec()
    }
}

/// valid_after/valid_before of an `ssh-ed25519-cert-v01@openssh.com` cert.
fn cert_validity(cert_pub: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(cert_pub).unwrap();
    let blob = b64decode(text.split_whitespace().nth(1).unwrap());
    let mut r = Reader(&blob);
    assert_eq!(r.string(), b"ssh-ed25519-cert-v01@openssh.com");
    let _nonce = r.string();
    let _pk = r.string();
    let _serial = r.u64();
    assert_eq!(r.u32(), 1, "user certificate");
    assert_eq!(r.string(), b"t", "key id");
    let _principals = r.string();
    (r.u64(), r.u64())
}

/// OpenSSH `log.c` passes stderr messages through
/// `strnvis(VIS_SAFE | VIS_OCTAL)`: backslashes doubled, bytes other than
/// graphic ASCII, space, tab, newline, BS, BEL and CR as `\ooo`. Our
/// `Display` is the raw message; apply the same encoding to compare.
fn openssh_vis(msg: &str) -> String {
    let mut out = String::new();
    for b in msg.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b' ' | b'\t' | b'\n' | 0x08 | 0x07 | b'\r' => out.push(char::from(b)),
            _ if b.is_ascii_graphic() => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

enum Outcome {
    Ok {
        va: u64,
        vb: u64,
        valid_line: String,
    },
    Err(String),
}

fn run_keygen(dir: &Path, tz: &str, spec: &str) -> (u64, Outcome, u64) {
    let cert = dir.join("user-cert.pub");
    let _ = std::fs::remove_file(&cert);
    let t0 = now();
    let out = Command::new(SSH_KEYGEN)
        .args([
            "-q", "-s", "ca", "-I", "t", "-n", "u", "-V", spec, "user.pub",
        ])
        .current_dir(dir)
        .env("TZ", tz)
        .output()
        .expect("run ssh-keygen");
    let t1 = now();
    if out.status.success() {
        let (va, vb) = cert_validity(&cert);
        let l = Command::new(SSH_KEYGEN)
            .args(["-L", "-f", "user-cert.pub"])
            .current_dir(dir)
            .env("TZ", tz)
            .output()
            .expect("run ssh-keygen -L");
        assert!(l.status.success());
        let text = String::from_utf8(l.stdout).unwrap();
        let valid_line = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Valid: ").map(str::to_owned))
            .expect("Valid: line");
        (t0, Outcome::Ok { va, vb, valid_line }, t1)
    } else {
        assert_eq!(
            out.status.code(),
            Some(255),
            "ssh-keygen exit status for {spec:?}"
        );
        // log.c ends each stderr line with "\r\n".
        let err = String::from_utf8(out.stderr).unwrap();
        let err = err.strip_suffix("\r\n").unwrap_or(&err).to_owned();
        (t0, Outcome::Err(err), t1)
    }
}

/// (TZ, spec) pairs; none of the local dates is in summer time or in a
/// DST transition (those differ on purpose, see `summer_date_is_one_hour_early`).
const CASES: &[(&str, &str)] = &[
    // --- valid, America/New_York ---
    ("America/New_York", "+1h"),
    ("America/New_York", "+5m"),
    ("America/New_York", "+5M"),
    ("America/New_York", "+0"),
    ("America/New_York", "+90"),
    ("America/New_York", "+1h30m"),
    ("America/New_York", "+2w3d"),
    ("America/New_York", "+1D2W"),
    ("America/New_York", "+1h30"),
    ("America/New_York", "+5s3s"),
    ("America/New_York", "++5m"),
    ("America/New_York", "+5m+3s"),
    ("America/New_York", "+3550w"),
    ("America/New_York", "+2147483647"),
    ("America/New_York", "+-0"),
    ("America/New_York", "+ 5"),
    ("America/New_York", "+\t5m"),
    ("America/New_York", "+ -0"),
    ("America/New_York", "-5m:+60m"),
    ("America/New_York", "-5m:+5m"),
    ("America/New_York", "+5m:+10m"),
    ("America/New_York", "-0:+1s"),
    ("America/New_York", "always:forever"),
    ("America/New_York", "always:+1h"),
    ("America/New_York", "-1h:forever"),
    ("America/New_York", "20261122:20261123"),
    ("America/New_York", "202611220000:202611221430"),
    ("America/New_York", "20261122000000Z:20261123000000Z"),
    ("America/New_York", "20261122Z:20261123utc"),
    ("America/New_York", "20261122120000UTC:20261123Utc"),
    ("America/New_York", "+1h:20261201"),
    ("America/New_York", "20260231:20260305"),
    ("America/New_York", "0x0:0x10"),
    ("America/New_York", "0x10:0xffffffffffffffff"),
    ("America/New_York", "20261122235960:forever"),
    ("America/New_York", "20261122235961:forever"),
    ("America/New_York", "2026 122:forever"),
    ("America/New_York", "20261122 123:forever"),
    ("America/New_York", "19700101Z:forever"),
    ("America/New_York", "19691231235960Z:forever"),
    ("America/New_York", "19700101:forever"),
    ("America/New_York", "0xFF:forever"),
    ("America/New_York", "0x00000000000000000001:forever"),
    ("America/New_York", "99991231:forever"),
    ("America/New_York", "20261131:forever"),
    ("America/New_York", "0x10:0x7fffffffffffffff"),
    ("America/New_York", "0x10:0xfffffffffffffffe"),
    ("America/New_York", "0x10:0x100000000000"),
    ("America/New_York", "0x10:0x0000b00000000000"),
    ("America/New_York", "0x10:0x00ff000000000000"),
    ("America/New_York", "0x10:0x00000003af0f0000"),
    // --- rejected, America/New_York ---
    ("America/New_York", ""),
    ("America/New_York", "-5m"),
    ("America/New_York", "20261122"),
    ("America/New_York", "forever"),
    ("America/New_York", "always"),
    ("America/New_York", "+1h:"),
    ("America/New_York", ":+1h"),
    ("America/New_York", " +5m"),
    ("America/New_York", "+"),
    ("America/New_York", "+1x"),
    ("America/New_York", "+1.5h"),
    ("America/New_York", "+m"),
    ("America/New_York", "+30 m"),
    ("America/New_York", "+5m "),
    ("America/New_York", "+-5m"),
    ("America/New_York", "+0x10"),
    ("America/New_York", "+3551w"),
    ("America/New_York", "+2147483648"),
    ("America/New_York", "+99999999999999999999"),
    ("America/New_York", "+1m+"),
    ("America/New_York", "+5 s"),
    ("America/New_York", "+1h\n"),
    ("America/New_York", "-5m:+5m:+6m"),
    ("America/New_York", "-60000w:+1h"),
    ("America/New_York", "-2000000000:+1h"),
    ("America/New_York", "+1h:-1h"),
    ("America/New_York", "+5m:+5m"),
    ("America/New_York", "-0:+0"),
    ("America/New_York", "-0:+-0"),
    ("America/New_York", "20260231:20260301"),
    ("America/New_York", "forever:always"),
    ("America/New_York", "Always:forever"),
    ("America/New_York", "0:+1h"),
    ("America/New_York", "20261301:20261401"),
    ("America/New_York", "2026112:20261123"),
    ("America/New_York", "20261122123:20261123"),
    ("America/New_York", "19691231:forever"),
    ("America/New_York", "0X10:forever"),
    ("America/New_York", "20261122T1200:forever"),
    ("America/New_York", "Z:forever"),
    ("America/New_York", "always:FOREVER"),
    ("America/New_York", "0x:0x10"),
    ("America/New_York", "0x10:0x1ffffffffffffffff"),
    ("America/New_York", "0x 10:0x20"),
    ("America/New_York", "0x+10:0x20"),
    ("America/New_York", "0x-1:0x20"),
    ("America/New_York", "0x10:0x-1"),
    ("America/New_York", "0x10:0x 20"),
    ("America/New_York", "0x0x10:forever"),
    ("America/New_York", "0xffffffffffffffff:forever"),
    ("America/New_York", "202611222400:forever"),
    ("America/New_York", "20261122235962:forever"),
    ("America/New_York", "202611222360:forever"),
    ("America/New_York", "2026112 :forever"),
    ("America/New_York", "20261122 UTC:forever"),
    ("America/New_York", "uTc:forever"),
    ("America/New_York", "ZZ:forever"),
    ("America/New_York", "20260100:forever"),
    ("America/New_York", "00000000:forever"),
    ("America/New_York", "20263101:forever"),
    ("America/New_York", "20260140:forever"),
    ("America/New_York", "2026-1-1:forever"),
    ("America/New_York", "20261122:20261122"),
    ("America/New_York", "always:20261122é"),
    ("America/New_York", "always:a\\b"),
    ("America/New_York", "always:x\u{1}\u{7f}"),
    ("America/New_York", "+1h\t"),
    // --- Asia/Kolkata (UTC+05:30, no DST) ---
    ("Asia/Kolkata", "19700101:forever"),
    ("Asia/Kolkata", "19700101053000:forever"),
    ("Asia/Kolkata", "19700101053001:forever"),
    ("Asia/Kolkata", "20261122:20261123"),
    ("Asia/Kolkata", "202606151230:20260715"),
    ("Asia/Kolkata", "0x10:0x20"),
    ("Asia/Kolkata", "0x10:0x100000000000"),
    // --- UTC ---
    ("UTC", "19700101:forever"),
    ("UTC", "19691231235959:forever"),
    ("UTC", "20261122:20261123"),
    ("UTC", "20260701:20260702"),
    ("UTC", "0x10:0xfffffffffffffffe"),
    ("Europe/Berlin", "20260701Z:20260702Z"),
];

#[test]
fn matches_real_ssh_keygen() {
    if !Path::new(SSH_KEYGEN).exists() {
        panic!("{SSH_KEYGEN} is required for the differential test");
    }
    let dir = tempfile::tempdir().unwrap();
    for key in ["ca", "user"] {
        let st = Command::new(SSH_KEYGEN)
            .args(["-q", "-t", "ed25519", "-N", "", "-f", key])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(st.success(), "ssh-keygen key generation");
    }

    // chrono::Local must follow TZ changed at run time.
    let probe = 1_795_305_600; // 2026-11-22T00:00:00Z
    for (tz, want) in [
        ("UTC", "2026-11-22T00:00:00"),
        ("Asia/Kolkata", "2026-11-22T05:30:00"),
        ("America/New_York", "2026-11-21T19:00:00"),
    ] {
        let got = with_tz(tz, move || format_time_in(probe, &chrono::Local));
        assert_eq!(got, want, "chrono::Local with TZ={tz}");
    }

    let (mut oks, mut errs) = (0, 0);
    for &(tz, spec) in CASES {
        let (t0, outcome, t1) = run_keygen(dir.path(), tz, spec);
        // ssh-keygen's time(NULL) lies in [t0, t1]; accept any of them. glibc's time() reads
        // the coarse clock, which can still show the previous second just after a boundary
        // that SystemTime (CLOCK_REALTIME) has passed: allow one second before t0.
        let ours: Vec<_> = with_tz(tz, move || {
            (t0.saturating_sub(1)..=t1)
                .map(|n| parse_validity(spec, n))
                .collect()
        });
        match outcome {
            Outcome::Ok { va, vb, valid_line } => {
                oks += 1;
                let want = Validity {
                    valid_after: va,
                    valid_before: vb,
                };
                assert!(
                    ours.iter().any(|r| r.as_ref() == Ok(&want)),
                    "TZ={tz} -V {spec:?}: ssh-keygen {want:?}, ours {ours:?}"
                );
                let printed = with_tz(tz, move || format_validity(&want));
                assert_eq!(printed, valid_line, "TZ={tz} -V {spec:?}: -L Valid: line");
            }
            Outcome::Err(msg) => {
                errs += 1;
                assert!(
                    ours.iter()
                        .any(|r| r.as_ref().err().map(|e| openssh_vis(&e.to_string()))
                            == Some(msg.clone())),
                    "TZ={tz} -V {spec:?}: ssh-keygen {msg:?}, ours {ours:?}"
                );
            }
        }
    }
    assert!(oks >= 20 && errs >= 20, "{oks} accepted, {errs} rejected");

    summer_date_is_one_hour_early(dir.path());
}

/// The one deliberate difference: ssh-keygen 9.2 calls `mktime` with
/// `tm_isdst = 0`, so local summer dates come out one hour late; we use the
/// real (DST) offset.
fn summer_date_is_one_hour_early(dir: &Path) {
    for (tz, spec) in [
        ("America/New_York", "20260701:20260702"),
        ("Europe/Berlin", "20260701:202607021230"),
    ] {
        let (t0, outcome, _) = run_keygen(dir, tz, spec);
        let Outcome::Ok { va, vb, .. } = outcome else {
            panic!("ssh-keygen rejected {spec}");
        };
        let ours = with_tz(tz, move || parse_validity(spec, t0)).unwrap();
        assert_eq!(ours.valid_after + 3600, va, "TZ={tz} {spec}");
        assert_eq!(ours.valid_before + 3600, vb, "TZ={tz} {spec}");
    }
    assert_eq!(
        with_tz("America/New_York", || parse_validity(
            "20260701:20260702",
            0
        ))
        .unwrap(),
        Validity {
            valid_after: 1_782_878_400, // 2026-07-01T00:00:00-04:00
            valid_before: 1_782_964_800,
        }
    );
}
