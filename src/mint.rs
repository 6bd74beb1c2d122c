//! `mint`: a fresh key pair and a user certificate for it, signed by one touch of the token,
//! written all together or not at all, recorded in the audit log before it is released.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ssh_key::{HashAlg, LineEnding};

use crate::atomic::{self, PlannedFile};
use crate::audit::{self, AuditEntry};
use crate::ca::{self, CaSource};
use crate::cert::{self, CertFields};
use crate::cert_options::CertOptions;
use crate::inspect::{self, CertSummary};
use crate::keyfile::{self, KeyType};
use crate::sanitize::{is_dangerous, sanitize};
use crate::token::BackendChoice;
use crate::ui::Ui;
use crate::validity::{self, Validity};
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
    /// `-f`.
    pub out: PathBuf,
    /// `--force`.
    pub force: bool,
    /// `--reason`.
    pub reason: Option<String>,
    /// `--max-lifetime`, seconds.
    pub max_lifetime: u64,
    /// `--allow-long`.
    pub allow_long: bool,
    /// Token choice.
    pub backend: BackendChoice,
    /// Put the key into ssh-agent instead of writing files (`Some(confirm)`).
    pub agent: Option<bool>,
    /// Which key when several are connected.
    pub device: Option<String>,
}

/// What `mint` made.
#[derive(Debug, Clone, Serialize)]
pub struct MintOutcome {
    /// The private key file.
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

/// The three output paths for `-f OUT`.
pub fn output_paths(out: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let s = out.display().to_string();
    (
        out.to_path_buf(),
        PathBuf::from(format!("{s}.pub")),
        PathBuf::from(format!("{s}-cert.pub")),
    )
}

/// Splits and checks `-n`: no empty names, no blanks or control characters, at most 256.
pub fn parse_principals(spec: &str) -> Result<Vec<String>> {
    if spec.trim().is_empty() {
        return Err(Error::Usage(
            "-n needs at least one principal (the login name on the host)".into(),
        ));
    }
    let names: Vec<String> = spec.split(',').map(str::to_string).collect();
    for n in &names {
        if n.is_empty() {
            return Err(Error::Usage(format!(
                "empty principal name in -n {:?}",
                sanitize(spec)
            )));
        }
        if n.chars().any(|c| c.is_whitespace() || is_dangerous(c)) {
            return Err(Error::Usage(format!(
                "principal {:?} contains blanks or control characters",
                sanitize(n)
            )));
        }
    }
    if names.len() > MAX_PRINCIPALS {
        return Err(Error::Usage(format!(
            "-n lists {} principals; a certificate holds at most {MAX_PRINCIPALS}",
            names.len()
        )));
    }
    Ok(names)
}

/// Applies the lifetime policy.
pub fn check_policy(v: &Validity, spec: &str, max: u64, allow_long: bool, now: u64) -> Result<()> {
    if v.valid_before <= now {
        return Err(Error::Usage(format!(
            "-V {} ends at {}, which is already past; the certificate would be useless",
            sanitize(spec),
            validity::format_time_utc(v.valid_before)
        )));
    }
    if allow_long {
        return Ok(());
    }
    match v.lifetime() {
        _ if v.is_open_ended() => Err(Error::Policy(format!(
            "-V {} has no start or no end (always/forever); emergency certificates should expire",
            sanitize(spec)
        ))),
        Some(life) if life > max => Err(Error::Policy(format!(
            "-V {} gives a lifetime of {}, above the --max-lifetime of {}",
            sanitize(spec),
            inspect::human_duration(life),
            inspect::human_duration(max)
        ))),
        // A short certificate that starts far in the future is a long-lived credential too.
        _ if v.valid_before - now > max => Err(Error::Policy(format!(
            "-V {} ends {} from now, beyond the --max-lifetime of {}",
            sanitize(spec),
            inspect::human_duration(v.valid_before - now),
            inspect::human_duration(max)
        ))),
        _ => Ok(()),
    }
}

fn default_key_id(reason: Option<&str>, now: u64) -> String {
    let mut id = format!(
        "breakglass {}@{} {}",
        paths::operator(),
        paths::hostname(),
        validity::format_time_utc(now)
    );
    if let Some(r) = reason {
        id.push_str(": ");
        id.push_str(r);
    }
    id
}

fn random_serial() -> Result<u64> {
    loop {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(|e| Error::External(format!("no randomness: {e}")))?;
        let n = u64::from_be_bytes(b);
        if n != 0 {
            return Ok(n);
        }
    }
}

/// Everything checkable without the token, in the order a user would fix it.
struct Checked {
    principals: Vec<String>,
    validity: Validity,
    options: CertOptions,
    key_id: String,
    serial: u64,
    warnings: Vec<String>,
}

fn check(req: &MintRequest, now: u64) -> Result<Checked> {
    let principals = parse_principals(&req.principals)?;
    let validity = validity::parse_validity(&req.validity, now)?;
    check_policy(
        &validity,
        &req.validity,
        req.max_lifetime,
        req.allow_long,
        now,
    )?;
    let options = CertOptions::from_ssh_keygen_options(&req.options)?;
    if let Some(r) = &req.reason {
        if r.chars().any(is_dangerous) {
            return Err(Error::Usage(
                "--reason must not contain control characters".into(),
            ));
        }
    }
    let key_id = match &req.key_id {
        Some(id) if id.is_empty() => return Err(Error::Usage("-I must not be empty".into())),
        Some(id) if id.chars().any(is_dangerous) => {
            return Err(Error::Usage(
                "-I must not contain control characters".into(),
            ))
        }
        Some(id) => id.clone(),
        None => default_key_id(req.reason.as_deref(), now),
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
        principals,
        validity,
        options,
        key_id,
        serial,
        warnings,
    })
}

/// Mints a certificate. Nothing is written unless everything succeeded, including the audit entry.
pub fn mint(req: &MintRequest, ui: &mut dyn Ui) -> Result<MintOutcome> {
    let now = clock::now();
    let c = check(req, now)?;
    let (key_file, pub_file, cert_file) = output_paths(&req.out);
    let agent = match req.agent {
        Some(_) => Some(crate::agent::AgentClient::from_env()?),
        None => {
            atomic::preflight(&[&key_file, &pub_file, &cert_file], req.force)?;
            None
        }
    };
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let source = ca::ca_source(req.ca.as_deref(), &req.application);
    let expected = ca::expected_ca(&source)?;

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

    let result = sign_and_write(
        req,
        &c,
        &source,
        expected.as_ref(),
        &mut entry,
        &audit_path,
        now,
        agent,
        ui,
    );
    if let Err(e) = &result {
        if !matches!(e, Error::Audit { .. }) {
            entry.result = format!("failed: {}", e.kind());
            let _ = audit::append(&audit_path, &entry); // the original error matters more
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn sign_and_write(
    req: &MintRequest,
    c: &Checked,
    source: &CaSource,
    expected: Option<&ssh_key::PublicKey>,
    entry: &mut AuditEntry,
    audit_path: &Path,
    now: u64,
    agent: Option<crate::agent::AgentClient>,
    ui: &mut dyn Ui,
) -> Result<MintOutcome> {
    let (key_file, pub_file, cert_file) = output_paths(&req.out);
    let mut signer = ca::open_signer(source, expected, req.backend, req.device.as_deref(), ui)?;
    let ca_key = signer.public_key().key_data().clone();
    entry.ca_fingerprint = Some(ca_key.fingerprint(HashAlg::Sha256).to_string());

    let key = keyfile::generate(
        req.key_type,
        &format!("{}@{}", paths::operator(), paths::hostname()),
    )?;
    let fields = CertFields {
        serial: c.serial,
        key_id: c.key_id.clone(),
        principals: c.principals.clone(),
        validity: c.validity,
        options: c.options.clone(),
        comment: key.comment().to_string(),
    };
    let cert = cert::issue(key.public_key().key_data(), &fields, signer.as_mut(), ui)?;
    let summary = inspect::summarize(
        &cert_file.display().to_string(),
        &cert,
        None,
        now,
        Some(&ca_key),
    );
    if !summary.signature_valid {
        return Err(Error::External(
            "the certificate's CA signature does not verify; nothing was written".into(),
        ));
    }
    entry.cert_fingerprint = Some(summary.key_fingerprint.clone());
    let token = signer.describe();
    if let Some(mut client) = agent {
        let lifetime =
            crate::agent::remaining_lifetime(&cert, clock::now().max(now)).ok_or_else(|| {
                Error::Usage(
                    "the certificate is not valid now, so it cannot go into ssh-agent".into(),
                )
            })?;
        entry.detail = Some(format!("ssh-agent, lifetime {lifetime} s"));
        audit::append(audit_path, entry)?;
        client.add_certificate(&key, &cert, &c.key_id, lifetime, req.agent.unwrap_or(false))?;
        return Ok(MintOutcome {
            key_file,
            pub_file,
            cert_file,
            token,
            certificate: summary,
            ssh_commands: c
                .principals
                .iter()
                .map(|p| format!("ssh {}@HOST", shell_word(p)))
                .collect(),
            warnings: c.warnings.clone(),
            files: Vec::new(),
            agent_lifetime: Some(lifetime),
        });
    }
    entry.detail = Some(format!(
        "{}, {}, {}",
        key_file.display(),
        pub_file.display(),
        cert_file.display()
    ));

    let private = key.to_openssh(LineEnding::LF)?;
    let public = keyfile::public_line(key.public_key())?;
    let mut cert_line = cert.to_openssh()?;
    cert_line.push('\n');
    let staged = atomic::stage(
        &[
            PlannedFile::private(&key_file, private.as_bytes().to_vec()),
            PlannedFile::private(&pub_file, public.into_bytes()),
            PlannedFile::private(&cert_file, cert_line.into_bytes()),
        ],
        req.force,
    )?;
    // The audit entry is on disk before the certificate is released; if it cannot be written,
    // the staged files are dropped (removed) and nothing is released.
    audit::append(audit_path, entry)?;
    staged.commit()?;

    let ssh_commands = c
        .principals
        .iter()
        .map(|p| {
            format!(
                "ssh -i {} {}@HOST",
                shell_word(&key_file.display().to_string()),
                shell_word(p)
            )
        })
        .collect();
    Ok(MintOutcome {
        files: vec![key_file.clone(), pub_file.clone(), cert_file.clone()],
        key_file,
        pub_file,
        cert_file,
        token,
        certificate: summary,
        ssh_commands,
        warnings: c.warnings.clone(),
        agent_lifetime: None,
    })
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@:+=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", sanitize(s).replace('\'', "'\\''"))
    }
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
            Err(Error::Usage(_))
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

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("emergency"), "emergency");
        assert_eq!(shell_word("my key"), "'my key'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
