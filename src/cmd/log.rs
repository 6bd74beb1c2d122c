//! `breakglass log`.

use crate::audit;
use crate::cli::LogArgs;
use crate::sanitize::sanitize;
use crate::validity;
use crate::Error;

pub(super) fn run(a: LogArgs) -> Result<(), Error> {
    let path = audit::default_path();
    if a.verify {
        let n = audit::verify(&path)?;
        println!("{}: {n} entries, hash chain intact", path.display());
        return Ok(());
    }
    let entries = audit::read(&path)?;
    if a.json {
        for e in &entries {
            println!(
                "{}",
                serde_json::to_string(e).map_err(|e| Error::External(e.to_string()))?
            );
        }
        return Ok(());
    }
    if entries.is_empty() {
        println!("{}: no entries yet", path.display());
    }
    for e in &entries {
        let mut line = format!(
            "{}  {:<8} {:<18} {}@{}",
            e.time, e.action, e.result, e.operator, e.host
        );
        if let Some(fp) = &e.ca_fingerprint {
            line.push_str(&format!("  CA {fp}"));
        }
        println!("{}", sanitize(&line));
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
            println!("    serial {s}  principals {}  {valid}", sanitize(&who));
        }
        if let Some(id) = &e.key_id {
            println!("    key id \"{}\"", sanitize(id));
        }
        if let Some(r) = &e.reason {
            println!("    reason: {}", sanitize(r));
        }
    }
    Ok(())
}
