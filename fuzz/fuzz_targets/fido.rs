//! The FIDO2 conversion layer on arbitrary authenticator answers: never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = breakglass::fido::parse_auth_data(data);
    let _ = breakglass::fido::cose_es256_to_point(data);
    let _ = breakglass::fido::der_to_mpints(data);
    let _ = breakglass::fido::cbor::skip(data, 0);
    if data.len() > 37 {
        let (a, b) = data.split_at(37);
        let _ = breakglass::fido::assertion_to_ssh(a, b, "ssh:");
    }
});
