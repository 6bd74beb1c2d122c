//! ssh-keygen -O option lists (NUL-separated) never panic the parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let opts: Vec<&str> = data.split('\0').collect();
    let _ = breakglass::ssh::cert_options::CertOptions::from_ssh_keygen_options(&opts);
});
