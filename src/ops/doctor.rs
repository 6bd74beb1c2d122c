//! `doctor`: what a drill or an incident would trip on, checked now, one line each with the fix.
//! Nothing is signed and nothing is written (the writability probe creates and removes a file).

use std::path::Path;
use std::process::Command;

use serde::Serialize;
use ssh_key::HashAlg;

use crate::delivery::{audit, writable};
use crate::ssh::keyfile;
use crate::token::BackendChoice;
use crate::ui::Ui;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Fine.
    Ok,
    /// Works, but worth fixing before the day.
    Warn,
    /// Would fail.
    Fail,
}

/// One check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// The outcome.
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// What to do (empty when OK).
    pub fix: String,
}

fn check(name: &'static str, level: Level, detail: String, fix: &str) -> Check {
    Check {
        name,
        level,
        detail,
        fix: fix.to_string(),
    }
}

/// Runs every check; `ca` is the CA file to compare with (`./sk-user-ca.pub` by default).
pub fn doctor(choice: BackendChoice, ca: &Path, now: u64, ui: &mut dyn Ui) -> Vec<Check> {
    let mut out = Vec::new();
    let expected = keyfile::read_ca_public(ca)
        .ok()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string());
    token_checks(&mut out, choice, ca, expected.as_deref(), ui);
    out.push(clock_check(ca, now));
    out.extend(openssh_checks());
    out.push(match writable::probe_dir(Path::new(".")) {
        Ok(()) => check(
            "output directory",
            Level::Ok,
            "this directory is writable".into(),
            "",
        ),
        Err(e) => check(
            "output directory",
            Level::Fail,
            e.to_string(),
            "cd to a directory you can write to before minting, or use -f DIR/emergency.",
        ),
    });
    let log = audit::default_path();
    out.push(if !log.exists() {
        check("audit log", Level::Ok, format!("{} does not exist yet (made at the first mint)", log.display()), "")
    } else {
        match audit::verify(&log) {
            Ok(v) => check("audit log", Level::Ok, format!("{}: {} entries, hash chain intact", log.display(), v.entries), ""),
            Err(e) => check("audit log", Level::Fail, e.to_string(), "Keep a copy as evidence; point BREAKGLASS_AUDIT_LOG at a new file for the next mint."),
        }
    });
    if cfg!(target_os = "macos") {
        out.push(check(
            "macOS OpenSSH",
            Level::Warn,
            "the ssh that ships with macOS is built without security-key support".into(),
            "Use Homebrew's OpenSSH (brew install openssh) for ssh-keygen -t ecdsa-sk and ssh-add of sk keys.",
        ));
    }
    out
}

fn token_checks(
    out: &mut Vec<Check>,
    choice: BackendChoice,
    ca: &Path,
    expected: Option<&str>,
    ui: &mut dyn Ui,
) {
    let listing = match crate::ops::list::list(choice, "ssh:", ui) {
        Ok(l) => l,
        Err(e) => {
            out.push(check(
                "security key",
                Level::Fail,
                e.to_string(),
                "Insert the key (or pick --backend) and run doctor again.",
            ));
            return;
        }
    };
    if listing.keys.is_empty() {
        let why = if listing.problems.is_empty() {
            "no security key found".to_string()
        } else {
            format!("no security key found ({})", listing.problems.join("; "))
        };
        out.push(check(
            "security key",
            Level::Fail,
            why,
            "Insert the key that holds the CA (or use --backend sim to practise).",
        ));
        return;
    }
    for k in &listing.keys {
        out.push(check("security key", Level::Ok, k.device.clone(), ""));
        match k.pin_tries_left {
            Some(t) if t <= 2 => out.push(check("PIN tries", Level::Warn, format!("{t} PIN tries left on {}", k.device), "Find the right PIN before the day; a blocked PIN needs a reset, which destroys the CA.")),
            Some(t) => out.push(check("PIN tries", Level::Ok, format!("{t} PIN tries left"), "")),
            None => {}
        }
    }
    let on_keys: Vec<&str> = listing
        .keys
        .iter()
        .flat_map(|k| k.cas.iter().map(|c| c.fingerprint.as_str()))
        .collect();
    out.push(match expected {
        Some(fp) if on_keys.contains(&fp) => check(
            "CA",
            Level::Ok,
            format!("{} ({fp}) is on the key", ca.display()),
            "",
        ),
        Some(fp) => check(
            "CA",
            Level::Fail,
            format!(
                "{} ({fp}) is not on any key found (they hold: {})",
                ca.display(),
                if on_keys.is_empty() {
                    "none".to_string()
                } else {
                    on_keys.join(", ")
                }
            ),
            "Insert the key that holds this CA, or use the kit (sk-user-ca.pub) made for this key.",
        ),
        None if on_keys.is_empty() => check(
            "CA",
            Level::Fail,
            "no CA file here and no SSH CA on the key".into(),
            "Create one with `breakglass init-ca`, or cd to the kit directory.",
        ),
        None => check(
            "CA",
            Level::Warn,
            format!(
                "no {} here to compare with (the key holds {})",
                ca.display(),
                on_keys.join(", ")
            ),
            "cd to the kit directory (with sk-user-ca.pub), or pass --ca.",
        ),
    });
}

/// A clock behind the newest audit entry or the CA file is wrong: a short certificate would be
/// "not yet valid" and sshd says only "Permission denied".
fn clock_check(ca: &Path, now: u64) -> Check {
    let newest_entry = audit::read(&audit::default_path())
        .ok()
        .and_then(|es| {
            es.last()
                .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e.time).ok())
        })
        .and_then(|t| u64::try_from(t.timestamp()).ok());
    let ca_time = std::fs::metadata(ca)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let fix = "Set the clock (timedatectl set-ntp true, or date -s); a wrong clock makes new certificates \"not yet valid\" and sshd then says only \"Permission denied\".";
    let now_text = crate::ssh::validity::format_time_utc(now);
    if let Some(t) = newest_entry.filter(|t| *t > now + 60) {
        return check(
            "clock",
            Level::Fail,
            format!(
                "{now_text} is before the newest audit entry ({})",
                crate::ssh::validity::format_time_utc(t)
            ),
            fix,
        );
    }
    if let Some(t) = ca_time.filter(|t| *t > now + 60) {
        return check(
            "clock",
            Level::Fail,
            format!(
                "{now_text} is before {} was written ({})",
                ca.display(),
                crate::ssh::validity::format_time_utc(t)
            ),
            fix,
        );
    }
    check(
        "clock",
        Level::Ok,
        format!("{now_text}, after the audit log's and the CA file's times"),
        "",
    )
}

/// `ssh -V` prints "OpenSSH_9.2p1 Debian-2, OpenSSL …" on stderr; security keys need 8.2.
fn openssh_checks() -> Vec<Check> {
    let mut out = Vec::new();
    let version = Command::new("ssh").arg("-V").output().ok().map(|o| {
        String::from_utf8_lossy(if o.stderr.is_empty() {
            &o.stdout
        } else {
            &o.stderr
        })
        .trim()
        .to_string()
    });
    match version {
        None => out.push(check(
            "ssh",
            Level::Fail,
            "ssh is not installed".into(),
            "Install OpenSSH 8.2 or later (apt-get install openssh-client).",
        )),
        Some(v) => {
            let num = v.strip_prefix("OpenSSH_").and_then(|r| {
                let mut it = r.split(|c: char| !c.is_ascii_digit());
                Some((
                    it.next()?.parse::<u32>().ok()?,
                    it.next()?.parse::<u32>().ok()?,
                ))
            });
            out.push(match num {
                Some((maj, min)) if (maj, min) >= (8, 2) => check("ssh", Level::Ok, v.clone(), ""),
                Some(_) => check(
                    "ssh",
                    Level::Fail,
                    format!("{v}: security keys need OpenSSH 8.2 or later"),
                    "Install a newer OpenSSH.",
                ),
                None => check(
                    "ssh",
                    Level::Warn,
                    format!("{v}: not OpenSSH, or a version doctor cannot read"),
                    "Check that it is OpenSSH 8.2 or later.",
                ),
            });
        }
    }
    for prog in ["ssh-agent", "ssh-keygen"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
            .unwrap_or(false);
        out.push(if found {
            check(
                prog,
                Level::Ok,
                format!("{prog} is installed (same OpenSSH as ssh)"),
                "",
            )
        } else {
            check(
                prog,
                Level::Fail,
                format!("{prog} is not on PATH"),
                "Install openssh-client.",
            )
        });
    }
    out
}
