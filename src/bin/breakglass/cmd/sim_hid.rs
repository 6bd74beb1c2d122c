//! `breakglass sim hid`: the virtual FIDO2 key is its own program (`breakglass-sim-hid`, the
//! `vfido-hid` crate of this workspace), so its CBOR and PIN-protocol code stays out of
//! breakglass. This execs that program, installed beside breakglass, keeping the pid: a script
//! that started `breakglass sim hid` unplugs the key by sending that pid SIGTERM.

use std::os::unix::process::CommandExt;

use crate::cli::SimHidArgs;
use breakglass::ops::sim_hid;
use breakglass::Error;

pub(super) fn run(a: SimHidArgs) -> Result<(), Error> {
    let program = sim_hid::program()?;
    // `--flag=value`, so that no value is ever read as a flag.
    let mut uhid = std::ffi::OsString::from("--uhid=");
    uhid.push(&a.uhid);
    let e = std::process::Command::new(&program)
        .arg(uhid)
        .arg(format!("--touch-delay-ms={}", a.touch_delay_ms))
        .arg(format!("--touch-timeout-ms={}", a.touch_timeout_ms))
        .exec();
    // exec returns only when it failed.
    Err(match e.kind() {
        std::io::ErrorKind::NotFound => Error::SimHidProgramMissing(program),
        _ => Error::io("run", &program, e),
    })
}
