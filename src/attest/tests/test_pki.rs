//! The test PKI (what the simulators emit) and every negative case of issue #24 item 7, each
//! its own error.

use sha2::{Digest, Sha256};
use ssh_key::public::{EcdsaPublicKey, KeyData, SkEcdsaSha2NistP256};

use super::super::container::{Container, FidoEvidence, PivEvidence};
use super::super::testing::{self, FidoBatch, PivSlot, TestF9};
use super::*;

const APP: &str = "ssh:";
const CHALLENGE: &[u8] = b"breakglass init-ca challenge, 32b";

struct Enrolment {
    signing_key: p256::ecdsa::SigningKey,
    application: String,
    flags: u8,
    aaguid: [u8; 16],
    firmware: Option<FirmwareVersion>,
    leaf_subject: &'static str,
    leaf_is_ca: bool,
    leaf_aaguid: Option<[u8; 16]>,
    self_attested: bool,
}

impl Enrolment {
    fn new() -> Self {
        Enrolment {
            signing_key: p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap(),
            application: APP.into(),
            flags: flags::UP | flags::UV | flags::AT,
            aaguid: aaguid::SIM_AAGUID,
            firmware: Some(FirmwareVersion::new(5, 7, 4)),
            leaf_subject: testing::FIDO_BATCH_SUBJECT,
            leaf_is_ca: false,
            leaf_aaguid: None,
            self_attested: false,
        }
    }

    fn point(&self) -> [u8; 65] {
        self.signing_key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .try_into()
            .unwrap()
    }

    fn ca(&self) -> ssh_key::PublicKey {
        let EcdsaPublicKey::NistP256(p) = EcdsaPublicKey::from_sec1_bytes(&self.point()).unwrap()
        else {
            unreachable!()
        };
        KeyData::SkEcdsaSha2NistP256(SkEcdsaSha2NistP256::new(p, self.application.clone())).into()
    }

    fn auth_data(&self) -> Vec<u8> {
        let mut d = Sha256::digest(self.application.as_bytes()).to_vec();
        d.push(self.flags);
        d.extend_from_slice(&1u32.to_be_bytes());
        d.extend_from_slice(&self.aaguid);
        d.extend_from_slice(&[0, 4, 1, 2, 3, 4]);
        d.extend_from_slice(&crate::ssh::sk::point_to_cose(&self.point()));
        d
    }

    fn evidence(&self) -> FidoEvidence {
        let ad = self.auth_data();
        let cdh: [u8; 32] = Sha256::digest(CHALLENGE).into();
        let (signature, x5c) = if self.self_attested {
            use signature::Signer;
            let mut m = ad.clone();
            m.extend_from_slice(&cdh);
            let s: p256::ecdsa::Signature = self.signing_key.sign(&m);
            (s.to_der().as_bytes().to_vec(), vec![])
        } else {
            let batch = FidoBatch::fixture().unwrap();
            let leaf = batch
                .certificate_with(
                    self.leaf_subject,
                    &self.leaf_aaguid.unwrap_or(self.aaguid),
                    self.firmware,
                    self.leaf_is_ca,
                )
                .unwrap();
            (batch.sign(&ad, &cdh), vec![leaf])
        };
        FidoEvidence {
            application: self.application.clone(),
            challenge: CHALLENGE.to_vec(),
            auth_data: ad,
            signature,
            x5c,
        }
    }

    fn container(&self) -> Vec<u8> {
        Container::Fido(self.evidence()).encode()
    }
}

fn test_roots() -> TrustStore {
    testing::trust_store().unwrap()
}

fn p256_piv_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x24; 32]).unwrap()
}

fn piv_slot() -> PivSlot {
    PivSlot {
        slot: 0x9c,
        public_key: p256_piv_key()
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec(),
        pin_policy: 2,
        touch_policy: 2,
        firmware: FirmwareVersion::new(5, 7, 4),
        serial: 12345678,
        form_factor: 3,
    }
}

fn piv_ca() -> ssh_key::PublicKey {
    let sec1 = piv_slot().public_key;
    KeyData::Ecdsa(EcdsaPublicKey::from_sec1_bytes(&sec1).unwrap()).into()
}

fn piv_container(slot: &PivSlot, recorded_slot: u8) -> Vec<u8> {
    let f9 = TestF9::fixture().unwrap();
    Container::Piv(PivEvidence {
        slot: recorded_slot,
        slot_certificate: f9.attest_slot(slot).unwrap(),
        f9_certificate: f9.certificate().to_vec(),
    })
    .encode()
}

#[test]
fn a_simulated_fido2_enrolment_verifies_under_the_test_root_only() {
    let en = Enrolment::new();
    let ca = en.ca();
    let file = en.container();
    let report = verify(
        &expect(Some(&ca), None),
        &file,
        &test_roots(),
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(report.vendor, "breakglass test");
    assert_eq!(
        report.model.as_deref(),
        Some("breakglass simulated key (SIMULATED)")
    );
    let fw = report.firmware.as_ref().unwrap();
    assert_eq!(
        (fw.version.as_str(), fw.source),
        ("5.7.4", FirmwareSource::FidoCertificate)
    );
    assert_eq!(
        report.chain,
        [
            "CN=breakglass TEST batch attestation - NOT A VENDOR,OU=Authenticator Attestation,O=breakglass test,C=ZZ",
            "CN=breakglass TEST FIDO attestation CA - NOT A VENDOR,O=breakglass test",
            "CN=breakglass TEST attestation root - NOT A VENDOR,O=breakglass test"
        ]
    );
    assert_eq!(
        report.fido.as_ref().unwrap().challenge,
        "signature verified over the challenge stored in CA.attest"
    );
    // Accepted under the test root, and said to be SIMULATED.
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].starts_with("SIMULATED: "),
        "{:?}",
        report.warnings
    );
    // The same evidence as ssh-keygen would have written it, with the challenge file.
    let ssh = Container::Fido(en.evidence());
    let Container::Fido(f) = &ssh else {
        unreachable!()
    };
    let ssh_file = f.ssh_sk_attestation();
    let r2 = verify(
        &expect(Some(&ca), Some(CHALLENGE)),
        &ssh_file,
        &test_roots(),
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(r2.format, Format::SshSkAttestV01);
    assert_eq!(r2.key, report.key);
    // Never trusted by default.
    assert!(matches!(
        verify(&expect(Some(&ca), None), &file, &TrustStore::yubico(), &Policy::default()),
        Err(AttestError::UnknownRoot { issuer }) if issuer.contains("breakglass TEST FIDO attestation CA")
    ));
}

#[test]
fn describing_without_a_ca_names_the_key() {
    let en = Enrolment::new();
    let report = examine(&Expect::default(), &en.container(), &test_roots()).unwrap();
    assert!(!report.key.matches_ca);
    assert_eq!(report.key.openssh, en.ca().to_openssh().ok());
}

#[test]
fn the_firmware_floor_is_testable_both_ways() {
    let mut en = Enrolment::new();
    let roots = test_roots();
    for (fw, ok) in [
        ((5, 7, 0), true),
        ((5, 6, 9), false),
        ((5, 4, 3), false),
        ((6, 0, 0), true),
    ] {
        en.firmware = Some(FirmwareVersion::new(fw.0, fw.1, fw.2));
        let r = verify(
            &expect(Some(&en.ca()), None),
            &en.container(),
            &roots,
            &Policy::default(),
        );
        assert_eq!(r.is_ok(), ok, "{fw:?}: {r:?}");
        if !ok {
            let e = r.unwrap_err();
            assert!(
                matches!(e, AttestError::FirmwareBelowFloor { .. })
                    && e.to_string().contains("EUCLEAK")
            );
        }
    }
    en.firmware = Some(FirmwareVersion::new(5, 7, 4));
    let floor = Policy::with_floor("5.8.0").unwrap();
    assert!(matches!(
        verify(&expect(Some(&en.ca()), None), &en.container(), &roots, &floor),
        Err(AttestError::FirmwareBelowFloor { floor, .. }) if floor == "5.8.0"
    ));
}

#[test]
fn unknown_firmware_is_refused_under_a_floor_and_warned_about_without() {
    let mut en = Enrolment::new();
    en.firmware = None;
    let e = expect(None, None);
    assert!(matches!(
        verify(&e, &en.container(), &test_roots(), &Policy::default()),
        Err(AttestError::FirmwareUnknown { floor, .. }) if floor == "5.7.0"
    ));
    let r = verify(&e, &en.container(), &test_roots(), &none()).unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("EUCLEAK")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn an_aaguid_range_that_straddles_the_floor_is_unknown_firmware() {
    // YubiKey 5 NFC, firmware "5.2 / 5.4": below 5.7.0, but straddles 5.3.0.
    let mut en = Enrolment::new();
    en.firmware = None;
    en.aaguid = crate::hex::decode("2fc0579f811347eab116bb5a8db9202a")
        .unwrap()
        .try_into()
        .unwrap();
    let e = expect(None, None);
    let c = en.container();
    assert!(
        matches!(verify(&e, &c, &test_roots(), &Policy::default()), Err(AttestError::FirmwareBelowFloor { firmware, .. }) if firmware == "5.2.0 to 5.4.x")
    );
    assert!(matches!(
        verify(&e, &c, &test_roots(), &Policy::with_floor("5.3.0").unwrap()),
        Err(AttestError::FirmwareUnknown { .. })
    ));
    verify(&e, &c, &test_roots(), &Policy::with_floor("5.2.0").unwrap()).unwrap();
}

mod negative;
