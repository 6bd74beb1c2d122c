//! Crash consistency: a mint killed (SIGKILL) at each step of writing its files leaves, after
//! the next command in that directory has recovered, either the complete new set or what was
//! there before — never a new key beside an old certificate, never a temporary file holding a
//! private key — and its audit entry is on disk whenever any file was written.
//!
//! The kills come from the debug builds' fault hook (`BREAKGLASS_FAULT=kill:STEP`), so every
//! step is hit exactly, not by luck of timing; `bench/kill-loop.sh` adds random-time kills.
//! The same hook stops a mint half-way through placing its set (`stop:STEP`) so a test can send
//! it SIGTERM, SIGINT or SIGHUP there and see the signal wait until the set is in place.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::*;

const STEPS: [&str; 6] = [
    "stage-temp",
    "commit-intent",
    "commit-place-1",
    "commit-place-2",
    "commit-place-3",
    "commit-placed",
];

/// The serial `ssh-keygen -L` reads from a certificate.
fn serial_of(w: &World, cert: &str) -> Option<u64> {
    let o = ssh_keygen(&["-L", "-f", cert], &w.work);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Serial: ")?.parse().ok())
}

/// The public key (type and base64) of the private key file, of the .pub, and of the cert.
fn keys_of(w: &World, out: &str) -> (String, String, String) {
    let first2 = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let private = ssh_keygen(&["-y", "-f", out], &w.work);
    let public = std::fs::read_to_string(w.path(&format!("{out}.pub"))).unwrap();
    let cert = ssh_keygen(&["-L", "-f", &format!("{out}-cert.pub")], &w.work);
    // "Public key: ECDSA-CERT SHA256:…": compare fingerprints of all three.
    let fp = |line: String| {
        let f = w.work.join("fp.pub");
        std::fs::write(&f, line).unwrap();
        let o = ssh_keygen(&["-l", "-f", "fp.pub"], &w.work);
        std::fs::remove_file(f).unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    let cert_fp = String::from_utf8_lossy(&cert.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Public key: "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    (
        fp(first2(&String::from_utf8_lossy(&private.stdout))),
        fp(first2(&public)),
        cert_fp,
    )
}

/// Hidden files in the working directory: temporaries, intents, copies of replaced files.
fn debris(w: &World) -> Vec<String> {
    std::fs::read_dir(&w.work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn audited_serials(w: &World) -> Vec<u64> {
    std::fs::read_to_string(&w.audit)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["action"] == "mint" && v["result"] == "ok")
        .filter_map(|v| v["serial"].as_str().and_then(|s| s.parse().ok()))
        .collect()
}

fn killed_mint(w: &World, step: &str, serial: &str, force: bool) {
    let mut args = vec!["mint", "-n", "u", "-z", serial];
    if force {
        args.push("--force");
    }
    let o = w.run_env(
        &args,
        &[("BREAKGLASS_FAULT", &format!("kill:{step}@emergency"))],
    );
    assert_eq!(
        o.status.signal(),
        Some(9),
        "{step}: the mint was not killed at that step\n{}",
        err(&o)
    );
}

/// Any command writing into the directory recovers it first.
fn recover(w: &World) -> String {
    let o = w.run(&["mint", "-n", "u", "-f", "other"]);
    assert!(o.status.success(), "{}", err(&o));
    std::fs::remove_file(w.path("other")).unwrap();
    std::fs::remove_file(w.path("other.pub")).unwrap();
    std::fs::remove_file(w.path("other-cert.pub")).unwrap();
    err(&o)
}

#[test]
fn a_new_set_killed_at_any_step_is_all_there_or_not_there() {
    for step in STEPS {
        let w = World::new();
        w.init_ca();
        killed_mint(&w, step, "4242", false);
        // The entry was durable before the first byte of any file.
        assert!(
            audited_serials(&w).contains(&4242),
            "{step}: no audit entry"
        );
        let notes = recover(&w);
        assert!(debris(&w).is_empty(), "{step}: debris {:?}", debris(&w));
        let present: Vec<bool> = ["emergency", "emergency.pub", "emergency-cert.pub"]
            .iter()
            .map(|f| w.path(f).exists())
            .collect();
        if step == "commit-placed" {
            assert_eq!(present, [true, true, true], "{step}");
            let (k, p, c) = keys_of(&w, "emergency");
            assert!(k == p && p == c && !k.is_empty(), "{step}: {k} {p} {c}");
            assert!(notes.contains("finished writing"), "{step}: {notes}");
        } else {
            assert_eq!(present, [false, false, false], "{step}: a partial set");
            if step != "stage-temp" {
                assert!(
                    notes.contains("undid the unfinished writing"),
                    "{step}: {notes}"
                );
            } else {
                assert!(notes.contains("left by a crash"), "{step}: {notes}");
            }
        }
    }
}

#[test]
fn a_forced_set_killed_at_any_step_is_the_old_set_or_the_new_one() {
    for step in STEPS {
        let w = World::new();
        w.init_ca();
        w.ok(&["mint", "-n", "u", "-z", "1111"]);
        killed_mint(&w, step, "2222", true);
        assert!(
            audited_serials(&w).contains(&2222),
            "{step}: no audit entry"
        );
        recover(&w);
        assert!(debris(&w).is_empty(), "{step}: debris {:?}", debris(&w));
        let serial = serial_of(&w, "emergency-cert.pub");
        let want = if step == "commit-placed" { 2222 } else { 1111 };
        assert_eq!(serial, Some(want), "{step}");
        let (k, p, c) = keys_of(&w, "emergency");
        assert!(
            k == p && p == c && !k.is_empty(),
            "{step}: key {k} pub {p} cert {c}"
        );
    }
}

/// Starts a mint of serial `serial` that stops itself (SIGSTOP, the fault hook's `stop:`) at
/// `step` of writing its set, and returns it once it has stopped there.
fn stopped_mint(w: &World, step: &str, serial: &str, force: bool) -> std::process::Child {
    let mut args = vec!["mint", "-n", "u", "-z", serial];
    if force {
        args.push("--force");
    }
    let mut cmd = w.cmd(&args);
    cmd.env("BREAKGLASS_FAULT", format!("stop:{step}@emergency"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    // A run started in the background (`cmd &` without job control, nohup) inherits SIGINT or
    // SIGHUP ignored, and an ignored signal would not end the mint: give it the defaults a
    // terminal's process has, as the signals this file sends assume.
    // SAFETY: only async-signal-safe signal(2) calls between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGTERM] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: waiting (without reaping, WUNTRACED) for our own child to stop.
    let r = unsafe { libc::waitpid(child.id() as i32, &mut status, libc::WUNTRACED) };
    assert_eq!(r, child.id() as i32, "waitpid");
    assert!(
        libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGSTOP,
        "{step}: the mint ended instead of stopping there (wait status {status:#x})"
    );
    child
}

#[test]
fn sigterm_waits_until_the_set_is_in_place() {
    // The mint is stopped after the first of its three files is in place; SIGTERM (and SIGINT,
    // SIGHUP) arrives then, and it is let go: it must finish placing the set before the signal
    // ends it — checked before anything recovers the directory.
    let w = World::new();
    w.init_ca();
    let mut serial = 100;
    for (force, signal) in [
        (false, libc::SIGTERM),
        (true, libc::SIGTERM),
        (true, libc::SIGINT),
        (true, libc::SIGHUP),
    ] {
        serial += 1;
        let what = format!(
            "signal {signal}, {}",
            if force { "replacing" } else { "first mint" }
        );
        let child = stopped_mint(&w, "commit-place-2", &serial.to_string(), force);
        assert_eq!(
            ["emergency", "emergency.pub", "emergency-cert.pub"].map(|f| w.path(f).exists()),
            [true, force, force],
            "{what}: stopped anywhere but after placing the first file"
        );
        // SAFETY: signalling our own (stopped) child, then letting it run on.
        unsafe {
            libc::kill(child.id() as i32, signal);
            libc::kill(child.id() as i32, libc::SIGCONT);
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.signal(),
            Some(signal),
            "{what}: the mint did not end by the signal\n{}",
            err(&o)
        );
        assert!(debris(&w).is_empty(), "{what}: debris {:?}", debris(&w));
        assert_eq!(
            serial_of(&w, "emergency-cert.pub"),
            Some(serial),
            "{what}: not the new certificate"
        );
        let (k, p, c) = keys_of(&w, "emergency");
        assert!(
            k == p && p == c && !k.is_empty(),
            "{what}: key {k} pub {p} cert {c}"
        );
    }
}
