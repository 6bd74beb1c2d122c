//! Certificate lines (what `inspect` reads and `receive` will get from a peer): parse, verify and
//! summarise without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok((cert, blob)) = breakglass::ssh::summary::parse_cert_line(&text) {
        let s = breakglass::ssh::summary::summarize("f", &cert, Some(&blob), 1_800_000_000, None);
        let _ = breakglass::ssh::summary::render(&s);
    }
    // Also the raw blob path, base64-free.
    if let Ok(cert) = ssh_key::Certificate::from_bytes(data) {
        let _ = breakglass::ssh::summary::verify_blob(&cert, data);
    }
});
