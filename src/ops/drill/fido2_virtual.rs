//! `drill --backend fido2-virtual`: the drill's fresh simulated key gets a random PIN and is
//! plugged in through `/dev/uhid` as a USB FIDO2 key (`breakglass-sim-hid`); the steps then run
//! `--backend fido2 --device /dev/hidrawN` (ctap-hid-fido2 over the kernel's hidraw), so they
//! never pick a real key that happens to be connected. The key is unplugged (SIGTERM by pid)
//! when the steps end, and also when a step failed or the drill itself stops early (drop).

use crate::diagnostic::Diagnostic;
use std::path::Path;
use std::time::Instant;

use zeroize::Zeroizing;

use super::{Drill, StepStatus};
use crate::ops::sim_hid::Plugged;
use crate::token::SimToken;

const PLUG: &str = "plug in a virtual FIDO2 key (SIMULATED)";
const UNPLUG: &str = "unplug the virtual FIDO2 key";

/// A fresh random PIN of 8 digits (the fido2 backend's init-ca needs a key with a PIN).
fn fresh_pin() -> Zeroizing<String> {
    let mut b = Zeroizing::new([0u8; 8]);
    // Without randomness the PIN is still a valid one; it only protects a throwaway key.
    let _ = getrandom::fill(&mut b[..]);
    Zeroizing::new(b.iter().map(|x| char::from(b'0' + x % 10)).collect())
}

/// Sets a PIN on the drill's simulated key, plugs it in and points the drill's steps at it.
/// `None` (after a FAIL step saying why) when it could not be plugged in.
pub(super) fn plug(d: &mut Drill<'_>, program: &Path, uhid: &Path) -> Option<Plugged> {
    let start = Instant::now();
    let sim = d.dir.join("sim");
    let pin = fresh_pin();
    let prepared = SimToken::open(&sim)
        .and_then(|mut t| t.set_pin(None, &pin).map(|()| t.serial().to_string()));
    let serial = match prepared {
        Ok(s) => s,
        Err(e) => {
            d.record(PLUG, start, StepStatus::Fail, format!("{e}. {}", e.hint()));
            return None;
        }
    };
    match Plugged::start(program, uhid, &sim, &d.dir.join("sim-hid.log")) {
        Ok(key) => {
            d.record(
                PLUG,
                start,
                StepStatus::Pass,
                format!("{serial} on {}, PIN set", key.hidraw),
            );
            d.key = format!("the virtual key via {}", key.hidraw);
            d.backend = "fido2";
            d.device = Some(key.hidraw.clone());
            d.pin = Some(pin);
            Some(key)
        }
        Err(why) => {
            d.record(PLUG, start, StepStatus::Fail, why);
            None
        }
    }
}

/// Unplugs the key and records how much CTAPHID traffic the drill made.
pub(super) fn unplug(d: &mut Drill<'_>, key: Plugged) {
    let start = Instant::now();
    match key.unplug() {
        Ok(counts) => d.record(UNPLUG, start, StepStatus::Pass, counts),
        Err(why) => d.record(UNPLUG, start, StepStatus::Fail, why),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fresh_pin_is_eight_digits_the_key_accepts() {
        let a = fresh_pin();
        assert_eq!(a.len(), 8);
        assert!(a.bytes().all(|b| b.is_ascii_digit()), "{}", a.as_str());
        let d = tempfile::tempdir().unwrap();
        SimToken::open(d.path()).unwrap().set_pin(None, &a).unwrap();
        assert_ne!(fresh_pin(), fresh_pin(), "random (1 in 10^8 to collide)");
    }
}
