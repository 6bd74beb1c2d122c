//! The key id of a certificate (`ssh-keygen -I`): the text sshd writes into its log for every
//! login with the certificate, and the handle a KRL can revoke it by. Every key id breakglass
//! signs passes [`KeyId::new`], the one rule, wherever it came from: `mint -I`, `approve -I`, or
//! a default built from the operator, host, time and reason ([`KeyId::with_reason`]).
//!
//! The rule today: not empty (sshd logs `ID ""`, and a KRL cannot name it), and no control
//! character (it would reach sshd's log line and every terminal that shows the certificate).

use std::fmt;

use crate::sanitize::is_dangerous;

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
        Ok(KeyId(text))
    }

    /// A default key id: `fixed` (who, where, when, made by breakglass), then `: reason` when
    /// there is one. The whole id passes [`KeyId::new`].
    pub fn with_reason(fixed: String, reason: Option<&str>) -> Result<Self, KeyIdFault> {
        let mut id = fixed;
        if let Some(r) = reason {
            id.push_str(": ");
            id.push_str(r);
        }
        Self::new(id)
    }

    /// The text, as it goes into the certificate.
    pub fn as_str(&self) -> &str {
        &self.0
    }
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

    proptest! {
        #[test]
        fn accepted_exactly_when_not_empty_and_nothing_dangerous(s in ".{0,60}|[a-z\\x00-\\x1f\\u{7f}-\\u{9f}\\u{202a}-\\u{202e}]{0,20}") {
            let ok = !s.is_empty() && !s.chars().any(is_dangerous);
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
