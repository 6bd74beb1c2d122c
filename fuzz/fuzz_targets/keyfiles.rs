//! Key files we are pointed at or receive: OpenSSH private keys, key-handle files, PIV reference
//! files, public and CA keys, and a key + certificate pair as `receive` checks it. Read from a
//! file as the commands do; never panic, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("bg-fuzz-keyfiles-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d.join("key")
}

fuzz_target!(|data: &[u8]| {
    let p = scratch();
    if std::fs::write(&p, data).is_err() {
        return;
    }
    let _ = breakglass::ssh::keyfile::read_key_handle(&p);
    let _ = breakglass::ssh::keyfile::read_public(&p);
    let _ = breakglass::ssh::keyfile::read_ca_public(&p);
    let _ = breakglass::ssh::keyfile::PivReference::parse(&String::from_utf8_lossy(data));
    // A private key and a certificate line split at the first NUL, as `receive` gets them.
    let (key, cert) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let _ = breakglass::ops::handoff::check_bundle(
        key,
        &String::from_utf8_lossy(cert),
        "fuzz",
        1_800_000_000,
        None,
    );
});
