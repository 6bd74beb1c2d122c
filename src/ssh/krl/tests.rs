//! Unit tests and properties of the KRL encoder and decoder.

use super::*;
use proptest::prelude::*;

fn ca_blob() -> Vec<u8> {
    let k = ssh_key::PrivateKey::random(&mut rand_core_rng(), ssh_key::Algorithm::Ed25519).unwrap();
    k.public_key().key_data().encode_vec().unwrap()
}

fn rand_core_rng() -> ssh_key::rand_core::UnwrapErr<ssh_key::getrandom::SysRng> {
    ssh_key::rand_core::UnwrapErr(ssh_key::getrandom::SysRng)
}

fn serial_subsections(krl_bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
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

#[test]
fn reference_example_is_one_bitmap_and_one_key_id_subsection() {
    // REFERENCE.md §8.1, checked against ssh-keygen 9.2: serial 42, 100-102, id bad-key.
    let ca = ca_blob();
    let mut k = Krl::new();
    k.revoke(Revocation::Serials {
        ca: Some(ca.as_slice().into()),
        lo: 42,
        hi: 42,
    })
    .unwrap();
    k.revoke(Revocation::Serials {
        ca: Some(ca.as_slice().into()),
        lo: 100,
        hi: 102,
    })
    .unwrap();
    k.revoke(Revocation::KeyId {
        ca: Some(ca.as_slice().into()),
        id: b"bad-key".to_vec(),
    })
    .unwrap();
    let subs = serial_subsections(&k.encode());
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].0, CERT_SERIAL_BITMAP);
    let mut want = 42u64.to_be_bytes().to_vec();
    want.extend_from_slice(&[0, 0, 0, 8, 0x1c, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(subs[0].1, want);
    assert_eq!(subs[1], (CERT_KEY_ID, b"\0\0\0\x07bad-key".to_vec()));
}

#[test]
fn ranges_merge_when_they_touch_or_overlap() {
    let mut s = SerialSet::default();
    s.insert(10, 20);
    s.insert(30, 40);
    assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(10, 20), (30, 40)]);
    s.insert(21, 29);
    assert_eq!(s.ranges().collect::<Vec<_>>(), vec![(10, 40)]);
    s.insert(5, 9);
    s.insert(41, 41);
    s.insert(100, u64::MAX);
    s.insert(50, 200);
    assert_eq!(
        s.ranges().collect::<Vec<_>>(),
        vec![(5, 41), (50, u64::MAX)]
    );
    assert!(s.contains(5) && s.contains(41) && !s.contains(42) && s.contains(u64::MAX));
}

#[test]
fn a_long_dense_set_is_split_into_bitmaps_openssh_can_read() {
    let ca = ca_blob();
    let mut k = Krl::new();
    for i in 0..20_000u64 {
        k.revoke(Revocation::Serials {
            ca: Some(ca.as_slice().into()),
            lo: 1 + 2 * i,
            hi: 1 + 2 * i,
        })
        .unwrap();
    }
    let bytes = k.encode();
    for (t, body) in serial_subsections(&bytes) {
        assert_eq!(t, CERT_SERIAL_BITMAP);
        assert!(body.len() <= 8 + 4 + MAX_BITMAP_BYTES + 1, "{}", body.len());
    }
    let back = Krl::decode(&bytes).unwrap();
    assert_eq!(back, k);
}

#[test]
fn decode_refuses_what_openssh_refuses() {
    let ca = ca_blob();
    let mut k = Krl::new();
    k.revoke(Revocation::Serials {
        ca: Some(ca.into()),
        lo: 7,
        hi: 7,
    })
    .unwrap();
    let good = k.encode();
    assert_eq!(Krl::decode(b"hello world"), Err(KrlError::NotAKrl));
    assert_eq!(
        Krl::decode(b"SSHKRL\n\0\0\0\0\x02"),
        Err(KrlError::FormatVersion(2))
    );
    assert!(matches!(
        Krl::decode(&good[..good.len() - 1]),
        Err(KrlError::Truncated(_))
    ));
    let mut unknown = good.clone();
    unknown.extend_from_slice(&[0x06, 0, 0, 0, 0]);
    assert_eq!(Krl::decode(&unknown), Err(KrlError::UnknownSection(6)));
    let mut signed = good.clone();
    signed.extend_from_slice(&[0x04, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(Krl::decode(&signed), Err(KrlError::EmbeddedSignature));
    // Serial 0 in a list: ssh-keygen and sshd refuse the whole KRL.
    let pos = good.len() - 8;
    let mut zero = good.clone();
    zero[pos..].copy_from_slice(&[0; 8]);
    assert!(matches!(Krl::decode(&zero), Err(KrlError::Malformed(m)) if m.contains("serial 0")));
    assert_eq!(Krl::decode(b""), Ok(Krl::new()));
}

#[test]
fn certificates_match_by_serial_id_key_and_ca_per_section_8_2() {
    use ssh_key::certificate::{Builder, CertType};
    let mut rng = rand_core_rng();
    let ca = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
    let other_ca = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
    let user = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
    let cert = |serial: u64, id: &str, signer: &ssh_key::PrivateKey| {
        let mut b =
            Builder::new_with_random_nonce(&mut rand_core_rng(), user.public_key(), 0, u64::MAX)
                .unwrap();
        b.serial(serial)
            .unwrap()
            .key_id(id)
            .unwrap()
            .cert_type(CertType::User)
            .unwrap();
        b.all_principals_valid().unwrap();
        b.sign(signer).unwrap()
    };
    let ca_blob = ca.public_key().key_data().encode_vec().unwrap();
    let mut k = Krl::new();
    k.revoke(Revocation::Serials {
        ca: Some(ca_blob.as_slice().into()),
        lo: 10,
        hi: 20,
    })
    .unwrap();
    k.revoke(Revocation::KeyId {
        ca: Some(ca_blob.as_slice().into()),
        id: b"gone".to_vec(),
    })
    .unwrap();
    assert_eq!(
        k.check_certificate(&cert(15, "x", &ca)),
        Verdict::Revoked(Reason::Serial)
    );
    assert_eq!(k.check_certificate(&cert(21, "x", &ca)), Verdict::Ok);
    assert_eq!(k.check_certificate(&cert(15, "x", &other_ca)), Verdict::Ok);
    assert_eq!(
        k.check_certificate(&cert(0, "gone", &ca)),
        Verdict::Revoked(Reason::KeyId)
    );
    assert_eq!(k.check_certificate(&cert(0, "x", &ca)), Verdict::Ok);
    // Any-CA section.
    k.revoke(Revocation::Serials {
        ca: None,
        lo: 99,
        hi: 99,
    })
    .unwrap();
    assert_eq!(
        k.check_certificate(&cert(99, "x", &other_ca)),
        Verdict::Revoked(Reason::Serial)
    );
    // The subject key by fingerprint, and the CA itself as a key.
    let mut k2 = Krl::new();
    let ub = user.public_key().key_data().encode_vec().unwrap();
    k2.revoke(Revocation::Sha1(sha1(&ub))).unwrap();
    assert_eq!(
        k2.check_certificate(&cert(1, "x", &ca)),
        Verdict::Revoked(Reason::Sha1)
    );
    assert_eq!(
        k2.check_key(user.public_key().key_data()),
        Verdict::Revoked(Reason::Sha1)
    );
    let mut k3 = Krl::new();
    k3.revoke(Revocation::Key(ca_blob)).unwrap();
    assert_eq!(
        k3.check_certificate(&cert(1, "x", &ca)),
        Verdict::Revoked(Reason::CaRevoked)
    );
    assert_eq!(k3.check_certificate(&cert(1, "x", &other_ca)), Verdict::Ok);
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
    fn serial_membership_matches_a_naive_set(ranges in proptest::collection::vec((1u64..400, 0u64..20), 0..40), probe in 0u64..450) {
        let mut s = SerialSet::default();
        let mut naive = std::collections::BTreeSet::new();
        for (lo, len) in &ranges {
            s.insert(*lo, lo + len);
            naive.extend(*lo..=lo + len);
        }
        prop_assert_eq!(s.contains(probe), naive.contains(&probe));
        let ranges: Vec<_> = s.ranges().collect();
        for w in ranges.windows(2) {
            prop_assert!(w[0].1 + 1 < w[1].0, "ranges touch: {:?}", w);
        }
    }

    #[test]
    fn decode_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = Krl::decode(&data);
        let mut with_magic = MAGIC.to_vec();
        with_magic.extend_from_slice(&[0, 0, 0, 1]);
        with_magic.extend_from_slice(&data);
        let _ = Krl::decode(&with_magic);
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
