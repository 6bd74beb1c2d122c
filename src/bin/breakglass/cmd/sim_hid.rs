//! `breakglass sim hid`: execs the virtual FIDO2 key (`breakglass-sim-hid`, the `vfido-hid`
//! crate of this workspace) that `ops::sim::hid` finds beside breakglass, keeping the pid: a
//! script that started `breakglass sim hid` unplugs the key by sending that pid SIGTERM.

use crate::cli::sim::SimHidArgs;
use crate::error::Error;
use breakglass::ops::sim;

pub(super) fn run(a: SimHidArgs) -> Result<(), Error> {
    Err(
        sim::hid(&a.uhid, a.touch_delay_ms, a.touch_timeout_ms, &a.firmware)?
            .exec()
            .into(),
    )
}
