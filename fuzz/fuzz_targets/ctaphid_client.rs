//! What a FIDO2 device answers, as breakglass's fido2 client (ctap-hid-fido2's
//! `ctaphid_cbormsg`, through its `read_response`) reassembles it: arbitrary 64-byte reports —
//! initialization and continuation packets, KEEPALIVEs, CTAPHID_ERROR, other channels, sequence
//! numbers out of order, byte counts larger than what follows — never panic, and a response is
//! never longer than a byte count a CBOR or MSG packet declared.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, reports)) = data.split_first() else {
        return;
    };
    // CTAPHID_CBOR or CTAPHID_MSG (U2F), the two commands whose answers are reassembled.
    let command = if which & 1 == 0 { 0x90 } else { 0x83 };
    // hidapi hands the crate 64-byte buffers (fidokey::read); the last one is zero-padded.
    let padded: Vec<Vec<u8>> = reports
        .chunks(64)
        .map(|c| {
            let mut p = c.to_vec();
            p.resize(64, 0);
            p
        })
        .collect();
    let mut packets = padded.iter().cloned();
    let mut read = || {
        packets
            .next()
            .ok_or_else(|| anyhow::anyhow!("no more reports"))
    };
    let result = ctap_hid_fido2::ctaphid_read_response(command, false, &mut read, &mut |_| {});
    // The answer is never longer than a byte count some CBOR or MSG packet declared (the crate
    // takes either as the answer to either).
    if let Ok(out) = result {
        let declared = padded
            .iter()
            .filter(|r| r[4] == 0x90 || r[4] == 0x83)
            .map(|r| usize::from(u16::from_be_bytes([r[5], r[6]])))
            .max()
            .unwrap_or(0);
        assert!(
            out.len() <= declared,
            "{} bytes, {declared} declared",
            out.len()
        );
    }
});
