//! CA attestation checked against the tools OpenSSH and the PKI world use, not only against
//! breakglass's own verifier (issue #24 item 6; ATTESTATION.md §2, §3.3):
//! - libfido2 1.12 (`fido2-cred -V`, the `fido_cred_verify` that OpenSSH 9.2's sk-usbhid runs at
//!   every enrolment) accepts the packed attestation the simulators make, as it accepts the real
//!   YubiKey vectors, and names the same credential key breakglass reports; a changed challenge
//!   fails in both;
//! - OpenSSL accepts the test PKI's chains as it accepts Yubico's 2024 PKI (default verify) and
//!   refuses both under `-x509_strict`; it refuses Yubico's old PIV chain outright (the f9
//!   certificate has no basicConstraints), which breakglass's explicit walk accepts.
//!
//! Needs `fido2-cred` (fido2-tools) and `openssl`; CI installs both.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use base64ct::{Base64, Encoding};
use breakglass::attest::testing::{self, FidoBatch, PivSlot, TestF9};
use breakglass::attest::{
    examine, ssh_sk::cbor_wrap, Expect, FidoEvidence, FirmwareVersion, SshSkAttestation, TrustStore,
};
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/attest");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest");

fn need(program: &str, package: &str) {
    assert!(
        common::system::have(program),
        "{program} is not installed (apt install {package}); this test cannot run without it"
    );
}

/// A simulated enrolment as the virtual keys will make it: authData, challenge, packed sig, x5c.
fn simulated_enrolment(challenge: &[u8]) -> (FidoEvidence, [u8; 65]) {
    let key = p256::ecdsa::SigningKey::from_slice(&[0x5a; 32]).unwrap();
    let point: [u8; 65] = key
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .try_into()
        .unwrap();
    let mut ad = Sha256::digest(b"ssh:").to_vec();
    ad.push(0x45); // UP | UV | AT
    ad.extend_from_slice(&0u32.to_be_bytes());
    ad.extend_from_slice(&breakglass::token::sim::SIM_AAGUID);
    ad.extend_from_slice(&[0, 16]);
    ad.extend_from_slice(&[0xc7; 16]);
    ad.extend_from_slice(&breakglass::ssh::sk::point_to_cose(&point));
    let batch = FidoBatch::fixture().unwrap();
    let cdh: [u8; 32] = Sha256::digest(challenge).into();
    let leaf = batch
        .certificate(
            &breakglass::token::sim::SIM_AAGUID,
            Some(FirmwareVersion::new(5, 7, 4)),
        )
        .unwrap();
    (
        FidoEvidence {
            application: "ssh:".into(),
            challenge: challenge.to_vec(),
            signature: batch.sign(&ad, &cdh),
            auth_data: ad,
            x5c: vec![leaf],
        },
        point,
    )
}

/// Runs `fido2-cred -V` (libfido2's fido_cred_verify) on an ssh-sk-attest-v01 file and the
/// challenge; returns the credential's public key point when libfido2 accepts it.
fn libfido2_verify(file: &[u8], challenge: &[u8], extra: &[&str]) -> Result<[u8; 65], String> {
    let a = SshSkAttestation::decode(file).unwrap();
    let id_len = u16::from_be_bytes([a.auth_data[53], a.auth_data[54]]) as usize;
    let cred_id = &a.auth_data[55..55 + id_len];
    let input = [
        Base64::encode_string(&Sha256::digest(challenge)),
        "ssh:".into(),
        "packed".into(),
        Base64::encode_string(&cbor_wrap(&a.auth_data)),
        Base64::encode_string(cred_id),
        Base64::encode_string(&a.signature),
        Base64::encode_string(&a.certificate),
    ]
    .join("\n")
        + "\n";
    let mut child = Command::new("fido2-cred")
        .arg("-V")
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let (id_line, pem) = text.split_once('\n').unwrap();
    assert_eq!(Base64::decode_vec(id_line.trim()).unwrap(), cred_id);
    let key = p256::PublicKey::from_public_key_pem(pem.trim()).unwrap();
    use p256::elliptic_curve::sec1::ToSec1Point;
    Ok(key.to_sec1_point(false).as_bytes().try_into().unwrap())
}

fn reported_point(report: &breakglass::attest::Report) -> [u8; 65] {
    let line = report.key.openssh.as_deref().unwrap();
    let key = ssh_key::PublicKey::from_openssh(line).unwrap();
    let ssh_key::public::KeyData::SkEcdsaSha2NistP256(k) = key.key_data() else {
        panic!("{line}")
    };
    k.ec_point().as_bytes().try_into().unwrap()
}

#[test]
fn libfido2_accepts_the_simulated_attestation_and_names_the_same_key() {
    need("fido2-cred", "fido2-tools");
    let challenge = b"a challenge file's bytes";
    let (evidence, point) = simulated_enrolment(challenge);
    let file = evidence.ssh_sk_attestation();
    assert_eq!(libfido2_verify(&file, challenge, &["-v"]), Ok(point));
    let report = examine(
        &Expect {
            ca: None,
            challenge: Some(challenge),
            piv_slot: None,
        },
        &file,
        &testing::trust_store().unwrap(),
    )
    .unwrap();
    assert_eq!(reported_point(&report), point);

    let mut flipped = challenge.to_vec();
    flipped[0] ^= 1;
    let err = libfido2_verify(&file, &flipped, &[]).unwrap_err();
    assert!(err.contains("FIDO_ERR_INVALID_SIG"), "{err}");
}

#[test]
fn libfido2_and_breakglass_agree_on_the_real_yubikey_vectors() {
    need("fido2-cred", "fido2-tools");
    for (name, extra) in [
        ("fido-yk5-fw5.1", &[][..]),
        ("fido-yk5fips-fw5.4.3", &["-c", "3"][..]),
    ] {
        let file = std::fs::read(format!("{VECTORS}/{name}.attest")).unwrap();
        let challenge = std::fs::read(format!("{VECTORS}/{name}.challenge")).unwrap();
        let point = libfido2_verify(&file, &challenge, extra).unwrap();
        let report = examine(
            &Expect {
                ca: None,
                challenge: Some(&challenge),
                piv_slot: None,
            },
            &file,
            &TrustStore::yubico(),
        )
        .unwrap();
        assert_eq!(reported_point(&report), point, "{name}");
        let pubfile = std::fs::read_to_string(format!("{VECTORS}/{name}.pub")).unwrap();
        let ca = ssh_key::PublicKey::from_openssh(pubfile.trim()).unwrap();
        assert_eq!(
            report.key.fingerprint.as_deref(),
            Some(
                ca.fingerprint(ssh_key::HashAlg::Sha256)
                    .to_string()
                    .as_str()
            )
        );
    }
}

fn openssl_verify(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .arg("verify")
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn pem_file(dir: &std::path::Path, name: &str, der: &[u8]) -> String {
    let path = dir.join(name);
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

#[test]
fn openssl_accepts_the_test_chains_like_yubicos_2024_pki_and_not_strictly() {
    need("openssl", "openssl");
    let dir = tempfile::tempdir().unwrap();
    let root = format!("{FIXTURES}/roots/test-root.pem");
    let fido_ca = format!("{FIXTURES}/roots/test-fido-ca.pem");
    let f9 = format!("{FIXTURES}/piv-f9.pem");
    let batch = FidoBatch::fixture().unwrap();
    let leaf_der = batch
        .certificate(
            &breakglass::token::sim::SIM_AAGUID,
            Some(FirmwareVersion::new(5, 4, 3)),
        )
        .unwrap();
    let leaf = pem_file(dir.path(), "leaf.pem", &leaf_der);
    let slot = TestF9::fixture()
        .unwrap()
        .attest_slot(&PivSlot {
            slot: 0x9c,
            public_key: p256::ecdsa::SigningKey::from_slice(&[9; 32])
                .unwrap()
                .verifying_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec(),
            pin_policy: 2,
            touch_policy: 2,
            firmware: FirmwareVersion::new(5, 7, 4),
            serial: 1,
            form_factor: 3,
        })
        .unwrap();
    let slot = pem_file(dir.path(), "slot.pem", &slot);

    for (chain, target) in [(&fido_ca, &leaf), (&f9, &slot)] {
        let (ok, text) = openssl_verify(&["-CAfile", &root, "-untrusted", chain, target]);
        assert!(ok, "{text}");
        let (ok, text) = openssl_verify(&[
            "-x509_strict",
            "-CAfile",
            &root,
            "-untrusted",
            chain,
            target,
        ]);
        assert!(
            !ok && text.contains("Missing Authority Key Identifier"),
            "{text}"
        );
    }

    // Yubico's own PIV chains, for comparison: the 2024 PKI passes the default check.
    let root1 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/attest/yubico/yubico-attestation-root-1.pem"
    );
    let mut inter = String::new();
    for f in [
        "yubico-attestation-intermediate-b-1.pem",
        "yubico-piv-attestation-b-1.pem",
    ] {
        inter += &std::fs::read_to_string(format!(
            "{}/src/attest/yubico/{f}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
    }
    let f9_5c = std::fs::read(format!("{VECTORS}/piv-5c-fw5.7.4-f9.der")).unwrap();
    inter += &std::fs::read_to_string(pem_file(dir.path(), "f9-5c.pem", &f9_5c)).unwrap();
    std::fs::write(dir.path().join("inter.pem"), inter).unwrap();
    let slot_5c = std::fs::read(format!("{VECTORS}/piv-5c-fw5.7.4-slot82.der")).unwrap();
    let slot_5c = pem_file(dir.path(), "slot-5c.pem", &slot_5c);
    let inter = dir.path().join("inter.pem").display().to_string();
    let (ok, text) = openssl_verify(&["-CAfile", root1, "-untrusted", &inter, &slot_5c]);
    assert!(ok, "{text}");

    // The old PKI fails even the default check, yet breakglass verifies it by signatures.
    let piv_root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/attest/yubico/yubico-piv-root-ca-263751.pem"
    );
    let f9_5ci = std::fs::read(format!("{VECTORS}/piv-5ci-fw5.2.4-f9.der")).unwrap();
    let f9_5ci_pem = pem_file(dir.path(), "f9-5ci.pem", &f9_5ci);
    let slot_5ci = std::fs::read(format!("{VECTORS}/piv-5ci-fw5.2.4-slot93.der")).unwrap();
    let slot_5ci_pem = pem_file(dir.path(), "slot-5ci.pem", &slot_5ci);
    let (ok, text) = openssl_verify(&[
        "-CAfile",
        piv_root,
        "-untrusted",
        &f9_5ci_pem,
        &slot_5ci_pem,
    ]);
    assert!(!ok && text.contains("invalid CA certificate"), "{text}");
    let report = examine(
        &Expect::default(),
        &[slot_5ci, f9_5ci].concat(),
        &TrustStore::yubico(),
    )
    .unwrap();
    assert_eq!(report.serial, Some(11778047));
}

#[test]
fn an_ssh_keygen_file_carries_authdata_as_libfido2_hands_it_to_openssh() {
    // The layout OpenSSH 9.2 writes (ssh-sk.c fill_attestation_blob; PROTOCOL.u2f): the same for
    // the simulated enrolment as for the real files, field for field.
    let (evidence, _) = simulated_enrolment(b"c");
    for file in [
        evidence.ssh_sk_attestation(),
        std::fs::read(format!("{VECTORS}/fido-yk5-fw5.1.attest")).unwrap(),
    ] {
        assert_eq!(&file[..21], b"\0\0\0\x11ssh-sk-attest-v01");
        let a = SshSkAttestation::decode(&file).unwrap();
        let cert_end = 21 + 4 + a.certificate.len();
        let sig_end = cert_end + 4 + a.signature.len();
        let ad_len = u32::from_be_bytes(file[sig_end..sig_end + 4].try_into().unwrap()) as usize;
        assert_eq!(
            &file[sig_end + 4..sig_end + 6],
            &[0x58, a.auth_data.len() as u8],
            "authData is a CBOR byte string"
        );
        assert_eq!(ad_len, a.auth_data.len() + 2);
        assert_eq!(
            &file[file.len() - 8..],
            &[0u8; 8],
            "reserved flags and string"
        );
        assert_eq!(a.encode(), file);
    }
}
