//! The card's protocol pieces from outside: status words and instructions round-trip through
//! their codes, BER-TLV round-trips, APDU lengths parse as ISO 7816-4 says, and the `vpiv-card`
//! binary answers a vpcd reader played by this test over a real TCP socket (no pcscd needed).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use proptest::prelude::*;
use vpiv_card::{tlv, Card, CardConfig, CardState, Command, Ins, StatusWord, ATR};

#[test]
fn every_status_word_round_trips_through_its_code() {
    for code in 0..=u16::MAX {
        assert_eq!(u16::from(StatusWord::from(code)), code, "{code:04X}");
    }
    assert_eq!(StatusWord::from(0x9000), StatusWord::Success);
    assert_eq!(StatusWord::from(0x6982), StatusWord::SecurityStatus);
    assert_eq!(StatusWord::from(0x6983), StatusWord::AuthBlocked);
    assert_eq!(StatusWord::from(0x6A80), StatusWord::IncorrectData);
    assert_eq!(StatusWord::from(0x6A88), StatusWord::ReferenceNotFound);
    assert_eq!(StatusWord::from(0x6D00), StatusWord::InsNotSupported);
    assert_eq!(StatusWord::from(0x6284), StatusWord::Other(0x6284));
}

#[test]
fn verify_fail_carries_the_tries_left_in_the_low_nibble() {
    for tries in 0..=15u8 {
        let sw = StatusWord::VerifyFail { tries };
        assert_eq!(u16::from(sw), 0x63C0 + u16::from(tries));
        assert_eq!(StatusWord::from(u16::from(sw)), sw);
    }
    // More than a nibble holds says "15", never another status word.
    assert_eq!(
        StatusWord::from(u16::from(StatusWord::VerifyFail { tries: 200 })),
        StatusWord::VerifyFail { tries: 15 }
    );
    assert_eq!(
        StatusWord::of_response(&[0x63, 0xC2]),
        Some(StatusWord::VerifyFail { tries: 2 })
    );
    assert_eq!(StatusWord::of_response(&[0x63]), None);
}

#[test]
fn every_instruction_byte_round_trips() {
    for code in 0..=u8::MAX {
        assert_eq!(u8::from(Ins::from(code)), code);
    }
    assert_eq!(Ins::from(0x87), Ins::Authenticate);
    assert_eq!(
        Ins::from(0xDB),
        Ins::Other(0xDB),
        "PUT DATA is not implemented"
    );
}

#[test]
fn apdu_length_forms() {
    // Case 1 (header only), case 2 (Le only), case 3 short (Lc data), case 4 short (Lc data Le).
    for (apdu, data) in [
        (&[0x00, 0xFD, 0x00, 0x00][..], &[][..]),
        (&[0x00, 0xFD, 0x00, 0x00, 0x00][..], &[][..]),
        (
            &[0x00, 0x20, 0x00, 0x80, 0x02, 0xAA, 0xBB][..],
            &[0xAA, 0xBB][..],
        ),
        (
            &[0x00, 0x20, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00][..],
            &[0xAA, 0xBB][..],
        ),
        // Extended: 00 Le1 Le2; 00 Lc1 Lc2 data; 00 Lc1 Lc2 data Le1 Le2.
        (&[0x00, 0xCB, 0x3F, 0xFF, 0x00, 0x01, 0x00][..], &[][..]),
        (
            &[0x00, 0xCB, 0x3F, 0xFF, 0x00, 0x00, 0x01, 0x5C][..],
            &[0x5C][..],
        ),
        (
            &[0x00, 0xCB, 0x3F, 0xFF, 0x00, 0x00, 0x01, 0x5C, 0x00, 0x00][..],
            &[0x5C][..],
        ),
    ] {
        let c = Command::parse(apdu).unwrap();
        assert_eq!(c.data, data, "{apdu:02X?}");
        assert_eq!(c.ins, Ins::from(apdu[1]));
    }
    for bad in [
        &[0x00, 0xFD, 0x00][..],
        &[0x00, 0x20, 0x00, 0x80, 0x03, 0xAA][..],
        &[0x00, 0x20, 0x00, 0x80, 0x00, 0x00][..],
        &[0x00, 0x20, 0x00, 0x80, 0x00, 0x00, 0x02, 0xAA][..],
    ] {
        assert_eq!(
            Command::parse(bad),
            Err(StatusWord::WrongLength),
            "{bad:02X?}"
        );
    }
}

#[test]
fn tlv_lengths_use_the_shortest_form_and_parse_back() {
    assert_eq!(tlv::encode(&[0x80], &[]), [0x80, 0x00]);
    assert_eq!(tlv::encode(&[0x86], &[7; 0x7F])[..2], [0x86, 0x7F]);
    assert_eq!(tlv::encode(&[0x86], &[7; 0x80])[..3], [0x86, 0x81, 0x80]);
    assert_eq!(
        tlv::encode(&[0x7F, 0x49], &[7; 0x100])[..5],
        [0x7F, 0x49, 0x82, 0x01, 0x00]
    );
    // Cut short, or a length form PIV does not use: no item, no panic.
    assert_eq!(tlv::parse(&[0x7C, 0x05, 0x80, 0x00]), None);
    assert_eq!(tlv::parse(&[0x7C, 0x83, 0, 0, 1, 0]), None);
    assert_eq!(tlv::parse_all(&[0x80, 0x00, 0x81]), None);
    let items = [0x80, 0x00, 0x81, 0x02, 0xAB, 0xCD];
    let parsed = tlv::parse_all(&items).unwrap();
    assert_eq!(tlv::find(&parsed, 0x81), Some(&[0xAB, 0xCD][..]));
    assert_eq!(tlv::find(&parsed, 0x80), Some(&[][..]));
    assert_eq!(tlv::find(&parsed, 0x82), None);
}

proptest! {
    #[test]
    fn tlv_round_trips(items in proptest::collection::vec(
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..600)), 0..5)) {
        let mut buf = Vec::new();
        for (t, v) in &items {
            tlv::push(&mut buf, &[*t], v);
        }
        let parsed = tlv::parse_all(&buf).unwrap();
        prop_assert_eq!(parsed.len(), items.len());
        for ((t, v), (pt, pv)) in items.iter().zip(parsed) {
            prop_assert_eq!(*t, pt);
            prop_assert_eq!(&v[..], pv);
        }
    }

    #[test]
    fn tlv_parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Some((_, v, rest)) = tlv::parse(&b) {
            prop_assert!(v.len() + rest.len() < b.len());
        }
        let _ = tlv::parse_all(&b);
    }
}

#[test]
fn a_firmware_5_7_card_starts_with_an_aes_192_management_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = CardConfig::new(dir.path().join("card.json"));
    cfg.version = (5, 7, 1);
    let mut card = Card::open(&cfg).unwrap();
    assert_eq!(CardState::load(&cfg.state_path).unwrap().mgm_alg, 0x0A);
    // GET METADATA for 9B: algorithm 0A, default key.
    let r = card.process_apdu(&[0x00, 0xF7, 0x00, 0x9B, 0x00]);
    assert_eq!(
        r,
        [0x01, 0x01, 0x0A, 0x02, 0x02, 0x00, 0x01, 0x05, 0x01, 0x01, 0x90, 0x00]
    );
    // GENERAL AUTHENTICATE with the wrong algorithm (3DES) is refused.
    let r = card.process_apdu(&[0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C, 0x02, 0x80, 0x00]);
    assert_eq!(StatusWord::of_response(&r), Some(StatusWord::IncorrectData));
    // AES-192 gives a 16-byte encrypted witness.
    let r = card.process_apdu(&[0x00, 0x87, 0x0A, 0x9B, 0x04, 0x7C, 0x02, 0x80, 0x00]);
    assert_eq!(StatusWord::of_response(&r), Some(StatusWord::Success));
    assert_eq!(r[..4], [0x7C, 0x12, 0x80, 0x10]);
}

/// The `vpiv-card` binary, killed by its own pid on drop.
struct CardProcess(Child);

impl Drop for CardProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn send(s: &mut TcpStream, body: &[u8]) {
    let mut frame = (body.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    s.write_all(&frame).unwrap();
}

fn recv(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).unwrap();
    body
}

#[test]
fn the_binary_serves_a_vpcd_reader_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let child = Process::new(env!("CARGO_BIN_EXE_vpiv-card"))
        .args([
            "--vpcd",
            &addr,
            "--serial",
            "424242",
            "--firmware",
            "5.7.2",
            "--state",
        ])
        .arg(&state)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut card = CardProcess(child);
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();

    send(&mut s, &[0x01]); // power on: no answer
    send(&mut s, &[0x04]); // ATR
    assert_eq!(recv(&mut s), ATR);
    send(
        &mut s,
        &[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08],
    );
    assert_eq!(
        StatusWord::of_response(&recv(&mut s)),
        Some(StatusWord::Success)
    );
    send(&mut s, &[0x00, 0xF8, 0x00, 0x00]);
    assert_eq!(recv(&mut s), [0x00, 0x06, 0x79, 0x32, 0x90, 0x00]);
    send(&mut s, &[0x00, 0xFD, 0x00, 0x00]);
    assert_eq!(recv(&mut s), [5, 7, 2, 0x90, 0x00]);
    // A wrong PIN costs a try and says how many are left.
    send(
        &mut s,
        &[
            0x00, 0x20, 0x00, 0x80, 0x08, b'9', b'9', b'9', b'9', b'9', b'9', 0xFF, 0xFF,
        ],
    );
    assert_eq!(
        StatusWord::of_response(&recv(&mut s)),
        Some(StatusWord::VerifyFail { tries: 2 })
    );
    send(&mut s, &[0x00, 0xDB, 0x3F, 0xFF, 0x00]);
    assert_eq!(
        StatusWord::of_response(&recv(&mut s)),
        Some(StatusWord::InsNotSupported)
    );

    // The counter is in the state file, private to its owner.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(CardState::load(&state).unwrap().pin_tries_left, 2);
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The banner names the card and says SIMULATED.
    drop(s);
    let _ = card.0.kill();
    let _ = card.0.wait();
    let mut err = String::new();
    card.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.starts_with(
            "virtual YubiKey PIV card (SIMULATED) serial 424242 firmware 5.7.2 -> vpcd "
        ),
        "{err}"
    );
}

#[test]
fn the_binary_refuses_a_malformed_firmware_version() {
    let out = Process::new(env!("CARGO_BIN_EXE_vpiv-card"))
        .args(["--state", "/nonexistent/card.json", "--firmware", "5.7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"5.7\" is not MAJOR.MINOR.PATCH"), "{err}");
    assert!(!std::path::Path::new("/nonexistent/card.json").exists());
}
