//! The `request` / `approve` message set (docs/request-protocol.md): small versioned JSON
//! objects, one per wormhole message. Everything that arrives is untrusted: [`parse`] caps the
//! size, insists on the version, tolerates unknown fields, and checks every field it uses
//! (types, lengths, no control characters in text that will be shown or recorded). A parsed
//! [`Request`] is checked further by [`Request::check`] (the key parses and is a type sshd
//! accepts, the principals are well formed, the validity is an interval).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ssh_key::public::KeyData;
use ssh_key::PublicKey;

use crate::sanitize::is_dangerous;
use crate::ssh::principals::{self, Principals, PrincipalsError};
use crate::ssh::validity::Validity;

/// The protocol version this side speaks.
pub const VERSION: u64 = 1;
/// Largest message accepted, in bytes (either direction).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Longest public key line.
pub const MAX_PUBLIC_KEY: usize = 8 * 1024;
/// Longest certificate line.
pub const MAX_CERTIFICATE: usize = 32 * 1024;
/// Longest principal name (bytes).
pub const MAX_PRINCIPAL: usize = 256;
/// Longest reason (request or refusal), in bytes.
pub const MAX_REASON: usize = 1024;
/// Longest `user@host`.
pub const MAX_REQUESTER: usize = 256;
/// Most principals a request may ask for (`SSHKEY_CERT_MAX_PRINCIPALS` in OpenSSH's sshkey.h).
pub const MAX_PRINCIPALS: usize = principals::MAX;

/// What a requester asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The public key to certify, one OpenSSH line (`TYPE BASE64 [COMMENT]`).
    pub public_key: String,
    /// Login names wanted, in order.
    pub principals: Vec<String>,
    /// Start of the validity wanted (seconds since the epoch; 0 = always).
    pub valid_after: u64,
    /// End of the validity wanted (seconds since the epoch; 2⁶⁴−1 = forever).
    pub valid_before: u64,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who asks, `user@host` as the requester's machine knows it (a claim, not a proof).
    pub requester: String,
}

/// The requester's acknowledgement of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// True when the certificate passed every check and was stored.
    pub accepted: bool,
    /// Why not, when not.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// requester → approver: please sign.
    Request(Request),
    /// approver → requester: the signed certificate, one `-cert.pub` line.
    Certificate(String),
    /// approver → requester: not signed, and why (policy, declined).
    Refusal(String),
    /// either way: the exchange broke (unreadable message, unsupported version, …).
    Error(String),
    /// requester → approver: the certificate was (not) accepted.
    Received(Received),
}

/// Why a message was not accepted (one sentence, raw: sanitise where printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(s: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(s.into()))
}

/// Checks a text field: length and no control, bidi or zero-width characters.
fn text(field: &str, s: &str, max: usize) -> Result<(), Invalid> {
    if s.len() > max {
        return bad(format!("its {field} is longer than {max} bytes"));
    }
    if s.chars().any(is_dangerous) {
        return bad(format!("its {field} contains control characters"));
    }
    Ok(())
}

impl Message {
    /// The JSON object for this message.
    pub fn to_json(&self) -> Value {
        let (kind, mut body) = match self {
            Message::Request(r) => ("request", serde_json::to_value(r).unwrap_or(json!({}))),
            Message::Certificate(c) => ("certificate", json!({ "certificate": c })),
            Message::Refusal(r) => ("refusal", json!({ "reason": r })),
            Message::Error(m) => ("error", json!({ "message": m })),
            Message::Received(r) => ("received", serde_json::to_value(r).unwrap_or(json!({}))),
        };
        if let Some(o) = body.as_object_mut() {
            o.insert("version".into(), json!(VERSION));
            o.insert("type".into(), json!(kind));
        }
        body
    }

    /// The bytes to send.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }
}

/// Parses one message: at most [`MAX_MESSAGE_BYTES`], a JSON object, `"version": 1`, a known
/// `"type"`, each field of the right type and size. Unknown fields are ignored.
pub fn parse(bytes: &[u8]) -> Result<Message, Invalid> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return bad(format!(
            "the message is {} bytes, more than the {MAX_MESSAGE_BYTES} allowed",
            bytes.len()
        ));
    }
    let v: Value = serde_json::from_slice(bytes).or(bad("the message is not JSON"))?;
    let Some(o) = v.as_object() else {
        return bad("the message is not a JSON object");
    };
    match o.get("version") {
        Some(n) if n.as_u64() == Some(VERSION) => {}
        Some(n) if n.is_u64() => {
            return bad(format!(
                "the message is protocol version {n}; this breakglass speaks version {VERSION}"
            ))
        }
        _ => return bad("the message has no protocol version"),
    }
    let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
    let string = |field: &str, max: usize| -> Result<String, Invalid> {
        match o.get(field).and_then(Value::as_str) {
            Some(s) if s.len() <= max => Ok(s.to_string()),
            Some(_) => bad(format!("its {field} is longer than {max} bytes")),
            None => bad(format!("the {kind} message has no {field}")),
        }
    };
    match kind {
        "request" => {
            let r: Request = serde_json::from_value(v.clone())
                .or(bad("the request's fields have the wrong types"))?;
            text("public key", &r.public_key, MAX_PUBLIC_KEY)?;
            text("requester", &r.requester, MAX_REQUESTER)?;
            if let Some(reason) = &r.reason {
                text("reason", reason, MAX_REASON)?;
            }
            if r.principals.len() > MAX_PRINCIPALS {
                return bad(format!(
                    "it asks for {} principals; a certificate holds at most {MAX_PRINCIPALS}",
                    r.principals.len()
                ));
            }
            for p in &r.principals {
                text("principal", p, MAX_PRINCIPAL)?;
            }
            Ok(Message::Request(r))
        }
        "certificate" => {
            let c = string("certificate", MAX_CERTIFICATE)?;
            text("certificate", &c, MAX_CERTIFICATE)?;
            Ok(Message::Certificate(c))
        }
        // Shown to the user, sanitised where printed: kept as sent, only capped.
        "refusal" => Ok(Message::Refusal(string("reason", MAX_REASON)?)),
        "error" => Ok(Message::Error(string("message", MAX_REASON)?)),
        "received" => {
            let r: Received = serde_json::from_value(v.clone())
                .or(bad("the acknowledgement's fields have the wrong types"))?;
            if r.reason.as_ref().is_some_and(|s| s.len() > MAX_REASON) {
                return bad(format!("its reason is longer than {MAX_REASON} bytes"));
            }
            Ok(Message::Received(r))
        }
        "" => bad("the message has no type"),
        _ => bad("the message has an unknown type"),
    }
}

/// Checks a public key is one OpenSSH 9.2's sshd accepts for a user certificate: Ed25519,
/// ECDSA (P-256/384/521), the FIDO `sk-` variants of both, or RSA of at least 2048 bits
/// (`sshkey.c`: 1024 is sshd's floor; we ask for more). DSA is off by default in 9.2.
pub fn check_key_type(key: &KeyData) -> Result<(), Invalid> {
    match key {
        KeyData::Ed25519(_)
        | KeyData::Ecdsa(_)
        | KeyData::SkEcdsaSha2NistP256(_)
        | KeyData::SkEd25519(_) => Ok(()),
        KeyData::Rsa(k) => {
            let n = k.n().as_positive_bytes().unwrap_or(&[]);
            let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
            if bits < 2048 {
                bad(format!(
                    "its RSA key has {bits} bits; ask for ed25519 or ecdsa (or RSA of 2048 bits or more)"
                ))
            } else {
                Ok(())
            }
        }
        KeyData::Dsa(_) => bad("its key is DSA, which OpenSSH's sshd no longer accepts"),
        _ => bad("its key type is not one sshd accepts for a certificate"),
    }
}

/// True for a FIDO (`sk-`) key: logging in then needs a touch of that key too.
pub fn is_hardware_bound(key: &KeyData) -> bool {
    matches!(key, KeyData::SkEcdsaSha2NistP256(_) | KeyData::SkEd25519(_))
}

/// Parses a public key line strictly: exactly one line, `TYPE BASE64 [COMMENT]`.
pub fn parse_public_key(line: &str) -> Result<PublicKey, Invalid> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.contains('\n') || line.contains('\r') {
        return bad("its public key is more than one line");
    }
    text("public key", line, MAX_PUBLIC_KEY)?;
    if line.contains("-cert-v01@openssh.com") {
        return bad("it sent a certificate where a public key belongs");
    }
    let key = PublicKey::from_openssh(line.trim()).or(bad("its public key does not parse"))?;
    check_key_type(key.key_data())?;
    Ok(key)
}

/// A request, checked: the key parsed, the principals and the validity sane.
#[derive(Debug, Clone)]
pub struct CheckedRequest {
    /// The key to certify.
    pub key: PublicKey,
    /// The principals asked for (the same rule as `-n`, and none twice).
    pub principals: Principals,
    /// The validity asked for.
    pub validity: Validity,
    /// Why, when given.
    pub reason: Option<String>,
    /// `user@host`, as claimed.
    pub requester: String,
}

impl Request {
    /// Checks what the request asks for (not yet the approver's policy).
    pub fn check(&self) -> Result<CheckedRequest, Invalid> {
        let key = parse_public_key(&self.public_key)?;
        let principals = Principals::from_list(self.principals.clone()).or_else(|e| match e {
            PrincipalsError::None => bad(
                "it asks for no principals (a certificate without any is valid for every login)",
            ),
            PrincipalsError::TooMany(n) => bad(format!(
                "it asks for {n} principals; a certificate holds at most {MAX_PRINCIPALS}"
            )),
            // (parse refuses control characters first; this is for a Request made otherwise)
            PrincipalsError::BadName(n) if n.chars().any(is_dangerous) => {
                bad("its principal contains control characters")
            }
            PrincipalsError::EmptyName(_) | PrincipalsError::BadName(_) => {
                bad("a principal it asks for is empty or contains a comma or blanks")
            }
        })?;
        if principals.first_repeated().is_some() {
            return bad("it asks for the same principal twice");
        }
        if self.valid_after >= self.valid_before {
            return bad("its validity ends before it starts");
        }
        if self.requester.is_empty() {
            return bad("it does not say who asks");
        }
        Ok(CheckedRequest {
            key,
            principals,
            validity: Validity {
                valid_after: self.valid_after,
                valid_before: self.valid_before,
            },
            reason: self.reason.clone().filter(|r| !r.is_empty()),
            requester: self.requester.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfV2tH0RfvFc0Ha3OpgCUsJ5oTJMHDyWKb0J6H8dN9I alice@laptop";

    fn request() -> Request {
        Request {
            public_key: KEY.into(),
            principals: vec!["alice".into()],
            valid_after: 100,
            valid_before: 200,
            reason: Some("db down".into()),
            requester: "alice@laptop".into(),
        }
    }

    #[test]
    fn round_trip_and_unknown_fields() {
        let m = Message::Request(request());
        assert_eq!(parse(&m.to_bytes()).unwrap(), m);
        let mut v = m.to_json();
        v["future"] = json!({"x": 1});
        assert_eq!(parse(v.to_string().as_bytes()).unwrap(), m);
        for m in [
            Message::Certificate("c".into()),
            Message::Refusal("no".into()),
            Message::Error("e".into()),
            Message::Received(Received {
                accepted: false,
                reason: Some("r".into()),
            }),
        ] {
            assert_eq!(parse(&m.to_bytes()).unwrap(), m);
        }
        request().check().unwrap();
    }

    #[test]
    fn hostile_messages_are_refused() {
        let cases: &[(&str, &str)] = &[
            ("[]", "not a JSON object"),
            ("nope", "not JSON"),
            (r#"{"type":"refusal","reason":"x"}"#, "no protocol version"),
            (
                r#"{"version":2,"type":"refusal","reason":"x"}"#,
                "version 2",
            ),
            (
                r#"{"version":"1","type":"refusal","reason":"x"}"#,
                "no protocol version",
            ),
            (r#"{"version":1,"type":"grant"}"#, "unknown type"),
            (r#"{"version":1}"#, "no type"),
            (r#"{"version":1,"type":"certificate"}"#, "no certificate"),
            (
                r#"{"version":1,"type":"request","public_key":1}"#,
                "wrong types",
            ),
        ];
        for (msg, want) in cases {
            let e = parse(msg.as_bytes()).unwrap_err();
            assert!(e.0.contains(want), "{msg}: {e}");
        }
        let huge = vec![b' '; MAX_MESSAGE_BYTES + 1];
        assert!(parse(&huge).unwrap_err().0.contains("more than"));
        let mut r = request();
        r.reason = Some("\x1b[2Jgotcha".into());
        let e = parse(&Message::Request(r).to_bytes()).unwrap_err();
        assert_eq!(e.0, "its reason contains control characters");
        let mut r = request();
        r.requester = "a".repeat(MAX_REQUESTER + 1);
        assert!(parse(&Message::Request(r).to_bytes()).is_err());
    }

    #[test]
    fn requests_are_checked() {
        let check = |f: &dyn Fn(&mut Request)| {
            let mut r = request();
            f(&mut r);
            r.check().map(|_| ()).map_err(|e| e.0)
        };
        assert!(check(&|r| r.principals.clear())
            .unwrap_err()
            .contains("no principals"));
        assert!(check(&|r| r.principals = vec!["a,b".into()]).is_err());
        assert!(check(&|r| r.principals = vec!["a".into(), "a".into()])
            .unwrap_err()
            .contains("twice"));
        assert!(check(&|r| r.principals = vec!["a b".into()])
            .unwrap_err()
            .contains("empty or contains a comma or blanks"));
        assert!(check(&|r| r.principals = vec!["a\x1b".into()])
            .unwrap_err()
            .contains("control characters"));
        assert!(check(&|r| r.valid_before = 100).is_err());
        assert!(check(&|r| r.public_key = "ssh-ed25519 AAAA".into()).is_err());
        assert!(check(&|r| r.public_key = format!("{KEY}\n{KEY}")).is_err());
        assert!(check(&|r| r.requester.clear()).is_err());
    }
}
