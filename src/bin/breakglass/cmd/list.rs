//! `breakglass list`.

use crate::cli::ListArgs;
use crate::output::{self, say, tell};
use crate::terminal::TerminalUi;
use breakglass::token::{select, Backend};
use breakglass::{ops::list, Error};

pub(super) fn run(
    a: ListArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    let l = list::list(a.backend.or(outer), &a.application, ui)?;
    if json {
        output::json(&l)?;
    } else {
        for k in &l.keys {
            let tries = k
                .pin_tries_left
                .map(|t| format!(", PIN tries left {t}"))
                .unwrap_or_default();
            say!("{}: {}{tries}", k.backend, k.device);
            if k.cas.is_empty() {
                say!("    no SSH CA");
            }
            for c in &k.cas {
                say!("    {}: {} {}", c.location, c.key_type, c.fingerprint);
            }
        }
        for p in &l.problems {
            tell!("note: {p}");
        }
    }
    if l.keys.is_empty() {
        return Err(select::no_hardware(None).into());
    }
    Ok(())
}
