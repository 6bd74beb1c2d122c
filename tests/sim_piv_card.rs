//! `breakglass sim piv-card` without pcscd: the command runs the `vpiv-card` program beside the
//! binary under the same pid, so a vpcd reader played by this test talks to it directly.
//! Needs that program built, as `cargo test --workspace` does.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use common::{err, World};

fn vpiv_card_beside_breakglass() -> PathBuf {
    let p = common::bin().with_file_name("vpiv-card");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo test --workspace`, or `cargo build -p vpiv-card` first",
        p.display()
    );
    p
}

/// The card process started by a test, killed by its pid on drop.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sim_piv_card_is_the_vpiv_card_program_under_the_same_pid() {
    vpiv_card_beside_breakglass();
    let w = World::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let child = w
        .cmd(&["sim", "piv-card", "--vpcd", &addr, "--serial", "7654321"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut card = Killed(child);
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut exchange = |body: &[u8]| -> Vec<u8> {
        let mut frame = (body.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        s.write_all(&frame).unwrap();
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut reply).unwrap();
        reply
    };
    // SELECT PIV, then GET SERIAL: the flag reached the card.
    let r = exchange(&[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08]);
    assert_eq!(r[r.len() - 2..], [0x90, 0x00]);
    assert_eq!(
        exchange(&[0x00, 0xF8, 0x00, 0x00]),
        7_654_321u32
            .to_be_bytes()
            .iter()
            .chain(&[0x90, 0x00])
            .copied()
            .collect::<Vec<u8>>()
    );
    // The default state file is the simulated key's directory's piv-card.json, mode 0600.
    use std::os::unix::fs::PermissionsExt;
    let state = w.sim.join("piv-card.json");
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Killing the pid the caller holds unplugs the card: the reader sees the socket close.
    card.0.kill().unwrap();
    card.0.wait().unwrap();
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
    let mut banner = String::new();
    card.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut banner)
        .unwrap();
    assert_eq!(
        banner,
        format!(
            "virtual YubiKey PIV card (SIMULATED) serial 7654321 firmware 5.4.3 -> vpcd {addr}; state {}\n",
            state.display()
        )
    );
}

#[test]
fn sim_piv_card_says_how_to_build_a_missing_card_program() {
    let w = World::new();
    // A copy of breakglass alone in a directory: no vpiv-card beside it.
    let lone = w.tmp.path().join("bin");
    std::fs::create_dir(&lone).unwrap();
    let exe = lone.join("breakglass");
    std::fs::copy(common::bin(), &exe).unwrap();
    let o = std::process::Command::new(&exe)
        .args(["sim", "piv-card", "--vpcd", "127.0.0.1:9"])
        .env("BREAKGLASS_SIM_DIR", &w.sim)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        !w.sim.exists(),
        "nothing is created when the card cannot start"
    );
    assert_eq!(
        err(&o),
        format!(
            "breakglass: the virtual PIV card program {} is missing.\n\
             Build it beside breakglass with `cargo build --workspace` (it is the vpiv-card crate of this repository), then run the command again.\n",
            lone.join("vpiv-card").display()
        )
    );
}

#[test]
fn sim_piv_card_refuses_a_malformed_firmware_before_starting_the_card() {
    let w = World::new();
    let o = w.run(&[
        "sim",
        "piv-card",
        "--firmware",
        "5.7",
        "--vpcd",
        "127.0.0.1:9",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "breakglass: --firmware 5.7 is not MAJOR.MINOR.PATCH.\nGive a firmware version such as --firmware 5.4.3.\n"
    );
    assert!(!w.sim.exists(), "nothing is created on a usage error");
}
