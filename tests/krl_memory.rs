//! Listing a hostile KRL costs memory in proportion to its size, whatever its shape (#23 §5):
//! `breakglass revoke --list FILE` (text and `--json`) peaks at no more than 4× the file's size
//! + 30 MB of resident memory, measured as the child's `ru_maxrss` through `wait4`.
//!
//! Every shape a crafted KRL can take is tested: many key ids, many ECDSA / ED25519 / tiny
//! unparsable key blobs, many SHA-256 and SHA-1 fingerprints, descending serial lists, bitmaps
//! spanning their whole 16,384 bits, many serial ranges, and many CA sections. The files are
//! streamed to disk (never held whole) so that this process stays small: a child started with
//! `posix_spawn` inherits its parent's peak RSS at `exec` (Linux `exec_mmap`).
//!
//! The shapes are written by `tests/krl_shapes/mod.rs`, which `cargo run --example krl_shapes --
//! DIR MB` also uses to write larger files for measuring the release binary by hand
//! (`/usr/bin/time -f %M target/release/breakglass revoke --list DIR/SHAPE`).

mod common;

mod krl_shapes;

use std::process::{Command, Stdio};

use common::*;
use krl_shapes::{write_shape, SHAPES};

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
