//! `list`: every connected security key and the SSH CAs it holds.

use serde::Serialize;

use crate::token::{Backend, BackendChoice};
use crate::ui::Ui;
use crate::Result;

/// One CA found on a key.
#[derive(Debug, Clone, Serialize)]
pub struct ListedCa {
    /// Where on the key: the FIDO2 application or the PIV slot.
    pub location: String,
    /// Key type.
    pub key_type: String,
    /// Fingerprint.
    pub fingerprint: String,
}

/// One key.
#[derive(Debug, Clone, Serialize)]
pub struct ListedKey {
    /// `fido2`, `piv` or `sim`.
    pub backend: Backend,
    /// What the key is.
    pub device: String,
    /// PIN tries left, if known.
    pub pin_tries_left: Option<u8>,
    /// CAs found.
    pub cas: Vec<ListedCa>,
}

/// What `list` found, and what it could not look at.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Listing {
    /// Keys found.
    pub keys: Vec<ListedKey>,
    /// Per backend, why it could not be searched (e.g. pcscd not running).
    pub problems: Vec<String>,
}

/// Lists the keys of `choice` (all hardware backends when none is given).
pub fn list(choice: BackendChoice, application: &str, ui: &mut dyn Ui) -> Result<Listing> {
    let mut l = Listing::default();
    let all = choice.0.is_none();
    if choice.0 == Some(Backend::Sim) {
        let mut t = crate::token::sim::SimToken::open(&crate::paths::sim_dir())?;
        let s = t.status()?;
        l.keys.push(ListedKey {
            backend: Backend::Sim,
            device: format!("simulated key {} (SIMULATED)", s.serial),
            pin_tries_left: s.pin_retries,
            cas: s
                .credentials
                .iter()
                .filter(|c| c.rp_id == application)
                .map(|c| ListedCa {
                    location: c.rp_id.clone(),
                    key_type: "ECDSA-SK".into(),
                    fingerprint: c.fingerprint.clone(),
                })
                .collect(),
        });
    }
    if all || choice.0 == Some(Backend::Fido2) {
        list_fido2(&mut l, application, ui);
    }
    if all || choice.0 == Some(Backend::Piv) {
        list_piv(&mut l);
    }
    Ok(l)
}

#[cfg(feature = "fido2")]
fn list_fido2(l: &mut Listing, application: &str, ui: &mut dyn Ui) {
    use crate::token::ctap::Authenticator;
    use crate::token::{fido2, sk_ca};
    let devices = match fido2::list_devices() {
        Ok(d) => d,
        Err(e) => return l.problems.push(format!("FIDO2: {e}")),
    };
    for d in devices {
        let mut key = match fido2::open(Some(&d.path)) {
            Ok(k) => k,
            Err(e) => {
                l.problems.push(format!("FIDO2 {}: {e}", d.label()));
                continue;
            }
        };
        let tries = key.pin_retries().ok().flatten();
        let mut pin = None;
        let cas = match sk_ca::resident_cas(&mut key, ui, &mut pin, application) {
            Ok(cas) => cas
                .iter()
                .filter_map(|c| c.key_data().ok())
                .map(|k| ListedCa {
                    location: application.to_string(),
                    key_type: "ECDSA-SK".into(),
                    fingerprint: k.fingerprint(ssh_key::HashAlg::Sha256).to_string(),
                })
                .collect(),
            Err(e) => {
                l.problems
                    .push(format!("FIDO2 {}: cannot list its CAs: {e}", d.label()));
                Vec::new()
            }
        };
        l.keys.push(ListedKey {
            backend: Backend::Fido2,
            device: key.describe(),
            pin_tries_left: tries,
            cas,
        });
    }
}

#[cfg(not(feature = "fido2"))]
fn list_fido2(l: &mut Listing, _: &str, _: &mut dyn Ui) {
    l.problems
        .push("FIDO2: this build has no FIDO2 backend".into());
}

#[cfg(feature = "piv")]
fn list_piv(l: &mut Listing) {
    use crate::token::piv_ca;
    use ssh_key::HashAlg;
    match crate::token::piv::list() {
        Ok(keys) => {
            for k in keys {
                let cas = k
                    .slots
                    .iter()
                    .filter_map(|(slot, p)| {
                        let pk = piv_ca::public_key(p, "").ok()?;
                        Some(ListedCa {
                            location: format!("PIV slot {slot:02x}"),
                            key_type: "ECDSA".into(),
                            fingerprint: pk.fingerprint(HashAlg::Sha256).to_string(),
                        })
                    })
                    .collect();
                l.keys.push(ListedKey {
                    backend: Backend::Piv,
                    device: format!(
                        "YubiKey {} (firmware {}.{}.{}, reader {})",
                        k.serial, k.version.0, k.version.1, k.version.2, k.reader
                    ),
                    pin_tries_left: Some(k.pin_tries_left),
                    cas,
                });
            }
        }
        // Where PC/SC is not installed, the note also says how to install it.
        Err(e @ crate::token::piv::PivError::NoPcscLibrary(_)) => {
            l.problems.push(format!("PIV: {e}. {}", e.hint()))
        }
        Err(e) => l.problems.push(format!("PIV: {e}")),
    }
}

#[cfg(not(feature = "piv"))]
fn list_piv(l: &mut Listing) {
    l.problems.push("PIV: this build has no PIV backend".into());
}
