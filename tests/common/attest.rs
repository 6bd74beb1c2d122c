//! Attestations under the TEST root for the simulated CAs the host-side tests make, so that
//! `host-config` can verify them with `--roots tests/fixtures/attest/roots` ([`test_roots`]),
//! as it would a YubiKey's under Yubico's roots. They attest as a YubiKey 5 NFC with firmware
//! 5.7.4 (its real AAGUID), not as the simulator: host-config refuses an attestation that says
//! SIMULATED. A test that wants the CA unproven passes `--allow-unattested` instead, on purpose.

use std::path::{Path, PathBuf};

use breakglass::attest::container::{Container, FidoEvidence};
use breakglass::attest::testing::{FidoBatch, YUBIKEY_5_NFC_57_AAGUID};
use breakglass::attest::{flags, FirmwareVersion};
use sha2::{Digest, Sha256};
use ssh_key::public::KeyData;

/// The `--roots` directory of the test PKI, for a command line.
pub const TEST_ROOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attest/roots");

/// The `--roots` directory of the test PKI.
pub fn test_roots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attest/roots")
}

/// [`test_roots`] as a string, for a command line.
pub fn test_roots_arg() -> String {
    test_roots().display().to_string()
}

/// Writes `CA.attest` beside the `sk-ecdsa` CA public key `ca_pub` (`CA.pub`): a FIDO2
/// enrolment of that key by a YubiKey 5 NFC (AAGUID a25342c0-…, firmware 5.7.4 in the leaf),
/// signed by the test PKI's batch key. Returns its path.
pub fn attest_beside(ca_pub: &Path) -> PathBuf {
    let text = std::fs::read_to_string(ca_pub).unwrap();
    let key = ssh_key::PublicKey::from_openssh(text.lines().next().unwrap()).unwrap();
    let KeyData::SkEcdsaSha2NistP256(sk) = key.key_data() else {
        panic!("{}: not an sk-ecdsa CA", ca_pub.display())
    };
    let mut point = [0u8; 65];
    point.copy_from_slice(sk.ec_point().as_bytes());
    let application = sk.application().to_string();
    let challenge = b"host-side test enrolment".to_vec();
    let mut ad = Sha256::digest(application.as_bytes()).to_vec();
    ad.push(flags::UP | flags::UV | flags::AT);
    ad.extend_from_slice(&1u32.to_be_bytes());
    ad.extend_from_slice(&YUBIKEY_5_NFC_57_AAGUID);
    ad.extend_from_slice(&[0, 16]);
    ad.extend_from_slice(&Sha256::digest(point).as_slice()[..16]);
    ad.extend_from_slice(&breakglass::ssh::sk::point_to_cose(&point));
    let batch = FidoBatch::fixture().unwrap();
    let leaf = batch
        .certificate(
            &YUBIKEY_5_NFC_57_AAGUID,
            Some(FirmwareVersion::new(5, 7, 4)),
        )
        .unwrap();
    let cdh: [u8; 32] = Sha256::digest(&challenge).into();
    let container = Container::Fido(FidoEvidence {
        application,
        challenge,
        signature: batch.sign(&ad, &cdh),
        auth_data: ad,
        x5c: vec![leaf],
    });
    let s = ca_pub.as_os_str().to_string_lossy();
    let path = PathBuf::from(format!("{}.attest", s.strip_suffix(".pub").unwrap_or(&s)));
    std::fs::write(&path, container.encode()).unwrap();
    path
}
