//! The simulated key as a USB FIDO2 HID device (`/dev/uhid`) inside a qemu guest: the real
//! kernel hidraw driver, real libfido2 (OpenSSH's `ssh-keygen`, `fido2-token`) and breakglass's
//! own fido2 backend (ctap-hid-fido2). Skips with one line where qemu or a kernel is missing.

#[path = "vm/mod.rs"]
mod vm;

use std::time::Duration;

/// Prints why the guest cannot run and returns true, so the test can return early.
fn skip() -> bool {
    match vm::missing() {
        Some(why) => {
            eprintln!("skipped: {why}");
            true
        }
        None => false,
    }
}

#[test]
fn guest_runs_a_script_with_uhid_and_returns_its_output_and_exit_code() {
    if skip() {
        return;
    }
    let job = vm::Job::new();
    let run = job.run(
        "test -c /dev/uhid && echo uhid-present\necho kept > written.txt\nexit 7\n",
        Duration::from_secs(180),
    );
    eprintln!("guest boot-to-result: {:.1} s", run.elapsed.as_secs_f64());
    assert_eq!(
        run.code, 7,
        "output: {}\nconsole: {}",
        run.output, run.console
    );
    assert_eq!(run.output, "uhid-present\n");
    assert_eq!(
        std::fs::read_to_string(job.path().join("written.txt")).unwrap(),
        "kept\n"
    );
}
