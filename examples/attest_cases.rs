//! Writes the input files of the `breakglass ca verify` case files (`tests/cmd/ca/*.toml`) into
//! `tests/cmd/ca/files/`, and host-config's `ca.attest` (`tests/cmd/host-config/files/`: `ca.pub`
//! attested as a YubiKey 5 NFC): `cargo run --example attest_cases --features test-support`.
//!
//! - copies of the real vectors (`tests/vectors/attest/`, byte for byte) and, for the two PIV
//!   vectors, a `.pub` made from the slot certificate's key (the vectors come without one);
//! - the test PKI's `--roots` directory (`roots/`) and the test root alone (`root-only/`);
//! - attestations made with the test PKI (`attest::testing`) for one simulated FIDO2 CA
//!   (`ca.pub`) and one simulated PIV CA (`piv.pub`): a valid one of each, and one file per
//!   negative case of issue #24 item 7 (another key, wrong challenge, wrong application, self
//!   attestation, CA:TRUE leaf, wrong OU, mismatched AAGUID, BE/BS set, firmware below the floor,
//!   no firmware, PIV touch never, another slot, a replaced f9 certificate, truncated,
//!   trailing-byte, v00 and malformed files).
//!
//! Deterministic (fixed keys, RFC 6979 signatures, fixed certificate serials): a second run
//! writes the same bytes, and says `unchanged` for every file.

use std::path::Path;

use breakglass::attest::container::{Container, FidoEvidence, PivEvidence};
use breakglass::attest::testing::{self, FidoBatch, PivSlot, TestF9};
use breakglass::attest::{flags, FirmwareVersion};
use breakglass::ssh::keyfile::PivReference;
use breakglass::token::sim::SIM_AAGUID;
use der::Decode;
use sha2::{Digest, Sha256};
use ssh_key::public::{EcdsaPublicKey, KeyData, SkEcdsaSha2NistP256};

/// The challenge of the simulated enrolments (what `ssh-keygen -O challenge=` would read).
const CHALLENGE: &[u8] = b"breakglass ca verify case challenge";

fn main() {
    if let Err(e) = run() {
        eprintln!("attest_cases: {e}");
        std::process::exit(1);
    }
}

/// One simulated FIDO2 enrolment, with every knob a negative case turns.
#[derive(Clone)]
struct Enrolment {
    key: [u8; 32],
    application: &'static str,
    flags: u8,
    firmware: Option<FirmwareVersion>,
    leaf_subject: &'static str,
    leaf_is_ca: bool,
    leaf_aaguid: [u8; 16],
    /// The AAGUID in the authenticator data.
    aaguid: [u8; 16],
    self_attested: bool,
}

impl Enrolment {
    fn new() -> Self {
        Enrolment {
            key: [0x42; 32],
            application: "ssh:",
            flags: flags::UP | flags::UV | flags::AT,
            firmware: Some(FirmwareVersion::new(5, 7, 4)),
            leaf_subject: testing::FIDO_BATCH_SUBJECT,
            leaf_is_ca: false,
            leaf_aaguid: SIM_AAGUID,
            aaguid: SIM_AAGUID,
            self_attested: false,
        }
    }

    fn signing_key(&self) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&self.key).expect("a valid scalar")
    }

    fn point(&self) -> [u8; 65] {
        let mut p = [0u8; 65];
        p.copy_from_slice(&testing::sec1(&self.signing_key()));
        p
    }

    fn public(&self, comment: &str) -> Result<String, String> {
        let EcdsaPublicKey::NistP256(p) =
            EcdsaPublicKey::from_sec1_bytes(&self.point()).map_err(|e| e.to_string())?
        else {
            return Err("not P-256".into());
        };
        let mut k = ssh_key::PublicKey::from(KeyData::SkEcdsaSha2NistP256(
            SkEcdsaSha2NistP256::new(p, self.application.to_string()),
        ));
        k.set_comment(comment);
        Ok(format!("{}\n", k.to_openssh().map_err(|e| e.to_string())?))
    }

    fn evidence(&self) -> Result<FidoEvidence, String> {
        let mut ad = Sha256::digest(self.application.as_bytes()).to_vec();
        ad.push(self.flags);
        ad.extend_from_slice(&1u32.to_be_bytes());
        ad.extend_from_slice(&self.aaguid);
        ad.extend_from_slice(&[0, 16]);
        ad.extend_from_slice(&Sha256::digest(self.key).as_slice()[..16]);
        ad.extend_from_slice(&breakglass::ssh::sk::point_to_cose(&self.point()));
        let cdh: [u8; 32] = Sha256::digest(CHALLENGE).into();
        let (signature, x5c) = if self.self_attested {
            use signature::Signer;
            let mut m = ad.clone();
            m.extend_from_slice(&cdh);
            let s: p256::ecdsa::Signature = self.signing_key().sign(&m);
            (s.to_der().as_bytes().to_vec(), vec![])
        } else {
            let batch = FidoBatch::fixture()?;
            let leaf = batch.certificate_with(
                self.leaf_subject,
                &self.leaf_aaguid,
                self.firmware,
                self.leaf_is_ca,
            )?;
            (batch.sign(&ad, &cdh), vec![leaf])
        };
        Ok(FidoEvidence {
            application: self.application.into(),
            challenge: CHALLENGE.to_vec(),
            auth_data: ad,
            signature,
            x5c,
        })
    }

    fn container(&self) -> Result<Vec<u8>, String> {
        Ok(Container::Fido(self.evidence()?).encode())
    }
}

fn piv_key(byte: u8) -> Vec<u8> {
    testing::sec1(&p256::ecdsa::SigningKey::from_slice(&[byte; 32]).expect("a valid scalar"))
}

fn piv_slot() -> PivSlot {
    PivSlot {
        slot: 0x9c,
        public_key: piv_key(0x24),
        pin_policy: 2,
        touch_policy: 2,
        firmware: FirmwareVersion::new(5, 7, 4),
        serial: 12345678,
        form_factor: 3,
    }
}

fn piv_container(f9: &TestF9, slot: &PivSlot, recorded: u8) -> Result<Vec<u8>, String> {
    Ok(Container::Piv(PivEvidence {
        slot: recorded,
        slot_certificate: f9.attest_slot_with_serial(slot, [0x5a; 16])?,
        f9_certificate: f9.certificate().to_vec(),
    })
    .encode())
}

/// An OpenSSH public key line for a SEC1 point (P-256 or P-384).
fn plain_public(sec1: &[u8], comment: &str) -> Result<String, String> {
    let mut k = ssh_key::PublicKey::from(KeyData::Ecdsa(
        EcdsaPublicKey::from_sec1_bytes(sec1).map_err(|e| e.to_string())?,
    ));
    k.set_comment(comment);
    Ok(format!("{}\n", k.to_openssh().map_err(|e| e.to_string())?))
}

/// The subject key of a DER certificate, SEC1.
fn cert_key(der: &[u8]) -> Result<Vec<u8>, String> {
    let c = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
    Ok(c.tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes()
        .to_vec())
}

fn pem(der: &[u8]) -> Result<String, String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).map_err(|e| e.to_string())
}

fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("tests/cmd/ca/files");
    let vectors = root.join("tests/vectors/attest");
    let fixtures = root.join("tests/fixtures/attest");
    for d in ["roots", "root-only"] {
        std::fs::create_dir_all(out.join(d)).map_err(|e| e.to_string())?;
    }
    let w = |name: &str, bytes: &[u8]| write(&out.join(name), bytes);
    let copy = |from: &Path, name: &str| -> Result<Vec<u8>, String> {
        let b = std::fs::read(from.join(name)).map_err(|e| format!("{name}: {e}"))?;
        write(&out.join(name), &b)?;
        Ok(b)
    };

    // Real vectors.
    for name in [
        "fido-yk5-fw5.1.attest",
        "fido-yk5-fw5.1.challenge",
        "fido-yk5-fw5.1.pub",
        "fido-yk5fips-fw5.4.3.attest",
        "fido-yk5fips-fw5.4.3.challenge",
        "fido-yk5fips-fw5.4.3.pub",
        "fido-yk5fips-ed25519.attest",
        "fido-yk5fips-ed25519.challenge",
        "fido-token2.attest",
        "fido-token2.challenge",
        "piv-5ci-fw5.2.4-f9.der",
        "piv-5c-fw5.7.4-f9.der",
    ] {
        copy(&vectors, name)?;
    }
    for (slot, pub_name, comment) in [
        (
            "piv-5ci-fw5.2.4-slot93.der",
            "piv-5ci-fw5.2.4.pub",
            "YubiKey 5Ci 11778047 slot 93 (its certificate's key)",
        ),
        (
            "piv-5c-fw5.7.4-slot82.der",
            "piv-5c-fw5.7.4.pub",
            "YubiKey 5C 33162554 slot 82 (its certificate's key)",
        ),
    ] {
        let der = copy(&vectors, slot)?;
        w(
            pub_name,
            plain_public(&cert_key(&der)?, comment)?.as_bytes(),
        )?;
    }

    // The test PKI as a --roots directory, and its root alone (the FIDO CA missing).
    copy(&fixtures, "roots/test-root.pem")?;
    copy(&fixtures, "roots/test-fido-ca.pem")?;
    w("root-only/test-root.pem", testing::TEST_ROOT_PEM.as_bytes())?;

    // FIDO2: the simulated CA and its attestation, as init-ca and as ssh-keygen write it.
    let en = Enrolment::new();
    w("ca.pub", en.public("simulated CA")?.as_bytes())?;
    let good = en.container()?;
    w("ca.attest", &good)?;
    // host-config's cases (tests/cmd/host-config/files/): the same CA attested as a YubiKey 5
    // NFC would attest it, under the test root; host-config refuses the simulator's AAGUID.
    let yubikey = Enrolment {
        aaguid: testing::YUBIKEY_5_NFC_57_AAGUID,
        leaf_aaguid: testing::YUBIKEY_5_NFC_57_AAGUID,
        ..Enrolment::new()
    };
    write(
        &root.join("tests/cmd/host-config/files/ca.attest"),
        &yubikey.container()?,
    )?;
    w("ca.challenge", CHALLENGE)?;
    let ssh = en.evidence()?.ssh_sk_attestation();
    w("ca.ssh-attest", &ssh)?;
    w("wrong.challenge", b"another challenge")?;
    w(
        "lonely.pub",
        en.public("a CA without an attestation")?.as_bytes(),
    )?;
    let other = Enrolment {
        key: [0x43; 32],
        ..Enrolment::new()
    };
    w("other-ca.pub", other.public("another CA")?.as_bytes())?;
    let team = Enrolment {
        application: "ssh:team",
        ..Enrolment::new()
    };
    w(
        "team-ca.pub",
        team.public("the same key for ssh:team")?.as_bytes(),
    )?;

    let cases: [(&str, Enrolment); 8] = [
        (
            "self.attest",
            Enrolment {
                self_attested: true,
                ..Enrolment::new()
            },
        ),
        (
            "leaf-ca.attest",
            Enrolment {
                leaf_is_ca: true,
                ..Enrolment::new()
            },
        ),
        (
            "leaf-ou.attest",
            Enrolment {
                leaf_subject: "CN=breakglass TEST batch,OU=Something Else,O=breakglass test,C=ZZ",
                ..Enrolment::new()
            },
        ),
        (
            "leaf-aaguid.attest",
            Enrolment {
                leaf_aaguid: [0x11; 16],
                ..Enrolment::new()
            },
        ),
        (
            "backup.attest",
            Enrolment {
                flags: flags::UP | flags::AT | flags::BE | flags::BS,
                ..Enrolment::new()
            },
        ),
        (
            "fw5.4.3.attest",
            Enrolment {
                firmware: Some(FirmwareVersion::new(5, 4, 3)),
                ..Enrolment::new()
            },
        ),
        (
            "fw5.7.0.attest",
            Enrolment {
                firmware: Some(FirmwareVersion::new(5, 7, 0)),
                ..Enrolment::new()
            },
        ),
        (
            "nofw.attest",
            Enrolment {
                firmware: None,
                ..Enrolment::new()
            },
        ),
    ];
    for (name, e) in cases {
        w(name, &e.container()?)?;
    }

    // The challenge stored in CA.attest changed: its signature no longer verifies.
    let mut altered = en.evidence()?;
    altered.challenge[0] ^= 1;
    w("altered.attest", &Container::Fido(altered).encode())?;

    // Damaged files.
    w("cut.attest", &good[..good.len() - 10])?;
    let mut trailing = good.clone();
    trailing.push(b'\n');
    w("trailing.attest", &trailing)?;
    let mut v00 = b"\0\0\0\x11ssh-sk-attest-v00".to_vec();
    v00.extend_from_slice(&ssh[21..]);
    w("v00.ssh-attest", &v00)?;
    w("garbage.attest", b"this is not an attestation\n")?;
    let mut v2 = good.clone();
    v2[4 + breakglass::attest::container::MAGIC.len() + 3] = 2;
    w("version2.attest", &v2)?;
    let mut disagree = good.clone();
    let n = disagree.len();
    disagree[n - 20] ^= 1;
    w("disagree.attest", &disagree)?;

    // PIV: the simulated CA in slot 9c (its reference file beside it), and one in slot 82.
    let f9 = TestF9::fixture()?;
    let slot = piv_slot();
    w(
        "piv.pub",
        plain_public(&slot.public_key, "simulated PIV CA")?.as_bytes(),
    )?;
    w(
        "piv",
        PivReference {
            serial: 12345678,
            slot: 0x9c,
        }
        .to_text()
        .as_bytes(),
    )?;
    w(
        "piv82.pub",
        plain_public(&slot.public_key, "the same key, recorded in slot 82")?.as_bytes(),
    )?;
    w(
        "piv82",
        PivReference {
            serial: 12345678,
            slot: 0x82,
        }
        .to_text()
        .as_bytes(),
    )?;
    w("piv.attest", &piv_container(&f9, &slot, 0x9c)?)?;
    let slot_cert = f9.attest_slot_with_serial(&slot, [0x5a; 16])?;
    w("piv-slot9c.der", &slot_cert)?;
    w("piv-f9.der", f9.certificate())?;
    w(
        "piv-pair.pem",
        format!("{}{}", pem(&slot_cert)?, pem(f9.certificate())?).as_bytes(),
    )?;
    w(
        "piv-touch-never.attest",
        &piv_container(
            &f9,
            &PivSlot {
                touch_policy: 1,
                ..piv_slot()
            },
            0x9c,
        )?,
    )?;
    w(
        "piv-pin-never.attest",
        &piv_container(
            &f9,
            &PivSlot {
                pin_policy: 1,
                ..piv_slot()
            },
            0x9c,
        )?,
    )?;
    w(
        "piv-fw5.4.3.attest",
        &piv_container(
            &f9,
            &PivSlot {
                firmware: FirmwareVersion::new(5, 4, 3),
                ..piv_slot()
            },
            0x9c,
        )?,
    )?;
    w("piv-slot9a.attest", &piv_container(&f9, &slot, 0x9a)?)?;
    // The f9 object overwritten: a certificate of the same name with another key.
    let other_key = p256::ecdsa::SigningKey::from_slice(&[0x66; 32]).map_err(|e| e.to_string())?;
    let forged_f9 = testing::issue(
        &other_key,
        testing::name(testing::TEST_ROOT_SUBJECT)?,
        testing::name(testing::TEST_F9_SUBJECT)?,
        &[0x03],
        testing::validity()?,
        testing::ec_spki(&testing::sec1(&other_key))?,
        vec![],
    )?;
    w(
        "piv-f9-replaced.attest",
        &Container::Piv(PivEvidence {
            slot: 0x9c,
            slot_certificate: slot_cert.clone(),
            f9_certificate: forged_f9,
        })
        .encode(),
    )?;
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let same = std::fs::read(path).is_ok_and(|old| old == bytes);
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "{} {}",
        if same { "unchanged" } else { "written  " },
        path.display()
    );
    Ok(())
}
