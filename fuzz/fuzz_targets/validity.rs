//! Fuzz `ssh-keygen -V` parsing: no input may panic, and anything accepted
//! must be printable and a non-empty interval (unless the lone `+` form).
#![no_main]

use breakglass::ssh::validity::{
    convtime, format_time_utc, format_validity_in, parse_validity, parse_validity_in,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let now = 1_795_437_330;
    let _ = convtime(spec);
    let _ = parse_validity(spec, now);
    if let Ok(v) = parse_validity_in(spec, now, &chrono::Utc) {
        assert!(v.valid_after < v.valid_before || spec.starts_with('+'));
        let _ = format_validity_in(&v, &chrono::Utc);
        let _ = format_time_utc(v.valid_before);
    }
    let _ = parse_validity_in(spec, u64::MAX, &chrono::Utc);
});
