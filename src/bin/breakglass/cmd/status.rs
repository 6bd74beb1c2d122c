//! `breakglass status [--watch]`: what you hold and how long it lasts; `--watch` redraws every
//! second (on a terminal the screen is cleared; otherwise one block per second) until Ctrl-C.

use std::io::IsTerminal;

use crate::cli::StatusArgs;
use crate::error::Error;
use crate::output::{self, say};
use breakglass::ops::status::{self, Status};
use breakglass::ssh::summary::{self, TimeStatus};

pub(super) fn run(a: StatusArgs, json: bool) -> Result<(), Error> {
    if json && a.watch {
        // `breakglass --json status --watch`: clap checks the conflict only when --json comes
        // after `status`; the same usage error (exit 2) for the other order.
        usage_error("the argument '--watch' cannot be used with '--json'");
    }
    let here = std::path::Path::new(".");
    if json {
        return output::json(&status::status(here, breakglass::now()));
    }
    if !a.watch {
        show(&status::status(here, breakglass::now()));
        return Ok(());
    }
    let terminal = std::io::stdout().is_terminal();
    loop {
        let st = status::status(here, breakglass::now());
        if terminal {
            // Home and clear, then the fresh picture (escape codes only to a terminal).
            use std::io::Write;
            let mut o = std::io::stdout().lock();
            let _ = write!(o, "\x1b[H\x1b[2J");
            let _ = o.flush();
        }
        show(&st);
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// Prints `msg` as clap prints a usage error of `breakglass status` and exits with 2.
fn usage_error(msg: &str) -> ! {
    use clap::CommandFactory;
    let mut cli = crate::cli::Cli::command();
    cli.build();
    let status = cli
        .find_subcommand_mut("status")
        .expect("the status subcommand");
    status
        .error(clap::error::ErrorKind::ArgumentConflict, msg)
        .exit()
}

fn show(st: &Status) {
    if st.certificates.is_empty() {
        say!("No certificates here (*-cert.pub) or in ssh-agent.");
    }
    let w = st
        .certificates
        .iter()
        .map(|c| c.source.len())
        .max()
        .unwrap_or(0);
    for c in &st.certificates {
        let when = match (c.status, c.seconds_left) {
            (TimeStatus::Valid, Some(left)) => {
                format!("{} left", summary::human_duration(left))
            }
            (TimeStatus::Valid, None) => "no expiry".into(),
            (TimeStatus::Expired, _) => format!(
                "EXPIRED {} ago",
                summary::human_duration(breakglass::now().saturating_sub(c.valid_before))
            ),
            (TimeStatus::NotYetValid, _) => "NOT YET VALID".into(),
        };
        say!(
            "{:<w$}  {:<16}  serial {}  {}  \"{}\"",
            c.source,
            when,
            c.serial,
            c.principals.join(","),
            c.key_id
        );
    }
    for p in &st.pairs {
        let left = p
            .seconds_left
            .map(|s| format!("{} left", summary::human_duration(s)))
            .unwrap_or_else(|| "no expiry".into());
        say!(
            "two-person pair for {}: {} + {} (two custodian CAs), {left}",
            p.principal,
            p.first,
            p.second
        );
    }
    if let Some(p) = &st.agent_problem {
        say!("(ssh-agent not asked: {p})");
    }
}
