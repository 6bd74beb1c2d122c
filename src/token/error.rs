//! What a token can answer, as our own variants (CTAP2 status codes of REFERENCE.md §5.5 mapped
//! to sentences), with the status kept for the record.

use std::path::PathBuf;

use super::ctap_status::CtapStatus;
use crate::diagnostic::{Diagnostic, FAILURE};

/// A token-level failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No key of the requested backend is connected.
    #[error("no {backend} key found")]
    NoDevice { backend: String, hint: String },
    /// The touch was refused on the key (CTAP2 0x27 OPERATION_DENIED).
    #[error("the key refused the operation (touch declined)")]
    OperationDenied,
    /// Nobody touched the key in time (CTAP2 0x2F USER_ACTION_TIMEOUT).
    #[error("the key was not touched in time")]
    UserActionTimeout,
    /// Wrong PIN (CTAP2 0x31 PIN_INVALID).
    #[error("wrong PIN; {tries_left} tries left before the key locks its PIN")]
    PinInvalid { tries_left: u8 },
    /// PIN retries exhausted (CTAP2 0x32 PIN_BLOCKED).
    #[error("the key's PIN is blocked")]
    PinBlocked,
    /// Three wrong PINs in a row (CTAP2 0x34 PIN_AUTH_BLOCKED).
    #[error(
        "three wrong PINs in a row; the key accepts no more PIN attempts until it is re-inserted"
    )]
    PinAuthBlocked { simulated: bool },
    /// The operation needs the PIN (CTAP2 0x36 PIN_REQUIRED).
    #[error("the key needs its PIN for this")]
    PinRequired,
    /// The PIN is needed but there is no way to ask for it (no terminal, no BREAKGLASS_PIN).
    #[error("the key needs its PIN, and there is no terminal to ask for it")]
    PinNeeded,
    /// The key has no PIN but one is needed (CTAP2 0x35 PIN_NOT_SET).
    #[error("the key has no PIN set")]
    PinNotSet,
    /// The PIN typed is shorter than any PIN the key can have; it was not sent.
    #[error("that PIN is too short: the key's PIN has at least {min} characters (nothing was sent to the key, no try was used)")]
    PinTooShort { min: usize },
    /// PIN too short or too long (CTAP2 0x37 PIN_POLICY_VIOLATION).
    #[error("the PIN must be 4 to 63 characters")]
    PinPolicy,
    /// The credential is not on this key (CTAP2 0x2E NO_CREDENTIALS).
    #[error("this key does not hold the requested credential")]
    NoCredentials,
    /// No room for another resident credential (CTAP2 0x28 KEY_STORE_FULL).
    #[error("the key has no room for another resident credential")]
    KeyStoreFull,
    /// The key lacks a feature breakglass needs (CTAP2 0x26, 0x2B, 0x2C).
    #[error("the key does not support {what} (CTAP2 {:#04x})", .status.code())]
    Unsupported {
        status: CtapStatus,
        what: &'static str,
    },
    /// Any other CTAP2 status.
    #[error("the key answered CTAP2 error {:#04x} ({})", .0.code(), .0.name())]
    Ctap(CtapStatus),
    /// The answer could not be converted (broken or hostile authenticator).
    #[error("the key's answer is invalid: {0}")]
    BadAnswer(String),
    /// The simulated key's state file is unusable.
    #[error("the simulated key's state in {} is unusable: {reason}", .path.display())]
    SimState { path: PathBuf, reason: String },
    /// `BREAKGLASS_SIM_TOUCH` has an unknown value.
    #[error("BREAKGLASS_SIM_TOUCH={0} is not one of approve, deny, timeout")]
    BadTouchSetting(String),
    /// The PIV backend's own failure, with its sentence and next step.
    #[cfg(feature = "piv")]
    #[error(transparent)]
    Piv(#[from] super::piv::PivError),
    /// This build has no support for the requested backend.
    #[error("this build of breakglass has no {0} backend")]
    BackendUnavailable(String),
}

impl TokenError {
    /// Maps a CTAP2 status to our variant (`tries_left` fills PIN_INVALID).
    pub fn from_ctap(status: impl Into<CtapStatus>, tries_left: Option<u8>) -> Self {
        let status = status.into();
        match status {
            CtapStatus::OperationDenied => TokenError::OperationDenied,
            CtapStatus::KeyStoreFull => TokenError::KeyStoreFull,
            CtapStatus::UnsupportedAlgorithm => TokenError::Unsupported {
                status,
                what: "P-256 (ES256) credentials",
            },
            CtapStatus::UnsupportedOption => TokenError::Unsupported {
                status,
                what: "an option breakglass needs (resident keys or user verification)",
            },
            CtapStatus::InvalidOption => TokenError::Unsupported {
                status,
                what: "an option breakglass asked for",
            },
            CtapStatus::NoCredentials => TokenError::NoCredentials,
            CtapStatus::UserActionTimeout => TokenError::UserActionTimeout,
            CtapStatus::PinInvalid => TokenError::PinInvalid {
                tries_left: tries_left.unwrap_or(0),
            },
            CtapStatus::PinBlocked => TokenError::PinBlocked,
            CtapStatus::PinAuthBlocked => TokenError::PinAuthBlocked { simulated: false },
            CtapStatus::PinNotSet => TokenError::PinNotSet,
            CtapStatus::PinRequired => TokenError::PinRequired,
            CtapStatus::PinPolicyViolation => TokenError::PinPolicy,
            _ => TokenError::Ctap(status),
        }
    }

    /// The CTAP2 status this error corresponds to, when there is one.
    pub fn ctap_status(&self) -> Option<CtapStatus> {
        Some(match self {
            TokenError::OperationDenied => CtapStatus::OperationDenied,
            TokenError::KeyStoreFull => CtapStatus::KeyStoreFull,
            TokenError::NoCredentials => CtapStatus::NoCredentials,
            TokenError::UserActionTimeout => CtapStatus::UserActionTimeout,
            TokenError::PinInvalid { .. } => CtapStatus::PinInvalid,
            TokenError::PinBlocked => CtapStatus::PinBlocked,
            TokenError::PinAuthBlocked { .. } => CtapStatus::PinAuthBlocked,
            TokenError::PinNotSet => CtapStatus::PinNotSet,
            TokenError::PinRequired => CtapStatus::PinRequired,
            TokenError::PinPolicy => CtapStatus::PinPolicyViolation,
            TokenError::Ctap(status) | TokenError::Unsupported { status, .. } => *status,
            _ => return None,
        })
    }
}

impl Diagnostic for TokenError {
    /// The next step for the user.
    fn hint(&self) -> String {
        match self {
            TokenError::NoDevice { hint, .. } => hint.clone(),
            TokenError::OperationDenied => "Run the command again and touch the key when it blinks.".into(),
            TokenError::UserActionTimeout => "Run the command again and touch the key while it blinks.".into(),
            TokenError::PinInvalid { .. } => "Check the PIN and run the command again. Three wrong PINs in a row need the key re-inserted.".into(),
            TokenError::PinBlocked => "Only a reset unblocks it, and a reset destroys the CA on it: use the backup key.".into(),
            TokenError::PinAuthBlocked { simulated: true } => "Re-insert the simulated key with `breakglass sim replug`, then run the command again.".into(),
            TokenError::PinAuthBlocked { simulated: false } => "Unplug the key, insert it again, then run the command again.".into(),
            TokenError::PinRequired | TokenError::PinNeeded => "Run the command in a terminal to type the PIN, or set BREAKGLASS_PIN for unattended use.".into(),
            TokenError::PinNotSet => "Set a PIN on the key first.".into(),
            TokenError::PinPolicy => "Choose a PIN of 4 to 63 characters.".into(),
            TokenError::PinTooShort { .. } => "Type the key's PIN again, in full.".into(),
            TokenError::NoCredentials => "Insert the key that holds this CA, or check --ca.".into(),
            TokenError::KeyStoreFull => "Delete an unused resident credential from the key, or use another key.".into(),
            TokenError::Ctap(_) => "Re-insert the key and run the command again; if it persists, use the backup key.".into(),
            TokenError::Unsupported { .. } => "Use a key with FIDO2 resident keys and credProtect (e.g. a YubiKey 5, firmware 5.2 or later), or the PIV backend.".into(),
            TokenError::BadAnswer(_) => "Do not trust this key until you know why; use the backup key.".into(),
            TokenError::SimState { .. } => "Move the state directory aside (or point BREAKGLASS_SIM_DIR elsewhere) to start a fresh simulated key.".into(),
            TokenError::BadTouchSetting(_) => "Set BREAKGLASS_SIM_TOUCH to approve, deny or timeout, or unset it.".into(),
            TokenError::BackendUnavailable(_) => "Use --backend sim to practise, or a build with hardware support.".into(),
            #[cfg(feature = "piv")]
            TokenError::Piv(e) => e.hint(),
        }
    }

    /// Short machine-readable kind.
    fn kind(&self) -> &'static str {
        match self {
            TokenError::NoDevice { .. } => "no-device",
            TokenError::OperationDenied => "touch-denied",
            TokenError::UserActionTimeout => "touch-timeout",
            TokenError::PinInvalid { .. } => "pin-invalid",
            TokenError::PinBlocked => "pin-blocked",
            TokenError::PinAuthBlocked { .. } => "pin-auth-blocked",
            TokenError::PinRequired | TokenError::PinNeeded => "pin-required",
            TokenError::PinNotSet => "pin-not-set",
            TokenError::PinPolicy => "pin-policy",
            TokenError::PinTooShort { .. } => "pin-too-short",
            TokenError::NoCredentials => "no-credentials",
            TokenError::KeyStoreFull => "key-store-full",
            TokenError::Ctap(_) => "ctap-error",
            TokenError::Unsupported { .. } => "unsupported",
            TokenError::BadAnswer(_) => "bad-answer",
            TokenError::SimState { .. } => "sim-state",
            TokenError::BadTouchSetting(_) => "bad-touch-setting",
            TokenError::BackendUnavailable(_) => "backend-unavailable",
            #[cfg(feature = "piv")]
            TokenError::Piv(e) => e.kind(),
        }
    }

    /// Always [`FAILURE`]: a token's answer is never a mistyped command line.
    fn exit_code(&self) -> u8 {
        match self {
            TokenError::NoDevice { .. }
            | TokenError::OperationDenied
            | TokenError::UserActionTimeout
            | TokenError::PinInvalid { .. }
            | TokenError::PinBlocked
            | TokenError::PinAuthBlocked { .. }
            | TokenError::PinRequired
            | TokenError::PinNeeded
            | TokenError::PinNotSet
            | TokenError::PinTooShort { .. }
            | TokenError::PinPolicy
            | TokenError::NoCredentials
            | TokenError::KeyStoreFull
            | TokenError::Unsupported { .. }
            | TokenError::Ctap(_)
            | TokenError::BadAnswer(_)
            | TokenError::SimState { .. }
            | TokenError::BadTouchSetting(_)
            | TokenError::BackendUnavailable(_) => FAILURE,
            #[cfg(feature = "piv")]
            TokenError::Piv(e) => e.exit_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_round_trips_and_has_a_hint() {
        for code in 0u8..=0xFF {
            let e = TokenError::from_ctap(code, Some(5));
            assert_eq!(
                e.ctap_status(),
                Some(CtapStatus::from(code)),
                "code {code:#04x}"
            );
            // A message without its full stop (the printer adds it), then a hint that is a
            // sentence of its own.
            let (m, h) = (e.to_string(), e.hint());
            assert!(
                m.starts_with(|c: char| c.is_lowercase()) && !m.ends_with('.'),
                "{code:#04x}: {m}"
            );
            assert!(
                h.starts_with(|c: char| c.is_uppercase()) && h.ends_with('.'),
                "{code:#04x}: {h}"
            );
        }
        assert_eq!(
            TokenError::from_ctap(CtapStatus::OperationDenied, None).hint(),
            "Run the command again and touch the key when it blinks."
        );
        assert_eq!(
            TokenError::from_ctap(0x99, None).hint(),
            "Re-insert the key and run the command again; if it persists, use the backup key."
        );
        assert_eq!(
            TokenError::from_ctap(CtapStatus::PinInvalid, Some(2)).to_string(),
            "wrong PIN; 2 tries left before the key locks its PIN"
        );
        assert_eq!(
            TokenError::from_ctap(0x3C, None).to_string(),
            "the key answered CTAP2 error 0x3c (UV_BLOCKED)"
        );
    }
}
