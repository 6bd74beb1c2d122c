//! The FIDO2 conversion layer on arbitrary authenticator answers: never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = breakglass::ssh::sk::parse_auth_data(data);
    let _ = breakglass::ssh::sk::cose_es256_to_point(data);
    let _ = breakglass::ssh::sk::der_to_mpints(data);
    let _ = breakglass::ssh::sk::cbor::skip(data, 0);
    if data.len() > 37 {
        let (a, b) = data.split_at(37);
        let _ = breakglass::ssh::sk::assertion_to_ssh(a, b, "ssh:");
    }
});
