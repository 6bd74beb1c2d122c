//! `approve`: the CA holder's side of `request`. The request arrives over the wormhole code the
//! requester read out (or, with `--text`, as a bare public key from Python's
//! `wormhole send --text`); every field of it is checked and shown, the same policy as `mint`
//! applies, the approver may only narrow it (a subset of the principals, a validity inside the
//! one asked for, restricting `-O` options), and after an explicit yes the token signs with one
//! touch. The request and the decision are in the audit log before the certificate leaves. No
//! private key is ever made or written here.

use crate::diagnostic::Diagnostic;
use std::path::PathBuf;

use serde::Serialize;
use ssh_key::HashAlg;

use crate::delivery::audit::{self, AuditEntry};
use crate::delivery::exchange::{self, Exchange};
use crate::delivery::messages::{self, Message};
use crate::delivery::transfer::{self, Received as Transferred, WormholeConfig};
use crate::ops::handoff::nameplate;
use crate::ops::sign_spec::{ApproverSpec, Ask, LifetimePolicy, SignSpec};
use crate::ssh::cert;
use crate::ssh::summary::{self, CertSummary};
use crate::ssh::validity;
use crate::token::CaSource;
use crate::ui::Ui;
use crate::{clock, paths, Error, Result};

/// The question asked before signing.
pub const QUESTION: &str = "Sign this request? [y/N]";

/// Everything `approve` is asked to do.
#[derive(Debug, Clone)]
pub struct ApproveRequest {
    /// The code the requester read out.
    pub code: String,
    /// `--ca`.
    pub ca: Option<PathBuf>,
    /// FIDO2 application when there is no CA file.
    pub application: String,
    /// `-n`, `-V` (narrowing what is asked), `-O`, `-I`, `-z`, `--backend`, `--device`, parsed
    /// once ([`ApproverSpec::parse`], told of `--text`).
    pub spec: ApproverSpec,
    /// `--max-lifetime` and `--allow-long`.
    pub policy: LifetimePolicy,
    /// `--yes`: no question.
    pub yes: bool,
    /// `--text`: the request is a bare public key from Python's `wormhole send --text`.
    pub text: bool,
    /// Servers and timeouts.
    pub cfg: WormholeConfig,
}

/// The request as shown to the approver (raw; the printer sanitises).
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    /// `user@host` as the requester's machine claims (`None` with `--text`).
    pub requester: Option<String>,
    /// Key type, e.g. `ECDSA-SK`.
    pub key_type: String,
    /// SHA256 fingerprint of the key.
    pub key_fingerprint: String,
    /// The key is a FIDO `sk-` key: logging in needs the requester's touch too.
    pub hardware_bound: bool,
    /// Principals asked for.
    pub principals: Vec<String>,
    /// Validity asked for, local time.
    pub valid_local: String,
    /// Validity asked for, UTC.
    pub valid_utc: String,
    /// The reason given.
    pub reason: Option<String>,
    /// What will be signed: principals.
    pub grant_principals: Vec<String>,
    /// What will be signed: validity, UTC.
    pub grant_valid_utc: String,
}

/// What `approve` did.
#[derive(Debug, Clone, Serialize)]
pub struct ApproveOutcome {
    /// The request.
    pub request: RequestView,
    /// The certificate signed and sent.
    pub certificate: CertSummary,
    /// The token that signed.
    pub token: String,
    /// Whether the requester acknowledged the certificate as accepted (`None`: no answer;
    /// always `None` with `--text`).
    pub accepted: Option<bool>,
    /// The requester's reason when it did not accept.
    pub requester_reason: Option<String>,
    /// Warnings worth showing.
    pub warnings: Vec<String>,
}

/// The request as it arrived: the key to certify, what it asks for, and who asks (`None` for a
/// bare public key).
struct Asked {
    key: ssh_key::PublicKey,
    ask: Ask,
    requester: Option<String>,
}

fn view(asked: &Asked, grant: Option<&SignSpec>) -> RequestView {
    let key = asked.key.key_data();
    let v = &asked.ask.validity.validity;
    RequestView {
        requester: asked.requester.clone(),
        key_type: summary::display_type(&asked.key.algorithm(), false),
        key_fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        hardware_bound: messages::is_hardware_bound(key),
        principals: asked.ask.principals.to_vec(),
        valid_local: validity::format_validity(v),
        valid_utc: validity::format_validity_in(v, &chrono::Utc),
        reason: asked.ask.reason.clone(),
        grant_principals: grant.map(|g| g.ask.principals.to_vec()).unwrap_or_default(),
        grant_valid_utc: grant
            .map(|g| validity::format_validity_in(&g.ask.validity.validity, &chrono::Utc))
            .unwrap_or_default(),
    }
}

fn request_entry(asked: &Asked, np: &str) -> AuditEntry {
    let mut e = AuditEntry::new("approve-request");
    e.cert_fingerprint = Some(asked.key.fingerprint(HashAlg::Sha256).to_string());
    e.principals = asked.ask.principals.to_vec();
    e.valid_after = Some(asked.ask.validity.validity.valid_after);
    e.valid_before = Some(asked.ask.validity.validity.valid_before);
    e.reason = asked.ask.reason.clone();
    e.detail = Some(match &asked.requester {
        None => format!("public key from wormhole send --text, nameplate {np}"),
        Some(r) => format!("request from {r}, nameplate {np}"),
    });
    e
}

/// Where the answer goes: back over the exchange, or (for `--text`) a new file offer.
enum Channel {
    Exchange(Box<Exchange>),
    Text,
}

/// Receives, checks, shows (`show`), asks, signs and sends back. `on_code` sees the new code of
/// the file offer with `--text`.
pub fn approve(
    req: &ApproveRequest,
    ui: &mut dyn Ui,
    show: &mut dyn FnMut(&RequestView),
    on_code: &mut dyn FnMut(&str),
) -> Result<ApproveOutcome> {
    let mut mine = req.spec.clone();
    let source = CaSource::choose(req.ca.as_deref(), &req.application);
    let expected = source.expected()?;
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let np = nameplate(&req.code);

    let received = if req.text {
        receive_text(&req.cfg, &req.code).and_then(|key| {
            // A bare public key asks for nothing: the approver's -n and -V are the request.
            let ask = mine.bare_key_ask(clock::now())?;
            let asked = Asked {
                key,
                ask,
                requester: None,
            };
            Ok((asked, Channel::Text))
        })
    } else {
        receive_request(&req.cfg, &req.code)
    };
    let (asked, mut channel) = match received {
        Ok(r) => r,
        Err(e) => {
            let mut entry = AuditEntry::new("approve-request");
            entry.result = format!("refused: {}", e.kind());
            entry.detail = Some(format!("nameplate {np}"));
            let _ = audit::append(&audit_path, &entry);
            return Err(e);
        }
    };
    audit::append(&audit_path, &request_entry(&asked, &np))?;

    let mut entry = AuditEntry::new("approve");
    entry.cert_fingerprint = Some(asked.key.fingerprint(HashAlg::Sha256).to_string());
    entry.reason = asked.ask.reason.clone();
    entry.detail = Some(format!("nameplate {np}"));
    entry.ca_fingerprint = expected
        .as_ref()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string());
    let result = sign(
        req,
        &mine,
        &asked,
        &source,
        expected.as_ref(),
        &mut entry,
        ui,
        show,
    );
    let (certificate, token, cert_line, mut warnings, request_view) = match result {
        Ok(x) => x,
        Err(e) => {
            entry.result = match &e {
                Error::RequestDeclined => "declined".into(),
                e => format!("refused: {}", e.kind()),
            };
            let _ = audit::append(&audit_path, &entry);
            if let Channel::Exchange(mut ex) = channel {
                let answer = match &e {
                    Error::RequestDeclined => Message::Refusal("the approver declined".into()),
                    Error::RequestInvalid(_)
                    | Error::RequestPolicy(_)
                    | Error::RequestWidened(_)
                    | Error::PeerDefaultKeyId(_) => Message::Refusal(e.to_string()),
                    e => Message::Error(format!("the approver could not sign: {e}")),
                };
                async_io::block_on(async {
                    let _ = ex.send(&answer).await;
                    ex.close().await;
                });
            }
            return Err(e);
        }
    };
    // The decision and the certificate are on disk before the certificate leaves.
    audit::append(&audit_path, &entry)?;
    let (accepted, requester_reason) = match &mut channel {
        Channel::Exchange(ex) => {
            let sent = async_io::block_on(ex.send(&Message::Certificate(cert_line)));
            let ack = match sent {
                Err(e) => Err(Error::from(e)),
                Ok(()) => Ok(async_io::block_on(ex.receive(
                    std::time::Duration::from_secs(60),
                    "waiting for the requester's acknowledgement",
                ))),
            };
            match ack {
                Err(e) => {
                    let mut failed = entry.clone();
                    failed.result = format!("failed: {}", e.kind());
                    let _ = audit::append(&audit_path, &failed);
                    return Err(e);
                }
                Ok(Ok(Ok(Message::Received(r)))) => (Some(r.accepted), r.reason),
                Ok(_) => {
                    warnings.push("the requester did not acknowledge the certificate".into());
                    (None, None)
                }
            }
        }
        Channel::Text => {
            let name = text_file_name(&asked.key);
            let bytes = format!("{cert_line}\n").into_bytes();
            let sent =
                async_io::block_on(transfer::send_file(&req.cfg, &name, &bytes, |c| on_code(c)));
            if let Err(e) = sent {
                let e = Error::from(e);
                let mut failed = entry.clone();
                failed.result = format!("failed: {}", e.kind());
                let _ = audit::append(&audit_path, &failed);
                return Err(e);
            }
            (None, None)
        }
    };
    if let Channel::Exchange(ex) = channel {
        async_io::block_on(ex.close());
    }
    if accepted == Some(false) {
        warnings.push(format!(
            "the requester did not accept the certificate: {}",
            requester_reason.as_deref().unwrap_or("no reason given")
        ));
    }
    Ok(ApproveOutcome {
        request: request_view,
        certificate,
        token,
        accepted,
        requester_reason,
        warnings,
    })
}

/// The name of the `-cert.pub` file offered to Python's `wormhole receive`: OpenSSH's default
/// identity name for the key type, so that receiving it in `~/.ssh` puts it beside the key.
pub fn text_file_name(key: &ssh_key::PublicKey) -> String {
    use ssh_key::public::KeyData;
    let base = match key.key_data() {
        KeyData::Ed25519(_) => "id_ed25519",
        KeyData::SkEd25519(_) => "id_ed25519_sk",
        KeyData::SkEcdsaSha2NistP256(_) => "id_ecdsa_sk",
        KeyData::Rsa(_) => "id_rsa",
        _ => "id_ecdsa",
    };
    format!("{base}-cert.pub")
}

type Signed = (CertSummary, String, String, Vec<String>, RequestView);

#[allow(clippy::too_many_arguments)]
fn sign(
    req: &ApproveRequest,
    mine: &ApproverSpec,
    asked: &Asked,
    source: &CaSource,
    expected: Option<&ssh_key::PublicKey>,
    entry: &mut AuditEntry,
    ui: &mut dyn Ui,
    show: &mut dyn FnMut(&RequestView),
) -> Result<Signed> {
    let now = clock::now();
    let grant = match mine.grant(&asked.ask, &req.policy, now) {
        Ok(g) => g,
        Err(e) => {
            show(&view(asked, None));
            return Err(e);
        }
    };
    let v = view(asked, Some(&grant));
    show(&v);
    if !req.yes && ui.confirm(QUESTION) != Some(true) {
        return Err(Error::RequestDeclined);
    }
    let mut warnings = Vec::new();
    let serial = grant.ca.serial(&mut warnings)?;
    let key_id = grant
        .key_id_or(|| {
            format!(
                "breakglass {} approved by {}@{} {}",
                asked.requester.as_deref().unwrap_or("public key"),
                paths::operator(),
                paths::hostname(),
                validity::format_time_utc(now)
            )
        })
        .map_err(|e| match e {
            Error::DefaultKeyId(fault) => Error::PeerDefaultKeyId(fault),
            e => e,
        })?;
    let mut signer = grant.ca.token.find_ca(source, expected, ui)?;
    let ca_key = signer.public_key().key_data().clone();
    let fields = grant.cert_fields(key_id, serial, String::new());
    let cert = cert::issue(asked.key.key_data(), &fields, signer.as_mut(), ui)?;
    let s = summary::summarize("signed certificate", &cert, None, now, Some(&ca_key));
    if !s.signature_valid {
        return Err(Error::SignatureInvalid);
    }
    entry.ca_fingerprint = Some(s.ca_fingerprint.clone());
    entry.serial = Some(s.serial);
    entry.key_id = Some(s.key_id.clone());
    entry.principals = s.principals.clone();
    entry.valid_after = Some(s.valid_after);
    entry.valid_before = Some(s.valid_before);
    let mut line = cert.to_openssh()?;
    line.truncate(line.trim_end().len());
    Ok((s, signer.describe(), line, warnings, v))
}

fn receive_request(cfg: &WormholeConfig, code: &str) -> Result<(Asked, Channel)> {
    async_io::block_on(async {
        let mut ex = exchange::join(cfg, code).await?;
        let limit = ex.timeout();
        let got = ex.receive(limit, "waiting for the request").await;
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                ex.close().await;
                return Err(e.into());
            }
        };
        let fail = |why: String| Error::RequestInvalid(why);
        let checked = match got {
            Ok(Message::Request(r)) => match r.check() {
                Ok(c) => Ok(Asked {
                    ask: Ask::from_request(&c),
                    key: c.key,
                    requester: Some(c.requester),
                }),
                Err(why) => {
                    let _ = ex
                        .send(&Message::Refusal(format!(
                            "the request cannot be signed: {why}"
                        )))
                        .await;
                    Err(fail(why.0))
                }
            },
            Ok(Message::Error(m)) => Err(Error::PeerFailed(m)),
            Ok(_) => {
                let why = "the first message is not a request";
                ex.send_error(why).await;
                Err(fail(why.into()))
            }
            Err(why) => {
                ex.send_error(&format!("unreadable request: {why}")).await;
                Err(fail(why.0))
            }
        };
        match checked {
            Ok(c) => Ok((c, Channel::Exchange(Box::new(ex)))),
            Err(e) => {
                ex.close().await;
                Err(e)
            }
        }
    })
}

fn receive_text(cfg: &WormholeConfig, code: &str) -> Result<ssh_key::PublicKey> {
    let got = async_io::block_on(transfer::receive(cfg, code))?;
    let Transferred::Text(text) = got else {
        return Err(Error::RequestInvalid(
            "a file arrived where a public key was expected; the colleague should run wormhole send --text \"$(cat ~/.ssh/id_ecdsa.pub)\"".into(),
        ));
    };
    messages::parse_public_key(text.trim())
        .map_err(|e| Error::RequestInvalid(format!("the text that arrived: {e}")))
}
