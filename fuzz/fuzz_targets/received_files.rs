//! What `receive` does with the bytes of a received file or text (Python's `wormhole send FILE`
//! or `--text`): find one private key block and one certificate line, then check that they
//! belong together, verify and are valid. No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Split at the first NUL so one input can also stand for two files of a directory.
    let blobs: Vec<&[u8]> = data.splitn(2, |&b| b == 0).collect();
    let _ = breakglass::ops::handoff::check_received(&blobs, 1_800_000_000);
});
