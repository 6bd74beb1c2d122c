//! `breakglass log`.

use crate::cli::LogArgs;
use crate::output::{self, say};
use breakglass::delivery::audit;
use breakglass::ssh::validity;
use breakglass::Error;

pub(super) fn run(a: LogArgs, json: bool) -> Result<(), Error> {
    let path = audit::default_path();
    if a.verify {
        let n = audit::verify(&path)?;
        say!("{}: {n} entries, hash chain intact", path.display());
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
