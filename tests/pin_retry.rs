//! A wrong PIN is asked for again, with the tries left, until the key itself blocks; a PIN too
//! short to be any PIN never reaches the key (no try spent) — on the simulated key, through the
//! same CA-signer code the real FIDO2 backend uses. The terminal side (the prompts a person sees
//! in a real tty) is tests/pty_prompts.rs.

use breakglass::token::sim::SimToken;
use breakglass::token::sk_ca::{self, SkCaSigner};
use breakglass::token::{CaSigner, TokenError};
use breakglass::ui::ScriptedUi;
use breakglass::Error;
use zeroize::Zeroizing;

/// A simulated key with PIN 123456 and a verify-required CA (every signature needs the PIN).
fn key_with_pin() -> (tempfile::TempDir, sk_ca::ResidentCa) {
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    t.set_pin(None, &Zeroizing::new("123456".into())).unwrap();
    let mut ui = ScriptedUi {
        pins: vec!["123456".into()],
        ..Default::default()
    };
    let ca = sk_ca::enroll(&mut t, &mut ui, "ssh:", true, false)
        .unwrap()
        .ca;
    (d, ca)
}

fn retries(d: &std::path::Path) -> Option<u8> {
    SimToken::open(d).unwrap().status().unwrap().pin_retries
}

fn sign(d: &std::path::Path, ca: &sk_ca::ResidentCa, ui: &mut ScriptedUi) -> Result<(), Error> {
    let mut s = SkCaSigner::new(SimToken::open(d).unwrap(), ca.clone(), true, None).unwrap();
    s.sign(b"to be signed", ui).map(|_| ())
}

#[test]
fn a_wrong_pin_is_asked_again_with_the_tries_left() {
    let (d, ca) = key_with_pin();
    let mut ui = ScriptedUi {
        pins: vec!["000000".into(), "111111".into(), "123456".into()],
        ask_again: true,
        ..Default::default()
    };
    sign(d.path(), &ca, &mut ui).unwrap();
    let pins: Vec<&String> = ui.shown.iter().filter(|s| s.starts_with("pin: ")).collect();
    assert_eq!(pins.len(), 3, "{:?}", ui.shown);
    assert!(pins[1].ends_with("(7 tries left): "), "{:?}", ui.shown);
    assert!(pins[2].ends_with("(6 tries left): "), "{:?}", ui.shown);
    assert!(ui
        .shown
        .contains(&"note: Wrong PIN; 7 tries left.".to_string()));
    assert!(ui
        .shown
        .contains(&"note: Wrong PIN; 6 tries left.".to_string()));
    // The right PIN resets the count, as on a real key.
    assert_eq!(retries(d.path()), Some(8));
}

#[test]
fn asking_stops_where_the_key_blocks() {
    let (d, ca) = key_with_pin();
    let mut ui = ScriptedUi {
        pins: vec!["000000".into(); 5],
        ask_again: true,
        ..Default::default()
    };
    match sign(d.path(), &ca, &mut ui) {
        Err(Error::Token(TokenError::PinAuthBlocked { simulated: true })) => {}
        other => panic!("expected the key's three-in-a-row block, got {other:?}"),
    }
    // Three tries went to the key, no more: two answers were never used.
    assert_eq!(ui.pins.len(), 2);
    assert_eq!(retries(d.path()), Some(5));
}

#[test]
fn a_fixed_pin_is_not_retried() {
    let (d, ca) = key_with_pin();
    let mut ui = ScriptedUi {
        pins: vec!["000000".into(), "123456".into()],
        ..Default::default() // ask_again false: BREAKGLASS_PIN, say
    };
    match sign(d.path(), &ca, &mut ui) {
        Err(Error::Token(TokenError::PinInvalid { tries_left: 7 })) => {}
        other => panic!("expected one wrong PIN, got {other:?}"),
    }
    assert_eq!(retries(d.path()), Some(7));
}

#[test]
fn empty_and_short_pins_never_reach_the_key() {
    let (d, ca) = key_with_pin();
    // Off a terminal: refused, no try spent.
    for short in ["", "123"] {
        let mut ui = ScriptedUi {
            pins: vec![short.into()],
            ..Default::default()
        };
        match sign(d.path(), &ca, &mut ui) {
            Err(Error::Token(TokenError::PinTooShort { min: 4 })) => {}
            other => panic!("{short:?}: expected PinTooShort, got {other:?}"),
        }
        assert_eq!(retries(d.path()), Some(8), "{short:?} cost a try");
    }
    // At a terminal: said so, asked again, still no try spent.
    let mut ui = ScriptedUi {
        pins: vec!["".into(), "12".into(), "123456".into()],
        ask_again: true,
        ..Default::default()
    };
    sign(d.path(), &ca, &mut ui).unwrap();
    assert!(ui
        .shown
        .iter()
        .any(|s| s == "note: No PIN typed; the PIN has at least 4 characters (no try was used)."));
    assert!(ui
        .shown
        .iter()
        .any(|s| s == "note: Too short; the PIN has at least 4 characters (no try was used)."));
    assert_eq!(retries(d.path()), Some(8));
}
