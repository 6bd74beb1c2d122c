//! `breakglass sim …`: the simulated key's state.

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
    use std::os::unix::process::CommandExt;
    let v: Vec<u8> = a
        .firmware
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    if v.len() != 3 {
        return Err(Error::Firmware(a.firmware.clone()));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("find", std::path::Path::new("the breakglass program"), e))?;
    let card = exe.with_file_name("vpiv-card");
    if !card.is_file() {
        return Err(Error::CardProgramMissing(card));
    }
    let state = a
        .state
        .unwrap_or_else(|| breakglass::sim_dir().join("piv-card.json"));
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    // `--flag=value`, so that no value is ever read as a flag.
    let mut state_arg = std::ffi::OsString::from("--state=");
    state_arg.push(&state);
    let e = std::process::Command::new(&card)
        .arg(state_arg)
        .arg(format!("--vpcd={}", a.vpcd))
        .arg(format!("--serial={}", a.serial))
        .arg(format!("--firmware={}", a.firmware))
        .exec();
    // exec returns only when it failed.
    Err(match e.kind() {
        std::io::ErrorKind::NotFound => Error::CardProgramMissing(card),
        _ => Error::io("run", &card, e),
    })
}
