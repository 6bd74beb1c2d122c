//! The FIDO2 conversion layer against answers real authenticators gave (and OpenSSH's own
//! control set), from `tests/vectors/real-authenticator-es256.md` (provenance in that file).

use breakglass::ssh::sk::{self, FidoError};
use sha2::{Digest, Sha256};
use ssh_key::encoding::Encode;
use ssh_key::{PublicKey, Signature};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("valid hex in a vector")
}

// Set B: python-fido2 packed attestation from a Yubico device.
const B_AUTH_DATA: &str = "0021f5fc0b85cd22e60623bcd7d1ca48948909249b4776eb515154e57b66ae124100000003f8a011f38c0a4d15800617111f9edc7d004060a386206a3aacecbdbb22d601853d955fdc5d11adfbd1aa6a950d966b348c7663d40173714a9f987df6461beadfb9cd6419ffdfe4d4cf2eec1aa605a4f59bdaa50102032620012158200edb27580389494d74d2373b8f8c2e8b76fa135946d4f30d0e187e120b423349225820e03400d189e85a55de9ab0f538ed60736eb750f5f0306a80060fe1b13010560d";
const B_POINT: &str = "040edb27580389494d74d2373b8f8c2e8b76fa135946d4f30d0e187e120b423349e03400d189e85a55de9ab0f538ed60736eb750f5f0306a80060fe1b13010560d";
const B_CRED_ID: &str = "60a386206a3aacecbdbb22d601853d955fdc5d11adfbd1aa6a950d966b348c7663d40173714a9f987df6461beadfb9cd6419ffdfe4d4cf2eec1aa605a4f59bda";
const B_DER: &str = "304502200d15daf337d727ab4719b4027114a2ac43cd565d394ced62c3d9d1d90825f0b3022100989615e7394c87f4ad91f8fdae86f7a3326df332b3633db088aac76bffb9a46b";
const B_MPINTS: &str = "000000200d15daf337d727ab4719b4027114a2ac43cd565d394ced62c3d9d1d90825f0b30000002100989615e7394c87f4ad91f8fdae86f7a3326df332b3633db088aac76bffb9a46b";

#[test]
fn set_b_attested_credential_data_and_cose_key() {
    let ad = sk::parse_auth_data(&h(B_AUTH_DATA)).unwrap();
    assert_eq!(ad.flags, 0x41);
    assert_eq!(ad.counter, 3);
    let att = ad.attested.unwrap();
    assert_eq!(hex::encode(&att.aaguid), "f8a011f38c0a4d15800617111f9edc7d");
    assert_eq!(hex::encode(&att.credential_id), B_CRED_ID);
    assert_eq!(hex::encode(&att.public_point), B_POINT);
    assert_eq!(sk::der_to_mpints(&h(B_DER)).unwrap(), h(B_MPINTS));
    // One byte too few or too many is refused.
    let mut short = h(B_AUTH_DATA);
    short.pop();
    assert!(sk::parse_auth_data(&short).is_err());
    let mut long = h(B_AUTH_DATA);
    long.push(0);
    assert_eq!(sk::parse_auth_data(&long), Err(FidoError::TrailingData));
}

// Set C: libfido2 regress/assert.c, up=false, both integers sign-padded.
const C_PK: &str = "0434eb9977029c3638bbc2aea0a018c664fce84992d7749e0c468c9da6df46f784601e0f8b23854a9aecc1089f30d00dd7767b5548917c4f0f641a1df8be14908a";
const C_CDH: &str = "ec8d8f78424a2bb78234aaca07a1f656421cb6f6b3008652352da2624abe8976";
const C_AUTH_DATA: &str =
    "49960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d97630000000003";
const C_DER: &str = "3046022100f6d1a3d5242bdeeea09089cdf89ebd6b4d5579e4c14227b79b9ba40ae247640e022100e5c9c2834731c726e525b2b439a7fc3d70bee9810d4a62a9ab4a91c07d2d231e";
const C_SK_BLOB: &str = "00000022736b2d65636473612d736861322d6e69737470323536406f70656e7373682e636f6d0000004a0000002100f6d1a3d5242bdeeea09089cdf89ebd6b4d5579e4c14227b79b9ba40ae247640e0000002100e5c9c2834731c726e525b2b439a7fc3d70bee9810d4a62a9ab4a91c07d2d231e0000000003";

#[test]
fn set_c_assertion_converts_to_the_exact_openssh_signature_blob() {
    let sk = sk::assertion_to_ssh(&h(C_AUTH_DATA), &h(C_DER), "localhost").unwrap();
    assert_eq!(sk.flags, 0);
    assert_eq!(sk.counter, 3);
    let mut blob = Vec::new();
    sk.signature.encode(&mut blob).unwrap();
    assert_eq!(hex::encode(&blob), C_SK_BLOB);
    // The answer belongs to "localhost"; for another application it is refused.
    assert_eq!(
        sk::assertion_to_ssh(&h(C_AUTH_DATA), &h(C_DER), "ssh:").unwrap_err(),
        FidoError::WrongRp
    );
    // The authenticator's signature verifies over authData ‖ clientDataHash with the raw key.
    use p256::ecdsa::signature::Verifier;
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&h(C_PK)).unwrap();
    let mut msg = h(C_AUTH_DATA);
    msg.extend(h(C_CDH));
    vk.verify(&msg, &p256::ecdsa::Signature::from_der(&h(C_DER)).unwrap())
        .unwrap();
}

#[test]
fn set_c_without_user_presence_is_refused_as_a_ca_signature() {
    // breakglass's CA signer must refuse flags 0x00 (sshd never checks CA signature flags).
    let sk = sk::assertion_to_ssh(&h(C_AUTH_DATA), &h(C_DER), "localhost").unwrap();
    assert_eq!(sk.flags & sk::FLAG_UP, 0);
}

// Set D: OpenSSH's sk-dummy control, exact sk-ecdsa format with application "ssh:".
const D_PUB: &str = "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBKDVa5jRcT5V7E6ysmwVi7HJWh7p5D+hebLPakQcpnD2ajJZ6G/4WzuhlYWnclWY63JspDp299Rlhq5AT86/g8AAAAAEc3NoOg== ECDSA-SK test key";
const D_POINT: &str = "04a0d56b98d1713e55ec4eb2b26c158bb1c95a1ee9e43fa179b2cf6a441ca670f66a3259e86ff85b3ba19585a7725598eb726ca43a76f7d46586ae404fcebf83c0";
const D_PREIMAGE: &str = "53534853494700000008756e6974746573740000000000000006736861353132000000402cbbbc660712c6de8cb05533ba26601ba1b031d27d77bc5e13b628448c3483d88727fc2c143ef5a385a5c9ecef1561236ea434a82ec5c06a639235103fe35deb";
const D_AUTH_DATA: &str =
    "e30610e8a162115960fe1ec223e6529c9f4b6e80200dcb5e5c321c8af1e2b1bf0112345678";
const D_DER: &str = "304402207a211b0cb2f22293df3c1dd53600f55fc8a28ee1ff7cc2254b72abf42282dfc702206ce2753c2aec3fe415aed78dca7f2a475b22ce0c7d0a5f016ff439c89a8e5a73";

#[test]
fn set_d_public_key_and_signature_match_openssh_and_verify() {
    let mut point = [0u8; 65];
    point.copy_from_slice(&h(D_POINT));
    let key = sk::sk_public_key(&point, "ssh:").unwrap();
    let theirs = PublicKey::from_openssh(D_PUB).unwrap();
    assert_eq!(&key, theirs.key_data());
    let mut blob = Vec::new();
    key.encode(&mut blob).unwrap();
    assert_eq!(blob.len(), 127);
    let sk = sk::assertion_to_ssh(&h(D_AUTH_DATA), &h(D_DER), "ssh:").unwrap();
    assert_eq!((sk.flags, sk.counter), (0x01, 0x12345678));
    // OpenSSH rebuilds the 69 signed bytes from the key, flags, counter and SHA256(message).
    let msg = h(D_PREIMAGE);
    assert_eq!(
        hex::encode(&sk::sk_signed_message("ssh:", 1, 0x12345678, &msg)[..37]),
        D_AUTH_DATA
    );
    use signature::Verifier;
    key.verify(&msg, &sk.signature).unwrap();
    // One flipped bit in the message and it fails.
    let mut bad = msg.clone();
    bad[10] ^= 1;
    assert!(key.verify(&bad, &sk.signature).is_err());
    // The inner string is 72 bytes here; a 74-byte one (set C) also round-trips.
    let sig = Signature::try_from(&h(C_SK_BLOB)[..]).unwrap();
    assert_eq!(sk::sk_flags_counter(&sig), Some((0, 3)));
}

#[test]
fn cose_keys_are_validated() {
    let mut point = [0u8; 65];
    point.copy_from_slice(&h(D_POINT));
    let cose = sk::point_to_cose(&point);
    assert_eq!(cose.len(), 77);
    assert_eq!(sk::cose_es256_to_point(&cose).unwrap(), (point, 77));
    let mut off_curve = cose.clone();
    off_curve[76] ^= 1;
    assert_eq!(
        sk::cose_es256_to_point(&off_curve).unwrap_err(),
        FidoError::NotOnCurve
    );
    let mut eddsa = cose.clone();
    eddsa[4] = 0x27; // alg -8
    assert!(matches!(
        sk::cose_es256_to_point(&eddsa),
        Err(FidoError::BadCoseKey(_))
    ));
    assert!(sk::cose_es256_to_point(&cose[..40]).is_err());
    assert_eq!(
        Sha256::digest(b"ssh:").as_slice(),
        &h("e30610e8a162115960fe1ec223e6529c9f4b6e80200dcb5e5c321c8af1e2b1bf")[..]
    );
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = sk::parse_auth_data(&data);
        let _ = sk::cose_es256_to_point(&data);
        let _ = sk::der_to_mpints(&data);
        let _ = sk::assertion_to_ssh(&data, &data, "ssh:");
        let _ = sk::cbor::skip(&data, 0);
    }

    #[test]
    fn authdata_with_attested_prefix_never_panics(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..200), flags in 0u8..=255) {
        let mut d = h(D_AUTH_DATA);
        d[32] = flags;
        d.extend(tail);
        let _ = sk::parse_auth_data(&d);
    }
}

/// Hex for the vectors (the library keeps its own helper private).
mod hex {
    pub fn encode(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    }
}
