//! `breakglass log`.

use crate::cli::LogArgs;
use crate::output::{self, say, tell};
use crate::terminal::TerminalUi;
use breakglass::delivery::audit;
use breakglass::ops::log::{self, CounterCheck, VerifyRequest};
use breakglass::ssh::validity;
use breakglass::token::Backend;
use breakglass::Error;

pub(super) fn run(
    a: LogArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    let path = audit::default_path();
    if a.verify {
        let r = log::verify(
            &VerifyRequest {
                path: path.clone(),
                ca: a.ca,
                backend: a.token.backend.or(outer),
                device: a.token.device,
                shared_key: a.shared_key,
            },
            ui,
        )?;
        if json {
            return output::json(&r);
        }
        say!(
            "{}: {} entries, hash chain intact",
            path.display(),
            r.chain.entries
        );
        say!("  head: {} (write it down with the count)", r.chain.head);
        for n in &r.chain.fragments {
            tell!("warning: line {n} is an unfinished entry left by a crash or a full disk (not part of the chain)");
        }
        match &r.counter {
            CounterCheck::Matches { key } => {
                say!("  key signature counter {key}: agrees with the log (nothing signed outside it)")
            }
            CounterCheck::KeyAhead { logged, key } => tell!(
                "warning: the key's signature counter is {key}, the log's last is {}: the key signed more than the log records (expected on a key shared with other services)",
                logged.map_or("none".into(), |l| l.to_string())
            ),
            CounterCheck::NotChecked { reason } => {
                say!("  key signature counter not checked: {reason}")
            }
        }
        return Ok(());
    }
    let entries = audit::read(&path)?;
    if json {
        for e in &entries {
            output::json_line(e)?;
        }
        return Ok(());
    }
    if entries.is_empty() {
        say!("{}: no entries yet", path.display());
    }
    for e in &entries {
        let mut line = format!(
            "{}  {:<8} {:<18} {}@{}",
            e.time, e.action, e.result, e.operator, e.host
        );
        if let Some(fp) = &e.ca_fingerprint {
            line.push_str(&format!("  CA {fp}"));
        }
        say!("{line}");
        if let Some(s) = e.serial {
            let who = e.principals.join(",");
            let valid = match (e.valid_after, e.valid_before) {
                (Some(a), Some(b)) => format!(
                    "{} .. {}",
                    validity::format_time_utc(a),
                    validity::format_time_utc(b)
                ),
                _ => String::new(),
            };
            say!("    serial {s}  principals {who}  {valid}");
        }
        if let Some(id) = &e.key_id {
            say!("    key id \"{id}\"");
        }
        if let Some(r) = &e.reason {
            say!("    reason: {r}");
        }
    }
    Ok(())
}
