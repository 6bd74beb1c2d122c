//! `breakglass doctor`: one line per check, OK/WARN/FAIL with the fix; exit 1 on any FAIL.

use crate::cli::DoctorArgs;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::ops::doctor::{self, Level};
use breakglass::token::Backend;

pub(super) fn run(
    a: DoctorArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    let checks = doctor::doctor(a.backend.or(outer), &a.ca, breakglass::now(), ui);
    let fails = checks.iter().filter(|c| c.level == Level::Fail).count();
    if json {
        output::json(&checks)?;
    } else {
        for c in &checks {
            let tag = match c.level {
                Level::Ok => "[OK]  ",
                Level::Warn => "[WARN]",
                Level::Fail => "[FAIL]",
            };
            if c.fix.is_empty() {
                say!("  {tag} {:<18} {}", c.name, c.detail);
            } else {
                say!("  {tag} {:<18} {}. {}", c.name, c.detail, c.fix);
            }
        }
    }
    match fails {
        0 => Ok(()),
        n => Err(Error::DoctorFailed(n)),
    }
}
