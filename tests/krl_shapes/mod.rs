//! Hostile KRLs of every shape (#23 §5), streamed to disk: many key ids, many ECDSA / ED25519 /
//! tiny unparsable key blobs, many SHA-256 and SHA-1 fingerprints, descending serial lists,
//! bitmaps spanning their whole 16,384 bits, many serial ranges, many CA sections. Used by
//! tests/krl_memory.rs and by `cargo run --example krl_shapes -- DIR MB`.

use std::io::{BufWriter, Write};
use std::path::Path;

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
pub const SHAPES: &[(&str, u64)] = &[
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
pub fn write_shape(path: &Path, name: &str, size: u64) -> u64 {
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
