//! Files we are pointed at are read as regular files through a size bound: a device, a FIFO or
//! a directory is a clear error at once, never a hang or gigabytes of memory.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Runs the binary, killing it if it is still running after 20 s. The one thread that waits for
/// it also kills it, before reaping it, so the kill can only reach this child, never a process
/// that got its pid after it exited.
fn run_bounded(w: &World, args: &[&str]) -> (std::process::Output, Duration) {
    run_bounded_cmd(w.cmd(args))
}

/// [`run_bounded`] for a command already set up (another directory, say).
fn run_bounded_cmd(mut cmd: std::process::Command) -> (std::process::Output, Duration) {
    use std::io::Read;
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            // Not reaped yet, so the pid is still this child's.
            child.kill().unwrap();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let o = std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    (o, started.elapsed())
}

#[test]
fn inspect_refuses_devices_fifos_and_directories_without_reading_them() {
    let w = World::new();
    let fifo = w.path("cert-fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(w.path("adir")).unwrap();
    for (file, kind) in [
        ("/dev/zero", "a device"),
        ("cert-fifo", "a FIFO"),
        ("adir", "a directory"),
    ] {
        let (o, took) = run_bounded(&w, &["inspect", file]);
        assert_eq!(o.status.code(), Some(1), "{file}: {}", err(&o));
        assert!(took < Duration::from_secs(15), "{file} took {took:?}");
        assert!(
            err(&o).contains(&format!("{file}: is {kind}, not a regular file")),
            "{file}: {}",
            err(&o)
        );
    }
}

#[test]
fn a_ca_file_that_is_a_device_or_too_big_is_refused_before_the_touch() {
    let w = World::new();
    w.init_ca();
    let (o, _) = run_bounded(&w, &["mint", "-n", "u", "--ca", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).starts_with("breakglass: /dev/zero: is a device, not a regular file."),
        "{}",
        err(&o)
    );
    assert!(!err(&o).contains("Touch"), "{}", err(&o));
    std::fs::write(w.path("big.pub"), vec![b'a'; 100_000]).unwrap();
    let (o, _) = run_bounded(&w, &["mint", "-n", "u", "--ca", "big.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("big.pub: is larger than 65536 bytes"),
        "{}",
        err(&o)
    );
    assert!(!w.path("emergency").exists());
}

#[test]
fn the_sim_never_chmods_a_directory_it_did_not_create() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let shared = w.tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = w.run_env(
        &["sim", "status"],
        &[("BREAKGLASS_SIM_DIR", shared.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    // One it creates, parents included, is 0700 whatever the umask.
    let nested = w.tmp.path().join("a/b/sim");
    let o = w.run_env(
        &["sim", "status"],
        &[("BREAKGLASS_SIM_DIR", nested.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    for d in [w.tmp.path().join("a"), w.tmp.path().join("a/b"), nested] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{}: {mode:o}", d.display());
    }
}

#[test]
fn revoke_refuses_a_fifo_as_the_krl_to_list_or_change_at_once() {
    let w = World::new();
    w.init_ca();
    let fifo = w.path("fifo.krl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let audit_before = std::fs::read(&w.audit).ok();
    for args in [
        &["revoke", "--list", "fifo.krl"][..],
        &[
            "revoke",
            "--krl",
            "fifo.krl",
            "--ca",
            "sk-user-ca.pub",
            "--serial",
            "7",
        ][..],
    ] {
        // A hang is the failure (run_bounded kills it after 20 s, and the code is then not 1).
        let (o, _) = run_bounded(&w, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
        assert_eq!(out(&o), "", "{args:?}");
        assert_eq!(
            err(&o),
            "breakglass: fifo.krl is a FIFO, not a regular file.\n\
             Name a KRL file (--krl, --list): revoke reads only regular files, and creates the \
             KRL when the path does not exist yet.\n",
            "{args:?}"
        );
        assert!(!w.path("fifo.krl.sig").exists());
        assert_eq!(std::fs::read(&w.audit).ok(), audit_before, "{args:?}");
    }
}

#[test]
fn request_refuses_a_fifo_as_the_public_key_at_once() {
    let w = World::new();
    mkfifo(&w.path("id.pub"));
    // A hang is the failure (run_bounded kills it after 20 s, and the code is then not 1).
    let (o, _) = run_bounded(&w, &["request", "--pubkey", "id.pub", "-n", "alice"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(out(&o), "");
    assert_eq!(
        err(&o),
        "breakglass: id.pub: is a FIFO, not a public key file.\nCheck that the file is the one you meant.\n"
    );
    assert!(!w.path("id-cert.pub").exists());
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// What to put at a path doctor reads.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    Fifo,
    DevZero,
    Sparse1G,
    Loop,
    Directory,
}

impl Hostile {
    const ALL: [Hostile; 5] = [
        Hostile::Fifo,
        Hostile::DevZero,
        Hostile::Sparse1G,
        Hostile::Loop,
        Hostile::Directory,
    ];

    fn make(self, path: &std::path::Path) {
        let _ = std::fs::remove_file(path);
        match self {
            Hostile::Fifo => mkfifo(path),
            Hostile::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            Hostile::Sparse1G => std::fs::File::create(path)
                .unwrap()
                .set_len(1 << 30)
                .unwrap(),
            Hostile::Loop => std::os::unix::fs::symlink(path, path).unwrap(),
            Hostile::Directory => std::fs::create_dir(path).unwrap(),
        }
    }

    fn clear(path: &std::path::Path) {
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_dir(path);
    }
}

/// Runs doctor in `cwd` (killed after 20 s: a hang is the failure) and returns its exit code,
/// its FAIL lines and its standard error.
fn doctor_fails(w: &World, cwd: &std::path::Path) -> (Option<i32>, Vec<String>, String) {
    let (o, took) = run_bounded_cmd(w.cmd_in(&["doctor"], cwd));
    // Generous: a hang is what this catches (debug builds hash a kit's 50 MB binary twice).
    assert!(took < Duration::from_secs(15), "doctor took {took:?}");
    // A simulated CA never has a vendor's attestation: that WARN is always there (pinned in
    // tests/cmd/doctor/sim-attested.toml), and not what these tests look at.
    let fails = out(&o)
        .lines()
        .filter(|l| !l.starts_with("  [OK]") && !l.starts_with("  [WARN] attestation "))
        .map(str::to_string)
        .collect();
    (o.status.code(), fails, err(&o))
}

const ONE_FAIL: &str =
    "breakglass: doctor found 1 problem(s) that would fail a drill or an incident.\n\
    Fix each FAIL line as it says, then run `breakglass doctor` again.\n";
const TWO_FAILS: &str =
    "breakglass: doctor found 2 problem(s) that would fail a drill or an incident.\n\
    Fix each FAIL line as it says, then run `breakglass doctor` again.\n";

#[test]
fn doctor_reports_a_hostile_ca_file_or_audit_log_at_once() {
    let w = World::new();
    w.init_ca();
    let ca = w.path("sk-user-ca.pub");
    let kept = std::fs::read(&ca).unwrap();
    let ca_hint =
        "Pass the CA's public key (the .pub file init-ca wrote) with --ca, or run init-ca first.";
    let log_hint =
        "Keep a copy as evidence; point BREAKGLASS_AUDIT_LOG at a new file for the next mint.";
    let log = w.audit.display().to_string();
    for h in Hostile::ALL {
        h.make(&ca);
        h.make(&w.audit);
        let (ca_why, log_line) = match h {
            Hostile::Fifo => (
                "is a FIFO, not a regular file".to_string(),
                format!("{log}: is a FIFO, not a regular file"),
            ),
            Hostile::DevZero => (
                "is a device, not a regular file".into(),
                format!("{log}: is a device, not a regular file"),
            ),
            Hostile::Sparse1G => (
                "is larger than 65536 bytes, too large for what it should hold".into(),
                format!(
                    "audit log {log} is damaged at line 1: the line is longer than 65536 bytes"
                ),
            ),
            Hostile::Loop => (
                "cannot be read: Too many levels of symbolic links (os error 40)".into(),
                format!("could not read {log}: Too many levels of symbolic links (os error 40)"),
            ),
            Hostile::Directory => (
                "is a directory, not a regular file".into(),
                format!("{log}: is a directory, not a regular file"),
            ),
        };
        let (code, fails, stderr) = doctor_fails(&w, &w.work);
        assert_eq!(code, Some(1), "{h:?}: {fails:?} {stderr}");
        assert_eq!(
            fails,
            [
                format!("  [FAIL] CA file            sk-user-ca.pub: {ca_why}. {ca_hint}"),
                format!("  [FAIL] audit log          {log_line}. {log_hint}"),
            ],
            "{h:?}"
        );
        assert_eq!(stderr, TWO_FAILS, "{h:?}");
        Hostile::clear(&ca);
        Hostile::clear(&w.audit);
    }
    // Put back, doctor passes again: the lines above came from the files, not the set-up.
    std::fs::write(&ca, kept).unwrap();
    let (code, fails, _) = doctor_fails(&w, &w.work);
    assert_eq!((code, fails), (Some(0), vec![]));
}

#[test]
fn doctor_in_a_kit_of_hostile_files_reports_each_sanitised() {
    let w = World::new();
    w.init_ca();
    w.ok(&["kit", "kit", "--ca", "sk-user-ca.pub"]);
    let kit = w.path("kit");
    let bin = kit.join("breakglass");
    let kept = std::fs::read(&bin).unwrap();
    let tampered = |what: &str| {
        format!(
            "  [FAIL] kit                the kit in . does not match its signed SHA256SUMS: {what}. \
             Do not use this kit: take another copy (the backup key's kit, or the one in the safe), \
             or make a new one with `breakglass kit` on a trusted machine, and find out who changed this one."
        )
    };
    // The binary the manifest lists, replaced.
    for (h, what) in [
        (
            Hostile::Sparse1G,
            "breakglass cannot be read (it is larger than 256 MiB, more than any kit file)",
        ),
        (Hostile::Fifo, "breakglass is not a regular file"),
        (Hostile::DevZero, "breakglass is not a regular file"),
        (Hostile::Loop, "breakglass is not a regular file"),
    ] {
        h.make(&bin);
        let (code, fails, stderr) = doctor_fails(&w, &kit);
        assert_eq!(code, Some(1), "{h:?}: {fails:?} {stderr}");
        assert_eq!(fails, [tampered(what)], "{h:?}");
        assert_eq!(stderr, ONE_FAIL, "{h:?}");
        Hostile::clear(&bin);
    }
    std::fs::write(&bin, &kept).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Names that are not UTF-8, or that would start a line of their own.
    {
        use std::os::unix::ffi::OsStrExt;
        let odd = std::ffi::OsStr::from_bytes(b"\xff\xfe.pub");
        std::fs::write(kit.join(odd), "x").unwrap();
        std::fs::write(kit.join("x\n  [OK]   kit                fine\x1b[2K"), "x").unwrap();
    }
    let (code, fails, stderr) = doctor_fails(&w, &kit);
    assert_eq!(code, Some(1), "{fails:?} {stderr}");
    assert_eq!(
        fails,
        [tampered(
            "x\\n  [OK]   kit                fine\\u{1b}[2K is not in SHA256SUMS (added after signing); \
             \u{fffd}\u{fffd}.pub is not in SHA256SUMS (added after signing)"
        )]
    );
    assert_eq!(stderr, ONE_FAIL);
    // The signed index itself.
    let sums = kit.join("SHA256SUMS");
    for (h, what) in [
        (Hostile::Fifo, "SHA256SUMS: is a FIFO, not a regular file"),
        (
            Hostile::DevZero,
            "SHA256SUMS: is a device, not a regular file",
        ),
        (
            Hostile::Sparse1G,
            "SHA256SUMS: is larger than 1048576 bytes, too large for what it should hold",
        ),
        (
            Hostile::Loop,
            "SHA256SUMS: cannot be read: Too many levels of symbolic links (os error 40)",
        ),
    ] {
        h.make(&sums);
        let (code, fails, stderr) = doctor_fails(&w, &kit);
        assert_eq!(code, Some(1), "{h:?}: {fails:?} {stderr}");
        assert_eq!(
            fails,
            [format!(
                "  [FAIL] kit                the kit in . is not validly signed: {what}. \
                 Do not use this kit: take another copy (the backup key's kit, or the one in the safe), \
                 or make a new one with `breakglass kit` on a trusted machine, and find out who changed this one."
            )],
            "{h:?}"
        );
        assert_eq!(stderr, ONE_FAIL, "{h:?}");
        Hostile::clear(&sums);
    }
}
