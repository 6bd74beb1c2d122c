//! The request/approve messages (docs/request-protocol.md): whatever the other side of a
//! wormhole sends, parsing, checking a request and checking a returned certificate never panic,
//! and a message that parses survives a round trip.
#![no_main]
use breakglass::delivery::messages::{self, Message};
use breakglass::ssh::validity::Validity;
use libfuzzer_sys::fuzz_target;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfV2tH0RfvFc0Ha3OpgCUsJ5oTJMHDyWKb0J6H8dN9I k";

fuzz_target!(|data: &[u8]| {
    let Ok(m) = messages::parse(data) else { return };
    assert_eq!(messages::parse(&m.to_bytes()).as_ref(), Ok(&m));
    match m {
        Message::Request(r) => {
            if let Ok(c) = r.check() {
                assert!(!c.principals.is_empty());
                assert!(c.validity.valid_after < c.validity.valid_before);
            }
        }
        Message::Certificate(line) => {
            let key = ssh_key::PublicKey::from_openssh(KEY).unwrap();
            let asked = Validity {
                valid_after: 0,
                valid_before: u64::MAX,
            };
            let _ = breakglass::ops::request::check_reply(
                &line,
                key.key_data(),
                &["alice".to_string()],
                &asked,
                None,
                1_800_000_000,
            );
        }
        _ => {}
    }
});
