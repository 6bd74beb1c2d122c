//! The attestation parsers and verifier (src/attest/) on arbitrary files: CA.attest
//! containers, ssh-keygen -O write-attestation files, PIV certificate pairs in PEM or DER, and
//! trust-store certificate files. Never panics; whatever examine() accepts, the policy can judge.
#![no_main]
use breakglass::attest::{
    self, Attestation, Container, Expect, Policy, SshSkAttestation, TrustStore,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The challenge the simulated seeds were made with (fuzz/README.md).
const CHALLENGE: &[u8] = b"breakglass fuzz challenge";
/// The challenge of the real YubiKey 5 and 5 FIPS seeds (tests/vectors/attest/).
const YUBIKEY_CHALLENGE: &[u8] =
    b"\x57\x30\xa4\xa4\xc3\x55\x61\x58\x17\x1c\x1b\x83\x3f\xbe\x2f\xf4";

fn stores() -> &'static [TrustStore; 2] {
    static S: OnceLock<[TrustStore; 2]> = OnceLock::new();
    S.get_or_init(|| {
        [
            TrustStore::yubico(),
            attest::testing::trust_store().expect("the committed test PKI loads"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = Container::decode(data);
    let ssh_keygen_file = SshSkAttestation::decode(data).is_ok();
    if let Ok(a) = Attestation::decode(data) {
        // What decodes re-encodes to something that decodes again, the same.
        if let Attestation::Container(c) = &a {
            assert_eq!(Container::decode(&c.encode()).as_ref(), Ok(c));
        }
    }
    let challenges: &[&[u8]] = if ssh_keygen_file {
        &[CHALLENGE, YUBIKEY_CHALLENGE]
    } else {
        &[CHALLENGE]
    };
    for challenge in challenges {
        let expect = Expect {
            ca: None,
            challenge: Some(challenge),
            piv_slot: None,
        };
        for store in stores() {
            if let Ok(mut report) = attest::examine(&expect, data, store) {
                let _ = report.lines();
                let _ = Policy::default().apply(&mut report.clone());
                let _ = Policy { min_firmware: None }.apply(&mut report);
            }
        }
    }
    let _ = TrustStore::from_bytes(data, "fuzz");
});
