//! `sim`: the simulated key's state (its status with counter and resident credentials, setting
//! or changing its PIN, a re-plug, a reset), where the SecurityKeyProvider for OpenSSH is, and
//! the two workspace programs that serve the simulated key as a device: the virtual PIV card
//! (`vpiv-card`, for pcscd's vpcd reader) and the virtual FIDO2 key (`breakglass-sim-hid`, on
//! `/dev/uhid`). Those programs are separate so that their 3DES/AES and CBOR/PIN-protocol code
//! stays out of breakglass; `sim piv-card` and `sim hid` exec them ([`Program::exec`]), keeping
//! the pid, so a script that started the `sim` command stops the program by that pid.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::token::sim::{SimStatus, SimToken};
use crate::token::TokenError;
use crate::ui::{PinPrompt, Ui};
use crate::{paths, Error, Result};

/// The simulated key's state: serial, counter, PIN tries, resident credentials.
pub fn status() -> Result<SimStatus> {
    Ok(SimToken::open(&paths::sim_dir())?.status()?)
}

/// What [`set_pin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinSet {
    /// The simulated key's serial.
    pub serial: String,
    /// A PIN was set before (and was changed), rather than set for the first time.
    pub changed: bool,
}

/// Sets the simulated key's PIN to what `new_pin` gives (asked only once the key is open), or
/// changes it: then the current PIN is asked for through `ui`.
pub fn set_pin(
    ui: &mut dyn Ui,
    new_pin: impl FnOnce() -> Result<Zeroizing<String>>,
) -> Result<PinSet> {
    let mut token = SimToken::open(&paths::sim_dir())?;
    let new = new_pin()?;
    let status = token.status()?;
    let current = if status.pin_set {
        let prompt = PinPrompt {
            device: format!("simulated key {} (current PIN)", token.serial()),
            tries_left: status.pin_retries,
        };
        Some(ui.pin(&prompt).ok_or(TokenError::PinNeeded)?)
    } else {
        None
    };
    token.set_pin(current.as_ref(), &new)?;
    Ok(PinSet {
        serial: token.serial().to_string(),
        changed: status.pin_set,
    })
}

/// "Unplugs and re-inserts" the simulated key (clears the three-wrong-PINs block); its serial.
pub fn replug() -> Result<String> {
    let mut token = SimToken::open(&paths::sim_dir())?;
    token.replug()?;
    Ok(token.serial().to_string())
}

/// Erases every credential and the PIN, as a FIDO2 reset does; the key's serial.
pub fn reset() -> Result<String> {
    let mut token = SimToken::open(&paths::sim_dir())?;
    token.reset()?;
    Ok(token.serial().to_string())
}

/// The SecurityKeyProvider library that lets OpenSSH use the simulated key.
pub fn provider_path() -> Result<PathBuf> {
    crate::token::sim::provider_path()
}

/// A workspace program installed beside breakglass, with its arguments, ready to replace this
/// process.
#[derive(Debug)]
pub struct Program {
    /// The program's path.
    pub path: PathBuf,
    /// Its arguments, each `--flag=value`, so that no value is ever read as a flag.
    pub args: Vec<OsString>,
    /// The error for a program that is not there.
    missing: fn(PathBuf) -> Error,
}

impl Program {
    /// Execs the program, keeping the pid. Returns only when the exec failed.
    pub fn exec(self) -> Error {
        use std::os::unix::process::CommandExt;
        let e = std::process::Command::new(&self.path)
            .args(&self.args)
            .exec();
        match e.kind() {
            std::io::ErrorKind::NotFound => (self.missing)(self.path),
            _ => Error::io("run", &self.path, e),
        }
    }
}

/// `--flag=` followed by a path, which need not be UTF-8.
fn path_arg(flag: &str, path: &Path) -> OsString {
    let mut a = OsString::from(flag);
    a.push(path);
    a
}

/// The virtual PIV card (`vpiv-card`) on `state` (default: `piv-card.json` in the simulated
/// key's directory, which is made if missing), reporting `serial` and `firmware`
/// (MAJOR.MINOR.PATCH), plugged into the vpcd at `vpcd`.
pub fn piv_card(
    state: Option<PathBuf>,
    vpcd: &str,
    serial: u32,
    firmware: &str,
) -> Result<Program> {
    let v: Vec<u8> = firmware.split('.').filter_map(|p| p.parse().ok()).collect();
    if v.len() != 3 {
        return Err(Error::Firmware(firmware.to_string()));
    }
    let card = super::beside_breakglass("vpiv-card", Error::CardProgramMissing)?;
    let state = state.unwrap_or_else(|| paths::sim_dir().join("piv-card.json"));
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    Ok(Program {
        path: card,
        args: vec![
            path_arg("--state=", &state),
            format!("--vpcd={vpcd}").into(),
            format!("--serial={serial}").into(),
            format!("--firmware={firmware}").into(),
        ],
        missing: Error::CardProgramMissing,
    })
}

/// The virtual FIDO2 key (`breakglass-sim-hid`) on the kernel's `uhid` device, answering a
/// scripted touch after `touch_delay_ms` and giving up after `touch_timeout_ms`; its
/// attestation states `firmware` (`X.Y.Z`, or `none`).
pub fn hid(
    uhid: &Path,
    touch_delay_ms: u64,
    touch_timeout_ms: u64,
    firmware: &str,
) -> Result<Program> {
    Ok(Program {
        path: super::sim_hid::program()?,
        args: vec![
            path_arg("--uhid=", uhid),
            format!("--touch-delay-ms={touch_delay_ms}").into(),
            format!("--touch-timeout-ms={touch_timeout_ms}").into(),
            format!("--firmware={firmware}").into(),
        ],
        missing: Error::SimHidProgramMissing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firmware_that_is_not_a_version_is_refused_before_the_program_is_looked_for() {
        for bad in ["5.4", "5.4.3.2", "five", ""] {
            assert!(
                matches!(piv_card(None, "127.0.0.1:35963", 1, bad), Err(Error::Firmware(f)) if f == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_program_is_named_by_where_it_should_be() {
        // The unit-test binary has no vpiv-card beside it.
        match piv_card(None, "127.0.0.1:35963", 1, "5.4.3") {
            Err(Error::CardProgramMissing(p)) => assert!(p.ends_with("vpiv-card")),
            other => panic!("{other:?}"),
        }
        let gone = Program {
            path: PathBuf::from("/nonexistent/breakglass-sim-hid"),
            args: vec![path_arg("--uhid=", Path::new("/dev/uhid"))],
            missing: Error::SimHidProgramMissing,
        };
        assert!(
            matches!(gone.exec(), Error::SimHidProgramMissing(p) if p.ends_with("breakglass-sim-hid"))
        );
    }
}
