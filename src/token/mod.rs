//! Security keys behind one door. [`open`] gives a [`Token`] for the user's choice (or for the CA
//! a command names), and a token can [`Token::enroll`] a new CA or [`Token::find_ca`] an existing
//! one as a [`CaSigner`], which is all the certificate code sees; [`inventory()`] lists the keys
//! that are connected and the CAs on them. Nothing above this module names a backend.
//!
//! FIDO2-style tokens (a real key, the simulator) are [`sk_token`]'s, over the client logic of
//! [`sk_ca`] and the CTAP2-shaped [`ctap::Authenticator`] that [`sim`] and `fido2` implement;
//! the PIV backend lives in `piv_ca` over `piv`.
//!
//! Adding a backend: implement [`Token`] (and [`CaSigner`] for its signer) in a module of its
//! own, and add one arm to [`open`] and one to [`inventory()`].

pub mod ctap;
pub mod ctap_status;
pub mod error;
#[cfg(feature = "fido2")]
pub mod fido2;
pub mod listing;
#[cfg(feature = "piv")]
pub mod piv;
#[cfg(feature = "piv")]
pub mod piv_ca;
pub mod piv_slot;
pub mod select;
pub mod sim;
pub mod sim_counter;
pub mod sk_ca;
pub mod sk_token;

use std::path::{Path, PathBuf};

use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey, Signature};
use zeroize::Zeroizing;

pub use ctap_status::CtapStatus;
pub use error::TokenError;
pub use listing::{Inventory, ListedCa, ListedKey};
pub use select::{Backend, BackendChoice};
/// The simulated key's own controls (its PIN, re-plug, reset, state), for what manages the
/// practice key as such: the `sim` command, and the drill, which sets a PIN on its fresh key
/// before plugging it in.
pub use sim::{SimStatus, SimToken};

use crate::ssh::keyfile::{self, PivReference};
use crate::ui::Ui;
use crate::{Error, Result};
use sk_ca::ResidentCa;

/// A CA whose private key lives in a token: it can name its public key and sign.
pub trait CaSigner {
    /// The CA public key (what hosts put in `TrustedUserCAKeys`).
    fn public_key(&self) -> &PublicKey;
    /// Signs `msg` (a certificate's to-be-signed bytes). May prompt for touch/PIN through `ui`.
    fn sign(&mut self, msg: &[u8], ui: &mut dyn Ui) -> Result<Signature>;
    /// One line naming the token, e.g. `simulated key SIM-1A2B3C4D (SIMULATED)`.
    fn describe(&self) -> String;
}

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

    /// The CA file, for error messages (`(token)` for the token's own CA).
    pub fn label(&self) -> PathBuf {
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
            CaHandle::KeyHandle { ca, flags } => {
                keyfile::key_handle_file(ca.key_data()?, &ca.credential_id, *flags, comment)
            }
            CaHandle::Piv(r) => Ok(Zeroizing::new(r.to_text())),
        }
    }
}

/// What a token said about where a new CA was born.
#[derive(Debug, Clone)]
pub enum Birth {
    /// The key attested the new CA key: the evidence `init-ca` checks and keeps as `CA.attest`.
    Attested(crate::attest::Container),
    /// It gave no attestation worth keeping; why, for the user and the audit log.
    Unattested(String),
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
    /// The attestation captured at enrolment.
    pub attestation: Birth,
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
    Ok(Box::new(sk_token::SkToken::new(auth)))
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

/// The attestation of the PIV CA `expected` (in `ca_file`), made again by its YubiKey
/// (`--device` SERIAL when several): serial, slot and the evidence for `CA.attest`.
#[cfg(feature = "piv")]
pub fn attest_piv(
    expected: &PublicKey,
    ca_file: &Path,
    device: Option<&str>,
) -> Result<(u32, u8, crate::attest::Container)> {
    piv_ca::attest(expected, ca_file, piv_serial(device)?)
}

/// Without the `piv` feature there is no YubiKey to ask.
#[cfg(not(feature = "piv"))]
pub fn attest_piv(
    _expected: &PublicKey,
    _ca_file: &Path,
    device: Option<&str>,
) -> Result<(u32, u8, crate::attest::Container)> {
    piv_serial(device)?;
    Err(TokenError::BackendUnavailable("piv".into()).into())
}

#[cfg(feature = "piv")]
fn open_piv(device: Option<&str>) -> Result<Box<dyn Token>> {
    Ok(Box::new(piv_ca::PivToken::new(piv_serial(device)?)))
}

#[cfg(not(feature = "piv"))]
fn open_piv(device: Option<&str>) -> Result<Box<dyn Token>> {
    piv_serial(device)?;
    Err(TokenError::BackendUnavailable("piv".into()).into())
}

/// Lists the keys of `choice` (every hardware backend when none is given) and their CAs of every
/// `ssh:` application (or of `only`). A backend that cannot be searched is a problem in the inventory, not an error;
/// only an unusable simulated key (`--backend sim`) is.
pub fn inventory(choice: BackendChoice, only: Option<&str>, ui: &mut dyn Ui) -> Result<Inventory> {
    let mut inv = Inventory::new(choice);
    let all = choice.0.is_none();
    if choice.0 == Some(Backend::Sim) {
        inv.keys.push(sk_token::list_sim(only)?);
    }
    if all || choice.0 == Some(Backend::Fido2) {
        list_fido2(&mut inv, only, ui);
    }
    if all || choice.0 == Some(Backend::Piv) {
        list_piv(&mut inv);
    }
    Ok(inv)
}

#[cfg(feature = "fido2")]
fn list_fido2(inv: &mut Inventory, only: Option<&str>, ui: &mut dyn Ui) {
    sk_token::list_fido2(inv, only, ui);
}

#[cfg(not(feature = "fido2"))]
fn list_fido2(inv: &mut Inventory, _: Option<&str>, _: &mut dyn Ui) {
    inv.problems
        .push("FIDO2: this build has no FIDO2 backend".into());
}

#[cfg(feature = "piv")]
fn list_piv(inv: &mut Inventory) {
    piv_ca::list(inv);
}

#[cfg(not(feature = "piv"))]
fn list_piv(inv: &mut Inventory) {
    inv.problems
        .push("PIV: this build has no PIV backend".into());
}
