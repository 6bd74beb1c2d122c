//! `doctor`: what a drill or an incident would trip on, checked now, one line each with the fix.
//! Nothing is signed and nothing is written (the writability probe creates and removes a file).

use crate::diagnostic::Diagnostic;
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

/// `detail` is sanitised here, as one line: it may hold file names (a kit's, `--ca`'s, the audit
/// log's), and a newline in one must not print a check line of its own.
fn check(name: &'static str, level: Level, detail: String, fix: &str) -> Check {
    Check {
        name,
        level,
        detail: crate::sanitize::sanitize(&detail),
        fix: fix.to_string(),
    }
}

/// Runs every check; `ca` is the CA file to compare with (`./sk-user-ca.pub` by default).
pub fn doctor(choice: BackendChoice, ca: &Path, now: u64, ui: &mut dyn Ui) -> Vec<Check> {
    let mut out = Vec::new();
    if crate::ops::kit::is_kit(Path::new(".")) {
        out.push(kit_check());
    }
    // A CA file that is there but cannot be read (a FIFO, a device, a huge file, a symlink
    // loop, no permission) is a problem of its own, not "no CA file here".
    let expected = match keyfile::read_ca_public(ca) {
        Ok(k) => Some(k.fingerprint(HashAlg::Sha256).to_string()),
        Err(_) if std::fs::symlink_metadata(ca).is_err() => None,
        Err(e) => {
            out.push(check("CA file", Level::Fail, e.to_string(), &e.hint()));
            token_checks(&mut out, choice, ca, None, false, ui);
            return rest(out, ca, now);
        }
    };
    token_checks(&mut out, choice, ca, expected.as_deref(), true, ui);
    if expected.is_some() {
        out.push(attestation_check(ca));
    }
    rest(out, ca, now)
}

/// Whether the CA can prove to a host that it was born in hardware: its `CA.attest` checked as
/// `ca verify` does (Yubico's roots, the EUCLEAK floor), or why there is none.
fn attestation_check(ca: &Path) -> Check {
    let req = crate::ops::ca::verify::VerifyRequest {
        ca: Some(ca.to_path_buf()),
        ..Default::default()
    };
    let verify = format!(
        "breakglass ca verify {}",
        crate::shell::word(&ca.display().to_string())
    );
    match crate::ops::ca::verify::verify(&req) {
        Ok(v) => match (&v.refusal, &v.report) {
            (None, Some(r)) => check(
                "attestation",
                Level::Ok,
                format!(
                    "{} proves the CA was born in a {} {} (firmware {})",
                    v.attestation.first().map(|p| p.display().to_string()).unwrap_or_default(),
                    r.vendor,
                    r.model.as_deref().unwrap_or("key"),
                    r.firmware.as_ref().map_or("unknown", |f| f.version.as_str())
                ),
                "",
            ),
            (Some(e), _) => check(
                "attestation",
                Level::Warn,
                format!("{e} (hosts that require an attestation will refuse this CA)"),
                &format!("See `{verify}`; a simulated CA never has a vendor's attestation (practice only)."),
            ),
            (None, None) => check("attestation", Level::Warn, "no report".into(), ""),
        },
        Err(e) => check(
            "attestation",
            Level::Warn,
            e.to_string(),
            "Nothing proves to a host that this CA was born in hardware. A PIV CA: `breakglass ca attest CA.pub`; a FIDO2 key attests only at init-ca (keep the CA.attest it wrote).",
        ),
    }
}

/// The checks after the key's: clock, OpenSSH, output directory, audit log.
fn rest(mut out: Vec<Check>, ca: &Path, now: u64) -> Vec<Check> {
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
    // Not `exists()`: a dangling link or a symlink loop is there, and a problem.
    out.push(if std::fs::symlink_metadata(&log).is_err() {
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

/// Run inside a kit (this directory holds `SHA256SUMS.sig`): the kit's files and signature.
fn kit_check() -> Check {
    let req = crate::ops::kit::VerifyRequest {
        dir: ".".into(),
        fingerprints: Vec::new(),
        running: std::env::current_exe().ok(),
    };
    match crate::ops::kit::verify(&req) {
        Ok(v) => check(
            "kit",
            if v.running_is_kit_binary == Some(false) { Level::Warn } else { Level::Ok },
            format!(
                "{} files match SHA256SUMS, signed by the kit's own CA {} (compare it with the one your hosts trust){}",
                v.files,
                v.signer,
                if v.running_is_kit_binary == Some(false) { "; but this breakglass is not the kit's" } else { "" }
            ),
            if v.running_is_kit_binary == Some(false) { "Run the kit's own program: ./breakglass doctor." } else { "" },
        ),
        Err(e) => {
            let fix = e.hint();
            check("kit", Level::Fail, e.to_string(), &fix)
        }
    }
}

fn token_checks(
    out: &mut Vec<Check>,
    choice: BackendChoice,
    ca: &Path,
    expected: Option<&str>,
    compare: bool,
    ui: &mut dyn Ui,
) {
    let listing = match crate::ops::list::list(choice, None, Path::new("."), ui) {
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
    if !compare {
        return;
    }
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
/// ssh-keygen and ssh-agent print no version: ssh-keygen is asked to read a security-key
/// public key (what 8.2 added), ssh-agent is checked to be the one beside ssh. sshd (only for
/// the drill's login) is compared with ssh by `sshd -V`.
fn openssh_checks() -> Vec<Check> {
    let mut out = Vec::new();
    let ssh_version = version_of(Path::new("ssh"));
    let ssh_release = ssh_version.as_deref().and_then(openssh_release);
    out.push(match (&ssh_version, ssh_release) {
        (None, _) => check(
            "ssh",
            Level::Fail,
            "ssh is not installed".into(),
            "Install OpenSSH 8.2 or later (apt-get install openssh-client).",
        ),
        (Some(v), Some(r)) if r >= (8, 2) => check("ssh", Level::Ok, v.clone(), ""),
        (Some(v), Some(_)) => check(
            "ssh",
            Level::Fail,
            format!("{v}: security keys need OpenSSH 8.2 or later"),
            "Install a newer OpenSSH.",
        ),
        (Some(v), None) => check(
            "ssh",
            Level::Warn,
            format!("{v}: not OpenSSH, or a version doctor cannot read"),
            "Check that it is OpenSSH 8.2 or later.",
        ),
    });
    let ssh_dir = on_path("ssh").and_then(|p| p.parent().map(Path::to_path_buf));
    out.push(match (on_path("ssh-agent"), &ssh_dir) {
        (None, _) => check(
            "ssh-agent",
            Level::Fail,
            "ssh-agent is not on PATH".into(),
            "Install openssh-client.",
        ),
        (Some(p), Some(dir)) if p.parent() != Some(dir.as_path()) => check(
            "ssh-agent",
            Level::Warn,
            format!(
                "{} is not beside ssh (in {}): another OpenSSH's agent, which may not take security keys",
                p.display(),
                dir.display()
            ),
            "Put one OpenSSH 8.2 or later first on PATH (type -a ssh ssh-agent shows which).",
        ),
        (Some(p), Some(_)) => check(
            "ssh-agent",
            Level::Ok,
            format!("{}, beside ssh", p.display()),
            "",
        ),
        (Some(p), None) => check("ssh-agent", Level::Ok, p.display().to_string(), ""),
    });
    out.push(match on_path("ssh-keygen") {
        None => check("ssh-keygen", Level::Fail, "ssh-keygen is not on PATH".into(), "Install openssh-client."),
        Some(p) => match reads_sk_keys(&p) {
            Ok(()) => check("ssh-keygen", Level::Ok, format!("{} reads security-key (ECDSA-SK) keys", p.display()), ""),
            Err(why) => check(
                "ssh-keygen",
                Level::Fail,
                format!("{} cannot read security-key keys: {why}", p.display()),
                "Install OpenSSH 8.2 or later (apt-get install openssh-client) and put it first on PATH.",
            ),
        },
    });
    out.push(sshd_check(ssh_release));
    out
}

/// A security-key CA's public key (any would do; this is the tests' fixture CA), for asking
/// ssh-keygen whether it knows the type.
const SK_PUBLIC_KEY: &str = "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBB8K/vqxH3RzZ3sfkjxjJiayc5Y80S9GGs3Dc00Rm9o8NkctCKslbaKeREzTJOXvvd3grg2LtLnMW90ORVx/GhcAAAAEc3NoOg== doctor\n";

/// `ssh-keygen -l -f -` on [`SK_PUBLIC_KEY`]: Ok when it prints its ECDSA-SK fingerprint,
/// else the first line it said.
fn reads_sk_keys(keygen: &Path) -> Result<(), String> {
    use std::io::Write;
    let child = Command::new(keygen)
        .args(["-l", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let o = child
        .and_then(|mut c| {
            // A keygen that exits without reading leaves a broken pipe: its answer still counts.
            let _ = c
                .stdin
                .take()
                .map(|mut i| i.write_all(SK_PUBLIC_KEY.as_bytes()));
            c.wait_with_output()
        })
        .map_err(|e| e.to_string())?;
    if o.status.success() && String::from_utf8_lossy(&o.stdout).contains("(ECDSA-SK)") {
        return Ok(());
    }
    let said = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.trim_end_matches('.').to_string())
    };
    Err(said(&o.stderr)
        .or_else(|| said(&o.stdout))
        .unwrap_or_else(|| format!("it exited with {}", o.status)))
}

/// The drill's login needs sshd (only its binary); compared with ssh by release.
fn sshd_check(ssh_release: Option<(u32, u32)>) -> Check {
    let Some(path) = crate::ops::sshd::sshd_path() else {
        return check(
            "sshd",
            Level::Warn,
            "sshd is not installed: breakglass drill cannot log in, so it cannot pass".into(),
            "Install openssh-server for its binary (apt-get install openssh-server); the drill starts its own sshd on 127.0.0.1.",
        );
    };
    let version = version_of(&path);
    match (
        version.as_deref(),
        version.as_deref().and_then(openssh_release),
    ) {
        (Some(v), Some(r)) if r < (8, 2) => check(
            "sshd",
            Level::Warn,
            format!("{v}: the drill's login needs OpenSSH 8.2 or later"),
            "Install a newer openssh-server.",
        ),
        (Some(v), Some(r)) => check(
            "sshd",
            Level::Ok,
            match ssh_release {
                Some(s) if s == r => format!("{v}, the same release as ssh"),
                Some((major, minor)) => format!("{v} (ssh is OpenSSH_{major}.{minor})"),
                None => v.to_string(),
            },
            "",
        ),
        _ => check(
            "sshd",
            Level::Warn,
            format!("{}: sshd -V gave no OpenSSH version", path.display()),
            "Check that it is OpenSSH's sshd, 8.2 or later.",
        ),
    }
}

/// What `PROGRAM -V` printed (stderr, else stdout): its `OpenSSH_…` line (an sshd older than
/// 9.1 prints one above its usage), else its first line; None when it could not run.
fn version_of(program: &Path) -> Option<String> {
    let o = Command::new(program).arg("-V").output().ok()?;
    let text = if o.stderr.is_empty() {
        &o.stdout
    } else {
        &o.stderr
    };
    let text = String::from_utf8_lossy(text);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next().unwrap_or("");
    Some(
        lines
            .find(|l| l.starts_with("OpenSSH_"))
            .unwrap_or(first)
            .to_string(),
    )
}

/// (major, minor) of "OpenSSH_9.2p1 Debian-2, OpenSSL …" or "OpenSSH_9.2, OpenSSL …".
fn openssh_release(v: &str) -> Option<(u32, u32)> {
    let mut it = v
        .strip_prefix("OpenSSH_")?
        .split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// The first `program` on PATH.
fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_read_from_ssh_and_sshd_version_lines() {
        let r = openssh_release;
        assert_eq!(
            r("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19"),
            Some((9, 2))
        );
        assert_eq!(r("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026"), Some((9, 2)));
        assert_eq!(r("OpenSSH_10.0p2"), Some((10, 0)));
        assert_eq!(r("sshd: illegal option -- V"), None);
        assert_eq!(r("Sun_SSH_1.1"), None);
    }

    #[test]
    fn this_machines_ssh_keygen_reads_the_probe_key() {
        // The probe must be a key 9.2's ssh-keygen reads, or doctor would fail everywhere.
        let keygen = on_path("ssh-keygen").expect("ssh-keygen is installed");
        assert_eq!(reads_sk_keys(&keygen), Ok(()));
    }
}
