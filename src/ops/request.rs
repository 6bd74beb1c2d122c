//! `request`: the colleague's side of a hand-off in which no private key moves. The key pair is
//! made here (or an existing public key is named, a FIDO `sk-` one included); only the public
//! half travels to the approver over one wormhole code, and the certificate that comes back is
//! checked in full before anything is written: it certifies this key, it is a user certificate,
//! it names only principals that were asked for, its validity lies inside the one asked for, the
//! CA signature verifies, it is valid now, and (with `--ca`) it comes from that CA.

use crate::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use ssh_key::certificate::{CertType, Certificate};
use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey};

use crate::delivery::atomic::{self, PlannedFile};
use crate::delivery::audit::{self, AuditEntry};
use crate::delivery::exchange::{self, Exchange};
use crate::delivery::messages::{self, Message, Received};
use crate::delivery::release::{Delivery, Release};
use crate::delivery::transfer::WormholeConfig;
use crate::ops::handoff::nameplate;
use crate::ops::sign_spec::{absolute_spec, Ask};
use crate::shell;
use crate::ssh::keyfile::{self, KeyFiles, KeyType};
use crate::ssh::summary::{self, CertSummary};
use crate::ssh::validity::{self, Validity};
use crate::{clock, paths, Error, Result};

/// Which key the certificate is for.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A fresh key pair, made here and released like `mint` does (files or ssh-agent).
    Generate {
        /// `-t`.
        key_type: KeyType,
        /// `-f OUT` / `--agent`.
        delivery: Delivery,
    },
    /// An existing public key (`--pubkey KEY.pub`); only `KEY-cert.pub` is written.
    PublicKey {
        /// The `.pub` file.
        path: PathBuf,
        /// Replace an existing `KEY-cert.pub`.
        force: bool,
    },
}

/// Everything `request` is asked to do.
#[derive(Debug, Clone)]
pub struct RequestRequest {
    /// `-n`, `-V` and `--reason`, parsed once ([`Ask::for_request`]): what is asked for.
    pub ask: Ask,
    /// The key.
    pub key: KeySource,
    /// `--ca`: refuse a certificate from any other CA.
    pub ca: Option<PathBuf>,
    /// Servers and timeouts.
    pub cfg: WormholeConfig,
}

/// What `request` got.
#[derive(Debug, Clone, Serialize)]
pub struct RequestOutcome {
    /// The certificate as `inspect` sees it.
    pub certificate: CertSummary,
    /// Files written (none with `--agent`).
    pub files: Vec<PathBuf>,
    /// With `--agent`: the lifetime the agent got, seconds.
    pub agent_lifetime: Option<u32>,
    /// `ssh -i KEY user@HOST` lines, one per principal granted.
    pub ssh_commands: Vec<String>,
    /// The key is a FIDO `sk-` key: logging in needs its touch too.
    pub hardware_bound: bool,
    /// Principals asked for (the certificate may name fewer).
    pub asked_principals: Vec<String>,
    /// Validity asked for: start.
    pub asked_valid_after: u64,
    /// Validity asked for: end.
    pub asked_valid_before: u64,
    /// Milliseconds from the code to the certificate.
    pub millis: u128,
}

/// The suffix-less path `ssh -i` takes for a `.pub` file, and where its certificate goes
/// (ssh-keygen's rule: `id.pub` → `id`, `id-cert.pub`).
pub fn cert_path_for(pubkey: &Path) -> (PathBuf, PathBuf) {
    let s = pubkey.as_os_str().to_string_lossy();
    let stem = PathBuf::from(s.strip_suffix(".pub").unwrap_or(&s).to_string());
    let cert = KeyFiles::new(&stem).cert;
    (stem, cert)
}

fn read_pubkey(path: &Path) -> Result<PublicKey> {
    let bad = |reason: String| Error::BadFile {
        path: path.to_path_buf(),
        reason,
    };
    // Bounded, and a FIFO, a device or a directory is refused at once (never waited on).
    use crate::input::ReadError;
    let bytes = match crate::input::read_bounded(path, messages::MAX_PUBLIC_KEY as u64) {
        Ok(b) => b,
        Err(ReadError::NotFound) => return Err(bad("no such file".into())),
        Err(ReadError::NotRegular(kind)) => {
            return Err(bad(format!("is {kind}, not a public key file")))
        }
        Err(ReadError::TooLarge(_)) => return Err(bad("is too large to be a public key".into())),
        Err(ReadError::Io(e)) => return Err(Error::io("read", path, e)),
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("PRIVATE KEY") {
        return Err(bad(
            "is a private key; name the .pub file (only the public half is sent)".into(),
        ));
    }
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    messages::parse_public_key(line).map_err(|e| bad(format!("is not usable: {e}")))
}

/// Asks for a certificate; `on_code` sees the code as soon as it exists.
pub fn request(req: &RequestRequest, on_code: &mut dyn FnMut(&str)) -> Result<RequestOutcome> {
    let now = clock::now();
    let ask = &req.ask;
    let validity = ask.validity.validity;
    let expected = match &req.ca {
        Some(p) => Some(keyfile::read_ca_public(p)?),
        None => None,
    };
    let requester = format!("{}@{}", paths::operator(), paths::hostname());

    // Everything that can fail without the certificate fails before a code exists.
    let (generated, public, target) = match &req.key {
        KeySource::Generate { key_type, delivery } => {
            let release = Release::prepare(delivery)?;
            let key = keyfile::generate(*key_type, &requester)?;
            let public = key.public_key().clone();
            (Some(key), public, Target::Release(release))
        }
        KeySource::PublicKey { path, force } => {
            let public = read_pubkey(path)?;
            let (stem, cert) = cert_path_for(path);
            atomic::preflight(&[&cert], *force)?;
            audit::preflight(&audit::default_path())?;
            (
                None,
                public,
                Target::CertFile {
                    stem,
                    cert,
                    force: *force,
                },
            )
        }
    };
    let audit_path = audit::default_path();
    let hardware_bound = messages::is_hardware_bound(public.key_data());
    let message = Message::Request(ask.to_request(
        keyfile::public_line(&public)?.trim_end().to_string(),
        requester,
    ));

    let mut entry = AuditEntry::new("request");
    entry.cert_fingerprint = Some(public.fingerprint(HashAlg::Sha256).to_string());
    entry.principals = ask.principals.to_vec();
    entry.valid_after = Some(validity.valid_after);
    entry.valid_before = Some(validity.valid_before);
    entry.reason = ask.reason.clone();
    let asked = format!(
        "asked for {} -V {}",
        ask.principals,
        absolute_spec(&validity)
    );

    let started = Instant::now();
    let mut code_seen = String::new();
    let got = async_io::block_on(async {
        let mut ex = exchange::open(&req.cfg, |c| {
            code_seen = c.to_string();
            on_code(c);
        })
        .await?;
        let r = exchange_request(&mut ex, &message).await;
        Ok::<_, Error>((ex, r?))
    });
    let np = nameplate(&code_seen);
    let (mut ex, line) = match got {
        Ok(x) => x,
        Err(e) => {
            entry.result = format!("failed: {}", e.kind());
            entry.detail = Some(format!("nameplate {np}, {asked}"));
            let _ = audit::append(&audit_path, &entry);
            return Err(e);
        }
    };
    let millis = started.elapsed().as_millis();
    let now = clock::now().max(now);
    let checked = check_reply(
        &line,
        public.key_data(),
        &ask.principals,
        &validity,
        expected.as_ref(),
        now,
    );
    let (cert, cert_line, summary) = match checked {
        Ok(c) => c,
        Err(why) => {
            async_io::block_on(async {
                let _ = ex
                    .send(&Message::Received(Received {
                        accepted: false,
                        reason: Some(why.clone()),
                    }))
                    .await;
                ex.close().await;
            });
            let e = Error::ReplyRefused(why);
            entry.result = format!("failed: {}", e.kind());
            entry.detail = Some(format!("nameplate {np}, {asked}"));
            let _ = audit::append(&audit_path, &entry);
            return Err(e);
        }
    };
    // What was granted goes into the entry; what was asked stays in its detail.
    entry.serial = Some(summary.serial);
    entry.key_id = Some(summary.key_id.clone());
    entry.ca_fingerprint = Some(summary.ca_fingerprint.clone());
    entry.principals = summary.principals.clone();
    entry.valid_after = Some(summary.valid_after);
    entry.valid_before = Some(summary.valid_before);
    let detail = format!("nameplate {np}, {asked}");
    let stored = match target {
        Target::Release(release) => {
            let key = generated.as_ref().ok_or(Error::SignatureInvalid)?;
            let files = release.key_files();
            release
                .deliver(key, &cert, &cert_line, &mut entry, Some(&detail), now)
                .map(|r| (r.files, r.agent_lifetime, files.map(|f| f.key)))
        }
        Target::CertFile { stem, cert, force } => {
            entry.detail = Some(format!("{detail}, {}", cert.display()));
            audit::append(&audit_path, &entry).and_then(|()| {
                let written = atomic::write_all(
                    &[PlannedFile::public(&cert, format!("{cert_line}\n"))],
                    force,
                )
                .map_err(crate::Error::from);
                if let Err(e) = &written {
                    let mut failed = entry.clone();
                    failed.result = format!("failed: {}", e.kind());
                    let _ = audit::append(&audit_path, &failed);
                }
                written.map(|()| (vec![cert], None, Some(stem)))
            })
        }
    };
    let ack = Message::Received(Received {
        accepted: stored.is_ok(),
        reason: stored
            .as_ref()
            .err()
            .map(|e| format!("the certificate was not stored ({})", e.kind())),
    });
    async_io::block_on(async {
        let _ = ex.send(&ack).await;
        ex.close().await;
    });
    let (files, agent_lifetime, key_path) = stored?;
    let ssh_commands = summary
        .principals
        .iter()
        .map(|p| match &key_path {
            Some(k) => format!(
                "ssh -i {} {}@HOST",
                shell::word(&k.display().to_string()),
                shell::word(p)
            ),
            None => format!("ssh {}@HOST", shell::word(p)),
        })
        .collect();
    Ok(RequestOutcome {
        certificate: summary,
        files,
        agent_lifetime,
        ssh_commands,
        hardware_bound,
        asked_principals: ask.principals.to_vec(),
        asked_valid_after: validity.valid_after,
        asked_valid_before: validity.valid_before,
        millis,
    })
}

enum Target {
    Release(Release),
    CertFile {
        stem: PathBuf,
        cert: PathBuf,
        force: bool,
    },
}

/// Sends the request and waits for the answer: the certificate line, or the error that ends it.
async fn exchange_request(ex: &mut Exchange, request: &Message) -> Result<String> {
    ex.send(request).await?;
    let limit = ex.timeout();
    let reply = ex
        .receive(limit, "waiting for the approver's answer")
        .await?;
    match reply {
        Ok(Message::Certificate(line)) => Ok(line),
        Ok(Message::Refusal(reason)) => {
            ex.send(&Message::Received(Received {
                accepted: false,
                reason: Some("refused".into()),
            }))
            .await
            .ok();
            Err(Error::RequestRefused(reason))
        }
        Ok(Message::Error(m)) => Err(Error::PeerFailed(m)),
        Ok(_) => {
            let why = "the approver sent a message that is not an answer to a request";
            ex.send_error(why).await;
            Err(Error::ReplyRefused(why.into()))
        }
        Err(why) => {
            ex.send_error(&format!("unreadable answer: {why}")).await;
            Err(Error::ReplyRefused(format!(
                "the answer cannot be read: {why}"
            )))
        }
    }
}

/// Every check a returned certificate must pass; the error is the reason, one clause.
/// Returns the certificate, the line to store (the verified blob re-encoded, nothing else from
/// the peer's text) and its summary.
pub fn check_reply(
    line: &str,
    key: &KeyData,
    principals: &[String],
    asked: &Validity,
    expected_ca: Option<&PublicKey>,
    now: u64,
) -> std::result::Result<(Certificate, String, CertSummary), String> {
    let (cert, blob) = summary::parse_cert_line(line).map_err(|r| format!("the reply {r}"))?;
    if cert.public_key() != key {
        return Err(format!(
            "it certifies another key ({}) than the one requested ({})",
            cert.public_key().fingerprint(HashAlg::Sha256),
            key.fingerprint(HashAlg::Sha256)
        ));
    }
    if cert.cert_type() != CertType::User {
        return Err("it is a host certificate, not a user certificate".into());
    }
    let s = summary::summarize(
        "received certificate",
        &cert,
        Some(&blob),
        now,
        expected_ca.map(|k| k.key_data()),
    );
    if !s.signature_valid {
        return Err("its CA signature does not verify".into());
    }
    if s.ca_matches == Some(false) {
        return Err(format!(
            "it was signed by another CA ({}) than --ca",
            s.ca_fingerprint
        ));
    }
    if s.principals.is_empty() {
        return Err("it names no principals (it would be valid for every login)".into());
    }
    if let Some(p) = s.principals.iter().find(|p| !principals.contains(p)) {
        return Err(format!(
            "it names the principal '{p}', which was not asked for"
        ));
    }
    if s.valid_before > asked.valid_before {
        return Err(format!(
            "its validity ends at {}, later than the {} asked for",
            validity::format_time_utc(s.valid_before),
            validity::format_time_utc(asked.valid_before)
        ));
    }
    if s.valid_after < asked.valid_after {
        return Err(format!(
            "its validity starts at {}, earlier than the {} asked for",
            validity::format_time_utc(s.valid_after),
            validity::format_time_utc(asked.valid_after)
        ));
    }
    if let Some(e) = Error::unless_valid(s.valid_after, s.valid_before, now) {
        return Err(format!("it is not valid now ({e})"));
    }
    let cert_line = {
        use ssh_key::encoding::base64::{Base64, Encoding};
        format!(
            "{} {}",
            cert.algorithm().to_certificate_type(),
            Base64::encode_string(&blob)
        )
    };
    Ok((cert, cert_line, s))
}
