//! What `inspect` shows of a certificate: everything `ssh-keygen -L` prints, plus whether the CA
//! signature verifies (sk-ecdsa included), its touch/PIN flags and counter, time left, and
//! whether the CA is the one expected.

use std::path::Path;

use serde::Serialize;
use ssh_key::certificate::{CertType, Certificate};
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, HashAlg, PublicKey};

use crate::ssh::sk;
use crate::ssh::validity::{self, Validity};
use crate::ui::Tone;
use crate::{Error, Result};

/// Where a certificate stands in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeStatus {
    /// valid_after <= now < valid_before.
    Valid,
    /// now >= valid_before.
    Expired,
    /// now < valid_after.
    NotYetValid,
}

/// One option or extension as shown.
#[derive(Debug, Clone, Serialize)]
pub struct OptionView {
    /// Name (sanitised).
    pub name: String,
    /// Value (sanitised), empty for a flag.
    pub value: String,
}

/// A certificate, summarised for display and JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    /// File it came from (sanitised).
    pub file: String,
    /// Certificate type name, e.g. `ecdsa-sha2-nistp256-cert-v01@openssh.com`.
    pub cert_type: String,
    /// `user` or `host`.
    pub role: String,
    /// Display type of the certified key (`ECDSA-CERT`).
    pub key_type: String,
    /// Fingerprint of the certified key.
    pub key_fingerprint: String,
    /// Display type of the CA (`ECDSA-SK`).
    pub ca_type: String,
    /// CA signature algorithm name.
    pub ca_algorithm: String,
    /// Fingerprint of the CA key.
    pub ca_fingerprint: String,
    /// CA public key line (for TrustedUserCAKeys).
    pub ca_public_key: String,
    /// Key id (sanitised).
    pub key_id: String,
    /// Serial (a JSON string, like every u64 breakglass prints).
    #[serde(with = "crate::json_u64")]
    pub serial: u64,
    /// Principals (sanitised).
    pub principals: Vec<String>,
    /// valid_after, seconds since the epoch.
    #[serde(with = "crate::json_u64")]
    pub valid_after: u64,
    /// valid_before, seconds since the epoch.
    #[serde(with = "crate::json_u64")]
    pub valid_before: u64,
    /// ssh-keygen's local-time "Valid:" text.
    pub valid_local: String,
    /// The same in UTC.
    pub valid_utc: String,
    /// Valid / expired / not yet valid, at `now`.
    pub status: TimeStatus,
    /// Seconds left when valid.
    #[serde(with = "crate::json_u64::option")]
    pub seconds_left: Option<u64>,
    /// Critical options.
    pub critical_options: Vec<OptionView>,
    /// Extensions.
    pub extensions: Vec<OptionView>,
    /// Whether the CA signature verifies.
    pub signature_valid: bool,
    /// sk signature flags (touch 0x01, PIN 0x04).
    pub sk_flags: Option<u8>,
    /// sk signature counter.
    pub sk_counter: Option<u32>,
    /// Whether the CA matches `--ca`, when given.
    pub ca_matches: Option<bool>,
}

/// ssh-keygen's display name for a key type (`sshkey_type`).
pub fn display_type(alg: &Algorithm, cert: bool) -> String {
    let base = match alg {
        Algorithm::Ecdsa { .. } => "ECDSA",
        Algorithm::Ed25519 => "ED25519",
        Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK",
        Algorithm::SkEd25519 => "ED25519-SK",
        Algorithm::Rsa { .. } => "RSA",
        Algorithm::Dsa => "DSA",
        _ => "UNKNOWN",
    };
    if cert {
        format!("{base}-CERT")
    } else {
        base.to_string()
    }
}

/// Why a certificate that verifies should still not be trusted, if it should not: its CA
/// signature was made without a touch (an sk signature without the user-presence flag; sshd
/// never checks that on CA signatures), or a string field holds NUL or control characters
/// (OpenSSH refuses such certificates later as "invalid format").
pub fn distrust(cert: &Certificate) -> Option<String> {
    if let Some((flags, _)) = sk::sk_flags_counter(cert.signature()) {
        if flags & sk::FLAG_UP == 0 {
            return Some(format!(
                "its CA signature was made without a touch (flags {flags:#04x})"
            ));
        }
    }
    let bad = |s: &str| s.chars().any(char::is_control);
    if bad(cert.key_id()) {
        return Some("its key id holds control characters".into());
    }
    if cert.valid_principals().iter().any(|p| bad(p)) {
        return Some("a principal holds control characters".into());
    }
    let options = cert
        .critical_options()
        .iter()
        .chain(cert.extensions().iter());
    for (k, v) in options {
        if bad(k) || bad(v) {
            return Some("a certificate option holds control characters".into());
        }
    }
    None
}

/// The largest `-cert.pub` we read (OpenSSH certificates are a few KiB at most).
pub const MAX_CERT_FILE: u64 = 256 * 1024;

/// Reads a `-cert.pub` file: the certificate and its raw blob (the base64 field).
pub fn read_cert_line(path: &Path) -> Result<(Certificate, Vec<u8>)> {
    let bad = |reason: &str| Error::BadFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let bytes = crate::input::read_bounded(path, MAX_CERT_FILE).map_err(|e| bad(&e.reason()))?;
    parse_cert_line(&String::from_utf8_lossy(&bytes)).map_err(bad)
}

/// Parses the first certificate line of `text`; the error is the reason, for "FILE: reason".
pub fn parse_cert_line(text: &str) -> std::result::Result<(Certificate, Vec<u8>), &'static str> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if line.starts_with("-----BEGIN") {
        return Err("is a private key, not a certificate");
    }
    let mut fields = line.split_whitespace();
    let type_name = fields.next().unwrap_or("");
    if !type_name.ends_with("-cert-v01@openssh.com") {
        return Err("is not a certificate");
    }
    let b64 = fields.next().ok_or("is not a certificate (no key data)")?;
    let blob = decode_b64(b64).ok_or("is not a certificate (bad base64)")?;
    let cert = Certificate::from_bytes(&blob).map_err(|_| "is not a certificate that parses")?;
    if cert.algorithm().to_certificate_type() != type_name {
        return Err("is not a certificate (type mismatch)");
    }
    Ok((cert, blob))
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    use ssh_key::encoding::base64::{Base64, Encoding};
    Base64::decode_vec(s).ok()
}

/// Verifies the CA signature over the certificate's bytes as they are on disk (not re-encoded).
pub fn verify_blob(cert: &Certificate, blob: &[u8]) -> bool {
    use signature::Verifier;
    use ssh_key::encoding::Encode;
    let Ok(sig_len) = cert.signature().encoded_len() else {
        return false;
    };
    let Some(tbs_len) = blob.len().checked_sub(4 + sig_len) else {
        return false;
    };
    cert.signature_key()
        .verify(&blob[..tbs_len], cert.signature())
        .is_ok()
}

fn options(map: &ssh_key::certificate::OptionsMap) -> Vec<OptionView> {
    map.iter()
        .map(|(k, v)| OptionView {
            name: k.to_string(),
            value: v.to_string(),
        })
        .collect()
}

/// Summarises `cert` at `now`, verifying its CA signature (over `blob`, the bytes as read, when
/// given); `expected_ca` checks the CA.
pub fn summarize(
    file: &str,
    cert: &Certificate,
    blob: Option<&[u8]>,
    now: u64,
    expected_ca: Option<&KeyData>,
) -> CertSummary {
    let signature_valid = match blob {
        Some(b) => verify_blob(cert, b),
        None => cert.verify_signature().is_ok(),
    };
    build(file, cert, signature_valid, now, expected_ca)
}

/// Summarises a certificate this process has just had signed: every `CaSigner`
/// verifies the signature it returns, so it is not verified a second time.
pub fn summarize_issued(file: &str, cert: &Certificate, now: u64, ca: &KeyData) -> CertSummary {
    build(file, cert, true, now, Some(ca))
}

fn build(
    file: &str,
    cert: &Certificate,
    signature_valid: bool,
    now: u64,
    expected_ca: Option<&KeyData>,
) -> CertSummary {
    let validity = Validity {
        valid_after: cert.valid_after(),
        valid_before: cert.valid_before(),
    };
    let status = if now < validity.valid_after {
        TimeStatus::NotYetValid
    } else if now >= validity.valid_before {
        TimeStatus::Expired
    } else {
        TimeStatus::Valid
    };
    let (sk_flags, sk_counter) = match sk::sk_flags_counter(cert.signature()) {
        Some((f, c)) => (Some(f), Some(c)),
        None => (None, None),
    };
    let ca = cert.signature_key();
    CertSummary {
        file: file.to_string(),
        cert_type: cert.algorithm().to_certificate_type().to_string(),
        role: match cert.cert_type() {
            CertType::User => "user".into(),
            CertType::Host => "host".into(),
        },
        key_type: display_type(&cert.algorithm(), true),
        key_fingerprint: cert.public_key().fingerprint(HashAlg::Sha256).to_string(),
        ca_type: display_type(&ca.algorithm(), false),
        ca_algorithm: cert.signature().algorithm().as_str().to_string(),
        ca_fingerprint: ca.fingerprint(HashAlg::Sha256).to_string(),
        ca_public_key: PublicKey::from(ca.clone()).to_openssh().unwrap_or_default(),
        key_id: cert.key_id().to_string(),
        serial: cert.serial(),
        principals: cert.valid_principals().to_vec(),
        valid_after: validity.valid_after,
        valid_before: validity.valid_before,
        valid_local: validity::format_validity(&validity),
        valid_utc: validity::format_validity_in(&validity, &chrono::Utc),
        status,
        seconds_left: (status == TimeStatus::Valid).then(|| validity.valid_before - now),
        critical_options: options(cert.critical_options()),
        extensions: options(cert.extensions()),
        signature_valid,
        sk_flags,
        sk_counter,
        ca_matches: expected_ca.map(|k| k == ca),
    }
}

/// The local zone's name over a certificate's validity ("EST", or "EST/EDT" across a change).
pub fn valid_zone(s: &CertSummary) -> String {
    let start = crate::zone::local_name(s.valid_after);
    let end = crate::zone::local_name(s.valid_before.min(i64::MAX as u64));
    if start == end {
        start
    } else {
        format!("{start}/{end}")
    }
}

/// The validity lines `mint`, `send` and `receive` print: local time with the zone's name, and
/// a UTC line only when local time is not UTC.
pub fn validity_lines(s: &CertSummary) -> Vec<String> {
    if s.valid_local == s.valid_utc {
        vec![format!("{} UTC", s.valid_utc)]
    } else {
        vec![
            format!("{} {}", s.valid_local, valid_zone(s)),
            format!("{} UTC", s.valid_utc),
        ]
    }
}

/// "1h 2m 3s" style duration.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d}d"));
    }
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 && d == 0 {
        parts.push(format!("{m}m"));
    }
    if (s > 0 || parts.is_empty()) && d == 0 && h == 0 {
        parts.push(format!("{s}s"));
    }
    parts.join(" ")
}

fn option_line(o: &OptionView, critical: bool) -> String {
    const KNOWN_FLAGS: [&str; 7] = [
        "no-touch-required",
        "permit-X11-forwarding",
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
        "permit-user-rc",
        "verify-required",
    ];
    if critical && (o.name == "force-command" || o.name == "source-address") {
        format!("{} {}", o.name, o.value)
    } else if KNOWN_FLAGS.contains(&o.name.as_str()) && o.value.is_empty() {
        o.name.clone()
    } else if o.value.is_empty() {
        format!("{} UNKNOWN FLAG OPTION", o.name)
    } else {
        format!("{} UNKNOWN OPTION: {:?}", o.name, o.value)
    }
}

/// The text `inspect` prints: ssh-keygen -L's layout, then breakglass's checks.
pub fn render(s: &CertSummary) -> String {
    let (head, _, word, tail) = render_marked(s);
    format!("{head}{word}{tail}")
}

/// [`render`] in three parts around the word a person scans for, the certificate's status
/// ("valid", "EXPIRED", "NOT YET VALID"), with its [`Tone`]: the text before it, the word, and
/// the text after it.
pub fn render_marked(s: &CertSummary) -> (String, Tone, String, String) {
    let mut out = String::new();
    let pad = "        ";
    let item = "                ";
    out.push_str(&format!("{}:\n", s.file));
    out.push_str(&format!(
        "{pad}Type: {} {} certificate\n",
        s.cert_type, s.role
    ));
    out.push_str(&format!(
        "{pad}Public key: {} {}\n",
        s.key_type, s.key_fingerprint
    ));
    out.push_str(&format!(
        "{pad}Signing CA: {} {} (using {})\n",
        s.ca_type, s.ca_fingerprint, s.ca_algorithm
    ));
    out.push_str(&format!("{pad}Key ID: \"{}\"\n", s.key_id));
    out.push_str(&format!("{pad}Serial: {}\n", s.serial));
    out.push_str(&format!("{pad}Valid: {}\n", s.valid_local));
    if s.principals.is_empty() {
        out.push_str(&format!("{pad}Principals: (none)\n"));
    } else {
        out.push_str(&format!("{pad}Principals: \n"));
        for p in &s.principals {
            out.push_str(&format!("{item}{p}\n"));
        }
    }
    for (label, list, critical) in [
        ("Critical Options", &s.critical_options, true),
        ("Extensions", &s.extensions, false),
    ] {
        if list.is_empty() {
            out.push_str(&format!("{pad}{label}: (none)\n"));
        } else {
            out.push_str(&format!("{pad}{label}: \n"));
            for o in list {
                out.push_str(&format!("{item}{}\n", option_line(o, critical)));
            }
        }
    }
    let sig = if s.signature_valid {
        "verified"
    } else {
        "DOES NOT VERIFY"
    };
    match (s.sk_flags, s.sk_counter) {
        (Some(f), Some(c)) => out.push_str(&format!(
            "{pad}CA signature: {sig} (touch: {}, PIN: {}, counter {c})\n",
            if f & sk::FLAG_UP != 0 { "yes" } else { "NO" },
            if f & sk::FLAG_UV != 0 { "yes" } else { "no" },
        )),
        _ => out.push_str(&format!("{pad}CA signature: {sig}\n")),
    }
    // Which zone the ssh-keygen-identical "Valid:" line is in; UTC again only when it differs.
    if s.valid_local == s.valid_utc {
        out.push_str(&format!("{pad}Time zone: UTC (of the Valid line)\n"));
    } else {
        out.push_str(&format!(
            "{pad}Time zone: {} (of the Valid line)\n",
            valid_zone(s)
        ));
        out.push_str(&format!("{pad}Valid (UTC): {}\n", s.valid_utc));
    }
    let (word, after) = match s.status {
        TimeStatus::Valid => match s.seconds_left {
            Some(left) if s.valid_before != u64::MAX => {
                ("valid", format!(", {} left", human_duration(left)))
            }
            _ => ("valid", ", no expiry".to_string()),
        },
        TimeStatus::Expired => ("EXPIRED", String::new()),
        TimeStatus::NotYetValid => ("NOT YET VALID", String::new()),
    };
    let tone = match s.status {
        TimeStatus::Valid => Tone::Success,
        TimeStatus::Expired | TimeStatus::NotYetValid => Tone::Refusal,
    };
    out.push_str(&format!("{pad}Status: "));
    let head = std::mem::take(&mut out);
    out.push_str(&format!("{after}\n"));
    if let Some(m) = s.ca_matches {
        out.push_str(&format!(
            "{pad}CA matches --ca: {}\n",
            if m { "yes" } else { "NO" }
        ));
    }
    (head, tone, word.to_string(), out)
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(3599), "59m 59s");
        assert_eq!(human_duration(3600), "1h");
        assert_eq!(human_duration(3661), "1h 1m");
        assert_eq!(human_duration(90061), "1d 1h");
    }
}
