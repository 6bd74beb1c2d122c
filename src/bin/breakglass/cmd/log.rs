//! `breakglass log`: the audit log, filtered (`--ok`, `--since`, `--last`), in columns that stay
//! aligned whatever the result text, or as JSON lines.

use crate::cli::LogArgs;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::delivery::audit::{self, AuditEntry};
use breakglass::ops::log::{self, CounterCheck, VerifyRequest};
use breakglass::ssh::validity;
use breakglass::token::Backend;

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
            output::warning(&format!("line {n} is an unfinished entry left by a crash or a full disk (not part of the chain)"));
        }
        match &r.counter {
            CounterCheck::Matches { key } => {
                say!("  key signature counter {key}: agrees with the log (nothing signed outside it)")
            }
            CounterCheck::KeyAhead { logged, key } => output::warning(&format!(
                "the key's signature counter is {key}, the log's last is {}: the key signed more than the log records (expected on a key shared with other services)",
                logged.map_or("none".into(), |l| l.to_string())
            )),
            CounterCheck::NotChecked { reason } => {
                say!("  key signature counter not checked: {reason}")
            }
        }
        return Ok(());
    }
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let all = audit::read(&path)?;
    let total = all.len();
    let mut entries: Vec<AuditEntry> = all
        .into_iter()
        .filter(|e| !a.ok || e.result == "ok")
        .filter(|e| since.is_none_or(|s| entry_time(e).is_none_or(|t| t >= s)))
        .collect();
    if let Some(n) = a.last {
        entries.drain(..entries.len().saturating_sub(n));
    }
    if json {
        for e in &entries {
            output::json_line(e)?;
        }
        return Ok(());
    }
    if total == 0 {
        say!("{}: no entries yet", path.display());
    } else if entries.is_empty() {
        say!("{}: no entries match ({total} in all)", path.display());
    }
    let action_w = entries.iter().map(|e| e.action.len()).max().unwrap_or(0);
    let result_w = entries.iter().map(|e| e.result.len()).max().unwrap_or(0);
    for e in &entries {
        let mut line = format!(
            "{}  {:<action_w$}  {:<result_w$}  {}@{}",
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

/// `--since`: a duration ago, or a date in `-V`'s grammar (local time unless it ends in Z).
fn parse_since(s: &str) -> Result<u64, Error> {
    let now = breakglass::now();
    if let Some(secs) = validity::convtime(s) {
        return Ok(now.saturating_sub(secs));
    }
    if s.starts_with(['+', '-']) || s.contains(':') {
        return Err(Error::LogSince(s.to_string()));
    }
    validity::parse_validity(&format!("{s}:forever"), now)
        .map(|v| v.valid_after)
        .map_err(|_| Error::LogSince(s.to_string()))
}

/// An entry's time (RFC 3339, UTC), as seconds since the epoch.
fn entry_time(e: &AuditEntry) -> Option<u64> {
    chrono::DateTime::parse_from_rfc3339(&e.time)
        .ok()
        .and_then(|t| u64::try_from(t.timestamp()).ok())
}
