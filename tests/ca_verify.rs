//! `breakglass ca verify` beyond its pinned case files (tests/cmd/ca/): the `--json` document
//! as a program reads it, and the attestations the virtual keys make (vfido-hid's packed
//! attestation from a CTAP2 makeCredential, vpiv-card's ATTEST and f9 certificate read in
//! pieces with GET RESPONSE) checked by the binary against the test root, and refused by the
//! default trust store and the EUCLEAK floor. The pcscd path (the `yubikey` crate's own ATTEST)
//! is in tests/piv_vpcd.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use breakglass::attest::container::{Container, FidoEvidence, PivEvidence};
use breakglass::attest::FirmwareVersion;
use breakglass::ssh::sk;
use breakglass::token::sim::{SimToken, Touch};
use sha2::{Digest, Sha256};
use vfido_hid::cbor::{self, as_array, as_bytes, bytes, int, text, Params, Value};
use vfido_hid::ctap2::{Authenticator, Timing};
use vfido_hid::ctaphid::{Ctap2, Step, TouchOutcome};
use vpiv_card::{Card, CardConfig, CardState, SlotKey, StatusWord};

const FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/ca/files");
const TEST_ROOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest/roots");

fn ca_verify(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new(common::bin())
        .args(["ca", "verify"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    eprintln!(
        "$ breakglass ca verify {}\n{}{}exit {:?}",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code()
    );
    o
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).expect("one JSON document on stdout")
}

#[test]
fn the_json_document_says_the_verdict_and_what_the_attestation_states() {
    let dir = Path::new(FILES);
    let o = ca_verify(dir, &["ca.pub", "--roots", "roots", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["ca"], "ca.pub");
    assert_eq!(v["attestation"], serde_json::json!(["ca.attest"]));
    assert_eq!(v["report"]["kind"], "fido2");
    assert_eq!(v["report"]["key"]["matches_ca"], true);
    assert_eq!(v["report"]["firmware"]["version"], "5.7.4");
    assert_eq!(v["report"]["firmware"]["source"], "fido-certificate");
    assert_eq!(v["report"]["floor"], "5.7.0");
    assert!(v.get("error").is_none());

    // Refused by the floor: the error, and still what the attestation says.
    let o = ca_verify(
        dir,
        &[
            "piv-5ci-fw5.2.4.pub",
            "--attestation",
            "piv-5ci-fw5.2.4-slot93.der",
            "--attestation",
            "piv-5ci-fw5.2.4-f9.der",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["verdict"], "refused");
    assert_eq!(v["error"]["kind"], "attestation-firmware-below-floor");
    assert!(v["error"]["message"].as_str().unwrap().contains("EUCLEAK"));
    assert_eq!(v["report"]["serial"], 11778047);
    assert_eq!(v["report"]["piv"]["slot"], "93");
    assert_eq!(v["report"]["vendor"], "Yubico");

    // Not genuine: no report at all.
    let o = ca_verify(
        dir,
        &[
            "ca.pub",
            "--attestation",
            "self.attest",
            "--roots",
            "roots",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["error"]["kind"], "attestation-self");
    assert!(v["report"].is_null());

    // A mistyped floor is a usage error (exit 2), as one error document.
    let o = ca_verify(dir, &["ca.pub", "--min-firmware", "latest", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["error"]["kind"], "attestation-bad-floor");
}

// --- vfido-hid ---

/// A makeCredential as OpenSSH sends it for `ssh-keygen -t ecdsa-sk -O resident
/// -O challenge=FILE`, answered by the virtual key; the files init-ca (CA.attest, CA.pub) and
/// ssh-keygen (-O write-attestation) would write from the answer, in `dir`.
fn enrol_virtual_fido(dir: &Path, firmware: Option<FirmwareVersion>, challenge: &[u8]) {
    let state = dir.join("key");
    let mut k = Authenticator::new(
        SimToken::open(&state).unwrap(),
        Touch::Approve,
        Timing::default(),
    )
    .unwrap()
    .with_firmware(firmware);
    let cdh: [u8; 32] = Sha256::digest(challenge).into();
    let m = |e: Vec<(Value, Value)>| Value::Map(e);
    let req = m(vec![
        (int(1), bytes(&cdh)),
        (int(2), m(vec![(text("id"), text("ssh:"))])),
        (
            int(3),
            m(vec![
                (text("id"), bytes(&[0; 32])),
                (text("name"), text("openssh")),
            ]),
        ),
        (
            int(4),
            Value::Array(vec![m(vec![
                (text("alg"), int(-7)),
                (text("type"), text("public-key")),
            ])]),
        ),
        (int(7), m(vec![(text("rk"), Value::Bool(true))])),
    ]);
    let mut r = vec![0x01];
    r.extend_from_slice(&cbor::encode(req));
    let resp = match k.begin(&r) {
        Step::NeedsTouch(d) => k.finish(d, TouchOutcome::Touched),
        Step::Done(r) => r,
    };
    assert_eq!(resp[0], 0, "makeCredential failed");
    let body = Params::parse(&resp[1..]).unwrap();
    let auth_data = as_bytes(body.get(2).unwrap()).unwrap().to_vec();
    let att = Params::from_map(body.get(3).unwrap()).unwrap();
    let x5c: Vec<Vec<u8>> = as_array(att.get_text("x5c").expect("x5c: basic attestation"))
        .unwrap()
        .iter()
        .map(|c| as_bytes(c).unwrap().to_vec())
        .collect();
    let point = sk::parse_auth_data(&auth_data)
        .unwrap()
        .attested
        .unwrap()
        .public_point;
    let ca = ssh_key::PublicKey::from(sk::sk_public_key(&point, "ssh:").unwrap());
    std::fs::write(
        dir.join("CA.pub"),
        format!("{}\n", ca.to_openssh().unwrap()),
    )
    .unwrap();
    let evidence = FidoEvidence {
        application: "ssh:".into(),
        challenge: challenge.to_vec(),
        signature: as_bytes(att.get_text("sig").unwrap()).unwrap().to_vec(),
        auth_data,
        x5c,
    };
    std::fs::write(dir.join("ssh-keygen.attest"), evidence.ssh_sk_attestation()).unwrap();
    std::fs::write(dir.join("challenge"), challenge).unwrap();
    std::fs::write(dir.join("CA.attest"), Container::Fido(evidence).encode()).unwrap();
}

#[test]
fn the_virtual_fido2_keys_attestation_verifies_with_the_test_root_only() {
    let d = tempfile::tempdir().unwrap();
    enrol_virtual_fido(
        d.path(),
        Some(FirmwareVersion::new(5, 7, 4)),
        b"vm challenge",
    );
    let o = ca_verify(d.path(), &["CA.pub", "--roots", TEST_ROOTS]);
    assert_eq!(o.status.code(), Some(0), "{}", common::err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("CA.attest: VALID attestation of the CA CA.pub\n"),
        "{out}"
    );
    assert!(
        out.contains("model           breakglass simulated key (SIMULATED)"),
        "{out}"
    );
    assert!(
        out.contains("firmware        5.7.4 (from the attestation certificate"),
        "{out}"
    );
    // ssh-keygen's file of the same enrolment, with its challenge; a flipped byte fails.
    let o = ca_verify(
        d.path(),
        &[
            "CA.pub",
            "--attestation",
            "ssh-keygen.attest",
            "--challenge",
            "challenge",
            "--roots",
            TEST_ROOTS,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::err(&o));
    std::fs::write(d.path().join("flipped"), b"wm challenge").unwrap();
    let o = ca_verify(
        d.path(),
        &[
            "CA.pub",
            "--attestation",
            "ssh-keygen.attest",
            "--challenge",
            "flipped",
            "--roots",
            TEST_ROOTS,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::err(&o).contains("does not verify with this challenge"),
        "{}",
        common::err(&o)
    );
    // Yubico's roots (the default) do not know the test root.
    let o = ca_verify(d.path(), &["CA.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::err(&o).contains("which is not a trusted root"),
        "{}",
        common::err(&o)
    );

    // Old firmware: refused naming EUCLEAK, accepted knowingly.
    let d = tempfile::tempdir().unwrap();
    enrol_virtual_fido(d.path(), Some(FirmwareVersion::new(5, 4, 3)), b"c");
    let o = ca_verify(d.path(), &["CA.pub", "--roots", TEST_ROOTS]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::err(&o).contains("firmware 5.4.3"),
        "{}",
        common::err(&o)
    );
    assert!(common::err(&o).contains("EUCLEAK"), "{}", common::err(&o));
    let o = ca_verify(
        d.path(),
        &["CA.pub", "--roots", TEST_ROOTS, "--min-firmware", "none"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::err(&o));
}

// --- vpiv-card ---

fn apdu(card: &mut Card, a: &[u8]) -> (StatusWord, Vec<u8>) {
    let mut r = card.process_apdu(a);
    let mut data = Vec::new();
    loop {
        let sw = StatusWord::of_response(&r).unwrap();
        data.extend_from_slice(&r[..r.len() - 2]);
        match sw {
            StatusWord::BytesRemaining { .. } => r = card.process_apdu(&[0x00, 0xC0, 0x00, 0x00]),
            sw => return (sw, data),
        }
    }
}

/// A card with a key generated in slot 82 (PIN once, touch always, as init-ca makes it), its
/// CA.pub, and what ATTEST and GET DATA 5FFF01 return, as a CA.attest, in `dir`.
fn attest_virtual_piv(dir: &Path, version: (u8, u8, u8), origin: u8) -> (StatusWord, PathBuf) {
    let scalar = [0x31u8; 32];
    let state = dir.join("card.json");
    let mut st = CardState::factory(version);
    st.slots.insert(
        "82".into(),
        SlotKey {
            alg: 0x11,
            pin_policy: 2,
            touch_policy: 2,
            origin,
            secret: scalar.iter().map(|b| format!("{b:02x}")).collect(),
        },
    );
    st.save(&state).unwrap();
    let mut cfg = CardConfig::new(&state);
    cfg.version = version;
    cfg.serial = 7654321;
    let mut card = Card::open(&cfg).unwrap();
    let point = p256::ecdsa::SigningKey::from_slice(&scalar)
        .unwrap()
        .verifying_key()
        .to_sec1_point(false);
    let ca = ssh_key::PublicKey::from(ssh_key::public::KeyData::Ecdsa(
        ssh_key::public::EcdsaPublicKey::from_sec1_bytes(point.as_bytes()).unwrap(),
    ));
    std::fs::write(
        dir.join("CA.pub"),
        format!("{}\n", ca.to_openssh().unwrap()),
    )
    .unwrap();
    let (sw, slot_certificate) = apdu(&mut card, &[0x00, 0xF9, 0x82, 0x00]);
    if sw != StatusWord::Success {
        return (sw, dir.join("CA.attest"));
    }
    let (sw, object) = apdu(
        &mut card,
        &[0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xFF, 0x01],
    );
    assert_eq!(sw, StatusWord::Success);
    let (0x53, body, _) = vpiv_card::tlv::parse(&object).unwrap() else {
        panic!("5FFF01 is not 53 {{…}}");
    };
    let items = vpiv_card::tlv::parse_all(body).unwrap();
    let f9 = vpiv_card::tlv::find(&items, 0x70).unwrap().to_vec();
    let file = Container::Piv(PivEvidence {
        slot: 0x82,
        slot_certificate,
        f9_certificate: f9,
    })
    .encode();
    std::fs::write(dir.join("CA.attest"), file).unwrap();
    (sw, dir.join("CA.attest"))
}

#[test]
fn the_virtual_piv_cards_attestation_verifies_with_the_test_root_only() {
    let d = tempfile::tempdir().unwrap();
    let (sw, _) = attest_virtual_piv(d.path(), (5, 7, 4), 0x01);
    assert_eq!(sw, StatusWord::Success);
    let o = ca_verify(d.path(), &["CA.pub", "--roots", TEST_ROOTS]);
    assert_eq!(o.status.code(), Some(0), "{}", common::err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "CA.attest: VALID attestation of the CA CA.pub\n",
        "firmware        5.7.4 (from the slot attestation certificate",
        "serial          7654321\n",
        "slot            82\n",
        "PIN policy      once\n",
        "touch policy    always\n",
        "CN=breakglass TEST PIV attestation (f9) - NOT A VENDOR",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
    let o = ca_verify(d.path(), &["CA.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::err(&o).contains("which is not a trusted root"),
        "{}",
        common::err(&o)
    );

    // The card's default firmware, 5.4.3: refused naming EUCLEAK.
    let d = tempfile::tempdir().unwrap();
    attest_virtual_piv(d.path(), (5, 4, 3), 0x01);
    let o = ca_verify(d.path(), &["CA.pub", "--roots", TEST_ROOTS]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::err(&o).contains("firmware 5.4.3"),
        "{}",
        common::err(&o)
    );
    assert!(common::err(&o).contains("EUCLEAK"), "{}", common::err(&o));

    // An imported key is not attested: the card refuses, so there is nothing to verify.
    let d = tempfile::tempdir().unwrap();
    let (sw, attest) = attest_virtual_piv(d.path(), (5, 7, 4), 0x02);
    assert_eq!(sw, StatusWord::IncorrectData);
    assert!(!attest.exists());
}
