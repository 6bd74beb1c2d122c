//! The key id of a certificate (`ssh-keygen -I`): the text sshd writes into its log for every
//! login with the certificate, and the handle a KRL can revoke it by. Every key id breakglass
//! signs passes [`KeyId::new`], the one rule, wherever it came from: `mint -I`, `approve -I`, or
//! a default built from the operator, host, time and reason ([`KeyId::with_reason`]). An id a
//! person gives (`mint -I`, `approve -I`: [`KeyId::typed`]) also may not start with
//! [`DRILL_PREFIX`]: the login alert pages a login with such a certificate as DRILL, so only
//! `fleet-drill`'s own certificates carry it (a real login must never page as a drill).
//!
//! The rule: not empty (sshd logs `ID ""`, and a KRL cannot name it), no control character (it
//! would reach sshd's log line and every terminal that shows the certificate), and at most
//! [`MAX_KEY_ID`] characters as sshd logs it ([`sshd_len`]): sshd escapes its log message (a
//! byte above 0x7f becomes `\ooo`, a backslash `\\`) and cuts it at 500 characters, and the
//! rest of the `Accepted publickey` line is up to ~290, so every allowed id keeps the
//! `(serial N) CA … SHA256:…` tail the login alert reads. In a default id the reason's share is
//! at most [`MAX_REASON_SHARE`] such characters, whitespace runs collapsed, cut with a `…`.

use std::fmt;

use crate::sanitize::is_dangerous;

/// The most characters a key id may take in sshd's log line ([`sshd_len`]).
pub const MAX_KEY_ID: usize = 160;

/// The start of a fleet drill's key id, which the login alert pages as DRILL
/// (`host_config::alert`): reserved for `fleet-drill`'s own certificates.
pub const DRILL_PREFIX: &str = "drill ";

/// The most characters ([`sshd_len`]) of the reason in a default key id.
pub const MAX_REASON_SHARE: usize = 64;

/// How many characters `text` takes in sshd's log line: sshd 9.2 escapes the message with
/// `strnvis(VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL)`, so a byte above 0x7f is `\ooo` (4), a
/// backslash `\\` (2), a C-style control (`\n`, `\t`, `\r`, `\b`, `\a`, `\v`, `\f`, `\0`)
/// 2, another control byte 4, anything else 1.
pub fn sshd_len(text: &str) -> usize {
    text.bytes()
        .map(|b| match b {
            0x80.. => 4,
            b'\\' | b'\n' | b'\t' | b'\r' | 0x08 | 0x07 | 0x0b | 0x0c | 0 => 2,
            0x01..=0x1f | 0x7f => 4,
            _ => 1,
        })
        .sum()
}

/// A key id that passed the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyId(String);

/// Why a key id was refused (worded to follow "the key id").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyIdFault {
    /// The empty string.
    #[error("is empty")]
    Empty,
    /// A control, bidi, zero-width or tag character ([`is_dangerous`]).
    #[error("contains control characters")]
    ControlCharacters,
    /// Longer than [`MAX_KEY_ID`] as sshd logs it (how long it is).
    #[error("is {0} characters as sshd logs it (a byte above 0x7f counts 4, a backslash 2), more than the {MAX_KEY_ID} allowed so that sshd's log line keeps the certificate's serial and CA")]
    TooLong(usize),
    /// Starts with [`DRILL_PREFIX`], given by a person ([`KeyId::typed`]).
    #[error("starts with \"drill \", which only fleet-drill's own certificates may: the login alert pages a login with it as DRILL, not as a real login")]
    DrillPrefix,
}

impl KeyIdFault {
    /// The next step for the user.
    pub fn hint(&self) -> &'static str {
        match self {
            KeyIdFault::Empty | KeyIdFault::ControlCharacters => {
                "Leave out -I to get the default key id, or give it a value."
            }
            KeyIdFault::TooLong(_) => "Give a shorter key id (at most 160 ASCII characters; a non-ASCII character counts 8 to 16); the reason belongs in --reason and the audit log.",
            KeyIdFault::DrillPrefix => "Give a key id that does not start with \"drill \" (for a drill, put the word elsewhere or in --reason); drill certificates come from breakglass fleet-drill.",
        }
    }
}

impl KeyId {
    /// The one rule every key id passes.
    pub fn new(text: impl Into<String>) -> Result<Self, KeyIdFault> {
        let text = text.into();
        if text.is_empty() {
            return Err(KeyIdFault::Empty);
        }
        if text.chars().any(is_dangerous) {
            return Err(KeyIdFault::ControlCharacters);
        }
        let len = sshd_len(&text);
        if len > MAX_KEY_ID {
            return Err(KeyIdFault::TooLong(len));
        }
        Ok(KeyId(text))
    }

    /// A key id a person gave (`mint -I`, `approve -I`): the rule, and not [`DRILL_PREFIX`].
    pub fn typed(text: impl Into<String>) -> Result<Self, KeyIdFault> {
        let id = Self::new(text)?;
        if id.0.starts_with(DRILL_PREFIX) {
            return Err(KeyIdFault::DrillPrefix);
        }
        Ok(id)
    }

    /// A default key id: `fixed` (who, where, when, made by breakglass), then `: reason` when
    /// there is one, its whitespace runs collapsed and cut to [`MAX_REASON_SHARE`] ([`short_reason`]).
    /// The whole id passes [`KeyId::new`].
    pub fn with_reason(fixed: String, reason: Option<&str>) -> Result<Self, KeyIdFault> {
        let mut id = fixed;
        if let Some(r) = reason {
            if r.chars().any(is_dangerous) {
                return Err(KeyIdFault::ControlCharacters);
            }
            // 64 at most, less when the fixed part leaves less (a long host name).
            let room = MAX_KEY_ID
                .saturating_sub(sshd_len(&id) + 2)
                .min(MAX_REASON_SHARE);
            let r = short_reason_within(r, room);
            if !r.is_empty() {
                id.push_str(": ");
                id.push_str(&r);
            }
        }
        Self::new(id)
    }

    /// The text, as it goes into the certificate.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reason's share of a default key id: whitespace runs as one space, trimmed, and at most
/// [`MAX_REASON_SHARE`] characters as sshd logs it ([`sshd_len`]), a cut one ending in `…`.
pub fn short_reason(reason: &str) -> String {
    short_reason_within(reason, MAX_REASON_SHARE)
}

/// [`short_reason`] within `share` characters; empty when not even `x…` fits.
fn short_reason_within(reason: &str, share: usize) -> String {
    let collapsed = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if sshd_len(&collapsed) <= share {
        return collapsed;
    }
    let Some(room) = share.checked_sub(sshd_len("…")) else {
        return String::new();
    };
    let mut out = String::new();
    let mut used = 0;
    for c in collapsed.chars() {
        let mut buf = [0; 4];
        let n = sshd_len(c.encode_utf8(&mut buf));
        if used + n > room {
            break;
        }
        used += n;
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    if out.is_empty() {
        return out;
    }
    out.push('…');
    out
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_rule() {
        assert_eq!(KeyId::new(""), Err(KeyIdFault::Empty));
        assert_eq!(KeyId::new("ops\x1b[2J"), Err(KeyIdFault::ControlCharacters));
        assert_eq!(
            KeyId::new("a\nforged line"),
            Err(KeyIdFault::ControlCharacters)
        );
        assert_eq!(
            KeyId::new("hidden\u{202e}txt"),
            Err(KeyIdFault::ControlCharacters)
        );
        assert_eq!(
            KeyId::new("INC-1: db down é").unwrap().as_str(),
            "INC-1: db down é"
        );
        assert_eq!(KeyId::new(" ").unwrap().as_str(), " ");
    }

    #[test]
    fn a_person_may_not_give_a_drill_id() {
        // What the login alert pages as DRILL (case "drill "*): fleet-drill's alone.
        assert_eq!(
            KeyId::typed("drill 2026-12-08 real incident"),
            Err(KeyIdFault::DrillPrefix)
        );
        assert_eq!(KeyId::typed("drill "), Err(KeyIdFault::DrillPrefix));
        assert!(KeyId::new("drill 2026-12-08 op@host 1a2b3c4d").is_ok());
        for fine in [
            "drill",
            "drill-2026",
            "Drill 2026",
            "INC-1 drill 2026",
            " drill x",
        ] {
            assert_eq!(KeyId::typed(fine).unwrap().as_str(), fine);
        }
        // The other faults come first, as for any id.
        assert_eq!(KeyId::typed(""), Err(KeyIdFault::Empty));
        assert_eq!(
            KeyId::typed("drill \x1b"),
            Err(KeyIdFault::ControlCharacters)
        );
    }

    #[test]
    fn a_default_id_carries_its_reason_and_meets_the_rule() {
        let fixed = || "breakglass alice@laptop 2026-11-18T12:00:00".to_string();
        assert_eq!(
            KeyId::with_reason(fixed(), None).unwrap().as_str(),
            "breakglass alice@laptop 2026-11-18T12:00:00"
        );
        assert_eq!(
            KeyId::with_reason(fixed(), Some("INC-9: db down"))
                .unwrap()
                .to_string(),
            "breakglass alice@laptop 2026-11-18T12:00:00: INC-9: db down"
        );
        assert_eq!(
            KeyId::with_reason(fixed(), Some("x\ry")),
            Err(KeyIdFault::ControlCharacters)
        );
        assert_eq!(
            KeyId::with_reason("user\x07".into(), None),
            Err(KeyIdFault::ControlCharacters)
        );
    }

    /// sshd 9.2's escaping of a log message, written out independently of [`sshd_len`]:
    /// `strnvis(VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL)` (openbsd-compat/vis.c) byte by byte.
    fn sshd_escape(text: &str) -> String {
        let mut out = String::new();
        for &b in text.as_bytes() {
            match b {
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\t' => out.push_str("\\t"),
                b'\r' => out.push_str("\\r"),
                0x08 => out.push_str("\\b"),
                0x07 => out.push_str("\\a"),
                0x0b => out.push_str("\\v"),
                0x0c => out.push_str("\\f"),
                0 => out.push_str("\\0"),
                b if !(0x20..0x7f).contains(&b) => out.push_str(&format!("\\{b:03o}")),
                b => out.push(b as char),
            }
        }
        out
    }

    #[test]
    fn the_length_is_what_sshd_logs() {
        assert_eq!(sshd_escape("a\\é\n"), "a\\\\\\303\\251\\n");
        assert_eq!(sshd_len("a\\é\n"), 1 + 2 + 8 + 2);
        let ascii = "x".repeat(MAX_KEY_ID);
        assert_eq!(KeyId::new(ascii.clone()).unwrap().as_str(), ascii);
        assert_eq!(
            KeyId::new(format!("{ascii}y")),
            Err(KeyIdFault::TooLong(161))
        );
        // 20 two-byte characters: 160 as sshd logs them; one backslash more is over.
        let accents = "é".repeat(20);
        assert!(KeyId::new(accents.clone()).is_ok());
        assert_eq!(
            KeyId::new(format!("{accents}\\")),
            Err(KeyIdFault::TooLong(162))
        );
        assert_eq!(
            KeyIdFault::TooLong(162).to_string(),
            "is 162 characters as sshd logs it (a byte above 0x7f counts 4, a backslash 2), more than the 160 allowed so that sshd's log line keeps the certificate's serial and CA"
        );
    }

    #[test]
    fn a_default_ids_reason_is_collapsed_and_cut_visibly() {
        let fixed = || "breakglass alice@laptop 2026-11-18T12:00:00".to_string();
        assert_eq!(
            KeyId::with_reason(fixed(), Some("  INC-9:   db\u{a0} down  "))
                .unwrap()
                .as_str(),
            "breakglass alice@laptop 2026-11-18T12:00:00: INC-9: db down"
        );
        let long = "a".repeat(1024);
        let id = KeyId::with_reason(fixed(), Some(&long)).unwrap();
        assert_eq!(
            id.as_str(),
            format!("{}: {}…", fixed(), "a".repeat(MAX_REASON_SHARE - 12))
        );
        // 1,024 bytes of blanks (the request's limit) add nothing.
        assert_eq!(
            KeyId::with_reason(fixed(), Some(&" ".repeat(1024)))
                .unwrap()
                .as_str(),
            fixed()
        );
        assert_eq!(
            short_reason(&"é".repeat(100)),
            format!("{}…", "é".repeat(6))
        );
        assert_eq!(sshd_len(&short_reason(&"é".repeat(100))), 60);
        // A long fixed part (a long host name) leaves the reason less room; too long alone,
        // it is refused.
        assert_eq!(
            KeyId::with_reason("u".repeat(140), Some("INC-1 the database is down"))
                .unwrap()
                .as_str(),
            format!("{}: INC-1…", "u".repeat(140))
        );
        assert_eq!(
            KeyId::with_reason("u".repeat(150), Some("INC-1 db down"))
                .unwrap()
                .as_str(),
            "u".repeat(150)
        );
        assert_eq!(
            KeyId::with_reason("u".repeat(161), Some("INC-1")),
            Err(KeyIdFault::TooLong(161))
        );
    }

    proptest! {
        #[test]
        fn the_measure_is_the_length_of_sshds_escaping(s in "\\PC{0,80}|[\\x00-\\x7f]{0,80}|[\\\\é€𝄞a]{0,60}") {
            prop_assert_eq!(sshd_len(&s), sshd_escape(&s).chars().count());
            match KeyId::new(s.clone()) {
                Ok(_) => prop_assert!(sshd_escape(&s).len() <= MAX_KEY_ID),
                Err(KeyIdFault::TooLong(n)) => prop_assert_eq!(n, sshd_escape(&s).len()),
                Err(_) => {}
            }
        }

        #[test]
        fn every_default_id_keeps_its_fixed_part_and_a_short_reason(
            reason in "\\PC{0,300}|[ \\\\é\t\n]{0,300}",
        ) {
            let fixed = "breakglass bob approved by alice@laptop 2026-11-18T12:00:00Z".to_string();
            if reason.chars().any(is_dangerous) {
                prop_assert_eq!(KeyId::with_reason(fixed, Some(&reason)), Err(KeyIdFault::ControlCharacters));
            } else {
                let id = KeyId::with_reason(fixed.clone(), Some(&reason)).unwrap();
                prop_assert!(id.as_str().starts_with(&fixed));
                let tail = &id.as_str()[fixed.len()..];
                prop_assert!(sshd_escape(tail.trim_start_matches(": ")).len() <= MAX_REASON_SHARE);
                prop_assert!(!tail.contains("  "));
            }
        }


        #[test]
        fn accepted_exactly_when_not_empty_nothing_dangerous_and_short_enough(s in ".{0,60}|[a-z\\x00-\\x1f\\u{7f}-\\u{9f}\\u{202a}-\\u{202e}]{0,20}") {
            let ok = !s.is_empty() && !s.chars().any(is_dangerous) && sshd_escape(&s).len() <= MAX_KEY_ID;
            match KeyId::new(s.clone()) {
                Ok(k) => {
                    prop_assert!(ok);
                    prop_assert_eq!(k.as_str(), s.as_str());
                    prop_assert_eq!(String::from(k), s);
                }
                Err(_) => prop_assert!(!ok),
            }
        }

        #[test]
        fn a_default_id_is_refused_only_for_what_its_parts_bring(
            fixed in "[ -~]{1,40}",
            reason in proptest::option::of(".{0,40}"),
        ) {
            let r = KeyId::with_reason(fixed.clone(), reason.as_deref());
            let dangerous = reason.as_deref().is_some_and(|r| r.chars().any(is_dangerous));
            prop_assert_eq!(r.is_err(), dangerous);
            if let Ok(k) = r {
                prop_assert!(k.as_str().starts_with(&fixed));
            }
        }
    }
}
