//! The FIDO2-style [`Token`] (a real key or the simulator): the CA is a resident credential,
//! found through the key-handle file beside the CA's `.pub` (no PIN needed), else among the
//! key's resident credentials for the application, and signed with by [`SkCaSigner`].

use std::path::Path;

use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey};

use super::ctap::{Authenticator, Pin};
use super::listing::{ListedCa, ListedKey};
use super::select::Backend;
use super::sim::SimToken;
use super::sk_ca::{self, ResidentCa, SkCaSigner};
use super::{CaHandle, CaSigner, CaSource, EnrollRequest, NewCa, Token};
use crate::ssh::keyfile;
use crate::ui::Ui;
use crate::{Error, Result};

/// A FIDO2-style token (a real key or the simulator): the CA is a resident credential.
pub struct SkToken {
    auth: Box<dyn Authenticator>,
    /// The signature counter a silent assertion read while finding the CA, if one did.
    probed: Option<u32>,
}

impl SkToken {
    /// The token over `auth` (the simulated key, or a real FIDO2 key).
    pub fn new(auth: Box<dyn Authenticator>) -> Self {
        SkToken { auth, probed: None }
    }
}

impl Token for SkToken {
    fn describe(&self) -> String {
        self.auth.describe()
    }

    fn is_simulated(&self) -> bool {
        self.auth.is_simulated()
    }

    fn enroll(&mut self, req: &EnrollRequest, ui: &mut dyn Ui) -> Result<NewCa> {
        let e = sk_ca::enroll(
            &mut *self.auth,
            ui,
            &req.application,
            req.verify_required,
            req.force,
        )?;
        Ok(NewCa {
            public: e.ca.key_data()?,
            handle: CaHandle::KeyHandle {
                ca: e.ca,
                flags: e.key_file_flags,
            },
            default_comment: format!(
                "breakglass CA {}@{}",
                crate::paths::operator(),
                crate::paths::hostname()
            ),
            token: self.auth.describe(),
            replaced: e.replaced,
            counter: Some(u64::from(e.counter)),
            attestation: e.attestation,
        })
    }

    fn signature_counter(
        mut self: Box<Self>,
        source: &CaSource,
        expected: Option<&PublicKey>,
        ui: &mut dyn Ui,
    ) -> Result<Option<u64>> {
        let mut pin: Option<Pin> = None;
        let (ca, require_uv) = self.locate(source, expected, ui, &mut pin)?;
        // Finding the CA may already have asked the key (one assertion): that is the reading.
        let c = match self.probed {
            Some(c) => c,
            None => sk_ca::probe_counter(&mut *self.auth, ui, &mut pin, &ca, require_uv)?,
        };
        // The caller records or shows it: durable first.
        self.auth.persist()?;
        Ok(Some(u64::from(c)))
    }

    fn find_ca(
        mut self: Box<Self>,
        source: &CaSource,
        expected: Option<&PublicKey>,
        ui: &mut dyn Ui,
    ) -> Result<Box<dyn CaSigner>> {
        let mut pin: Option<Pin> = None;
        let (ca, require_uv) = self.locate(source, expected, ui, &mut pin)?;
        let mut signer = SkCaSigner::new(self.auth, ca, require_uv, pin)?;
        signer.ca_label = source.label();
        Ok(Box::new(signer))
    }
}

impl SkToken {
    /// The resident credential `source` names, and whether it needs the PIN.
    fn locate(
        &mut self,
        source: &CaSource,
        expected: Option<&PublicKey>,
        ui: &mut dyn Ui,
        pin: &mut Option<Pin>,
    ) -> Result<(ResidentCa, bool)> {
        match (source, expected) {
            (CaSource::File(path), Some(expected)) => {
                find_expected(&mut *self.auth, ui, pin, path, expected, &mut self.probed)
            }
            (CaSource::Token { application }, _) => {
                find_only(&mut *self.auth, ui, pin, application)
            }
            (CaSource::File(path), None) => Err(Error::CaFile {
                path: path.clone(),
                reason: "could not be read".into(),
            }),
        }
    }
}

fn find_expected(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    path: &Path,
    expected: &PublicKey,
    probed: &mut Option<u32>,
) -> Result<(ResidentCa, bool)> {
    let KeyData::SkEcdsaSha2NistP256(sk) = expected.key_data() else {
        return Err(Error::CaFile {
            path: path.to_path_buf(),
            reason: "is not an sk-ecdsa CA".into(),
        });
    };
    let application = sk.application().to_string();
    // The key-handle file beside the .pub names the credential: no PIN needed to find it.
    if let Some(handle_path) = keyfile::key_handle_path_for(path) {
        if let Ok(Some(h)) = keyfile::read_key_handle(&handle_path) {
            if &h.public == expected.key_data() {
                let mut point = [0u8; 65];
                point.copy_from_slice(sk.ec_point().as_bytes());
                let require_uv = h.flags & sk_ca::SK_USER_VERIFICATION_REQD != 0;
                let ca = ResidentCa {
                    application,
                    credential_id: h.key_handle,
                    point,
                    cred_protect: if require_uv { 3 } else { 2 },
                    user_id: sk_ca::OPENSSH_USER_ID.to_vec(),
                };
                // The file says which credential; whether this key holds it is asked silently
                // (no touch), so a wrong key is reported before the touch, not after it.
                match sk_ca::holds(auth, ui, pin, &ca, require_uv)? {
                    Some(counter) => *probed = Some(counter),
                    None => {
                        return Err(Error::CaNotOnToken {
                            path: path.to_path_buf(),
                            expected: expected.fingerprint(HashAlg::Sha256).to_string(),
                        })
                    }
                }
                return Ok((ca, require_uv));
            }
        }
    }
    let cas = sk_ca::resident_cas(auth, ui, pin, &application)?;
    for ca in cas {
        if &ca.key_data()? == expected.key_data() {
            let uv = ca.verify_required();
            return Ok((ca, uv));
        }
    }
    Err(Error::CaNotOnToken {
        path: path.to_path_buf(),
        expected: expected.fingerprint(HashAlg::Sha256).to_string(),
    })
}

fn find_only(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    application: &str,
) -> Result<(ResidentCa, bool)> {
    let mut cas = sk_ca::resident_cas(auth, ui, pin, application)?;
    match cas.len() {
        0 => Err(Error::NoCa {
            backend: if auth.is_simulated() {
                "simulated".into()
            } else {
                "security".into()
            },
            application: application.to_string(),
        }),
        1 => {
            let ca = cas.remove(0);
            let uv = ca.verify_required();
            Ok((ca, uv))
        }
        _ => Err(Error::SeveralCas {
            application: application.to_string(),
            fingerprints: cas
                .iter()
                .filter_map(|c| c.key_data().ok())
                .map(|k| k.fingerprint(HashAlg::Sha256).to_string())
                .collect(),
        }),
    }
}

/// Whether `app` is listed under the filter `only` (`None`: every `ssh:` application).
fn wanted(app: &str, only: Option<&str>) -> bool {
    match only {
        Some(a) => app == a,
        None => app.starts_with("ssh:"),
    }
}

/// The simulated key for the inventory: its resident CAs of every `ssh:` application (or of
/// `only`), read from its state (no PIN, no touch).
pub fn list_sim(only: Option<&str>) -> Result<ListedKey> {
    let mut t = SimToken::open(&crate::paths::sim_dir())?;
    let s = t.status()?;
    Ok(ListedKey {
        backend: Backend::Sim,
        device: format!("simulated key {} (SIMULATED)", s.serial),
        pin_tries_left: s.pin_retries,
        cas: s
            .credentials
            .iter()
            .filter(|c| c.resident && wanted(&c.rp_id, only))
            .map(|c| ListedCa {
                location: c.rp_id.clone(),
                key_type: "ECDSA-SK".into(),
                fingerprint: c.fingerprint.clone(),
                attestation: None,
            })
            .collect(),
    })
}

/// Every connected FIDO2 key for the inventory, with its resident CAs of every `ssh:`
/// application (or of `only`): listing needs the PIN, asked through `ui` once per key; a key that
/// cannot be opened or searched is a problem of the inventory.
#[cfg(feature = "fido2")]
pub fn list_fido2(inv: &mut super::listing::Inventory, only: Option<&str>, ui: &mut dyn Ui) {
    use super::fido2;
    let devices = match fido2::list_devices() {
        Ok(d) => d,
        Err(e) => return inv.problems.push(format!("FIDO2: {e}")),
    };
    for d in devices {
        let mut key = match fido2::open(Some(&d.path)) {
            Ok(k) => k,
            Err(e) => {
                inv.problems.push(format!("FIDO2 {}: {e}", d.label()));
                continue;
            }
        };
        let tries = key.pin_retries().ok().flatten();
        let mut pin = None;
        let found = sk_ca::ssh_applications(&mut key, ui, &mut pin).and_then(|apps| {
            let mut cas = Vec::new();
            for app in apps.iter().filter(|a| wanted(a, only)) {
                for c in sk_ca::resident_cas(&mut key, ui, &mut pin, app)? {
                    cas.push(ListedCa {
                        location: app.clone(),
                        key_type: "ECDSA-SK".into(),
                        fingerprint: c.key_data()?.fingerprint(HashAlg::Sha256).to_string(),
                        attestation: None,
                    });
                }
            }
            Ok(cas)
        });
        let cas = match found {
            Ok(cas) => cas,
            Err(e) => {
                inv.problems
                    .push(format!("FIDO2 {}: cannot list its CAs: {e}", d.label()));
                Vec::new()
            }
        };
        inv.keys.push(ListedKey {
            backend: Backend::Fido2,
            device: key.describe(),
            pin_tries_left: tries,
            cas,
        });
    }
}
