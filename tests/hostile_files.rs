//! Files we are pointed at are read as regular files through a size bound: a device, a FIFO or
//! a directory is a clear error at once, never a hang or gigabytes of memory.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Runs the binary, killing it if it is still running after 20 s. The one thread that waits for
/// it also kills it, before reaping it, so the kill can only reach this child, never a process
/// that got its pid after it exited.
fn run_bounded(w: &World, args: &[&str]) -> (std::process::Output, Duration) {
    use std::io::Read;
    let started = Instant::now();
    let mut child = w
        .cmd(args)
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
