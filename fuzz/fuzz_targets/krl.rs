//! KRL files and ssh-keygen KRL specs from untrusted sources: decoding never panics, what
//! decodes re-encodes to a KRL that decodes to the same thing, and spec parsing never panics.
//! The first byte picks the mode so one corpus covers both parsers. Seed corpus (ssh-keygen-made
//! KRLs behind a 0 byte, specs behind a 1 byte) in `fuzz/seeds/krl`:
//! `cargo +nightly fuzz run krl corpus/krl seeds/krl -- -max_total_time=600`.
#![no_main]
use breakglass::ssh::krl::spec::{self, SpecCa};
use breakglass::ssh::krl::Krl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(k) = Krl::decode(rest) {
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
