//! `breakglass runbook [NAME]`: the runbooks ship inside the binary ([`breakglass::runbooks`]),
//! so the help footer and error hints can point at them on a machine without the repository.

use crate::cli::RunbookArgs;
use crate::error::Error;
use crate::output::say;
use breakglass::runbooks::{self, RUNBOOKS};

pub(super) fn run(a: RunbookArgs) -> Result<(), Error> {
    let Some(name) = a.name else {
        say!("Runbooks (print one with `breakglass runbook NAME`):");
        let width = RUNBOOKS.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for r in RUNBOOKS {
            say!("  {:<width$}  {}", r.name, r.summary);
        }
        return Ok(());
    };
    match runbooks::find(&name) {
        Some(r) => {
            say!("{}", r.text.trim_end());
            Ok(())
        }
        None => Err(Error::UnknownRunbook {
            name,
            known: RUNBOOKS.iter().map(|r| r.name).collect(),
        }),
    }
}
