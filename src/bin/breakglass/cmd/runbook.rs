//! `breakglass runbook [NAME]`: the runbooks ship inside the binary (`include_str!` of
//! `runbooks/*.md`, the same files CI runs), so the help footer and error hints can point at them
//! on a machine without the repository.

use crate::cli::RunbookArgs;
use crate::output::say;
use breakglass::Error;

/// Name, one-line summary, text.
pub const RUNBOOKS: &[(&str, &str, &str)] = &[
    (
        "incident",
        "SSO is down and you need a shell: mint, log in, record, clean up",
        include_str!("../../../../runbooks/incident.md"),
    ),
    (
        "handoff",
        "Mint on the machine with the key, hand access to a colleague over magic-wormhole",
        include_str!("../../../../runbooks/handoff.md"),
    ),
    (
        "practice-with-openssh",
        "The manual OpenSSH procedure (ssh-keygen, ssh-add) on the simulated key",
        include_str!("../../../../runbooks/practice-with-openssh.md"),
    ),
];

pub(super) fn run(a: RunbookArgs) -> Result<(), Error> {
    let Some(name) = a.name else {
        say!("Runbooks (print one with `breakglass runbook NAME`):");
        for (name, summary, _) in RUNBOOKS {
            say!("  {name:<22} {summary}");
        }
        return Ok(());
    };
    match RUNBOOKS.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, text)) => {
            say!("{}", text.trim_end());
            Ok(())
        }
        None => Err(Error::UnknownRunbook {
            name,
            known: RUNBOOKS.iter().map(|(n, _, _)| *n).collect(),
        }),
    }
}
