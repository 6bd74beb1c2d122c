//! KRL files and ssh-keygen KRL specs from untrusted sources: decoding never panics, what
//! decodes re-encodes to a KRL that decodes to the same thing, and spec parsing never panics.
//! The first byte picks the mode so one corpus covers both parsers. Seed corpus (ssh-keygen-made
//! KRLs behind a 0 byte, specs behind a 1 byte) in `fuzz/seeds/krl`:
//! `cargo +nightly fuzz run krl corpus/krl seeds/krl -- -max_total_time=600`.
#![no_main]
use breakglass::ssh::krl::spec::{self, SpecCa};
use breakglass::ssh::krl::{Krl, KrlFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(k) = Krl::decode(rest) {
            // What `revoke --list` streams from the file in place is what the decoded sets hold.
            let f = KrlFile::parse(rest.to_vec()).expect("decodes as a Krl");
            assert_eq!(f.cas().count(), k.certs.len());
            for (i, rc) in k.certs.iter().enumerate() {
                assert_eq!(
                    f.serials(i).collect::<Vec<_>>(),
                    rc.serials.ranges().collect::<Vec<_>>()
                );
                assert!(f.key_ids(i).eq(rc.key_ids.iter().map(Vec::as_slice)));
            }
            assert!(f.keys().eq(k.keys.iter().map(Vec::as_slice)));
            assert!(f.sha256().eq(k.sha256.iter().map(|h| &h[..])));
            let bytes = k.encode();
            let again = Krl::decode(&bytes).expect("our own encoding decodes");
            assert_eq!(again, k);
            assert_eq!(again.encode(), bytes);
        }
    } else {
        let mut k = Krl::new();
        let ca = SpecCa::Key(b"\0\0\0\x0bssh-ed25519\0\0\0\x20AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        let _ = spec::parse(rest, "fuzz", ca, |r| k.revoke(r).map(|_| ()));
        let _ = spec::parse(rest, "fuzz", SpecCa::Missing, |_| Ok(()));
        let bytes = k.encode();
        assert_eq!(Krl::decode(&bytes).expect("our own encoding decodes"), k);
    }
});
