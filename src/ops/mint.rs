//! `mint`: a fresh key pair and a user certificate for it, signed by one touch of the token,
//! released (files or ssh-agent) only after the audit entry is on disk.

use std::path::PathBuf;

use serde::Serialize;
use ssh_key::HashAlg;

use crate::delivery::audit::{self, AuditEntry, Head};
use crate::delivery::release::{Delivery, Release};
use crate::delivery::writable;
use crate::ops::lifetime;
use crate::sanitize::is_dangerous;
use crate::shell;
use crate::ssh::cert::{self, CertFields};
use crate::ssh::cert_options::CertOptions;
use crate::ssh::keyfile::{self, KeyFiles, KeyType};
use crate::ssh::summary::{self, CertSummary};
use crate::ssh::validity::{self, Validity};
use crate::token::{self, Backend, BackendChoice, CaSource};
use crate::ui::Ui;
use crate::{clock, paths, Error, Result};

/// The default lifetime policy: 24 hours.
pub const DEFAULT_MAX_LIFETIME: u64 = 24 * 3600;
/// The default `-V`.
pub const DEFAULT_VALIDITY: &str = "-5m:+60m";
/// The most principals a certificate may carry (`SSHKEY_CERT_MAX_PRINCIPALS`).
pub const MAX_PRINCIPALS: usize = 256;

/// Everything `mint` is asked to do.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// `--ca`.
    pub ca: Option<PathBuf>,
    /// Application used to find the CA on the token when there is no CA file.
    pub application: String,
    /// `-n`, as typed (comma separated).
    pub principals: String,
    /// `-V`.
    pub validity: String,
    /// `-I`.
    pub key_id: Option<String>,
    /// `-z`.
    pub serial: Option<u64>,
    /// `-O`, in order.
    pub options: Vec<String>,
    /// `-t`.
    pub key_type: KeyType,
    /// `--reason`.
    pub reason: Option<String>,
    /// `--max-lifetime`, seconds.
    pub max_lifetime: u64,
    /// `--allow-long`.
    pub allow_long: bool,
    /// Token choice.
    pub backend: BackendChoice,
    /// Where the key and certificate go.
    pub delivery: Delivery,
    /// Which key when several are connected.
    pub device: Option<String>,
    /// Sign this existing public key instead of generating a key pair (`--pubkey`).
    pub pubkey: Option<PathBuf>,
    /// A host certificate (`--host`): principals are host names, no extensions.
    pub host: bool,
}

/// What `mint` made.
#[derive(Debug, Clone, Serialize)]
pub struct MintOutcome {
    /// The key's files (written unless the key went into ssh-agent).
    pub key_file: PathBuf,
    /// The public key file.
    pub pub_file: PathBuf,
    /// The certificate file.
    pub cert_file: PathBuf,
    /// The token that signed.
    pub token: String,
    /// The certificate as `inspect` sees it.
    pub certificate: CertSummary,
    /// `ssh -i OUT user@host` lines, one per principal.
    pub ssh_commands: Vec<String>,
    /// Warnings worth showing.
    pub warnings: Vec<String>,
    /// Files written (none with `--agent`).
    pub files: Vec<PathBuf>,
    /// With `--agent`: the lifetime the agent got, seconds.
    pub agent_lifetime: Option<u32>,
}

/// Splits and checks `-n`: no empty names, no blanks or control characters, at most 256.
pub fn parse_principals(spec: &str) -> Result<Vec<String>> {
    if spec.trim().is_empty() {
        return Err(Error::Principals(
            "-n needs at least one principal (the login name on the host)".into(),
        ));
    }
    let names: Vec<String> = spec.split(',').map(str::to_string).collect();
    for n in &names {
        if n.is_empty() {
            return Err(Error::Principals(format!(
                "empty principal name in -n '{spec}'"
            )));
        }
        if n.chars().any(|c| c.is_whitespace() || is_dangerous(c)) {
            return Err(Error::Principals(format!(
                "principal '{n}' contains blanks or control characters"
            )));
        }
    }
    if names.len() > MAX_PRINCIPALS {
        return Err(Error::Principals(format!(
            "-n lists {} principals; a certificate holds at most {MAX_PRINCIPALS}",
            names.len()
        )));
    }
    Ok(names)
}

/// Applies the lifetime policy to `-V spec`.
pub fn check_policy(v: &Validity, spec: &str, max: u64, allow_long: bool, now: u64) -> Result<()> {
    if v.valid_before <= now {
        return Err(Error::ValidityPast {
            spec: spec.to_string(),
            end: v.valid_before,
        });
    }
    check_lifetime(v, &format!("-V {spec}"), max, allow_long, now)
}

/// The lifetime policy for any validity (`subject` names it in the message): no open ends, at
/// most `max` long, ending at most `max` from now, unless `allow_long`.
pub fn check_lifetime(
    v: &Validity,
    subject: &str,
    max: u64,
    allow_long: bool,
    now: u64,
) -> Result<()> {
    if allow_long {
        return Ok(());
    }
    match v.lifetime() {
        _ if v.is_open_ended() => Err(Error::Policy(format!(
            "{subject} has no start or no end (always/forever); emergency certificates should expire"
        ))),
        // Exact, with the start ssh-keygen backdates to the minute: "1d" would hide the 40s that
        // make `-V +1d` longer than a --max-lifetime of 1d.
        Some(life) if life > max => Err(Error::Policy(format!(
            "{subject} gives a lifetime of {} (from {} to {}), above the --max-lifetime of {}",
            lifetime::exact(life),
            validity::format_time_utc(v.valid_after),
            validity::format_time_utc(v.valid_before),
            lifetime::exact(max)
        ))),
        // A short certificate that starts far in the future is a long-lived credential too.
        _ if v.valid_before.saturating_sub(now) > max => Err(Error::Policy(format!(
            "{subject} ends {} from now, beyond the --max-lifetime of {}",
            summary::human_duration(v.valid_before - now),
            summary::human_duration(max)
        ))),
        _ => Ok(()),
    }
}

/// The default key id: who, where, when, the audit chain head it was minted on (so every
/// host's sshd log keeps a copy of it), SIMULATED for the simulator, and the reason.
fn default_key_id(reason: Option<&str>, now: u64, head: &Head, simulated: bool) -> String {
    let mut id = format!(
        "breakglass {}@{} {} {}",
        paths::operator(),
        paths::hostname(),
        validity::format_time_utc(now),
        head.short()
    );
    if simulated {
        id.push_str(" SIMULATED");
    }
    if let Some(r) = reason {
        id.push_str(": ");
        id.push_str(r);
    }
    id
}

fn random_serial() -> Result<u64> {
    loop {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(crate::error::randomness)?;
        let n = u64::from_be_bytes(b);
        if n != 0 {
            return Ok(n);
        }
    }
}

/// Everything checkable without the token, in the order a user would fix it.
struct Checked {
    /// The key to certify when it already exists (`--pubkey`).
    existing: Option<ssh_key::PublicKey>,
    principals: Vec<String>,
    validity: Validity,
    options: CertOptions,
    key_id: String,
    serial: u64,
    warnings: Vec<String>,
}

fn check(req: &MintRequest, now: u64, head: &Head, ui: &mut dyn Ui) -> Result<Checked> {
    let existing = req
        .pubkey
        .as_deref()
        .map(keyfile::read_public)
        .transpose()?;
    let principals = parse_principals(&req.principals)?;
    let validity = validity::parse_validity(&req.validity, now)?;
    check_policy(
        &validity,
        &req.validity,
        req.max_lifetime,
        req.allow_long,
        now,
    )?;
    if let Some(life) = lifetime::suspicious(&req.validity, &validity, now) {
        let question = format!(
            "-V {} leaves only {} from now (a number without a unit is seconds). Mint it anyway? [y/N] ",
            req.validity,
            lifetime::exact(life)
        );
        if ui.confirm(&question) != Some(true) {
            return Err(Error::BareSeconds {
                spec: req.validity.clone(),
                lifetime: life,
            });
        }
    }
    let options = if req.host {
        if !req.options.is_empty() {
            return Err(Error::HostCertOptions);
        }
        CertOptions::default()
    } else {
        CertOptions::from_ssh_keygen_options(&req.options)?
    };
    if let Some(r) = &req.reason {
        if r.chars().any(is_dangerous) {
            return Err(Error::ControlCharacters { what: "--reason" });
        }
    }
    let key_id = match &req.key_id {
        Some(id) if id.is_empty() => return Err(Error::EmptyKeyId),
        Some(id) if id.chars().any(is_dangerous) => {
            return Err(Error::ControlCharacters { what: "-I" })
        }
        Some(id) => id.clone(),
        None => default_key_id(
            req.reason.as_deref(),
            now,
            head,
            req.backend.0 == Some(Backend::Sim),
        ),
    };
    let mut warnings = Vec::new();
    let serial = match req.serial {
        Some(0) => {
            warnings.push(
                "serial 0 can never be revoked by serial in a KRL; revoke it by key id if needed"
                    .into(),
            );
            0
        }
        Some(n) => n,
        None => random_serial()?,
    };
    if validity.valid_after > now {
        warnings.push(format!(
            "the certificate is not valid before {}",
            validity::format_time_utc(validity.valid_after)
        ));
    }
    Ok(Checked {
        existing,
        principals,
        validity,
        options,
        key_id,
        serial,
        warnings,
    })
}

/// Mints a certificate. Nothing is released unless everything succeeded, including the audit
/// entry, which is on disk before the first byte of key or certificate.
pub fn mint(req: &MintRequest, ui: &mut dyn Ui) -> Result<MintOutcome> {
    let now = clock::now();
    let head = audit::head(&audit::default_path())?;
    // Every check that can fail runs before the touch, in the order a user fixes them: the
    // request and its policy, then where the results go (written to, not just looked at), then
    // (in the token) the PIN, then the CA's presence on the key; the touch comes last.
    let c = check(req, now, &head, ui)?;
    let release = Release::prepare(&req.delivery)?;
    let mut c = c;
    c.warnings.extend(release.recovered.iter().cloned());
    if let Some(files) = release.key_files() {
        writable::probe_dir(writable::dir_of(&files.key))?;
    }
    let log = release.audit_path();
    if !log.exists() && writable::dir_of(log).is_dir() {
        writable::probe_dir(writable::dir_of(log)).map_err(|e| match e {
            Error::DirNotWritable { source, .. } => Error::Audit {
                path: log.to_path_buf(),
                source,
            },
            other => other,
        })?;
    }
    let source = CaSource::choose(req.ca.as_deref(), &req.application);
    let expected = source.expected()?;

    let mut entry = AuditEntry::new("mint");
    entry.backend = Some(
        req.backend
            .0
            .map(|b| b.to_string())
            .unwrap_or_else(|| "auto".into()),
    );
    entry.serial = Some(c.serial);
    entry.key_id = Some(c.key_id.clone());
    entry.principals = c.principals.clone();
    entry.valid_after = Some(c.validity.valid_after);
    entry.valid_before = Some(c.validity.valid_before);
    entry.reason = req.reason.clone();
    entry.ca_fingerprint = expected
        .as_ref()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string());

    let audit_path = release.audit_path().to_path_buf();
    let result = sign_and_release(
        req,
        &c,
        &source,
        expected.as_ref(),
        &mut entry,
        release,
        now,
        ui,
    );
    if let Err(e) = &result {
        // A failure before the release wrote nothing; record it (the release records its own).
        if !matches!(e, Error::Audit { .. }) && entry.detail.is_none() {
            entry.result = format!("failed: {}", e.kind());
            let _ = audit::append(&audit_path, &entry); // the original error matters more
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn sign_and_release(
    req: &MintRequest,
    c: &Checked,
    source: &CaSource,
    expected: Option<&ssh_key::PublicKey>,
    entry: &mut AuditEntry,
    release: Release,
    now: u64,
    ui: &mut dyn Ui,
) -> Result<MintOutcome> {
    let token = token::open(
        req.backend,
        req.device.as_deref(),
        match (source, expected) {
            (CaSource::File(p), Some(k)) => Some((p.as_path(), k)),
            _ => None,
        },
    )?;
    let mut signer = token.find_ca(source, expected, ui)?;
    let ca_key = signer.public_key().key_data().clone();
    entry.ca_fingerprint = Some(ca_key.fingerprint(HashAlg::Sha256).to_string());

    let (key, subject) = match &c.existing {
        Some(p) => (None, p.clone()),
        None => {
            let k = keyfile::generate(
                req.key_type,
                &format!("{}@{}", paths::operator(), paths::hostname()),
            )?;
            let public = k.public_key().clone();
            (Some(k), public)
        }
    };
    let fields = CertFields {
        serial: c.serial,
        key_id: c.key_id.clone(),
        principals: c.principals.clone(),
        validity: c.validity,
        options: c.options.clone(),
        comment: subject.comment().to_string(),
        host: req.host,
    };
    let cert = cert::issue(subject.key_data(), &fields, signer.as_mut(), ui)?;
    let files = release.key_files();
    let cert_name = match (&files, release.certificate_path()) {
        (Some(f), _) => f.cert.display().to_string(),
        (None, Some(p)) => p.display().to_string(),
        (None, None) => "(ssh-agent)".into(),
    };
    let summary = summary::summarize_issued(&cert_name, &cert, now, &ca_key);
    entry.counter = summary.sk_counter.map(u64::from);
    entry.cert_fingerprint = Some(summary.key_fingerprint.clone());
    let mut cert_line = cert.to_openssh()?;
    cert_line.truncate(cert_line.trim_end().len());
    let released = match &key {
        Some(k) => release.deliver(k, &cert, &cert_line, entry, None, clock::now().max(now))?,
        None => release.deliver_certificate(&cert_line, entry, None)?,
    };
    // With --pubkey the private key is KEY.pub's other half, KEY, as ssh-keygen names it.
    let f = match (&files, &req.pubkey) {
        (Some(f), _) => f.clone(),
        (None, Some(p)) => {
            let cert = keyfile::cert_path_for(p);
            let key = cert
                .to_string_lossy()
                .trim_end_matches("-cert.pub")
                .to_string();
            KeyFiles {
                key: PathBuf::from(key),
                public: p.clone(),
                cert,
            }
        }
        (None, None) => KeyFiles::new(std::path::Path::new("")),
    };
    let ssh_commands = if req.host {
        Vec::new()
    } else {
        c.principals
            .iter()
            .map(|p| match (&files, &req.pubkey) {
                (None, None) => format!("ssh {}@HOST", shell::word(p)),
                _ => format!(
                    "ssh -i {} {}@HOST",
                    shell::word(&f.key.display().to_string()),
                    shell::word(p)
                ),
            })
            .collect()
    };
    Ok(MintOutcome {
        key_file: f.key,
        pub_file: f.public,
        cert_file: f.cert,
        token: signer.describe(),
        certificate: summary,
        ssh_commands,
        warnings: c.warnings.clone(),
        files: released.files,
        agent_lifetime: released.agent_lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_checked() {
        assert_eq!(parse_principals("ubuntu,root").unwrap(), ["ubuntu", "root"]);
        assert!(parse_principals("").is_err());
        assert!(parse_principals("  ").is_err());
        assert!(parse_principals("a,,b").is_err());
        assert!(parse_principals("a,").is_err());
        assert!(parse_principals("a b").is_err());
        assert!(parse_principals("a\x1b").is_err());
        let many = vec!["u"; 257].join(",");
        assert!(parse_principals(&many).is_err());
    }

    #[test]
    fn policy_refuses_long_and_open_ended_lifetimes() {
        let now = 1_000_000;
        let v = |a, b| Validity {
            valid_after: a,
            valid_before: b,
        };
        assert!(check_policy(
            &v(now - 300, now + 3600),
            "x",
            DEFAULT_MAX_LIFETIME,
            false,
            now
        )
        .is_ok());
        assert!(matches!(
            check_policy(&v(now, now + 90000), "x", DEFAULT_MAX_LIFETIME, false, now),
            Err(Error::Policy(_))
        ));
        assert!(matches!(
            check_policy(&v(0, now + 60), "x", DEFAULT_MAX_LIFETIME, false, now),
            Err(Error::Policy(_))
        ));
        assert!(matches!(
            check_policy(&v(now, u64::MAX), "x", DEFAULT_MAX_LIFETIME, false, now),
            Err(Error::Policy(_))
        ));
        assert!(check_policy(&v(now, u64::MAX), "x", DEFAULT_MAX_LIFETIME, true, now).is_ok());
        assert!(matches!(
            check_policy(&v(1, 2), "x", DEFAULT_MAX_LIFETIME, true, now),
            Err(Error::ValidityPast { .. })
        ));
        // One hour long, but starting in 300 days: still beyond the policy.
        let later = now + 300 * 86400;
        assert!(matches!(
            check_policy(
                &v(later, later + 3600),
                "x",
                DEFAULT_MAX_LIFETIME,
                false,
                now
            ),
            Err(Error::Policy(_))
        ));
        assert!(check_policy(
            &v(later, later + 3600),
            "x",
            DEFAULT_MAX_LIFETIME,
            true,
            now
        )
        .is_ok());
    }
}
