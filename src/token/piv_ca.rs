//! The PIV flavour of the CA: a plain `ecdsa-sha2-nistp256` key in a YubiKey PIV slot (touch
//! policy always, PIN policy once). The signature is ECDSA over SHA-256(to-be-signed), computed
//! by the card from the digest we send; the CA file beside the `.pub` is a small reference
//! naming serial and slot (no secret).

use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PublicKey, Signature};

use super::piv::{self, PivError};
use super::{CaSigner, TokenError};
use crate::ui::Ui;
use crate::{fido, Error, Result};

pub use crate::keyfile::PivReference;

/// Turns a PIV failure into our token error, keeping its sentence and next step.
pub fn piv_err(e: PivError) -> TokenError {
    let kind = match &e {
        PivError::NoPcscd => "no-pcscd",
        PivError::NoReader => "no-reader",
        PivError::NoYubiKey => "no-device",
        PivError::SeveralYubiKeys(_) => "several-devices",
        PivError::WrongPin { .. } => "pin-invalid",
        PivError::PinBlocked => "pin-blocked",
        PivError::SlotEmpty { .. } => "slot-empty",
        PivError::SlotOccupied { .. } => "slot-occupied",
        PivError::TouchTimeout => "touch-timeout",
        PivError::ManagementKey(_) => "management-key",
        PivError::Other(_) => "piv-error",
    };
    let message = e.to_string().trim_end_matches('.').to_string();
    TokenError::Hardware {
        kind,
        message,
        hint: e.hint(),
    }
}

/// The OpenSSH public key of a PIV CA point.
pub fn public_key(point: &[u8; 65], comment: &str) -> Result<PublicKey> {
    match EcdsaPublicKey::from_sec1_bytes(point) {
        Ok(k @ EcdsaPublicKey::NistP256(_)) => Ok(PublicKey::new(KeyData::Ecdsa(k), comment)),
        _ => Err(TokenError::BadAnswer("the PIV slot's key is not a P-256 point".into()).into()),
    }
}

/// Creates the CA key in `slot` of the YubiKey (`serial` when several), after the PIN.
pub fn generate(serial: Option<u32>, slot: u8, force: bool, ui: &mut dyn Ui) -> Result<piv::PivCa> {
    let pin = ui.pin("Enter the PIV PIN of the YubiKey: ")?;
    let mut warnings = Vec::new();
    let ca = piv::generate(serial, slot, pin.as_bytes(), force, &mut |m: &str| {
        warnings.push(m.to_string())
    })
    .map_err(piv_err)?;
    for w in warnings {
        ui.note(&format!("warning: {w}"));
    }
    Ok(ca)
}

/// Finds the YubiKey slot holding `expected` (the reference narrows it to a serial and slot).
pub fn find(expected: &PublicKey, reference: Option<&PivReference>) -> Result<(u32, u8)> {
    let KeyData::Ecdsa(EcdsaPublicKey::NistP256(point)) = expected.key_data() else {
        return Err(Error::Usage(
            "a PIV CA is an ecdsa-sha2-nistp256 key".into(),
        ));
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
            self.pin = Some(ui.pin(&format!("Enter the PIV PIN of YubiKey {}: ", self.serial))?);
        }
        let pin = self.pin.as_ref().map(|p| p.as_bytes()).unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(msg).into();
        ui.touch_prompt(&format!(
            "Touch your YubiKey (serial {}) to sign with CA {}.",
            self.serial,
            self.public.fingerprint(HashAlg::Sha256)
        ));
        let der = piv::sign_digest(Some(self.serial), self.slot, pin, &digest).map_err(piv_err)?;
        let mpints = fido::der_to_mpints(&der).map_err(|e| TokenError::BadAnswer(e.to_string()))?;
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
