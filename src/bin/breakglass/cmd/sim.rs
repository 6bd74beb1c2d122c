//! `breakglass sim …`: the simulated key's state.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::cli::SimCommand;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::token::sim::SimToken;
use breakglass::token::TokenError;
use breakglass::ui::{PinPrompt, Ui};
use breakglass::Error;

pub(super) fn run(c: SimCommand, json: bool, ui: &mut TerminalUi) -> Result<(), Error> {
    if let SimCommand::ProviderPath = c {
        say!("{}", breakglass::token::sim::provider_path()?.display());
        return Ok(());
    }
    if let SimCommand::PivCard(a) = c {
        return piv_card(a);
    }
    if let SimCommand::Hid(a) = c {
        return super::sim_hid::run(a);
    }
    let dir = breakglass::sim_dir();
    let mut token = SimToken::open(&dir)?;
    match c {
        SimCommand::Status => {
            let s = token.status()?;
            if json {
                return output::json(&s);
            }
            say!(
                "simulated key {} (SIMULATED) in {}",
                s.serial,
                s.dir.display()
            );
            say!("  signature counter: {}", s.counter);
            match s.pin_retries {
                Some(n) => say!(
                    "  PIN: set, {n} tries left{}",
                    if s.needs_replug {
                        " (3 wrong in a row: run `breakglass sim replug`)"
                    } else {
                        ""
                    }
                ),
                None => say!("  PIN: not set"),
            }
            if s.credentials.is_empty() {
                say!("  resident credentials: none");
            }
            for c in &s.credentials {
                say!(
                    "  resident credential: {} {} credProtect {} created {}",
                    c.rp_id,
                    c.fingerprint,
                    c.cred_protect,
                    breakglass::ssh::validity::format_time_utc(c.created)
                );
            }
            Ok(())
        }
        SimCommand::SetPin => {
            let new = match std::env::var_os("BREAKGLASS_NEW_PIN") {
                Some(v) => Zeroizing::new(v.to_string_lossy().into_owned()),
                None => {
                    let a = rpassword::prompt_password("New PIN for the simulated key: ")
                        .map_err(|_| TokenError::PinNeeded)?;
                    let b = Zeroizing::new(
                        rpassword::prompt_password("Repeat the new PIN: ")
                            .map_err(|_| TokenError::PinNeeded)?,
                    );
                    let a = Zeroizing::new(a);
                    if a != b {
                        return Err(Error::PinsDiffer);
                    }
                    a
                }
            };
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
            say!(
                "PIN {} on simulated key {}.",
                if status.pin_set { "changed" } else { "set" },
                token.serial()
            );
            Ok(())
        }
        SimCommand::Replug => {
            token.replug()?;
            say!("Simulated key {} re-inserted.", token.serial());
            Ok(())
        }
        SimCommand::ProviderPath | SimCommand::PivCard(_) | SimCommand::Hid(_) => Ok(()),
        SimCommand::Reset => {
            token.reset()?;
            say!(
                "Simulated key {} reset: every credential and the PIN are gone.",
                token.serial()
            );
            Ok(())
        }
    }
}

/// `sim piv-card`: the virtual card is its own program (the `vpiv-card` crate of this
/// workspace), so its 3DES/AES code stays out of breakglass. This resolves the default state
/// path, then execs the `vpiv-card` binary installed beside breakglass, keeping the pid: a
/// script that started `breakglass sim piv-card` stops the card by that pid.
fn piv_card(a: crate::cli::PivCardArgs) -> Result<(), Error> {
    let v: Vec<u8> = a
        .firmware
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    if v.len() != 3 {
        return Err(Error::Firmware(a.firmware.clone()));
    }
    let card = breakglass::ops::beside_breakglass("vpiv-card", Error::CardProgramMissing)?;
    let state = a
        .state
        .unwrap_or_else(|| breakglass::sim_dir().join("piv-card.json"));
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    // `--flag=value`, so that no value is ever read as a flag.
    let mut state_arg = OsString::from("--state=");
    state_arg.push(&state);
    Err(exec(
        &card,
        [
            state_arg,
            format!("--vpcd={}", a.vpcd).into(),
            format!("--serial={}", a.serial).into(),
            format!("--firmware={}", a.firmware).into(),
        ],
        Error::CardProgramMissing,
    ))
}

/// Execs `program` (a workspace program beside breakglass) with `args`, keeping the pid, so a
/// script that started the `sim` command stops the program by that pid. Returns only when the
/// exec failed.
pub(super) fn exec<const N: usize>(
    program: &Path,
    args: [OsString; N],
    missing: fn(PathBuf) -> Error,
) -> Error {
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(program).args(args).exec();
    match e.kind() {
        std::io::ErrorKind::NotFound => missing(program.to_path_buf()),
        _ => Error::io("run", program, e),
    }
}
