//! The crate reports a CTAP status as text (`response_status err = 0x31 CTAP2_ERR_PIN_INVALID
//! PIN Invalid.`); this turns such text back into a [`CtapStatus`] and a [`TokenError`], and
//! tells a keep-alive exhaustion (the crate giving up after ≥ 50 s) from a CTAP1 error.

use std::time::Duration;

use super::BACKEND;
use crate::token::{CtapStatus, TokenError};

/// The crate gives up after 500 keep-alive packets with a 100 ms sleep after each, so a
/// keep-alive exhaustion takes at least 50 s; a genuine CTAP1 error 0x01/0x02 comes back at once.
pub const KEEPALIVE_EXHAUSTION: Duration = Duration::from_secs(45);

/// The prefix the crate puts before a CTAP status (`ctaphid.rs`).
pub(super) const STATUS_PREFIX: &str = "response_status err = ";

/// Printable, bounded copy of crate/device text for error messages.
pub(super) fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// Parses 1–2 hex digits after `0x` at the start of `s`; the next char must not be hex/alnum.
fn hex_byte_at(s: &str) -> Option<u8> {
    let rest = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    if rest[digits.len()..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    u8::from_str_radix(&digits, 16).ok()
}

/// The status for a CTAP error name as the crate (`ctapdef.rs`) or libfido2 spell it.
pub fn status_for_name(name: &str) -> Option<CtapStatus> {
    let n = name
        .trim_start_matches("CTAP2_ERR_")
        .trim_start_matches("CTAP1_ERR_")
        .trim_start_matches("FIDO_ERR_");
    let alias = match n {
        "SUCCESS" | "OK" => Some(0x00),
        "PIN_REQUIRED" | "PUAT_REQUIRED" => Some(0x36),
        "INVALID_COMMAND" => Some(0x01),
        "OTHER" => Some(0x7F),
        "SPEC_LAST" => Some(0xDF),
        "EXTENSION_FIRST" => Some(0xE0),
        "EXTENSION_LAST" => Some(0xEF),
        "VENDOR_FIRST" => Some(0xF0),
        "VENDOR_LAST" => Some(0xFF),
        _ => None,
    };
    if let Some(code) = alias {
        return Some(CtapStatus::from(code));
    }
    (0u8..0xE0).map(CtapStatus::from).find(|s| {
        !matches!(s, CtapStatus::Unknown(_))
            && s.name()
                .trim_start_matches("CTAP1_ERR_")
                .trim_start_matches("CTAP2_")
                == n
    })
}

/// The CTAP status in a crate error string, if it carries one.
///
/// Recognised, in order: `response_status err = 0xNN …` (the crate's only CTAP error shape;
/// codes it has no name for come as `0x{:X}`, e.g. `0x1A`, `0x7`), then `0xNN CTAP?_ERR_…`
/// anywhere, then a bare `CTAP?_ERR_NAME`.
pub fn status_in(err: &str) -> Option<CtapStatus> {
    if let Some(i) = err.find(STATUS_PREFIX) {
        if let Some(c) = hex_byte_at(&err[i + STATUS_PREFIX.len()..]) {
            return Some(c.into());
        }
    }
    for (i, _) in err.match_indices("0x") {
        if let Some(c) = hex_byte_at(&err[i..]) {
            let after = err[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
            if name_at(after).is_some() {
                return Some(c.into());
            }
        }
    }
    for (i, _) in err.match_indices("CTAP") {
        if let Some(s) = name_at(&err[i..]).and_then(status_for_name) {
            return Some(s);
        }
    }
    None
}

/// The `CTAP?_ERR_NAME` token at the start of `s` (after spaces).
fn name_at(s: &str) -> Option<&str> {
    let s = s.trim_start();
    (s.starts_with("CTAP1_ERR_") || s.starts_with("CTAP2_ERR_")).then(|| {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        &s[..end]
    })
}

/// True when `err` is the crate giving up on keep-alives: it then reports the keep-alive status
/// (1 processing, 2 up-needed) as a CTAP status, after at least 500 × 100 ms.
pub fn is_keepalive_exhaustion(err: &str, elapsed: Duration) -> bool {
    elapsed >= KEEPALIVE_EXHAUSTION
        && err.contains(STATUS_PREFIX)
        && matches!(
            status_in(err),
            Some(CtapStatus::InvalidCommand | CtapStatus::InvalidParameter)
        )
}

/// Maps a `ctap-hid-fido2` error string to a [`TokenError`]. `tries_left` fills PIN_INVALID
/// (the caller asks getPINRetries). Without timing information a keep-alive exhaustion cannot be
/// told from CTAP1 0x01/0x02; use [`classify_after`] where the elapsed time is known.
pub fn classify(err: &str, tries_left: Option<u8>) -> TokenError {
    let lower = err.to_ascii_lowercase();
    // Transport: the device went away or cannot be opened.
    if lower.contains("read err")
        || lower.contains("write error")
        || lower.contains("fido device not found")
        || lower.contains("failed to open device")
    {
        return TokenError::NoDevice {
            backend: BACKEND.into(),
            hint: format!(
                "The key stopped answering ({}). Re-insert it and run the command again.",
                clean(err)
            ),
        };
    }
    if lower.contains("multiple fido devices found") {
        return TokenError::NoDevice {
            backend: format!("single {BACKEND}"),
            hint: "Several FIDO2 keys are connected; choose one with --device.".into(),
        };
    }
    // The crate refuses an empty PIN itself.
    if lower.contains("pin not set") {
        return TokenError::PinPolicy;
    }
    match status_in(err) {
        Some(CtapStatus::Ok) | None => TokenError::BadAnswer(clean(err)),
        Some(status) => TokenError::from_ctap(status, tries_left),
    }
}

/// [`classify`], knowing how long the call took: a keep-alive exhaustion (≥ 45 s, status 1 or 2)
/// is [`TokenError::UserActionTimeout`].
pub fn classify_after(err: &str, tries_left: Option<u8>, elapsed: Duration) -> TokenError {
    if is_keepalive_exhaustion(err, elapsed) {
        return TokenError::UserActionTimeout;
    }
    classify(err, tries_left)
}
