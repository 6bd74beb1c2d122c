//! `breakglass sim …`: prints what `ops::sim` reports about the simulated key, and reads a new
//! PIN from `BREAKGLASS_NEW_PIN` or the terminal (typed twice).

use zeroize::Zeroizing;

use crate::cli::SimCommand;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::ops::sim;
use breakglass::token::TokenError;

pub(super) fn run(c: SimCommand, json: bool, ui: &mut TerminalUi) -> Result<(), Error> {
    match c {
        SimCommand::Status => {
            let s = sim::status()?;
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
            let done = sim::set_pin(ui, new_pin)?;
            say!(
                "PIN {} on simulated key {}.",
                if done.changed { "changed" } else { "set" },
                done.serial
            );
            Ok(())
        }
        SimCommand::Replug => {
            let serial = sim::replug()?;
            say!("Simulated key {serial} re-inserted.");
            Ok(())
        }
        SimCommand::Reset => {
            let serial = sim::reset()?;
            say!("Simulated key {serial} reset: every credential and the PIN are gone.");
            Ok(())
        }
        SimCommand::ProviderPath => {
            say!("{}", sim::provider_path()?.display());
            Ok(())
        }
        SimCommand::PivCard(a) => Err(sim::piv_card(a.state, &a.vpcd, a.serial, &a.firmware)?
            .exec()
            .into()),
        SimCommand::Hid(a) => super::sim_hid::run(a),
    }
}

/// The new PIN: `BREAKGLASS_NEW_PIN`, else typed twice on the terminal.
fn new_pin() -> breakglass::Result<Zeroizing<String>> {
    if let Some(v) = std::env::var_os("BREAKGLASS_NEW_PIN") {
        return Ok(Zeroizing::new(v.to_string_lossy().into_owned()));
    }
    let a = Zeroizing::new(
        rpassword::prompt_password("New PIN for the simulated key: ")
            .map_err(|_| TokenError::PinNeeded)?,
    );
    let b = Zeroizing::new(
        rpassword::prompt_password("Repeat the new PIN: ").map_err(|_| TokenError::PinNeeded)?,
    );
    if a != b {
        return Err(breakglass::Error::PinsDiffer);
    }
    Ok(a)
}
