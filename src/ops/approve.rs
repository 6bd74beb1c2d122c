//! `approve`: the CA holder's side of `request`. The request arrives over the wormhole code the
//! requester read out (or, with `--text`, as a bare public key from Python's
//! `wormhole send --text`); every field of it is checked and shown, the same policy as `mint`
//! applies, the approver may only narrow it (a subset of the principals, a validity inside the
//! one asked for, restricting `-O` options), and after an explicit yes the token signs with one
//! touch. The request and the decision are in the audit log before the certificate leaves. No
//! private key is ever made or written here.

use std::path::PathBuf;

use serde::Serialize;
use ssh_key::HashAlg;

use crate::delivery::audit::{self, AuditEntry};
use crate::delivery::exchange::{self, Exchange};
use crate::delivery::messages::{self, CheckedRequest, Message};
use crate::delivery::transfer::{self, Received as Transferred, WormholeConfig};
use crate::ops::handoff::nameplate;
use crate::ops::mint::{check_policy, parse_principals};
use crate::ops::request::validity_spec;
use crate::sanitize::is_dangerous;
use crate::ssh::cert::{self, CertFields};
use crate::ssh::cert_options::CertOptions;
use crate::ssh::summary::{self, CertSummary};
use crate::ssh::validity::{self, Validity};
use crate::token::{self, BackendChoice, CaSource};
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
    /// `-n`: a subset of the principals asked for (required with `--text`).
    pub principals: Option<String>,
    /// `-V`: inside the validity asked for (with `--text`, default `-5m:+60m`).
    pub validity: Option<String>,
    /// `-I`.
    pub key_id: Option<String>,
    /// `-z`.
    pub serial: Option<u64>,
    /// `-O`, in order.
    pub options: Vec<String>,
    /// `--max-lifetime`, seconds.
    pub max_lifetime: u64,
    /// `--allow-long`.
    pub allow_long: bool,
    /// `--yes`: no question.
    pub yes: bool,
    /// `--text`: the request is a bare public key from Python's `wormhole send --text`.
    pub text: bool,
    /// Token choice.
    pub backend: BackendChoice,
    /// Which key when several are connected.
    pub device: Option<String>,
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

/// What the approver typed, checked before anything is received.
#[derive(Clone)]
struct Flags {
    principals: Option<Vec<String>>,
    validity_spec: Option<String>,
    options: CertOptions,
    key_id: Option<String>,
}

fn check_flags(req: &ApproveRequest) -> Result<Flags> {
    let principals = match &req.principals {
        Some(p) => Some(parse_principals(p)?),
        None if req.text => {
            return Err(Error::Principals(
                "approve --text needs -n: a bare public key says nothing about the login names"
                    .into(),
            ))
        }
        None => None,
    };
    if let Some(v) = &req.validity {
        // Parsed again against the time the request arrives; this catches typing errors now.
        validity::parse_validity(v, clock::now())?;
    }
    let options = CertOptions::from_ssh_keygen_options(&req.options)?;
    match &req.key_id {
        Some(id) if id.is_empty() => return Err(Error::EmptyKeyId),
        Some(id) if id.chars().any(is_dangerous) => {
            return Err(Error::ControlCharacters { what: "-I" })
        }
        _ => {}
    }
    Ok(Flags {
        principals,
        validity_spec: req.validity.clone().or_else(|| {
            req.text
                .then(|| crate::ops::mint::DEFAULT_VALIDITY.to_string())
        }),
        options,
        key_id: req.key_id.clone(),
    })
}

/// What will be signed.
struct Grant {
    principals: Vec<String>,
    validity: Validity,
}

/// The approver's narrowing and the policy, applied to a checked request.
fn decide(flags: &Flags, asked: &CheckedRequest, req: &ApproveRequest, now: u64) -> Result<Grant> {
    // The principals asked for must pass the same syntax check as mint's -n.
    parse_principals(&asked.principals.join(","))
        .map_err(|e| Error::RequestInvalid(e.to_string()))?;
    let principals = match &flags.principals {
        Some(mine) => {
            if let Some(p) = mine.iter().find(|p| !asked.principals.contains(p)) {
                return Err(Error::RequestWidened(format!(
                    "-n names '{p}', which the request did not ask for (it asked for {})",
                    asked.principals.join(", ")
                )));
            }
            mine.clone()
        }
        None => asked.principals.clone(),
    };
    // The approver's -V is cut to the window asked for: it can shorten it, never extend it
    // (a relative -V typed a few seconds after the request would otherwise end a little later).
    let validity = match &flags.validity_spec {
        Some(spec) => {
            let v = validity::parse_validity(spec, now)?;
            let cut = Validity {
                valid_after: v.valid_after.max(asked.validity.valid_after),
                valid_before: v.valid_before.min(asked.validity.valid_before),
            };
            if cut.valid_after >= cut.valid_before {
                return Err(Error::RequestWidened(format!(
                    "-V {spec} ({}) does not overlap the validity asked for ({})",
                    validity_spec(&v),
                    validity_spec(&asked.validity)
                )));
            }
            cut
        }
        None => asked.validity,
    };
    let spec = flags
        .validity_spec
        .clone()
        .unwrap_or_else(|| validity_spec(&validity));
    check_policy(&validity, &spec, req.max_lifetime, req.allow_long, now).map_err(|e| match e {
        Error::ValidityPast { .. } | Error::Policy(_) => Error::RequestPolicy(e.to_string()),
        e => e,
    })?;
    Ok(Grant {
        principals,
        validity,
    })
}

fn view(asked: &CheckedRequest, grant: Option<&Grant>, text: bool) -> RequestView {
    let key = asked.key.key_data();
    RequestView {
        requester: (!text).then(|| asked.requester.clone()),
        key_type: summary::display_type(&asked.key.algorithm(), false),
        key_fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        hardware_bound: messages::is_hardware_bound(key),
        principals: asked.principals.clone(),
        valid_local: validity::format_validity(&asked.validity),
        valid_utc: validity::format_validity_in(&asked.validity, &chrono::Utc),
        reason: asked.reason.clone(),
        grant_principals: grant.map(|g| g.principals.clone()).unwrap_or_default(),
        grant_valid_utc: grant
            .map(|g| validity::format_validity_in(&g.validity, &chrono::Utc))
            .unwrap_or_default(),
    }
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

fn request_entry(asked: &CheckedRequest, np: &str, text: bool) -> AuditEntry {
    let mut e = AuditEntry::new("approve-request");
    e.cert_fingerprint = Some(asked.key.fingerprint(HashAlg::Sha256).to_string());
    e.principals = asked.principals.clone();
    e.valid_after = Some(asked.validity.valid_after);
    e.valid_before = Some(asked.validity.valid_before);
    e.reason = asked.reason.clone();
    e.detail = Some(if text {
        format!("public key from wormhole send --text, nameplate {np}")
    } else {
        format!("request from {}, nameplate {np}", asked.requester)
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
    let flags = check_flags(req)?;
    let source = CaSource::choose(req.ca.as_deref(), &req.application);
    let expected = source.expected()?;
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let np = nameplate(&req.code);

    let received = if req.text {
        receive_text(&req.cfg, &req.code).map(|r| (r, Channel::Text))
    } else {
        receive_request(&req.cfg, &req.code)
    };
    let (mut asked, mut channel) = match received {
        Ok(r) => r,
        Err(e) => {
            let mut entry = AuditEntry::new("approve-request");
            entry.result = format!("refused: {}", e.kind());
            entry.detail = Some(format!("nameplate {np}"));
            let _ = audit::append(&audit_path, &entry);
            return Err(e);
        }
    };
    let mut flags = flags;
    if req.text {
        // A bare public key asks for nothing: the approver's -n and -V are the request.
        asked.principals = flags.principals.take().unwrap_or_default();
        let spec = flags.validity_spec.take().unwrap_or_default();
        asked.validity = validity::parse_validity(&spec, clock::now())?;
    }
    audit::append(&audit_path, &request_entry(&asked, &np, req.text))?;

    let mut entry = AuditEntry::new("approve");
    entry.cert_fingerprint = Some(asked.key.fingerprint(HashAlg::Sha256).to_string());
    entry.reason = asked.reason.clone();
    entry.detail = Some(format!("nameplate {np}"));
    entry.ca_fingerprint = expected
        .as_ref()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string());
    let result = sign(
        req,
        &flags,
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
                    | Error::RequestWidened(_) => Message::Refusal(e.to_string()),
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
            let name = text_file_name(&asked);
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
pub fn text_file_name(asked: &CheckedRequest) -> String {
    use ssh_key::public::KeyData;
    let base = match asked.key.key_data() {
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
    flags: &Flags,
    asked: &CheckedRequest,
    source: &CaSource,
    expected: Option<&ssh_key::PublicKey>,
    entry: &mut AuditEntry,
    ui: &mut dyn Ui,
    show: &mut dyn FnMut(&RequestView),
) -> Result<Signed> {
    let now = clock::now();
    let grant = match decide(flags, asked, req, now) {
        Ok(g) => g,
        Err(e) => {
            show(&view(asked, None, req.text));
            return Err(e);
        }
    };
    let v = view(asked, Some(&grant), req.text);
    show(&v);
    if !req.yes && ui.confirm(QUESTION) != Some(true) {
        return Err(Error::RequestDeclined);
    }
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
    let key_id = flags.key_id.clone().unwrap_or_else(|| {
        let mut id = format!(
            "breakglass {} approved by {}@{} {}",
            if req.text {
                "public key"
            } else {
                asked.requester.as_str()
            },
            paths::operator(),
            paths::hostname(),
            validity::format_time_utc(now)
        );
        if let Some(r) = &asked.reason {
            id.push_str(": ");
            id.push_str(r);
        }
        id
    });
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
    let fields = CertFields {
        serial,
        key_id,
        principals: grant.principals.clone(),
        validity: grant.validity,
        options: flags.options.clone(),
        comment: String::new(),
        host: false,
    };
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

fn receive_request(cfg: &WormholeConfig, code: &str) -> Result<(CheckedRequest, Channel)> {
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
                Ok(c) => Ok(c),
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

fn receive_text(cfg: &WormholeConfig, code: &str) -> Result<CheckedRequest> {
    let got = async_io::block_on(transfer::receive(cfg, code))?;
    let Transferred::Text(text) = got else {
        return Err(Error::RequestInvalid(
            "a file arrived where a public key was expected; the colleague should run wormhole send --text \"$(cat ~/.ssh/id_ecdsa.pub)\"".into(),
        ));
    };
    let key = messages::parse_public_key(text.trim())
        .map_err(|e| Error::RequestInvalid(format!("the text that arrived: {e}")))?;
    Ok(CheckedRequest {
        key,
        // With --text, what is "asked" is what the approver's flags say (checked in decide).
        principals: Vec::new(),
        validity: Validity {
            valid_after: 0,
            valid_before: Validity::FOREVER,
        },
        reason: None,
        requester: String::new(),
    })
}
