//! The peer's mailbox messages as the receiver reads them: any JSON, and any `"offer"` in it (a
//! text message, a file, a directory). No input may panic; an accepted offer is within the
//! limits and names a plain file.
#![no_main]

use breakglass::delivery::transfer::zipdir::check_plain_name;
use breakglass::delivery::transfer::{
    display_safe, parse_offer, Offer, MAX_TEXT_BYTES, MAX_TOTAL_BYTES, MAX_ZIP_BYTES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for offer in [Some(&msg), msg.get("offer")].into_iter().flatten() {
        match parse_offer(offer) {
            Ok(Offer::Text(t)) => {
                assert!(t.len() <= MAX_TEXT_BYTES);
                let _ = display_safe(&t);
            }
            Ok(Offer::File { name, size }) => {
                assert!(size <= MAX_TOTAL_BYTES && check_plain_name(&name).is_ok());
            }
            Ok(Offer::Directory { name, zipsize }) => {
                assert!(zipsize <= MAX_ZIP_BYTES && check_plain_name(&name).is_ok());
            }
            Err(why) => assert!(!why.is_empty()),
        }
    }
});
