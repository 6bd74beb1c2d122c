//! Which token to use. `--backend`/`BREAKGLASS_BACKEND` choose explicitly; without it the
//! hardware that is present is used, and the simulator never is: a missing key is an error,
//! not a silent fallback to software.

use std::fmt;
use std::str::FromStr;

use super::ctap::Authenticator;
use super::sim::SimToken;
use super::TokenError;
use crate::{paths, Result};

/// A token family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A FIDO2 security key over USB HID.
    Fido2,
    /// A YubiKey PIV slot over PC/SC.
    Piv,
    /// The simulated security key.
    Sim,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Fido2 => "fido2",
            Backend::Piv => "piv",
            Backend::Sim => "sim",
        })
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fido2" => Ok(Backend::Fido2),
            "piv" => Ok(Backend::Piv),
            "sim" => Ok(Backend::Sim),
            other => Err(format!(
                "unknown backend {:?}: choose fido2, piv or sim",
                crate::sanitize::sanitize(other)
            )),
        }
    }
}

/// The user's choice: a backend, or `None` for "the hardware that is present".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BackendChoice(pub Option<Backend>);

/// Opens the FIDO2-style authenticator for `choice` (the simulated key, or a real FIDO2 key).
pub fn open_authenticator(
    choice: BackendChoice,
    ca_hint: Option<&str>,
    device: Option<&str>,
) -> Result<Box<dyn Authenticator>> {
    match choice.0 {
        Some(Backend::Sim) => {
            let mut t = SimToken::open(&paths::sim_dir())?;
            // The CLI keeps a silent assertion's counter to itself until its signature or
            // `persist`: one counter barrier per mint.
            t.defer_silent_counter();
            Ok(Box::new(t))
        }
        Some(Backend::Piv) => {
            Err(TokenError::BackendUnavailable("FIDO2-style CA on the piv".into()).into())
        }
        Some(Backend::Fido2) | None => open_fido2(ca_hint, device),
    }
}

#[cfg(feature = "fido2")]
fn open_fido2(ca_hint: Option<&str>, device: Option<&str>) -> Result<Box<dyn Authenticator>> {
    match super::fido2::open(device) {
        Ok(k) => Ok(Box::new(k)),
        // No key at all: say which CA to insert, and never fall back to the simulator.
        Err(TokenError::NoDevice { .. })
            if super::fido2::list_devices()
                .map(|d| d.is_empty())
                .unwrap_or(true) =>
        {
            Err(no_hardware(ca_hint).into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(feature = "fido2"))]
fn open_fido2(ca_hint: Option<&str>, _device: Option<&str>) -> Result<Box<dyn Authenticator>> {
    Err(no_hardware(ca_hint).into())
}

/// The error for "no FIDO2 key present", naming the CA when we know it.
pub fn no_hardware(ca_hint: Option<&str>) -> TokenError {
    no_key("FIDO2", ca_hint)
}

/// The error for "no `backend` key present" (`FIDO2`, `PIV`), naming the CA when we know it.
pub(super) fn no_key(backend: &str, ca_hint: Option<&str>) -> TokenError {
    let which = match ca_hint {
        Some(fp) => format!("Insert the YubiKey that holds the CA ({fp}) and run again."),
        None => "Insert the YubiKey that holds the CA and run again.".to_string(),
    };
    TokenError::NoDevice {
        backend: backend.into(),
        hint: format!("{which} To practise without a key, use --backend sim (simulated; never for real access)."),
    }
}
