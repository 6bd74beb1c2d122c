//! Handing key + certificate to a colleague: `send` checks and offers them over magic-wormhole
//! as a directory (modes kept, key 0600); `receive` takes whatever a peer sends (our directory
//! offer, Python `wormhole send DIR`/`FILE`/`--text`), trusts none of it until the key and the
//! certificate match, the CA signature verifies and the certificate is valid now, and then
//! writes the files atomically or puts the key straight into ssh-agent. Both are audited.

use crate::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use ssh_key::certificate::Certificate;
use ssh_key::PrivateKey;
use zeroize::Zeroizing;

use crate::delivery::audit::{self, AuditEntry};
use crate::delivery::release::{Delivery, Release, Released};
use crate::delivery::transfer::{self, OutFile, Received, TransferError, WormholeConfig};
use crate::ssh::keyfile::{self, KeyFiles};
use crate::ssh::summary::{self, CertSummary};
use crate::{clock, Error, Result};

const PEM_BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const PEM_END: &str = "-----END OPENSSH PRIVATE KEY-----";

/// A key and its certificate, checked against each other.
pub struct Bundle {
    /// The private key (zeroized on drop by ssh-key).
    pub key: PrivateKey,
    /// The certificate.
    pub cert: Certificate,
    /// The certificate line as received / on disk.
    pub cert_line: String,
    /// The certificate as `inspect` sees it.
    pub summary: CertSummary,
}

/// Checks a key and a certificate line belong together, verify, and are valid at `now`; `ca`
/// (when given) must be the signing CA.
pub fn check_bundle(
    key_pem: &[u8],
    cert_text: &str,
    label: &str,
    now: u64,
    ca: Option<&ssh_key::PublicKey>,
) -> Result<Bundle> {
    let bad = |reason: String| Error::BadFile {
        path: PathBuf::from(label),
        reason,
    };
    let key = PrivateKey::from_openssh(key_pem)
        .map_err(|_| bad("the private key does not parse".into()))?;
    if key.is_encrypted() {
        return Err(bad("the private key is passphrase-protected; ask for an unencrypted one (breakglass mint writes none)".into()));
    }
    let (cert, blob) =
        summary::parse_cert_line(cert_text).map_err(|r| bad(format!("the certificate {r}")))?;
    if cert.public_key() != key.public_key().key_data() {
        return Err(bad(
            "the certificate is for another key than the private key".into(),
        ));
    }
    let summary = summary::summarize(label, &cert, Some(&blob), now, ca.map(|k| k.key_data()));
    if !summary.signature_valid {
        return Err(bad("the certificate's CA signature does not verify".into()));
    }
    if summary.ca_matches == Some(false) {
        return Err(bad(format!(
            "the certificate was signed by another CA ({}) than --ca",
            summary.ca_fingerprint
        )));
    }
    if let Some(why) = summary::distrust(&cert) {
        return Err(bad(format!("the certificate is refused: {why}")));
    }
    if let Some(e) = Error::unless_valid(summary.valid_after, summary.valid_before, now) {
        return Err(e);
    }
    if cert.cert_type() != ssh_key::certificate::CertType::User {
        return Err(bad(
            "the certificate is a host certificate, not a user certificate".into(),
        ));
    }
    // The line that goes on: the verified blob, re-encoded, with a sanitised comment; nothing
    // else from the text we were given.
    let cert_line = {
        use ssh_key::encoding::base64::{Base64, Encoding};
        let comment = crate::sanitize::sanitize_bytes(key.comment().as_bytes())
            .replace(char::is_whitespace, "_");
        format!(
            "{} {} {comment}",
            cert.algorithm().to_certificate_type(),
            Base64::encode_string(&blob)
        )
    };
    Ok(Bundle {
        key,
        cert,
        cert_line,
        summary,
    })
}

/// What `send` needs.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// OUT: sends OUT, OUT.pub, OUT-cert.pub.
    pub out: PathBuf,
    /// Servers and timeouts.
    pub cfg: WormholeConfig,
}

/// What `send` did.
#[derive(Debug, Clone, Serialize)]
pub struct SendOutcome {
    /// The code's nameplate (the number before the first dash).
    pub nameplate: String,
    /// The certificate that was sent.
    pub certificate: CertSummary,
    /// Bytes of key material sent (before compression).
    #[serde(with = "crate::json_u64")]
    pub bytes: u64,
    /// Milliseconds from code to acknowledgement.
    pub millis: u128,
}

fn read_file(p: &Path) -> Result<Zeroizing<Vec<u8>>> {
    match crate::input::read_bounded(p, crate::ssh::keyfile::MAX_KEY_FILE) {
        Ok(b) => Ok(b),
        Err(crate::input::ReadError::NotFound) => Err(Error::BadFile {
            path: p.to_path_buf(),
            reason: "no such file (mint first, or name the key with `send OUT`)".into(),
        }),
        Err(e) => Err(Error::BadFile {
            path: p.to_path_buf(),
            reason: e.reason(),
        }),
    }
}

/// The nameplate of a code (`7-guitarist-revenge` → `7`), safe for the audit log.
pub fn nameplate(code: &str) -> String {
    code.split('-')
        .next()
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or("?")
        .to_string()
}

/// Sends OUT's key and certificate. `preview` sees what is about to be sent, `on_code` the code.
pub fn send(
    req: &SendRequest,
    preview: &mut dyn FnMut(&CertSummary),
    on_code: &mut dyn FnMut(&str),
) -> Result<SendOutcome> {
    let KeyFiles {
        key: key_file,
        public: _,
        cert: cert_file,
    } = KeyFiles::new(&req.out);
    let now = clock::now();
    let key_pem = read_file(&key_file)?;
    let cert_text = String::from_utf8_lossy(&read_file(&cert_file)?).into_owned();
    let bundle = check_bundle(
        &key_pem,
        &cert_text,
        &cert_file.display().to_string(),
        now,
        None,
    )?;
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    preview(&bundle.summary);
    let base = req
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "emergency".into());
    // The .pub is derived from the key we checked, not read back from disk.
    let pub_line = keyfile::public_line(bundle.key.public_key())?;
    let files = vec![
        OutFile {
            name: base.clone(),
            bytes: key_pem.clone(),
            mode: 0o600,
        },
        OutFile {
            name: format!("{base}.pub"),
            bytes: Zeroizing::new(pub_line.into_bytes()),
            mode: 0o644,
        },
        OutFile {
            name: format!("{base}-cert.pub"),
            bytes: Zeroizing::new(format!("{}\n", bundle.cert_line).into_bytes()),
            mode: 0o644,
        },
    ];
    let bytes = files.iter().map(|f| f.bytes.len() as u64).sum();
    let entry = entry_for("send", &bundle.summary);
    // On disk before any byte of key material leaves: the offer itself.
    let mut offered = entry.clone();
    offered.result = "offering".into();
    offered.detail = Some(format!("{}, to be sent", req.out.display()));
    audit::append(&audit_path, &offered)?;
    // From here on every way out leaves an entry: "ok" below, or "failed" from the guard.
    let mut failed = FailedEntry::new(&audit_path, entry);
    failed.entry.detail = Some(format!("nameplate {}", nameplate("")));
    let started = Instant::now();
    let result = async_io::block_on(transfer::send_dir(
        &req.cfg,
        &format!("{base}-access"),
        &files,
        |code: &str| {
            failed.entry.detail = Some(format!("nameplate {}", nameplate(code)));
            on_code(code);
        },
    ));
    match result {
        Ok(np) => {
            let mut entry = failed.disarm();
            entry.result = "ok".into();
            audit::append(&audit_path, &entry)?;
            Ok(SendOutcome {
                nameplate: nameplate(&np),
                certificate: bundle.summary,
                bytes,
                millis: started.elapsed().as_millis(),
            })
        }
        Err(e) => {
            let e = Error::from(e);
            failed.fail(&e);
            Err(e)
        }
    }
}

/// An audit entry that is written as "failed" unless disarmed: when the operation returns an
/// error ([`FailedEntry::fail`] names it) and also while unwinding from a panic, so no hand-off
/// ends without a record.
struct FailedEntry<'a> {
    path: &'a Path,
    entry: AuditEntry,
    armed: bool,
}

impl<'a> FailedEntry<'a> {
    fn new(path: &'a Path, mut entry: AuditEntry) -> Self {
        // What a panic leaves, unless `fail` says more.
        entry.result = "failed: panic".into();
        FailedEntry {
            path,
            entry,
            armed: true,
        }
    }

    /// Records why it failed (written on drop).
    fn fail(&mut self, e: &Error) {
        self.entry.result = format!("failed: {}", e.kind());
    }

    /// It did not fail: nothing is written; returns the entry.
    fn disarm(mut self) -> AuditEntry {
        self.armed = false;
        std::mem::take(&mut self.entry)
    }
}

impl Drop for FailedEntry<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: an error writing the log must not hide the error being reported.
            let _ = audit::append(self.path, &self.entry);
        }
    }
}

fn entry_for(action: &str, s: &CertSummary) -> AuditEntry {
    let mut e = AuditEntry::new(action);
    e.ca_fingerprint = Some(s.ca_fingerprint.clone());
    e.cert_fingerprint = Some(s.key_fingerprint.clone());
    e.serial = Some(s.serial);
    e.key_id = Some(s.key_id.clone());
    e.principals = s.principals.clone();
    e.valid_after = Some(s.valid_after);
    e.valid_before = Some(s.valid_before);
    e
}

/// What `receive` needs.
#[derive(Debug, Clone)]
pub struct ReceiveRequest {
    /// The code.
    pub code: String,
    /// Where the key and certificate go.
    pub delivery: Delivery,
    /// Refuse a certificate from another CA.
    pub ca: Option<PathBuf>,
    /// The longest lifetime accepted without `allow_long`, seconds (as mint's policy).
    pub max_lifetime: u64,
    /// Accept a longer or open-ended certificate.
    pub allow_long: bool,
    /// Servers and timeouts.
    pub cfg: WormholeConfig,
}

/// What `receive` did.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiveOutcome {
    /// The certificate received (absent for a plain text message).
    pub certificate: Option<CertSummary>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// True when the key went into ssh-agent.
    pub agent: bool,
    /// Lifetime given to the agent, seconds.
    pub agent_lifetime: Option<u32>,
    /// A text message without key material (sanitised).
    pub text: Option<String>,
    /// Bytes received.
    #[serde(with = "crate::json_u64")]
    pub bytes: u64,
    /// Milliseconds for the transfer.
    pub millis: u128,
}

/// Finds the one private key block and the one certificate line in what was received.
/// A private key block and a certificate line, each if found.
type Material = (Option<Zeroizing<Vec<u8>>>, Option<String>);

fn find_material(blobs: &[&[u8]]) -> Result<Material> {
    let mut keys = Vec::new();
    let mut certs = Vec::new();
    for b in blobs {
        let text = String::from_utf8_lossy(b);
        let mut rest: &str = &text;
        while let Some(start) = rest.find(PEM_BEGIN) {
            let Some(end) = rest[start..].find(PEM_END) else {
                break;
            };
            let block = &rest[start..start + end + PEM_END.len()];
            keys.push(Zeroizing::new(format!("{block}\n").into_bytes()));
            rest = &rest[start + end + PEM_END.len()..];
        }
        for l in text.lines().map(str::trim) {
            if l.split_whitespace()
                .next()
                .is_some_and(|t| t.ends_with("-cert-v01@openssh.com"))
            {
                certs.push(l.to_string());
            }
        }
    }
    if keys.len() > 1 || certs.len() > 1 {
        return Err(TransferError::Hostile(format!(
            "{} private keys and {} certificates arrived; expected one of each",
            keys.len(),
            certs.len()
        ))
        .into());
    }
    Ok((keys.pop(), certs.pop()))
}

/// Fuzzing hook (feature `test-support`): what `receive` does with the bytes that arrived before
/// anything is written: find the one key block and the one certificate line, and check them at
/// `now`. `Ok(None)` when either is missing.
#[cfg(feature = "test-support")]
pub fn check_received(blobs: &[&[u8]], now: u64) -> Result<Option<Bundle>> {
    match find_material(blobs)? {
        (Some(key), Some(cert)) => {
            check_bundle(&key, &cert, "received certificate", now, None).map(Some)
        }
        _ => Ok(None),
    }
}

/// Receives key + certificate with `code`; writes them 0600 (or adds them to ssh-agent).
pub fn receive(req: &ReceiveRequest) -> Result<ReceiveOutcome> {
    let now0 = clock::now();
    let expected = match &req.ca {
        Some(p) => Some(keyfile::read_ca_public(p)?),
        None => None,
    };
    let mut release = Some(Release::prepare(&req.delivery)?);
    let audit_path = audit::default_path();
    let started = Instant::now();
    let np = nameplate(&req.code);
    let mut entry = AuditEntry::new("receive");
    entry.detail = Some(format!("nameplate {np}"));
    // Every way out from here leaves an entry: `finish` (key material, before it is released),
    // the text entry below, or "failed" from this guard (errors and panics alike).
    let mut failed = FailedEntry::new(&audit_path, entry);
    let received = match async_io::block_on(transfer::receive(&req.cfg, &req.code)) {
        Ok(r) => r,
        Err(e) => {
            let e = Error::from(e);
            failed.fail(&e);
            return Err(e);
        }
    };
    let millis = started.elapsed().as_millis();
    let (blobs, text): (Vec<&[u8]>, Option<&str>) = match &received {
        Received::Files { files, .. } => (files.iter().map(|f| f.bytes.as_slice()).collect(), None),
        Received::File(f) => (vec![f.bytes.as_slice()], None),
        Received::Text(t) => (vec![t.as_bytes()], Some(t.as_str())),
    };
    let bytes = blobs.iter().map(|b| b.len() as u64).sum();
    let result: Result<ReceiveOutcome> = (|| {
        let (key, cert) = find_material(&blobs)?;
        match (key, cert, text) {
            (None, None, Some(t)) => Ok(ReceiveOutcome {
                certificate: None,
                files: Vec::new(),
                agent: false,
                agent_lifetime: None,
                text: Some(t.to_string()),
                bytes,
                millis,
            }),
            (Some(key), Some(cert), _) => {
                let now = clock::now().max(now0);
                let b = check_bundle(&key, &cert, "received certificate", now, expected.as_ref())?;
                let validity = crate::ssh::validity::Validity {
                    valid_after: b.summary.valid_after,
                    valid_before: b.summary.valid_before,
                };
                let policy = crate::ops::sign_spec::LifetimePolicy {
                    max: req.max_lifetime,
                    allow_long: req.allow_long,
                };
                policy.check(&validity, "the received certificate", now)?;
                let release = release.take().ok_or(Error::SignatureInvalid)?;
                let released = finish(release, &b, now, &np)?;
                Ok(ReceiveOutcome {
                    agent: released.agent_lifetime.is_some(),
                    agent_lifetime: released.agent_lifetime,
                    files: released.files,
                    certificate: Some(b.summary),
                    text: None,
                    bytes,
                    millis,
                })
            }
            (k, c, _) => Err(TransferError::Hostile(format!(
                "expected a private key and its certificate, got {} and {}",
                if k.is_some() { "a key" } else { "no key" },
                if c.is_some() {
                    "a certificate"
                } else {
                    "no certificate"
                }
            ))
            .into()),
        }
    })();
    // Key material was audited in `finish` before it was released; here the rest.
    match &result {
        Ok(o) if o.certificate.is_none() => {
            let mut entry = failed.disarm();
            entry.result = "ok".into();
            entry.detail = Some(format!("nameplate {np}, text message"));
            audit::append(&audit_path, &entry)?;
        }
        Ok(_) => {
            failed.disarm();
        }
        Err(e) => failed.fail(e),
    }
    result
}

/// Releases a checked bundle (files or agent), with its audit entry on disk first. Nothing the
/// peer sent beyond the parsed key and the verified certificate blob reaches the disk, and the
/// key's comment is sanitised like the certificate's.
fn finish(release: Release, b: &Bundle, now: u64, np: &str) -> Result<Released> {
    let mut entry = entry_for("receive", &b.summary);
    let mut key = b.key.clone();
    key.set_comment(
        crate::sanitize::sanitize_bytes(b.key.comment().as_bytes())
            .replace(char::is_whitespace, "_"),
    );
    release.deliver(
        &key,
        &b.cert,
        &b.cert_line,
        &mut entry,
        Some(&format!("nameplate {np}")),
        now,
    )
}
