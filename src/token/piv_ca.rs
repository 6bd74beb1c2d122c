//! The PIV flavour of the CA: a plain `ecdsa-sha2-nistp256` key in a YubiKey PIV slot (touch
//! policy always, PIN policy once). The signature is ECDSA over SHA-256(to-be-signed), computed
//! by the card from the digest we send; the CA file beside the `.pub` is a small reference
//! naming serial and slot (no secret).

use crate::diagnostic::Diagnostic;
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PublicKey, Signature};

use super::listing::{Inventory, ListedCa, ListedKey};
use super::piv::{self, PivError};
use super::piv_slot;
use super::select::Backend;
use super::{Birth, CaHandle, CaSource, EnrollRequest, NewCa, Token};
use super::{CaSigner, TokenError};
use crate::attest::{Container, PivEvidence};
use crate::ui::{PinPrompt, Ui};
use crate::{ssh::sk, Error, Result};

pub use crate::ssh::keyfile::PivReference;

/// Turns a PIV failure into our token error (kept whole, as its source).
pub fn piv_err(e: PivError) -> TokenError {
    TokenError::Piv(e)
}

/// The OpenSSH public key of a PIV CA point.
pub fn public_key(point: &[u8; 65], comment: &str) -> Result<PublicKey> {
    match EcdsaPublicKey::from_sec1_bytes(point) {
        Ok(k @ EcdsaPublicKey::NistP256(_)) => Ok(PublicKey::new(KeyData::Ecdsa(k), comment)),
        _ => Err(TokenError::BadAnswer("the PIV slot's key is not a P-256 point".into()).into()),
    }
}

/// PIV PINs block after this many wrong tries (YubiKey default).
const PIV_PIN_RETRIES_MAX: u8 = 3;

/// The PIN prompt for a YubiKey, with the tries left when fewer than the maximum (as FIDO2's).
fn pin_prompt(serial: Option<u32>) -> PinPrompt {
    let keys = piv::list().unwrap_or_default();
    let key = keys.iter().find(|k| serial.is_none_or(|s| s == k.serial));
    PinPrompt {
        device: match key.map(|k| k.serial).or(serial) {
            Some(s) => format!("YubiKey {s} (PIV)"),
            None => "the YubiKey (PIV)".into(),
        },
        tries_left: key
            .map(|k| k.pin_tries_left)
            .filter(|t| *t < PIV_PIN_RETRIES_MAX),
    }
}

/// The shortest PIV PIN (a YubiKey PIV PIN is 6 to 8 characters).
pub const PIV_PIN_MIN: usize = 6;

/// Asks for the PIV PIN; a PIN shorter than [`PIV_PIN_MIN`] never reaches the card.
fn ask_pin(serial: Option<u32>, ui: &mut dyn Ui) -> Result<crate::token::ctap::Pin> {
    match crate::ui::ask_pin(ui, &pin_prompt(serial), PIV_PIN_MIN) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(TokenError::PinNeeded.into()),
        Err(min) => Err(TokenError::PinTooShort { min }.into()),
    }
}

/// Asks for the PIV PIN until the YubiKey accepts it: a wrong PIN is asked for again, with the
/// tries left, while a person is there to retype it and the card still takes a try (as
/// ssh-keygen and yubikey-agent do); the last try's failure, a blocked PIN or a PIN given
/// without a person (`BREAKGLASS_PIN`) ends the command with the card's own error.
fn verified_pin(serial: Option<u32>, ui: &mut dyn Ui) -> Result<crate::token::ctap::Pin> {
    // Without the PC/SC library no PIN is asked for: it could not reach the card.
    piv::pcsc_library().map_err(piv_err)?;
    loop {
        let pin = ask_pin(serial, ui)?;
        match piv::check_pin(serial, pin.as_bytes()) {
            Ok(()) => return Ok(pin),
            Err(PivError::WrongPin { tries_left }) if tries_left > 0 && ui.can_ask_again() => {
                ui.note(&crate::ui::wrong_pin_note(tries_left));
            }
            Err(e) => return Err(piv_err(e).into()),
        }
    }
}

/// Creates the CA key in `slot` of the YubiKey (`serial` when several), after the PIN.
pub fn generate(serial: Option<u32>, slot: u8, force: bool, ui: &mut dyn Ui) -> Result<piv::PivCa> {
    let pin = verified_pin(serial, ui)?;
    let mut warnings = Vec::new();
    let ca = piv::generate(serial, slot, pin.as_bytes(), force, &mut |m: &str| {
        warnings.push(m.to_string())
    })
    .map_err(piv_err)?;
    for w in warnings {
        ui.warning(&w);
    }
    Ok(ca)
}

/// Finds the YubiKey slot holding `expected` (the reference narrows it to a serial and slot).
pub fn find(expected: &PublicKey, reference: Option<&PivReference>) -> Result<(u32, u8)> {
    let KeyData::Ecdsa(EcdsaPublicKey::NistP256(point)) = expected.key_data() else {
        return Err(Error::CaFile {
            path: "(--ca)".into(),
            reason: "is not a PIV CA (an ecdsa-sha2-nistp256 key)".into(),
        });
    };
    let keys = piv::list().map_err(piv_err)?;
    for k in &keys {
        if reference.is_some_and(|r| r.serial != k.serial) {
            continue;
        }
        for (slot, p) in &k.slots {
            if p.as_slice() == point.as_bytes() {
                return Ok((k.serial, *slot));
            }
        }
    }
    let fp = expected.fingerprint(HashAlg::Sha256).to_string();
    Err(TokenError::NoDevice {
        backend: "PIV".into(),
        hint: match (reference, keys.is_empty()) {
            (Some(r), _) => format!(
                "Insert the YubiKey {} that holds the CA ({fp}) in slot {:02x} and run again.",
                r.serial, r.slot
            ),
            (None, _) => format!("Insert the YubiKey that holds the CA ({fp}) and run again."),
        },
    }
    .into())
}

/// Asks the YubiKey holding the PIV CA `expected` to attest its slot (the reference file beside
/// `ca_file`, or `serial`, narrows the search): serial, slot and the evidence for `CA.attest`.
pub fn attest(
    expected: &PublicKey,
    ca_file: &std::path::Path,
    serial: Option<u32>,
) -> Result<(u32, u8, Container)> {
    let mut reference = PivReference::beside(ca_file);
    if let Some(serial) = serial {
        reference = Some(PivReference {
            serial,
            slot: reference.map(|r| r.slot).unwrap_or(piv_slot::DEFAULT),
        });
    }
    let (serial, slot) = find(expected, reference.as_ref())?;
    let evidence = slot_attestation(serial, slot).map_err(piv_err)?;
    Ok((serial, slot, evidence))
}

/// The attestation of `slot` on YubiKey `serial` (INS F9 and the f9 certificate), as
/// `CA.attest` holds it: for `ca attest` and at the CA's birth.
fn slot_attestation(serial: u32, slot: u8) -> std::result::Result<Container, PivError> {
    let (slot_certificate, f9_certificate) = piv::attest(Some(serial), slot)?;
    Ok(Container::Piv(PivEvidence {
        slot,
        slot_certificate,
        f9_certificate,
    }))
}

/// A CA signer over a YubiKey PIV slot.
pub struct PivCaSigner {
    serial: u32,
    slot: u8,
    public: PublicKey,
    pin: Option<crate::token::ctap::Pin>,
}

impl PivCaSigner {
    /// Binds the CA `public` in `slot` of YubiKey `serial`.
    pub fn new(serial: u32, slot: u8, public: PublicKey) -> Self {
        PivCaSigner {
            serial,
            slot,
            public,
            pin: None,
        }
    }
}

impl CaSigner for PivCaSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        format!("YubiKey {} PIV slot {:02x}", self.serial, self.slot)
    }

    fn sign(&mut self, msg: &[u8], ui: &mut dyn Ui) -> Result<Signature> {
        use sha2::{Digest, Sha256};
        if self.pin.is_none() {
            self.pin = Some(verified_pin(Some(self.serial), ui)?);
        }
        let pin = self.pin.as_ref().map(|p| p.as_bytes()).unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(msg).into();
        ui.touch_prompt(&format!(
            "Touch your YubiKey (serial {}) to sign with CA {}.",
            self.serial,
            self.public.fingerprint(HashAlg::Sha256)
        ));
        let der = piv::sign_digest(Some(self.serial), self.slot, pin, &digest);
        ui.touch_done();
        let der = der.map_err(piv_err)?;
        let mpints = sk::der_to_mpints(&der).map_err(|e| TokenError::BadAnswer(e.to_string()))?;
        let sig = Signature::new(
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            mpints,
        )?;
        use signature::Verifier;
        self.public.key_data().verify(msg, &sig).map_err(|_| {
            TokenError::BadAnswer("the YubiKey's signature does not verify with the CA key".into())
        })?;
        Ok(sig)
    }
}

/// The PIV backend as a [`Token`]: a YubiKey (by serial, or the one connected).
pub struct PivToken {
    serial: Option<u32>,
}

impl PivToken {
    /// The YubiKey with `serial`, or the only one connected.
    pub fn new(serial: Option<u32>) -> Self {
        PivToken { serial }
    }
}

impl Token for PivToken {
    fn describe(&self) -> String {
        match self.serial {
            Some(s) => format!("YubiKey {s} (PIV)"),
            None => "YubiKey (PIV)".into(),
        }
    }

    fn is_simulated(&self) -> bool {
        false
    }

    fn enroll(&mut self, req: &EnrollRequest, ui: &mut dyn Ui) -> Result<NewCa> {
        if req.verify_required || req.application != "ssh:" {
            return Err(Error::FidoOnlyOptions);
        }
        let ca = generate(self.serial, req.slot, req.force, ui)?;
        let attestation = match slot_attestation(ca.serial, ca.slot) {
            Ok(evidence) => Birth::Attested(evidence),
            Err(e) => Birth::Unattested(e.to_string()),
        };
        Ok(NewCa {
            public: public_key(&ca.point, "")?.key_data().clone(),
            handle: CaHandle::Piv(PivReference {
                serial: ca.serial,
                slot: ca.slot,
            }),
            default_comment: format!(
                "breakglass PIV CA YubiKey {} slot {:02x}",
                ca.serial, ca.slot
            ),
            token: format!("YubiKey {} PIV slot {:02x}", ca.serial, ca.slot),
            replaced: None,
            counter: None,
            attestation,
        })
    }

    fn signature_counter(
        self: Box<Self>,
        _source: &CaSource,
        _expected: Option<&PublicKey>,
        _ui: &mut dyn Ui,
    ) -> Result<Option<u64>> {
        Ok(None) // PIV signatures carry no counter
    }

    fn find_ca(
        self: Box<Self>,
        source: &CaSource,
        expected: Option<&PublicKey>,
        _ui: &mut dyn Ui,
    ) -> Result<Box<dyn CaSigner>> {
        let (CaSource::File(path), Some(expected)) = (source, expected) else {
            return Err(Error::PivNeedsCaFile);
        };
        let mut reference = PivReference::beside(path);
        if let Some(serial) = self.serial {
            reference = Some(PivReference {
                serial,
                slot: reference.map(|r| r.slot).unwrap_or(piv_slot::DEFAULT),
            });
        }
        let (serial, slot) = find(expected, reference.as_ref())?;
        Ok(Box::new(PivCaSigner::new(serial, slot, expected.clone())))
    }
}

/// Every connected YubiKey for the inventory, with the P-256 keys in its retired slots; where
/// PC/SC cannot be used the problem says so (and, without the library, how to install it).
pub fn list(inv: &mut Inventory) {
    match piv::list() {
        Ok(keys) => {
            for k in keys {
                let cas = k
                    .slots
                    .iter()
                    .filter_map(|(slot, p)| {
                        let pk = public_key(p, "").ok()?;
                        Some(ListedCa {
                            location: format!("PIV slot {slot:02x}"),
                            key_type: "ECDSA".into(),
                            fingerprint: pk.fingerprint(HashAlg::Sha256).to_string(),
                            attestation: None,
                        })
                    })
                    .collect();
                inv.keys.push(ListedKey {
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
        Err(e @ PivError::NoPcscLibrary(_)) => inv.problems.push(format!("PIV: {e}. {}", e.hint())),
        Err(e) => inv.problems.push(format!("PIV: {e}")),
    }
}
