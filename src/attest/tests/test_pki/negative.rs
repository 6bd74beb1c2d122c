//! The negative cases of issue #24 item 7 on the test PKI: each refusal its own error.

use sha2::{Digest, Sha256};

use super::super::super::container::{Container, PivEvidence};
use super::super::super::testing::{self, FidoBatch, TestF9};
use super::*;

#[test]
fn an_attestation_for_another_key_is_refused() {
    let en = Enrolment::new();
    let mut other = Enrolment::new();
    other.signing_key = p256::ecdsa::SigningKey::from_slice(&[0x43; 32]).unwrap();
    let err = examine(
        &expect(Some(&other.ca()), None),
        &en.container(),
        &test_roots(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, AttestError::KeyMismatch { expected, .. } if *expected == other.ca().fingerprint(ssh_key::HashAlg::Sha256).to_string())
    );
    // A FIDO2 attestation for a PIV CA, and the other way round.
    assert_eq!(
        examine(
            &expect(Some(&piv_ca()), None),
            &en.container(),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::KindMismatch {
            attested: "FIDO2",
            ca: "plain (PIV or software)"
        }
    );
    assert_eq!(
        examine(
            &expect(Some(&en.ca()), None),
            &piv_container(&piv_slot(), 0x9c),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::KindMismatch {
            attested: "PIV",
            ca: "FIDO2 (sk)"
        }
    );
    let mut other_piv = piv_slot();
    other_piv.public_key = p256::ecdsa::SigningKey::from_slice(&[0x25; 32])
        .unwrap()
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    assert!(matches!(
        examine(
            &expect(Some(&piv_ca()), None),
            &piv_container(&other_piv, 0x9c),
            &test_roots()
        ),
        Err(AttestError::KeyMismatch { .. })
    ));
}

#[test]
fn a_wrong_challenge_is_refused() {
    let en = Enrolment::new();
    let ca = en.ca();
    assert_eq!(
        examine(
            &expect(Some(&ca), Some(b"another challenge")),
            &en.container(),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::WrongChallenge
    );
    let Container::Fido(f) = Container::Fido(en.evidence()) else {
        unreachable!()
    };
    let ssh_file = f.ssh_sk_attestation();
    let mut flipped = CHALLENGE.to_vec();
    flipped[0] ^= 1;
    assert_eq!(
        examine(&expect(Some(&ca), Some(&flipped)), &ssh_file, &test_roots()).unwrap_err(),
        AttestError::WrongChallenge
    );
    assert_eq!(
        examine(&expect(Some(&ca), None), &ssh_file, &test_roots()).unwrap_err(),
        AttestError::MissingChallenge
    );
    // A container whose stored challenge was changed no longer matches its signature.
    let mut ev = en.evidence();
    ev.challenge[0] ^= 1;
    assert_eq!(
        examine(
            &expect(Some(&ca), None),
            &Container::Fido(ev).encode(),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::BadSignature
    );
}

#[test]
fn a_wrong_application_is_refused() {
    let en = Enrolment::new();
    let mut team = Enrolment::new();
    team.application = "ssh:team".into();
    assert_eq!(
        examine(
            &expect(Some(&team.ca()), None),
            &en.container(),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::WrongApplication {
            attested: "ssh:".into(),
            expected: "ssh:team".into()
        }
    );
    // ssh:team's own enrolment is fine.
    examine(
        &expect(Some(&team.ca()), None),
        &team.container(),
        &test_roots(),
    )
    .unwrap();
}

#[test]
fn self_attestation_proves_nothing() {
    let mut en = Enrolment::new();
    en.self_attested = true;
    let err = examine(
        &expect(Some(&en.ca()), None),
        &en.container(),
        &test_roots(),
    )
    .unwrap_err();
    assert_eq!(err, AttestError::SelfAttestation);
    assert!(err.to_string().contains("proves nothing about hardware"));
}

#[test]
fn an_unknown_root_is_refused() {
    let en = Enrolment::new();
    // Only the root, without the FIDO CA: the batch certificate's issuer is unknown.
    let root_only = TrustStore::from_bytes(testing::TEST_ROOT_PEM.as_bytes(), "root only").unwrap();
    assert!(matches!(
        examine(&expect(None, None), &en.container(), &root_only),
        Err(AttestError::UnknownRoot { issuer }) if issuer.contains("FIDO attestation CA")
    ));
}

#[test]
fn attestation_certificates_that_break_webauthn_rules_are_refused() {
    let roots = test_roots();
    let mut en = Enrolment::new();
    en.leaf_is_ca = true;
    assert_eq!(
        examine(&expect(None, None), &en.container(), &roots).unwrap_err(),
        AttestError::LeafIsCa
    );

    let mut en = Enrolment::new();
    en.leaf_subject = "CN=breakglass TEST batch,OU=Something Else,O=breakglass test,C=ZZ";
    assert_eq!(
        examine(&expect(None, None), &en.container(), &roots).unwrap_err(),
        AttestError::LeafWrongOu {
            found: "Something Else".into()
        }
    );

    let mut en = Enrolment::new();
    en.leaf_subject = "CN=breakglass TEST batch,OU=Authenticator Attestation,O=breakglass test";
    assert!(matches!(
        examine(&expect(None, None), &en.container(), &roots),
        Err(AttestError::LeafProfile { what }) if what.contains("no C")
    ));

    let mut en = Enrolment::new();
    en.leaf_aaguid = Some([0x11; 16]);
    assert_eq!(
        examine(&expect(None, None), &en.container(), &roots).unwrap_err(),
        AttestError::AaguidMismatch {
            certificate: "11111111-1111-1111-1111-111111111111".into(),
            authenticator: aaguid::format_aaguid(&aaguid::SIM_AAGUID),
        }
    );
}

#[test]
fn backup_flags_are_refused() {
    for (extra, be, bs) in [
        (flags::BE, true, false),
        (flags::BS, false, true),
        (flags::BE | flags::BS, true, true),
    ] {
        let mut en = Enrolment::new();
        en.flags |= extra;
        assert_eq!(
            examine(
                &expect(Some(&en.ca()), None),
                &en.container(),
                &test_roots()
            )
            .unwrap_err(),
            AttestError::Backup {
                eligible: be,
                backed_up: bs
            }
        );
    }
    let mut en = Enrolment::new();
    en.flags &= !flags::UP;
    assert_eq!(
        examine(
            &expect(Some(&en.ca()), None),
            &en.container(),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::UserNotPresent
    );
}

#[test]
fn a_simulated_piv_attestation_verifies_and_reports_the_card() {
    let file = piv_container(&piv_slot(), 0x9c);
    let ca = piv_ca();
    let e = Expect {
        ca: Some(&ca),
        challenge: None,
        piv_slot: Some(0x9c),
    };
    let report = verify(&e, &file, &test_roots(), &Policy::default()).unwrap();
    assert_eq!(
        (report.kind, report.format),
        (Kind::Piv, Format::Breakglass)
    );
    assert_eq!(report.vendor, "breakglass test");
    assert_eq!(report.serial, Some(12345678));
    assert_eq!(
        report.model.as_deref(),
        Some("YubiKey 5C or 5C NFC (USB-C keychain)")
    );
    let piv = report.piv.as_ref().unwrap();
    assert_eq!(
        (
            piv.slot.as_str(),
            piv.pin_policy.as_str(),
            piv.touch_policy.as_str()
        ),
        ("9c", "once", "always")
    );
    assert_eq!(
        report.chain,
        [
            "CN=YubiKey PIV Attestation 9c",
            "CN=breakglass TEST PIV attestation (f9) - NOT A VENDOR,O=breakglass test",
            "CN=breakglass TEST attestation root - NOT A VENDOR,O=breakglass test"
        ]
    );
    assert!(report.warnings.is_empty());
    assert!(matches!(
        verify(&e, &file, &TrustStore::yubico(), &Policy::default()),
        Err(AttestError::UnknownRoot { .. })
    ));
    // The card's default firmware, 5.4.3, is below the floor.
    let mut old = piv_slot();
    old.firmware = FirmwareVersion::new(5, 4, 3);
    assert!(matches!(
        verify(&e, &piv_container(&old, 0x9c), &test_roots(), &Policy::default()),
        Err(AttestError::FirmwareBelowFloor { firmware, .. }) if firmware == "5.4.3"
    ));
}

#[test]
fn piv_touch_policy_never_is_refused_and_pin_policy_never_is_a_warning() {
    let ca = piv_ca();
    let e = expect(Some(&ca), None);
    let mut s = piv_slot();
    s.touch_policy = 1;
    assert_eq!(
        verify(
            &e,
            &piv_container(&s, 0x9c),
            &test_roots(),
            &Policy::default()
        )
        .unwrap_err(),
        AttestError::TouchPolicyNever
    );
    let mut s = piv_slot();
    s.pin_policy = 1;
    let r = verify(
        &e,
        &piv_container(&s, 0x9c),
        &test_roots(),
        &Policy::default(),
    )
    .unwrap();
    assert!(
        r.warnings.iter().any(|w| w.starts_with("PIN policy never")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_piv_attestation_for_another_slot_is_refused() {
    let ca = piv_ca();
    // The container records 9a, the certificate attests 9c.
    assert_eq!(
        examine(
            &expect(Some(&ca), None),
            &piv_container(&piv_slot(), 0x9a),
            &test_roots()
        )
        .unwrap_err(),
        AttestError::WrongSlot {
            attested: "9c".into(),
            expected: "9a".into()
        }
    );
    // The CA's reference file says 82.
    let e = Expect {
        ca: Some(&ca),
        challenge: None,
        piv_slot: Some(0x82),
    };
    assert_eq!(
        examine(&e, &piv_container(&piv_slot(), 0x9c), &test_roots()).unwrap_err(),
        AttestError::WrongSlot {
            attested: "9c".into(),
            expected: "82".into()
        }
    );
}

#[test]
fn a_replaced_f9_certificate_is_refused() {
    let ca = piv_ca();
    let e = expect(Some(&ca), None);
    let f9 = TestF9::fixture().unwrap();
    let slot_certificate = f9.attest_slot(&piv_slot()).unwrap();

    // Another device's f9 certificate beside this slot certificate.
    let swapped = Container::Piv(PivEvidence {
        slot: 0x9c,
        slot_certificate: slot_certificate.clone(),
        f9_certificate: PIV_5C_F9.to_vec(),
    });
    assert_eq!(
        examine(&e, &swapped.encode(), &test_roots()).unwrap_err(),
        AttestError::F9Replaced
    );

    // An f9 certificate with the same name but another key (the owner overwrote 5FFF01).
    let other_key = p256::ecdsa::SigningKey::from_slice(&[0x66; 32]).unwrap();
    let forged_f9 = testing::issue(
        &other_key,
        testing::name(testing::TEST_ROOT_SUBJECT).unwrap(),
        testing::name(testing::TEST_F9_SUBJECT).unwrap(),
        &[0x03],
        testing::validity().unwrap(),
        testing::ec_spki(&testing::sec1(&other_key)).unwrap(),
        vec![],
    )
    .unwrap();
    let replaced = Container::Piv(PivEvidence {
        slot: 0x9c,
        slot_certificate,
        f9_certificate: forged_f9.clone(),
    });
    assert_eq!(
        examine(&e, &replaced.encode(), &test_roots()).unwrap_err(),
        AttestError::F9Replaced
    );

    // A slot certificate made by that replaced f9 key: the slot signature holds, but the f9
    // certificate does not chain (its issuer name is the test root's, its signature is not).
    let forged_slot = testing::issue(
        &other_key,
        testing::name(testing::TEST_F9_SUBJECT).unwrap(),
        testing::name("CN=YubiKey PIV Attestation 9c").unwrap(),
        &[0x04],
        testing::validity().unwrap(),
        testing::ec_spki(&piv_slot().public_key).unwrap(),
        vec![],
    )
    .unwrap();
    let forged = Container::Piv(PivEvidence {
        slot: 0x9c,
        slot_certificate: forged_slot,
        f9_certificate: forged_f9,
    });
    assert!(matches!(
        examine(&e, &forged.encode(), &test_roots()),
        Err(AttestError::ChainSignature { subject, .. }) if subject.contains("(f9)")
    ));
}

#[test]
fn cut_padded_v00_and_malformed_files_each_get_their_own_error() {
    let en = Enrolment::new();
    let file = en.container();
    let roots = test_roots();
    let ca = en.ca();
    let e = expect(Some(&ca), Some(CHALLENGE));
    assert!(matches!(
        examine(&e, &file[..file.len() - 3], &roots),
        Err(AttestError::Truncated { .. })
    ));
    let mut padded = file.clone();
    padded.extend_from_slice(b"\n");
    assert!(matches!(
        examine(&e, &padded, &roots),
        Err(AttestError::TrailingBytes { extra: 1, .. })
    ));

    let Container::Fido(f) = Container::Fido(en.evidence()) else {
        unreachable!()
    };
    let ssh_file = f.ssh_sk_attestation();
    assert!(matches!(
        examine(&e, &ssh_file[..100], &roots),
        Err(AttestError::Truncated { .. })
    ));
    let mut padded = ssh_file.clone();
    padded.push(0);
    assert!(matches!(
        examine(&e, &padded, &roots),
        Err(AttestError::TrailingBytes { .. })
    ));

    let mut v00 = b"\0\0\0\x11ssh-sk-attest-v00".to_vec();
    v00.extend_from_slice(&ssh_file[21..]);
    assert_eq!(
        examine(&e, &v00, &roots).unwrap_err(),
        AttestError::SshSkV00
    );

    assert_eq!(
        examine(&e, b"hello", &roots).unwrap_err(),
        AttestError::UnknownFormat
    );
    assert_eq!(
        examine(&e, b"", &roots).unwrap_err(),
        AttestError::UnknownFormat
    );
    assert!(matches!(
        examine(&e, &vec![0u8; MAX_ATTESTATION_LEN + 1], &roots),
        Err(AttestError::TooLarge { .. })
    ));
    assert!(matches!(
        examine(&e, PIV_5C_SLOT, &roots),
        Err(AttestError::Malformed { .. })
    ));
    let mut bad_cert = piv_pair(PIV_5C_SLOT, PIV_5C_F9);
    bad_cert[20] ^= 0xff;
    assert!(examine(&Expect::default(), &bad_cert, &roots).is_err());

    // Raw (not CBOR-wrapped) authData, as breakglass's own sk-provider returns it today
    // (ATTESTATION.md §2): a clear error, not a misparse.
    let mut raw = Vec::new();
    for field in [
        b"ssh-sk-attest-v01".as_slice(),
        &f.x5c[0],
        &f.signature,
        &f.auth_data,
    ] {
        raw.extend_from_slice(&(field.len() as u32).to_be_bytes());
        raw.extend_from_slice(field);
    }
    raw.extend_from_slice(&[0; 8]);
    assert!(
        matches!(examine(&e, &raw, &roots), Err(AttestError::Malformed { what }) if what.contains("CBOR"))
    );
}

#[test]
fn every_error_has_a_hint_and_a_kind() {
    let samples = [
        AttestError::SelfAttestation,
        AttestError::WrongChallenge,
        AttestError::TouchPolicyNever,
        AttestError::F9Replaced,
        AttestError::UnknownFormat,
        AttestError::BadFloor("x".into()),
    ];
    for e in samples {
        assert!(!e.hint().is_empty() && e.hint().ends_with('.'), "{e:?}");
        assert!(e.kind().starts_with("attestation-"));
        assert!(!e.to_string().ends_with('.'));
    }
    assert!(AttestError::BadFloor("x".into()).is_usage());
    assert!(!AttestError::SelfAttestation.is_usage());
}

#[test]
fn the_batch_certificate_is_deterministic_and_matches_the_committed_samples() {
    let batch = FidoBatch::fixture().unwrap();
    for (fw, pem) in [
        (
            "5.4.3",
            include_str!("../../../../tests/fixtures/attest/fido-batch-fw5.4.3.pem"),
        ),
        (
            "5.7.4",
            include_str!("../../../../tests/fixtures/attest/fido-batch-fw5.7.4.pem"),
        ),
    ] {
        let v: FirmwareVersion = fw.parse().unwrap();
        let made = batch.certificate(&aaguid::SIM_AAGUID, Some(v)).unwrap();
        assert_eq!(roots::pem_certificates(pem.as_bytes()).unwrap(), vec![made]);
    }
}

#[test]
fn the_committed_test_pki_is_what_its_keys_make() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest");
    let key = |n: &str| {
        testing::load_key_pem(&std::fs::read_to_string(format!("{dir}/keys/{n}.key.pem")).unwrap())
            .unwrap()
    };
    let [root, fido_ca, f9] = testing::build_fixture_certificates(
        &key("test-root"),
        &key("test-fido-ca"),
        &key("piv-f9"),
    )
    .unwrap();
    assert_eq!(root, testing::TEST_ROOT_PEM);
    assert_eq!(fido_ca, testing::TEST_FIDO_CA_PEM);
    assert_eq!(f9, testing::TEST_F9_PEM);
    // The default store does not hold the test root.
    let test_root = roots::pem_certificates(testing::TEST_ROOT_PEM.as_bytes())
        .unwrap()
        .remove(0);
    let fp = x509::colon_hex(&Sha256::digest(&test_root));
    assert!(TrustStore::yubico()
        .certificates()
        .iter()
        .all(|(f, _)| *f != fp));
}

#[test]
fn the_report_reads_as_lines() {
    let ca = pubkey(FIPS_PUB);
    let r = verify(
        &expect(Some(&ca), Some(FIPS_CHALLENGE)),
        FIPS_ATTEST,
        &TrustStore::yubico(),
        &none(),
    )
    .unwrap();
    let text: Vec<String> = r
        .lines()
        .iter()
        .map(|(k, v)| format!("{k:>15}  {v}"))
        .collect();
    let text = text.join("\n");
    assert!(
        text.starts_with("    attestation  FIDO2, ssh-keygen attestation (ssh-sk-attest-v01)\n         vendor  Yubico\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "       firmware  5.4.3 (from the attestation certificate, OID 1.3.6.1.4.1.41482.13.1)"
        ),
        "{text}"
    );
    assert!(text.contains("   root SHA-256  0F:A1:38"), "{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["firmware"]["source"], "fido-certificate");
    assert_eq!(json["kind"], "fido2");
}

#[test]
fn a_certificate_that_names_yubico_as_issuer_but_was_not_signed_by_yubico_is_refused() {
    // The batch certificate of a real enrolment, re-issued by the test FIDO CA's key under the
    // name of Yubico's U2F root: the names chain, the signature does not.
    let en = Enrolment::new();
    let mut ev = en.evidence();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest/keys");
    let ca_key = testing::load_key_pem(
        &std::fs::read_to_string(format!("{dir}/test-fido-ca.key.pem")).unwrap(),
    )
    .unwrap();
    let leaf = x509::Cert::from_der(&ev.x5c[0]).unwrap();
    let x509::PublicKey::P256(batch_point, _) = leaf.public_key() else {
        unreachable!()
    };
    ev.x5c[0] = testing::issue(
        &ca_key,
        testing::name("CN=Yubico U2F Root CA Serial 457200631").unwrap(),
        testing::name(testing::FIDO_BATCH_SUBJECT).unwrap(),
        &[0x05],
        testing::validity().unwrap(),
        testing::ec_spki(&batch_point).unwrap(),
        vec![testing::ext(
            der::asn1::ObjectIdentifier::new_unwrap("2.5.29.19"),
            true,
            vec![0x30, 0x00],
        )
        .unwrap()],
    )
    .unwrap();
    let err = examine(
        &expect(Some(&en.ca()), None),
        &Container::Fido(ev).encode(),
        &TrustStore::yubico(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AttestError::ChainSignature {
            subject: testing::FIDO_BATCH_SUBJECT.into(),
            issuer: "CN=Yubico U2F Root CA Serial 457200631".into()
        }
    );
}
