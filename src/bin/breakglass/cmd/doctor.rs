//! `breakglass doctor`: one line per check, OK/WARN/FAIL with the fix; exit 1 on any FAIL.

use crate::cli::DoctorArgs;
use crate::error::Error;
use crate::output;
use crate::terminal::TerminalUi;
use breakglass::ops::doctor::{self, Level};
use breakglass::token::Backend;
use breakglass::ui::Tone;

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
            let (tone, tag, pad) = match c.level {
                Level::Ok => (Tone::Success, "[OK]", "  "),
                Level::Warn => (Tone::Warning, "[WARN]", ""),
                Level::Fail => (Tone::Refusal, "[FAIL]", ""),
            };
            let rest = if c.fix.is_empty() {
                format!("{pad} {:<18} {}", c.name, c.detail)
            } else {
                format!("{pad} {:<18} {}. {}", c.name, c.detail, c.fix)
            };
            output::out_marked("  ", tone, tag, &rest);
        }
    }
    match fails {
        0 => Ok(()),
        n => Err(Error::DoctorFailed(n)),
    }
}
