//! What the virtual FIDO2 key (vfido-hid's CTAPHID layer) makes of the reports a host sends:
//! arbitrary reports of any length — INIT on the broadcast or another channel, continuations out
//! of sequence or on another channel, byte counts above the largest message, CANCEL, reports
//! during a pending touch — interleaved with the passage of time, never panic, and every answer
//! is one 64-byte report on a channel the device allocated or the broadcast channel.
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use vfido_hid::ctaphid::{Ctap2, Device, Step, TouchOutcome, BROADCAST_CID};

/// A CTAP2 layer that echoes requests; a request starting 0x01 waits for a touch.
struct Echo;

impl Ctap2 for Echo {
    type Deferred = Vec<u8>;
    fn begin(&mut self, request: &[u8]) -> Step<Vec<u8>> {
        if request.first() == Some(&0x01) {
            Step::NeedsTouch(request.to_vec())
        } else {
            Step::Done([&[0u8][..], request].concat())
        }
    }
    fn finish(&mut self, d: Vec<u8>, outcome: TouchOutcome) -> Vec<u8> {
        match outcome {
            TouchOutcome::Touched => [&[0u8][..], &d].concat(),
            _ => vec![0x27],
        }
    }
    fn user_answer(&self) -> (TouchOutcome, Duration) {
        (TouchOutcome::Touched, Duration::from_millis(300))
    }
}

const FIRST_CID: u32 = 0x0100_0000;

fuzz_target!(|data: &[u8]| {
    let mut dev = Device::new(Echo, FIRST_CID);
    let start = Instant::now();
    let mut now = start;
    let mut rest = data;
    let mut allocated = 0u32;
    // Each step: a byte; its top bit set: time passes (the low bits × 10 ms); else a report of
    // that many bytes (0..=127) follows.
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let out = if op & 0x80 != 0 {
            now += Duration::from_millis(u64::from(op & 0x7f) * 10);
            dev.tick(now)
        } else {
            let n = usize::from(op).min(rest.len());
            let (report, tail) = rest.split_at(n);
            rest = tail;
            dev.input(report, now)
        };
        for r in &out {
            let cid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
            // INIT answers allocate channels upwards from FIRST_CID.
            if r[4] == 0x86 && r.len() >= 19 {
                let new = u32::from_be_bytes([r[15], r[16], r[17], r[18]]);
                allocated = allocated.max(new.wrapping_sub(FIRST_CID).wrapping_add(1));
            }
            assert!(
                cid == BROADCAST_CID || cid.wrapping_sub(FIRST_CID) < allocated || r[4] == 0xbf,
                "an answer on channel {cid:08x}, never allocated"
            );
        }
    }
});
