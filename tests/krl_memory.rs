//! Listing a hostile KRL costs memory in proportion to its size, whatever its shape (#23 §5):
//! `breakglass revoke --list FILE` (text and `--json`) peaks at no more than 4× the file's size
//! + 30 MB of resident memory, measured as the child's `ru_maxrss` through `wait4`.
//!
//! Every shape a crafted KRL can take is written here: many key ids, many ECDSA / ED25519 / tiny
//! unparsable key blobs, many SHA-256 and SHA-1 fingerprints, descending serial lists, bitmaps
//! spanning their whole 16,384 bits, many serial ranges, and many CA sections. The files are
//! streamed to disk (never held whole) so that this process stays small: a child started with
//! `posix_spawn` inherits its parent's peak RSS at `exec` (Linux `exec_mmap`).
//!
//! To measure larger files with the release binary (the figures in the note):
//! `BREAKGLASS_KRL_SHAPES_OUT=/tmp/shapes BREAKGLASS_KRL_SHAPES_MB=22 cargo test --test krl_memory
//! -- --ignored write_shapes`, then `/usr/bin/time -v target/release/breakglass revoke --list F`.

mod common;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

const MAGIC: &[u8] = b"SSHKRL\n\0";
/// Fewer than the 2,000,000 revocations a KRL may hold: each shape stays readable.
const MAX_DISTINCT: u64 = 1_900_000;

fn u32be(w: &mut (impl Write + ?Sized), v: u32) {
    w.write_all(&v.to_be_bytes()).unwrap();
}

fn u64be(w: &mut (impl Write + ?Sized), v: u64) {
    w.write_all(&v.to_be_bytes()).unwrap();
}

fn string(w: &mut (impl Write + ?Sized), s: &[u8]) {
    u32be(w, s.len() as u32);
    w.write_all(s).unwrap();
}

fn header(w: &mut impl Write) {
    w.write_all(MAGIC).unwrap();
    u32be(w, 1);
    u64be(w, 7); // krl_version
    u64be(w, 1_700_000_000); // generated_date
    u64be(w, 0); // flags
    string(w, b""); // reserved
    string(w, b"hostile");
}

/// An ED25519 public key blob whose 32 key bytes encode `n`.
fn ed25519(n: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(51);
    string(&mut b, b"ssh-ed25519");
    let mut k = [0x5au8; 32];
    k[..8].copy_from_slice(&n.to_be_bytes());
    string(&mut b, &k);
    b
}

/// An ECDSA P-256 public key blob (an uncompressed point whose x encodes `n`).
fn ecdsa(n: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(104);
    string(&mut b, b"ecdsa-sha2-nistp256");
    string(&mut b, b"nistp256");
    let mut p = [0x11u8; 65];
    p[0] = 4;
    p[1..9].copy_from_slice(&n.to_be_bytes());
    string(&mut b, &p);
    b
}

/// A section: type, then its body as a string whose length is known before it is written.
fn section(w: &mut dyn Write, t: u8, len: u64, body: impl FnOnce(&mut dyn Write)) {
    w.write_all(&[t]).unwrap();
    u32be(w, len as u32);
    body(w);
}

/// A certificate section under the CA `ca` holding one subsection of type `st`.
fn cert_section(
    w: &mut dyn Write,
    ca: &[u8],
    st: u8,
    sub_len: u64,
    sub: impl FnOnce(&mut dyn Write),
) {
    let len = 4 + ca.len() as u64 + 4 + 1 + 4 + sub_len;
    section(w, 1, len, |w| {
        string(w, ca);
        string(w, b"");
        w.write_all(&[st]).unwrap();
        u32be(w, sub_len as u32);
        sub(w);
    });
}

/// The shapes, by name, and the size each is tested at: as large as a debug build lists in a
/// few seconds. Before the fix, key ids took 21× their size, tiny unparsable keys 62×, serial
/// lists 26× (as JSON), bitmaps 235 MB for 1 MB; each of those sizes went over the limit.
const SHAPES: &[(&str, u64)] = &[
    ("key-ids", 2 << 20),
    ("ecdsa-keys", 2 << 20),
    ("ed25519-keys", 2 << 20),
    ("tiny-keys", 512 << 10),
    ("sha256", 2 << 20),
    ("sha1", 2 << 20),
    ("serials-descending", 2 << 20),
    ("bitmaps", 256 << 10),
    ("serial-ranges", 2 << 20),
    ("many-cas", 1 << 20),
];

/// Writes the shape `name` of about `size` bytes (fewer when the shape would exceed the
/// revocations a KRL may hold) to `path`; returns its size.
fn write_shape(path: &Path, name: &str, size: u64) -> u64 {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    header(&mut w);
    let ca = ed25519(u64::MAX);
    match name {
        "key-ids" => {
            // Distinct ids of `len` bytes (no NUL), in descending order.
            let len = (size / MAX_DISTINCT).saturating_sub(4).max(3);
            let n = (size / (4 + len)).min(MAX_DISTINCT);
            cert_section(&mut w, &ca, 0x23, n * (4 + len), |w| {
                for i in (0..n).rev() {
                    let mut id = vec![b'k'; len as usize];
                    let mut v = i;
                    for b in id.iter_mut().rev().take(4) {
                        *b = 1 + (v % 255) as u8;
                        v /= 255;
                    }
                    string(w, &id);
                }
            });
        }
        "ecdsa-keys" | "ed25519-keys" | "tiny-keys" => {
            let blob = |i: u64| match name {
                "ecdsa-keys" => ecdsa(i),
                "ed25519-keys" => ed25519(i),
                _ => (i as u32).to_be_bytes()[1..].to_vec(),
            };
            let per = 4 + blob(0).len() as u64;
            let n = (size / per).min(MAX_DISTINCT);
            section(&mut w, 2, n * per, |w| {
                for i in (0..n).rev() {
                    string(w, &blob(i));
                }
            });
        }
        "sha256" | "sha1" => {
            let (t, hl) = if name == "sha256" { (5, 32) } else { (3, 20) };
            let n = (size / (4 + hl)).min(MAX_DISTINCT);
            section(&mut w, t, n * (4 + hl), |w| {
                for i in (0..n).rev() {
                    let mut h = vec![0xa5u8; hl as usize];
                    h[..8].copy_from_slice(&i.to_be_bytes());
                    string(w, &h);
                }
            });
        }
        "serials-descending" => {
            // Every other serial, largest first: no two merge.
            let n = (size / 8).min(MAX_DISTINCT);
            cert_section(&mut w, &ca, 0x20, n * 8, |w| {
                for i in (1..=n).rev() {
                    u64be(w, 2 * i);
                }
            });
        }
        "bitmaps" => {
            // 2,048-byte bitmaps of alternating bits (8,192 one-serial ranges each), a million
            // serials apart, the highest first; past the revocations a KRL may hold, the same
            // bitmaps again (overlapping: nothing new, but read all the same).
            let per_bitmap = 1 + 4 + 8 + 4 + 2048;
            let body = 4 + ca.len() as u64 + 4 + per_bitmap;
            let n = size / (5 + body);
            let distinct = (MAX_DISTINCT / 8192).min(n).max(1);
            for i in (0..n).rev() {
                section(&mut w, 1, body, |w| {
                    string(w, &ca);
                    string(w, b"");
                    w.write_all(&[0x22]).unwrap();
                    u32be(w, 8 + 4 + 2048);
                    u64be(w, 1 + (i % distinct) * 1_000_000);
                    string(w, &[0x55; 2048]);
                });
            }
        }
        "serial-ranges" => {
            let n = (size / 21).min(MAX_DISTINCT);
            let body_len = 4 + ca.len() as u64 + 4 + n * 21;
            section(&mut w, 1, body_len, |w| {
                string(w, &ca);
                string(w, b"");
                for i in (1..=n).rev() {
                    w.write_all(&[0x21]).unwrap();
                    u32be(w, 16);
                    u64be(w, 10 * i);
                    u64be(w, 10 * i + 5);
                }
            });
        }
        "many-cas" => {
            let per = 5 + 4 + 51 + 4 + 1 + 4 + 8;
            let n = (size / per).min(MAX_DISTINCT);
            for i in (0..n).rev() {
                cert_section(&mut w, &ed25519(i), 0x20, 8, |w| u64be(w, 42));
            }
        }
        other => panic!("no shape {other}"),
    }
    w.flush().unwrap();
    drop(w);
    std::fs::metadata(path).unwrap().len()
}

/// Runs the binary with `args` (stdout discarded) and returns (exit status, peak RSS in bytes).
fn peak_rss(args: &[&std::ffi::OsStr]) -> (i32, u64) {
    let child = Command::new(bin())
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child spawned above (the Child handle is not waited on again).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, ru.ru_maxrss as u64 * 1024)
}

/// Each shape at `size` bytes, listed as text and as JSON; every peak within 4× + 30 MB.
#[test]
fn listing_a_hostile_krl_costs_memory_in_proportion_to_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut over = Vec::new();
    for &(name, size) in SHAPES {
        let path = dir.path().join(name);
        let len = write_shape(&path, name, size);
        let limit = 4 * len + (30 << 20);
        for json in [false, true] {
            let mut args: Vec<&std::ffi::OsStr> = Vec::new();
            if json {
                args.push("--json".as_ref());
            }
            args.extend(["revoke".as_ref(), "--list".as_ref(), path.as_os_str()]);
            let (code, rss) = peak_rss(&args);
            assert_eq!(code, 0, "{name}: revoke --list failed");
            let line = format!(
                "{name}{}: {len} bytes, peak RSS {} KiB (limit {} KiB)",
                if json { " --json" } else { "" },
                rss >> 10,
                limit >> 10
            );
            eprintln!("{line}");
            if rss > limit {
                over.push(line);
            }
        }
    }
    assert!(over.is_empty(), "over the limit:\n{}", over.join("\n"));
}

/// Writes every shape at `BREAKGLASS_KRL_SHAPES_MB` MB (default 22) to
/// `BREAKGLASS_KRL_SHAPES_OUT`, for measuring the release binary by hand.
#[test]
#[ignore = "writes large files for measuring by hand"]
fn write_shapes() {
    let out = std::env::var_os("BREAKGLASS_KRL_SHAPES_OUT").expect("BREAKGLASS_KRL_SHAPES_OUT");
    let mb: u64 = std::env::var("BREAKGLASS_KRL_SHAPES_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(22);
    std::fs::create_dir_all(&out).unwrap();
    for (name, _) in SHAPES {
        let len = write_shape(&Path::new(&out).join(name), name, mb << 20);
        eprintln!("{name}: {len} bytes");
    }
}
