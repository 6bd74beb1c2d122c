//! The one door to the backends: [`open`] gives a [`Token`] for the user's choice (or for the CA
//! a command names), and a token can [`Token::enroll`] a new CA or [`Token::find_ca`] an existing
//! one as a [`CaSigner`]. Nothing above this module branches on the backend.
//!
//! Adding a backend: implement [`Token`] (and [`CaSigner`] for its signer) in a module of its
//! own, and add one arm to [`open`].

use std::path::{Path, PathBuf};

use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey};
use zeroize::Zeroizing;

use super::ctap::{Authenticator, Pin};
use super::select::{self, Backend, BackendChoice};
use super::sk_ca::{self, ResidentCa, SkCaSigner};
use super::CaSigner;
use crate::ssh::keyfile::{self, PivReference};
use crate::ui::Ui;
use crate::{Error, Result};

/// Which CA a command signs with.
#[derive(Debug, Clone)]
pub enum CaSource {
    /// A CA public key file (`--ca`, or `sk-user-ca.pub` in the current directory).
    File(PathBuf),
    /// The token's one resident CA for this application.
    Token {
        /// The FIDO2 application (rp id).
        application: String,
    },
}

impl CaSource {
    /// Picks the CA source: `--ca`, else `sk-user-ca.pub` when present, else the token's one CA.
    pub fn choose(ca: Option<&Path>, application: &str) -> CaSource {
        match ca {
            Some(p) => CaSource::File(p.to_path_buf()),
            None if Path::new("sk-user-ca.pub").exists() => {
                CaSource::File(PathBuf::from("sk-user-ca.pub"))
            }
            None => CaSource::Token {
                application: application.to_string(),
            },
        }
    }

    /// Reads the expected CA public key (if any) without touching the token, so mistakes in
    /// `--ca` are reported before a PIN is asked or a touch wasted.
    pub fn expected(&self) -> Result<Option<PublicKey>> {
        match self {
            CaSource::File(p) => Ok(Some(keyfile::read_ca_public(p)?)),
            CaSource::Token { .. } => Ok(None),
        }
    }

    fn label(&self) -> PathBuf {
        match self {
            CaSource::File(p) => p.clone(),
            CaSource::Token { .. } => PathBuf::from("(token)"),
        }
    }
}

/// What `init-ca` asks of a token.
#[derive(Debug, Clone)]
pub struct EnrollRequest {
    /// FIDO2 application (rp id), `ssh:` or `ssh:NAME`.
    pub application: String,
    /// Require the PIN for every signature (FIDO2 `-O verify-required`).
    pub verify_required: bool,
    /// Replace an existing CA.
    pub force: bool,
    /// PIV slot (default 0x82, a retired slot).
    pub slot: u8,
}

/// What stands in the CA's private-key file: nothing secret, only how to find the key again.
#[derive(Debug, Clone)]
pub enum CaHandle {
    /// An OpenSSH key-handle file (`ssh-keygen -t ecdsa-sk -O resident` writes the same).
    KeyHandle {
        /// The resident credential.
        ca: ResidentCa,
        /// The key file's flags byte.
        flags: u8,
    },
    /// A PIV reference: YubiKey serial and slot.
    Piv(PivReference),
}

impl CaHandle {
    /// The file text, with `comment` where the format has one.
    pub fn file_text(&self, comment: &str) -> Result<Zeroizing<String>> {
        match self {
            CaHandle::KeyHandle { ca, flags } => keyfile::key_handle_file(ca, *flags, comment),
            CaHandle::Piv(r) => Ok(Zeroizing::new(r.to_text())),
        }
    }
}

/// A CA just created on a token.
#[derive(Debug, Clone)]
pub struct NewCa {
    /// The CA public key.
    pub public: KeyData,
    /// What the CA file holds.
    pub handle: CaHandle,
    /// The comment to use when the user gave none.
    pub default_comment: String,
    /// The token, e.g. "YubiKey 123 PIV slot 82".
    pub token: String,
    /// Fingerprint of a CA it destroyed (with `force`).
    pub replaced: Option<String>,
    /// The key's signature counter after the enrolment (FIDO2 and the simulator).
    pub counter: Option<u64>,
}

/// A security key (or the simulated one) that can hold an SSH CA.
pub trait Token {
    /// One line naming the token.
    fn describe(&self) -> String;
    /// True for the simulated key (its CAs are labelled SIMULATED).
    fn is_simulated(&self) -> bool;
    /// Creates the CA on the token (one touch; the PIN when the token needs it).
    fn enroll(&mut self, req: &EnrollRequest, ui: &mut dyn Ui) -> Result<NewCa>;
    /// The key's signature counter, read (and, as with any assertion, advanced) through the CA
    /// `source` names; `None` for tokens without one (PIV).
    fn signature_counter(
        self: Box<Self>,
        source: &CaSource,
        expected: Option<&PublicKey>,
        ui: &mut dyn Ui,
    ) -> Result<Option<u64>>;
    /// Binds a signer to the CA `source` names (`expected` is its public key, when known).
    fn find_ca(
        self: Box<Self>,
        source: &CaSource,
        expected: Option<&PublicKey>,
        ui: &mut dyn Ui,
    ) -> Result<Box<dyn CaSigner>>;
}

/// Opens the token for `choice`; with an `expected` CA, its type picks the backend when none is
/// given (an sk key is a FIDO2 CA, a plain ecdsa key a PIV CA). Never falls back to the simulator.
pub fn open(
    choice: BackendChoice,
    device: Option<&str>,
    expected: Option<(&Path, &PublicKey)>,
) -> Result<Box<dyn Token>> {
    if let Some((path, k)) = expected {
        let piv_ca = k.key_data().is_ecdsa();
        match (piv_ca, choice.0) {
            (true, None | Some(Backend::Piv)) => return open_piv(device),
            (true, Some(b)) => {
                return Err(Error::CaFile {
                    path: path.to_path_buf(),
                    reason: format!("is a PIV (ecdsa-sha2-nistp256) CA; the {b} backend holds FIDO2 CAs only (use --backend piv)"),
                })
            }
            (false, Some(Backend::Piv)) => {
                return Err(Error::CaFile {
                    path: path.to_path_buf(),
                    reason: "is a FIDO2 (sk-ecdsa) CA; --backend piv signs with PIV (ecdsa-sha2-nistp256) CAs".into(),
                })
            }
            (false, _) => {}
        }
    }
    if choice.0 == Some(Backend::Piv) {
        return open_piv(device);
    }
    let fp_hint = expected.map(|(_, k)| k.fingerprint(HashAlg::Sha256).to_string());
    let auth = select::open_authenticator(choice, fp_hint.as_deref(), device)?;
    Ok(Box::new(SkToken { auth, probed: None }))
}

/// A FIDO2-style token (a real key or the simulator): the CA is a resident credential.
struct SkToken {
    auth: Box<dyn Authenticator>,
    /// The signature counter a silent assertion read while finding the CA, if one did.
    probed: Option<u32>,
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

/// Parses `--device` as a YubiKey serial for the PIV backend.
fn piv_serial(device: Option<&str>) -> Result<Option<u32>> {
    device
        .map(|d| {
            d.parse::<u32>()
                .map_err(|_| Error::DeviceNotSerial(d.to_string()))
        })
        .transpose()
}

#[cfg(feature = "piv")]
fn open_piv(device: Option<&str>) -> Result<Box<dyn Token>> {
    Ok(Box::new(super::piv_ca::PivToken::new(piv_serial(device)?)))
}

#[cfg(not(feature = "piv"))]
fn open_piv(device: Option<&str>) -> Result<Box<dyn Token>> {
    piv_serial(device)?;
    Err(super::TokenError::BackendUnavailable("piv".into()).into())
}
