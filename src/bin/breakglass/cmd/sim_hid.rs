//! `breakglass sim hid`: the virtual FIDO2 key is its own program (`breakglass-sim-hid`, the
//! `vfido-hid` crate of this workspace), so its CBOR and PIN-protocol code stays out of
//! breakglass. This execs that program, installed beside breakglass, keeping the pid: a script
//! that started `breakglass sim hid` unplugs the key by sending that pid SIGTERM.

use crate::cli::SimHidArgs;
use breakglass::ops::sim_hid;
use breakglass::Error;

pub(super) fn run(a: SimHidArgs) -> Result<(), Error> {
    let program = sim_hid::program()?;
    // `--flag=value`, so that no value is ever read as a flag.
    let mut uhid = std::ffi::OsString::from("--uhid=");
    uhid.push(&a.uhid);
    Err(super::sim::exec(
        &program,
        [
            uhid,
            format!("--touch-delay-ms={}", a.touch_delay_ms).into(),
            format!("--touch-timeout-ms={}", a.touch_timeout_ms).into(),
            format!("--firmware={}", a.firmware).into(),
        ],
        Error::SimHidProgramMissing,
    ))
}
