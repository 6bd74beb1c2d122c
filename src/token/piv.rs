//! The `piv` backend's hardware side: a P-256 CA key in a YubiKey PIV slot, reached through
//! `yubikey` → PC/SC → pcscd. Every crate error is turned into a [`PivError`] that says what
//! happened and, through [`PivError::hint`], what to do next.

use yubikey::piv::{self, AlgorithmId, SlotAlgorithmId, SlotId};
use yubikey::{MgmKey, PinPolicy, TouchPolicy, YubiKey};

use super::piv_slot;
use crate::diagnostic::{Diagnostic, FAILURE};

/// The CA key as created on the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PivCa {
    /// Serial of the YubiKey holding the key.
    pub serial: u32,
    /// PIV slot (e.g. `0x82`).
    pub slot: u8,
    /// Uncompressed SEC1 P-256 point (`04 ‖ X ‖ Y`).
    pub point: [u8; 65],
}

/// One YubiKey as `list` sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PivKeyInfo {
    /// Serial number.
    pub serial: u32,
    /// Firmware version (major, minor, patch).
    pub version: (u8, u8, u8),
    /// PC/SC reader name.
    pub reader: String,
    /// PIN tries left (0 = blocked).
    pub pin_tries_left: u8,
    /// Occupied retired slots (`0x82`–`0x95`) holding P-256 keys, with their points.
    pub slots: Vec<(u8, [u8; 65])>,
}

/// Why a PIV operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PivError {
    /// libpcsclite is opened on the first PIV use (vendor/pcsc-sys): here it is missing or
    /// unusable (the loader's reason).
    #[error("the PC/SC library {lib}, which YubiKey PIV needs, cannot be loaded ({0})", lib = pcsc_sys::LIBRARY)]
    NoPcscLibrary(String),
    #[error("the PC/SC service (pcscd) is not running")]
    NoPcscd,
    #[error("no smart card reader is connected")]
    NoReader,
    #[error("no YubiKey with the PIV application was found")]
    NoYubiKey,
    #[error("several YubiKeys are connected (serials {})", list_serials(.0))]
    SeveralYubiKeys(Vec<u32>),
    #[error("wrong PIN; {tries_left} tries left before the YubiKey blocks its PIN")]
    WrongPin { tries_left: u8 },
    #[error("the YubiKey's PIN is blocked")]
    PinBlocked,
    #[error("PIV slot {slot:02x} holds no key")]
    SlotEmpty { slot: u8 },
    #[error("PIV slot {slot:02x} already holds a key")]
    SlotOccupied { slot: u8 },
    #[error("the YubiKey was not touched in time (or the touch was refused)")]
    TouchTimeout,
    #[error("could not authenticate with the PIV management key: {0}")]
    ManagementKey(String),
    #[error("YubiKey PIV operation failed: {0}")]
    Other(String),
}

fn list_serials(s: &[u32]) -> String {
    s.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// Maps the crate's errors that can happen anywhere (PC/SC level, PIN).
fn map_err(e: yubikey::Error) -> PivError {
    use yubikey::Error as E;
    match e {
        E::PcscError { inner: Some(p) } => map_pcsc(p),
        E::PcscError { inner: None } => PivError::Other("PC/SC error (several YubiKeys?)".into()),
        E::WrongPin { tries: 0 } | E::PinLocked => PivError::PinBlocked,
        E::WrongPin { tries } => PivError::WrongPin { tries_left: tries },
        E::NotFound => PivError::NoYubiKey,
        other => PivError::Other(other.to_string()),
    }
}

fn map_pcsc(p: pcsc::Error) -> PivError {
    use pcsc::Error as P;
    match p {
        P::NoService | P::ServiceStopped => PivError::NoPcscd,
        P::NoReadersAvailable | P::UnknownReader | P::ReaderUnavailable => PivError::NoReader,
        P::NoSmartcard | P::RemovedCard => PivError::NoYubiKey,
        other => PivError::Other(format!("PC/SC error: {other}")),
    }
}

/// Opens the PC/SC library if no PIV call has yet (it is not linked: a machine without it runs
/// every other backend); where it cannot be loaded, says so.
pub fn pcsc_library() -> Result<(), PivError> {
    pcsc_sys::load().map_err(|e| PivError::NoPcscLibrary(e.to_string()))
}

/// Every YubiKey reachable through PC/SC, each opened.
fn open_all() -> Result<Vec<YubiKey>, PivError> {
    pcsc_library()?;
    let mut ctx = yubikey::reader::Context::open().map_err(map_err)?;
    let readers: Vec<_> = match ctx.iter() {
        Ok(r) => r.collect(),
        Err(e) => return Err(map_err(e)),
    };
    if readers.is_empty() {
        return Err(PivError::NoReader);
    }
    Ok(readers.iter().filter_map(|r| r.open().ok()).collect())
}

/// Opens the YubiKey with `serial`, or the only one connected.
fn open(serial: Option<u32>) -> Result<YubiKey, PivError> {
    let mut keys = open_all()?;
    match serial {
        Some(s) => keys
            .into_iter()
            .find(|k| k.serial().0 == s)
            .ok_or(PivError::NoYubiKey),
        None => match keys.len() {
            0 => Err(PivError::NoYubiKey),
            1 => Ok(keys.remove(0)),
            _ => {
                let mut serials: Vec<u32> = keys.iter().map(|k| k.serial().0).collect();
                serials.sort_unstable();
                for k in keys {
                    // Leave the other keys' state alone (no reset).
                    let _ = k.disconnect(pcsc::Disposition::LeaveCard);
                }
                Err(PivError::SeveralYubiKeys(serials))
            }
        },
    }
}

fn slot_id(slot: u8) -> Result<SlotId, PivError> {
    match SlotId::try_from(slot) {
        Ok(s) if piv_slot::is_key_slot(slot) => Ok(s),
        _ => Err(PivError::Other(format!("{slot:02x} is not a PIV key slot"))),
    }
}

fn verify_pin(yk: &mut YubiKey, pin: &[u8]) -> Result<(), PivError> {
    if pin.is_empty() || pin.len() > 8 {
        return Err(PivError::Other("a PIV PIN has 6 to 8 characters".into()));
    }
    yk.verify_pin(pin).map_err(map_err)
}

/// Checks `pin` against the YubiKey with `serial` (or the only one connected) and nothing else:
/// a right PIN costs nothing, a wrong one a try (the error says how many are left). Lets the
/// caller ask again before any touch is requested.
pub fn check_pin(serial: Option<u32>, pin: &[u8]) -> Result<(), PivError> {
    let mut yk = open(serial)?;
    verify_pin(&mut yk, pin)
}

/// The slot's P-256 point, `Ok(None)` when the slot is empty.
fn slot_point(yk: &mut YubiKey, slot: SlotId) -> Result<Option<[u8; 65]>, PivError> {
    match piv::metadata(yk, slot) {
        Ok(m) => {
            if m.algorithm != SlotAlgorithmId::Asymmetric(AlgorithmId::EccP256) {
                return Err(PivError::Other(format!(
                    "slot {:02x} holds a {:?} key, not P-256",
                    u8::from(slot),
                    m.algorithm
                )));
            }
            let spki = m
                .public
                .ok_or_else(|| PivError::Other("the slot's metadata has no public key".into()))?;
            point_from_bits(spki.subject_public_key.raw_bytes()).map(Some)
        }
        Err(yubikey::Error::NotFound) => Ok(None),
        Err(yubikey::Error::NotSupported) => Err(PivError::Other(
            "this YubiKey's firmware cannot report slot contents (GET METADATA needs 5.3 or later)"
                .into(),
        )),
        Err(e) => Err(map_err(e)),
    }
}

fn point_from_bits(b: &[u8]) -> Result<[u8; 65], PivError> {
    b.try_into()
        .ok()
        .filter(|p: &[u8; 65]| p[0] == 0x04)
        .ok_or_else(|| PivError::Other("the public key is not an uncompressed P-256 point".into()))
}

/// The YubiKeys connected, with their PIN tries and occupied retired slots.
pub fn list() -> Result<Vec<PivKeyInfo>, PivError> {
    let mut out = Vec::new();
    for mut yk in open_all()? {
        let v = yk.version();
        let pin_tries_left = yk.get_pin_retries().map_err(map_err)?;
        let mut slots = Vec::new();
        for slot in piv_slot::RETIRED {
            let id = slot_id(slot)?;
            match piv::metadata(&mut yk, id) {
                Ok(m) if m.algorithm == SlotAlgorithmId::Asymmetric(AlgorithmId::EccP256) => {
                    if let Some(p) = m
                        .public
                        .and_then(|s| point_from_bits(s.subject_public_key.raw_bytes()).ok())
                    {
                        slots.push((slot, p));
                    }
                }
                Ok(_) | Err(yubikey::Error::NotFound) => {}
                // Older firmware: no metadata; nothing to list.
                Err(yubikey::Error::NotSupported) => break,
                Err(e) => return Err(map_err(e)),
            }
        }
        out.push(PivKeyInfo {
            serial: yk.serial().0,
            version: (v.major, v.minor, v.patch),
            reader: yk.name().to_string(),
            pin_tries_left,
            slots,
        });
    }
    out.sort_by_key(|k| k.serial);
    Ok(out)
}

/// Creates the CA key: P-256 in `slot`, PIN policy once, touch policy always.
///
/// Authenticates with the PIN-protected management key when the YubiKey has one, else with the
/// factory default (and says so through `warn`). An occupied slot is refused unless `force`.
pub fn generate(
    serial: Option<u32>,
    slot: u8,
    pin: &[u8],
    force: bool,
    warn: &mut dyn FnMut(&str),
) -> Result<PivCa, PivError> {
    let id = slot_id(slot)?;
    let mut yk = open(serial)?;
    verify_pin(&mut yk, pin)?;
    if slot_point(&mut yk, id)?.is_some() && !force {
        return Err(PivError::SlotOccupied { slot });
    }
    let mgm = match MgmKey::get_protected(&mut yk) {
        Ok(k) => k,
        Err(yubikey::Error::NotFound) => {
            warn("this YubiKey uses the factory default PIV management key; the default management key should be changed (`ykman piv access change-management-key --protect`).");
            MgmKey::get_default(&yk).map_err(|e| PivError::ManagementKey(e.to_string()))?
        }
        Err(e @ yubikey::Error::PcscError { .. }) => return Err(map_err(e)),
        Err(e) => {
            return Err(PivError::ManagementKey(format!(
                "cannot read the PIN-protected key ({e})"
            )))
        }
    };
    yk.authenticate(&mgm).map_err(|e| match e {
        yubikey::Error::AuthenticationError => PivError::ManagementKey(
            "the YubiKey refused it (the key is neither PIN-protected nor the default)".into(),
        ),
        e @ yubikey::Error::PcscError { .. } => map_err(e),
        e => PivError::ManagementKey(e.to_string()),
    })?;
    let spki = piv::generate(
        &mut yk,
        id,
        AlgorithmId::EccP256,
        PinPolicy::Once,
        TouchPolicy::Always,
    )
    .map_err(|e| match e {
        yubikey::Error::AuthenticationError => {
            PivError::ManagementKey("key generation was refused".into())
        }
        e => map_err(e),
    })?;
    let point = point_from_bits(spki.subject_public_key.raw_bytes())?;
    Ok(PivCa {
        serial: yk.serial().0,
        slot,
        point,
    })
}

/// The slot's attestation (ATTESTATION.md §3.1): the certificate INS F9 makes for the key in
/// `slot`, and the device's f9 certificate (object 5FFF01, tag 70 of its answer), both DER as
/// the card sent them. A YubiKey refuses F9 for an imported key: that refusal is the error.
pub fn attest(serial: Option<u32>, slot: u8) -> Result<(Vec<u8>, Vec<u8>), PivError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let id = slot_id(slot)?;
    let mut yk = open(serial)?;
    // yubikey 0.9.0-rc.0 indexes the answer's first byte: an empty success must not panic.
    let slot_cert = catch_unwind(AssertUnwindSafe(|| piv::attest(&mut yk, id)))
        .map_err(|_| PivError::Other("the YubiKey answered ATTEST with nothing".into()))?
        .map_err(|e| match e {
            yubikey::Error::NotSupported => PivError::Other(
                "this YubiKey cannot attest PIV keys (ATTEST needs firmware 4.3 or later)".into(),
            ),
            yubikey::Error::GenericError => PivError::Other(format!(
                "the YubiKey refused to attest slot {slot:02x} (a key imported into the slot cannot be attested)"
            )),
            e => map_err(e),
        })?
        .to_vec();
    let object = yk.fetch_object(0x005f_ff01).map_err(|e| match e {
        yubikey::Error::NotFound => {
            PivError::Other("the YubiKey holds no attestation (f9) certificate".into())
        }
        e => map_err(e),
    })?;
    let f9 = cert_in_object(&object).ok_or_else(|| {
        PivError::Other("the YubiKey's attestation (f9) certificate object is malformed".into())
    })?;
    Ok((slot_cert, f9))
}

/// The value of tag 70 (the certificate) in a PIV certificate object's content.
fn cert_in_object(object: &[u8]) -> Option<Vec<u8>> {
    let (&tag, rest) = object.split_first()?;
    if tag != 0x70 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n @ 0..=0x7f => (usize::from(n), rest),
        0x81 => (usize::from(*rest.first()?), rest.get(1..)?),
        0x82 => (
            usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
            rest.get(2..)?,
        ),
        _ => return None,
    };
    rest.get(..len).map(<[u8]>::to_vec)
}

/// Signs a SHA-256 digest with the key in `slot`; returns the DER ECDSA signature, checked
/// against the slot's public key before it is returned.
pub fn sign_digest(
    serial: Option<u32>,
    slot: u8,
    pin: &[u8],
    digest: &[u8; 32],
) -> Result<Vec<u8>, PivError> {
    let id = slot_id(slot)?;
    let mut yk = open(serial)?;
    verify_pin(&mut yk, pin)?;
    let point = slot_point(&mut yk, id)?.ok_or(PivError::SlotEmpty { slot })?;
    let der = piv::sign_data(&mut yk, digest, AlgorithmId::EccP256, id).map_err(|e| match e {
        // The PIN was verified just before, so "security status not satisfied" here is the
        // touch policy: the YubiKey was not touched in time.
        yubikey::Error::AuthenticationError => PivError::TouchTimeout,
        e => map_err(e),
    })?;
    verify_der(&point, digest, &der)?;
    Ok(der.to_vec())
}

/// Checks a DER ECDSA P-256 signature over a prehashed digest.
pub fn verify_der(point: &[u8; 65], digest: &[u8; 32], der: &[u8]) -> Result<(), PivError> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
        .map_err(|_| PivError::Other("the slot's public key is not a valid P-256 point".into()))?;
    let sig = p256::ecdsa::Signature::from_der(der)
        .map_err(|_| PivError::Other("the YubiKey returned a malformed signature".into()))?;
    vk.verify_prehash(digest, &sig).map_err(|_| {
        PivError::Other("the YubiKey's signature does not verify with the slot's key".into())
    })
}

impl Diagnostic for PivError {
    /// Short machine-readable kind.
    fn kind(&self) -> &'static str {
        match self {
            PivError::NoPcscLibrary(_) => "no-pcsc-library",
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
        }
    }

    /// What the user should do next.
    fn hint(&self) -> String {
        match self {
            PivError::NoPcscLibrary(_) => "Install it (`sudo apt install libpcsclite1 pcscd`) and run the command again; FIDO2 keys and the simulator work without it.".into(),
            PivError::NoPcscd => "Start pcscd (e.g. `sudo systemctl start pcscd.socket`) and run the command again.".into(),
            PivError::NoReader => "Insert the YubiKey that holds the CA and run the command again.".into(),
            PivError::NoYubiKey => "Insert the YubiKey that holds the CA (with PIV enabled) and run the command again.".into(),
            PivError::SeveralYubiKeys(s) => format!(
                "Pick one with --device SERIAL (one of {}), or unplug the others.",
                list_serials(s)
            ),
            PivError::WrongPin { .. } => "Run the command again with the right PIV PIN; it blocks after 3 wrong tries in total.".into(),
            PivError::PinBlocked => "Unblock the PIN with the PUK (`ykman piv access unblock-pin`), then run the command again.".into(),
            PivError::SlotEmpty { slot } => format!(
                "Create the CA first with `breakglass init-ca --backend piv --slot {slot:02x}`, or pick the slot that holds it."
            ),
            PivError::SlotOccupied { .. } => "Pick another slot with --slot, or use --force to replace the key (the old CA is then lost).".into(),
            PivError::TouchTimeout => "Run the command again and touch the YubiKey when it blinks.".into(),
            PivError::ManagementKey(_) => "Make the management key PIN-protected (`ykman piv access change-management-key --protect`) or reset it to the default, then run the command again.".into(),
            PivError::Other(_) => "Re-insert the YubiKey and run the command again; `breakglass doctor` checks the setup.".into(),
        }
    }

    /// Always [`FAILURE`]: the card, its reader or pcscd, never the command line.
    fn exit_code(&self) -> u8 {
        match self {
            PivError::NoPcscLibrary(_)
            | PivError::NoPcscd
            | PivError::NoReader
            | PivError::NoYubiKey
            | PivError::SeveralYubiKeys(_)
            | PivError::WrongPin { .. }
            | PivError::PinBlocked
            | PivError::SlotEmpty { .. }
            | PivError::SlotOccupied { .. }
            | PivError::TouchTimeout
            | PivError::ManagementKey(_)
            | PivError::Other(_) => FAILURE,
        }
    }
}
