//! Helpers the KRL tests share, and the properties that span decoding and encoding.

use super::wire::{Reader, SECTION_CERTIFICATES};
use super::*;
use proptest::prelude::*;
use ssh_key::encoding::Encode;

/// A fresh Ed25519 CA key blob.
pub(super) fn ca_blob() -> Vec<u8> {
    let k = ssh_key::PrivateKey::random(&mut rand_core_rng(), ssh_key::Algorithm::Ed25519).unwrap();
    k.public_key().key_data().encode_vec().unwrap()
}

/// The system's random numbers, as ssh-key wants them.
pub(super) fn rand_core_rng() -> ssh_key::rand_core::UnwrapErr<ssh_key::getrandom::SysRng> {
    ssh_key::rand_core::UnwrapErr(ssh_key::getrandom::SysRng)
}

/// The serial subsections (type, body) of the first certificates section of an encoded KRL.
pub(super) fn serial_subsections(krl_bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    // Skip the header: magic, version, 3 u64, reserved, comment.
    let mut r = Reader(&krl_bytes[8..]);
    r.u32("").unwrap();
    for _ in 0..3 {
        r.u64("").unwrap();
    }
    r.string("").unwrap();
    r.string("").unwrap();
    assert_eq!(r.u8("").unwrap(), SECTION_CERTIFICATES);
    let mut s = Reader(r.string("").unwrap());
    s.string("").unwrap();
    s.string("").unwrap();
    let mut out = Vec::new();
    while !s.is_empty() {
        let t = s.u8("").unwrap();
        out.push((t, s.string("").unwrap().to_vec()));
    }
    out
}

fn arb_revocations() -> impl Strategy<Value = Vec<(u8, u64, u64, Vec<u8>)>> {
    proptest::collection::vec(
        (
            0u8..6,
            1u64..5000,
            0u64..300,
            proptest::collection::vec(1u8..=255, 0..12),
        ),
        0..60,
    )
}

fn build(items: &[(u8, u64, u64, Vec<u8>)], cas: &[Option<Vec<u8>>]) -> Krl {
    let mut k = Krl::new();
    k.krl_version = 3;
    k.generated_date = 1_800_000_000;
    k.comment = b"c".to_vec();
    for (kind, a, b, bytes) in items {
        let ca = cas[(*a as usize) % cas.len()].as_deref().map(Into::into);
        let r = match kind {
            0 | 1 => Revocation::Serials {
                ca,
                lo: *a,
                hi: a + b,
            },
            2 => Revocation::Serials {
                ca,
                lo: u64::MAX - a,
                hi: u64::MAX - a + (*b).min(*a),
            },
            3 => Revocation::KeyId {
                ca,
                id: bytes.clone(),
            },
            4 => Revocation::Key(bytes.clone()),
            _ => Revocation::Sha256([(*a % 256) as u8; 32]),
        };
        k.revoke(r).unwrap();
    }
    k
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn encode_then_decode_is_the_same_krl(items in arb_revocations()) {
        let cas = vec![Some(ca_blob()), None, Some(ca_blob())];
        let k = build(&items, &cas);
        let bytes = k.encode();
        let back = Krl::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &k);
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_krls(items in arb_revocations(), flips in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 1..6)) {
        let cas = vec![Some(ca_blob()), None];
        let mut bytes = build(&items, &cas).encode();
        for (i, b) in flips {
            let n = bytes.len();
            bytes[i % n] ^= b;
        }
        if let Ok(k) = Krl::decode(&bytes) {
            // Whatever decodes must re-encode to something that decodes to the same.
            prop_assert_eq!(Krl::decode(&k.encode()).unwrap(), k);
        }
    }
}
