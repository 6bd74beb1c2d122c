//! `breakglass list`.

use super::{print_json, TerminalUi};
use crate::cli::ListArgs;
use crate::token::BackendChoice;
use crate::{list, Error};

pub(super) fn run(a: ListArgs, backend: BackendChoice, ui: &mut TerminalUi) -> Result<(), Error> {
    let l = list::list(backend, &a.application, ui)?;
    if a.json {
        print_json(&l)?;
    } else {
        for k in &l.keys {
            let tries = k
                .pin_tries_left
                .map(|t| format!(", PIN tries left {t}"))
                .unwrap_or_default();
            println!("{}: {}{tries}", k.backend, k.device);
            if k.cas.is_empty() {
                println!("    no SSH CA");
            }
            for c in &k.cas {
                println!("    {}: {} {}", c.location, c.key_type, c.fingerprint);
            }
        }
        for p in &l.problems {
            eprintln!("note: {p}");
        }
    }
    if l.keys.is_empty() {
        return Err(Error::External("no security key found; insert the YubiKey and run again (to practise, use --backend sim)".into()));
    }
    Ok(())
}
