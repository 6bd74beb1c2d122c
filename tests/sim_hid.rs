//! `breakglass sim hid` and `drill --backend fido2-virtual` on a machine without `/dev/uhid`:
//! `sim hid` is the `breakglass-sim-hid` program under the same pid with its flags; both say
//! what to do when that program or `/dev/uhid` is missing. A regular file stands in for
//! `/dev/uhid` where a test needs one that opens (the program writes its create request into
//! it, then finds no hidraw device). The real device runs inside a qemu guest: tests/hid_vm.rs.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{err, out, World};

/// A copy of breakglass alone in a directory: no breakglass-sim-hid beside it.
fn lone_breakglass(w: &World) -> PathBuf {
    let lone = w.dir("bin");
    let exe = lone.join("breakglass");
    std::fs::copy(common::bin(), &exe).unwrap();
    exe
}

#[test]
fn sim_hid_is_the_virtual_key_program_under_the_same_pid_with_its_flags() {
    let program = common::built::sim_hid_program();
    let w = World::new();
    let uhid = w.tmp.path().join("uhid");
    std::fs::write(&uhid, b"").unwrap();
    let mut child = w
        .cmd(&[
            "sim",
            "hid",
            "--uhid",
            uhid.to_str().unwrap(),
            "--touch-delay-ms",
            "5",
            "--touch-timeout-ms",
            "7000",
            "--firmware",
            "5.4.3",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The program writes its UHID_CREATE2 request (4 bytes of type, then the name) into "uhid".
    let until = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&uhid).map(|m| m.len()).unwrap_or(0) == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let proc = PathBuf::from(format!("/proc/{}", child.id()));
    let exe = std::fs::read_link(proc.join("exe"));
    let cmdline = std::fs::read(proc.join("cmdline")).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        exe.unwrap(),
        program,
        "the pid the caller holds is the program"
    );
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .skip(1)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(
        args,
        [
            format!("--uhid={}", uhid.display()),
            "--touch-delay-ms=5".into(),
            "--touch-timeout-ms=7000".into(),
            "--firmware=5.4.3".into(),
        ]
    );
    let request = std::fs::read(&uhid).unwrap();
    assert_eq!(request[..4], 11u32.to_ne_bytes(), "UHID_CREATE2");
    let name = String::from_utf8_lossy(&request[4..132]);
    let name = name.trim_end_matches('\0');
    assert!(
        name.starts_with("breakglass virtual FIDO2 key SIM-") && name.ends_with(" (SIMULATED)"),
        "{name:?}"
    );
    // The key is the world's simulated key (BREAKGLASS_SIM_DIR), created by the program.
    let state = std::fs::read_to_string(w.sim.join("token.json")).unwrap();
    let serial = name
        .trim_start_matches("breakglass virtual FIDO2 key ")
        .trim_end_matches(" (SIMULATED)");
    assert!(state.contains(&format!("\"{serial}\"")), "{state}");
}

#[test]
fn sim_hid_says_how_to_install_a_missing_program() {
    let w = World::new();
    let exe = lone_breakglass(&w);
    let mut c = Command::new(&exe);
    w.apply_env(&mut c);
    let o = c.args(["sim", "hid"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        format!(
            "breakglass: the virtual FIDO2 key program {} is missing.\nInstall it beside \
             breakglass with `cargo install --path vfido-hid --locked` (or build both with \
             `cargo build --workspace`), then run the command again.\n",
            exe.with_file_name("breakglass-sim-hid").display()
        )
    );
    assert!(
        !w.sim.exists(),
        "nothing is created when the key cannot start"
    );
}

#[test]
fn drill_on_the_virtual_key_says_there_is_no_dev_uhid_here() {
    // The two directions of one path, never a skip: a machine without /dev/uhid (CI's host)
    // runs the drill as a user would, with the default device; a machine that has one runs the
    // same check of a missing device on a path that does not exist. The machine that has one is
    // tests/hid_vm.rs's qemu guest, where the drill plugs in a virtual key; that file skips only
    // where qemu, a kernel or busybox is missing, which `scripts/install-debian.sh --tests`
    // installs.
    let w = World::new();
    let absent = w.tmp.path().join("no-uhid").display().to_string();
    let (uhid, o) = if std::path::Path::new("/dev/uhid").exists() {
        let o = w.run(&["drill", "--backend", "fido2-virtual", "--uhid", &absent]);
        (absent.as_str(), o)
    } else {
        ("/dev/uhid", w.run(&["drill", "--backend", "fido2-virtual"]))
    };
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "", "no heading, no step");
    assert_eq!(
        err(&o),
        format!(
            "breakglass: there is no {uhid} here, so the drill cannot plug in a virtual FIDO2 \
             key.\nRun it on Linux with the uhid module loaded (sudo modprobe uhid), or practise \
             on the simulated key without HID: breakglass drill.\n"
        )
    );
}

#[test]
fn drill_on_the_virtual_key_says_how_to_install_a_missing_program() {
    let w = World::new();
    let exe = lone_breakglass(&w);
    let uhid = w.tmp.path().join("uhid");
    std::fs::write(&uhid, b"").unwrap();
    let mut c = Command::new(&exe);
    w.apply_env(&mut c);
    let o = c
        .args(["drill", "--backend", "fido2-virtual", "--uhid"])
        .arg(&uhid)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "");
    assert!(
        err(&o).starts_with(&format!(
            "breakglass: the virtual FIDO2 key program {} is missing.\n",
            exe.with_file_name("breakglass-sim-hid").display()
        )),
        "{}",
        err(&o)
    );
    assert_eq!(
        std::fs::metadata(&uhid).unwrap().len(),
        0,
        "nothing plugged"
    );
}

#[test]
fn drill_on_the_virtual_key_fails_with_the_programs_reason_when_no_hidraw_appears() {
    common::built::sim_hid_program();
    let w = World::new();
    let uhid = w.tmp.path().join("uhid");
    std::fs::write(&uhid, b"").unwrap();
    let tmp = w.dir("tmp");
    let o = w
        .cmd(&["drill", "--backend", "fido2-virtual", "--uhid"])
        .arg(&uhid)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("SIMULATED"), "{text}");
    assert!(
        lines[1].starts_with("  [FAIL] plug in a virtual FIDO2 key (SIMULATED)")
            && lines[1].ends_with(
                "  the kernel made no /dev/hidraw device for the virtual key. Check that \
                 hid-generic and hidraw are available (CONFIG_HIDRAW)."
            ),
        "{text}"
    );
    assert!(lines[2].starts_with("FAIL in "), "{text}");
    assert!(
        !lines.iter().any(|l| l.contains("init-ca")),
        "no step runs without the key, and none falls back to --backend sim: {text}"
    );
    assert_eq!(
        err(&o),
        "breakglass: the drill failed; the failing step above says why.\nFix what the failing \
         step names, then run the drill again.\n"
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the drill's directory is gone"
    );
    assert!(
        !w.sim.exists() && !w.audit.exists(),
        "the user's key is untouched"
    );
}
