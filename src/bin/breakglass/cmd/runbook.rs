//! `breakglass runbook [NAME]`: the runbooks ship inside the binary (`include_str!` of
//! `runbooks/*.md`, the same files CI runs), so the help footer and error hints can point at them
//! on a machine without the repository.

use crate::cli::RunbookArgs;
use crate::error::Error;
use crate::output::say;

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
        "setup",
        "Once: two keys, host-config with both CAs, the Ansible rollout, a first drill",
        include_str!("../../../../runbooks/setup.md"),
    ),
    (
        "drill",
        "The quarterly exercise: a real login with each key, sshd's log line, the audit log",
        include_str!("../../../../runbooks/drill.md"),
    ),
    (
        "rotation-and-revocation",
        "A key is lost or a certificate leaked: revoke, sign the KRL, replace the CA, roll out",
        include_str!("../../../../runbooks/rotation-and-revocation.md"),
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
        let width = RUNBOOKS.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
        for (name, summary, _) in RUNBOOKS {
            say!("  {name:<width$}  {summary}");
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
