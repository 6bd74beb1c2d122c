//! The runbooks, compiled in (`include_str!` of `runbooks/*.md`, the same files CI runs): the
//! `runbook` command prints them and `kit` copies them into the emergency kit, so both work on a
//! machine without the repository.

/// One runbook: its name (the file `runbooks/NAME.md`), a one-line summary and its Markdown.
#[derive(Debug, Clone, Copy)]
pub struct Runbook {
    /// The name, e.g. `incident`.
    pub name: &'static str,
    /// What it is for, in one line.
    pub summary: &'static str,
    /// The Markdown text.
    pub text: &'static str,
}

/// Every runbook that ships, in the order `breakglass runbook` lists them.
pub const RUNBOOKS: &[Runbook] = &[
    Runbook {
        name: "incident",
        summary: "SSO is down and you need a shell: mint, log in, record, clean up",
        text: include_str!("../runbooks/incident.md"),
    },
    Runbook {
        name: "handoff",
        summary: "Mint on the machine with the key, hand access to a colleague over magic-wormhole",
        text: include_str!("../runbooks/handoff.md"),
    },
    Runbook {
        name: "setup",
        summary: "Once: two keys, host-config with both CAs, the Ansible rollout, a first drill",
        text: include_str!("../runbooks/setup.md"),
    },
    Runbook {
        name: "drill",
        summary:
            "The quarterly exercise: a real login with each key, sshd's log line, the audit log",
        text: include_str!("../runbooks/drill.md"),
    },
    Runbook {
        name: "rotation-and-revocation",
        summary:
            "A key is lost or a certificate leaked: revoke, sign the KRL, replace the CA, roll out",
        text: include_str!("../runbooks/rotation-and-revocation.md"),
    },
    Runbook {
        name: "practice-with-openssh",
        summary: "The manual OpenSSH procedure (ssh-keygen, ssh-add) on the simulated key",
        text: include_str!("../runbooks/practice-with-openssh.md"),
    },
];

/// The runbook called `name`.
pub fn find(name: &str) -> Option<&'static Runbook> {
    RUNBOOKS.iter().find(|r| r.name == name)
}
