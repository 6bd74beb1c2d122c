//! `mint`: a fresh key pair and a user certificate for it, signed by one touch of the token,
//! released (files or ssh-agent) only after the audit entry is on disk.

use crate::diagnostic::Diagnostic;
use std::path::PathBuf;

use serde::Serialize;
use ssh_key::HashAlg;

use crate::delivery::audit::{self, AuditEntry, Head};
use crate::delivery::release::{Delivery, Release};
use crate::delivery::writable;
use crate::ops::sign_spec::SignSpec;
use crate::shell;
use crate::ssh::cert;
use crate::ssh::key_id::KeyId;
use crate::ssh::keyfile::{self, KeyFiles, KeyType};
use crate::ssh::summary::{self, CertSummary};
use crate::ssh::validity;
use crate::token::CaSource;
use crate::ui::Ui;
use crate::{clock, paths, Error, Result};

/// Everything `mint` is asked to do.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// What to sign (`-n`, `-V`, `--reason`, `-O`, `-I`, `-z`, `--host`) and which token signs
    /// (`--backend`, `--device`), parsed once.
    pub spec: SignSpec,
    /// `--ca`.
    pub ca: Option<PathBuf>,
    /// Application used to find the CA on the token when there is no CA file.
    pub application: String,
    /// `-t`.
    pub key_type: KeyType,
    /// Where the key and certificate go.
    pub delivery: Delivery,
    /// Sign this existing public key instead of generating a key pair (`--pubkey`).
    pub pubkey: Option<PathBuf>,
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

/// The default key id's fixed part: who, where, when, the audit chain head it was minted on (so
/// every host's sshd log keeps a copy of it), and SIMULATED for the simulator; the reason
/// follows it ([`SignSpec::key_id_or`]).
fn default_key_id(spec: &SignSpec, head: &Head) -> String {
    let mut id = format!(
        "breakglass {}@{} {} {}",
        paths::operator(),
        paths::hostname(),
        validity::format_time_utc(spec.now),
        head.short()
    );
    if spec.ca.token.simulated() {
        id.push_str(" SIMULATED");
    }
    id
}

/// What the spec leaves to signing time, settled before the token is touched.
struct Checked {
    /// The key to certify when it already exists (`--pubkey`).
    existing: Option<ssh_key::PublicKey>,
    key_id: KeyId,
    serial: u64,
    warnings: Vec<String>,
}

fn check(req: &MintRequest, head: &Head) -> Result<Checked> {
    let existing = req
        .pubkey
        .as_deref()
        .map(keyfile::read_public)
        .transpose()?;
    let spec = &req.spec;
    let key_id = spec.key_id_or(|| default_key_id(spec, head))?;
    let mut warnings = Vec::new();
    let serial = spec.ca.serial(&mut warnings)?;
    warnings.extend(spec.warnings());
    Ok(Checked {
        existing,
        key_id,
        serial,
        warnings,
    })
}

/// Mints a certificate. Nothing is released unless everything succeeded, including the audit
/// entry, which is on disk before the first byte of key or certificate.
pub fn mint(req: &MintRequest, ui: &mut dyn Ui) -> Result<MintOutcome> {
    let spec = &req.spec;
    let now = spec.now;
    let head = audit::head(&audit::default_path())?;
    // Every check that can fail runs before the touch, in the order a user fixes them: the
    // request and its policy (in the spec), then where the results go (written to, not just
    // looked at), then (in the token) the PIN, then the CA's presence on the key; the touch
    // comes last.
    let c = check(req, &head)?;
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
    entry.backend = Some(spec.ca.token.name());
    entry.serial = Some(c.serial);
    entry.key_id = Some(c.key_id.to_string());
    entry.principals = spec.ask.principals.to_vec();
    entry.valid_after = Some(spec.ask.validity.validity.valid_after);
    entry.valid_before = Some(spec.ask.validity.validity.valid_before);
    entry.reason = spec.ask.reason.clone();
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
    let spec = &req.spec;
    let mut signer = spec.ca.token.find_ca(source, expected, ui)?;
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
    let fields = spec.cert_fields(c.key_id.clone(), c.serial, subject.comment().to_string());
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
    let ssh_commands = if spec.ca.host {
        Vec::new()
    } else {
        spec.ask
            .principals
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
