//! The simulated security key: a software CTAP2 authenticator with persistent state.
//!
//! Real cryptography (P-256 credentials, ECDSA over authenticatorData ‖ clientDataHash), a
//! persistent signature counter, resident credentials that replace each other per (rp id,
//! user id), a PIN with CTAP's retry rules (8 tries; 3 wrong in a row block until the key is
//! "re-plugged"; 0 blocks for good) and scripted touch (`BREAKGLASS_SIM_TOUCH`). State lives in
//! `token.json` in the state directory, 0600, rewritten atomically under a lock file, so the CLI
//! and OpenSSH (through the provider library) see one key; the signature counter, which every
//! assertion moves, is written in place beside it (`counter`, see [`super::sim_counter`]). It skips only CTAP's transport
//! encryption of the PIN (REFERENCE.md §5.4 allows that).
//!
//! Simplification, documented: credential management works without a PIN when none is set (a
//! real key insists on a PIN for it).

use std::path::{Path, PathBuf};

use p256::ecdsa::{Signature as P256Signature, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::ctap::{
    Assertion, Authenticator, GetAssertion, MadeCredential, MakeCredential, Pin,
    ResidentCredential, PIN_RETRIES_MAX,
};
use super::{sim_counter, TokenError};
use crate::{hex, ssh::sk};

mod attestation;
mod state;

pub use attestation::{root_path as attestation_root_path, ROOT_FILE as ATTESTATION_ROOT_FILE};

/// The most resident credentials the simulated key stores (a YubiKey 5 before 5.7 holds 25).
pub const MAX_RESIDENT: usize = 25;
/// CTAP's maximum PIN retry counter.
const STATE_FILE: &str = "token.json";
const LOCK_FILE: &str = "lock";
/// AAGUID of the simulated key (random, fixed; "breakglass sim").
pub const SIM_AAGUID: [u8; 16] = *b"breakglass-sim\x00\x01";

/// How a caller proves user verification to the simulated key.
#[derive(Clone, Copy)]
pub enum Verification<'a> {
    /// No PIN given.
    None,
    /// The PIN itself (the CLI and the provider library).
    Pin(&'a Pin),
    /// A pinUvAuthToken the key issued earlier in this power session and the caller has
    /// already checked (the virtual HID key, `breakglass-sim-hid`).
    Token,
}

impl<'a> Verification<'a> {
    fn from_pin(pin: Option<&'a Pin>) -> Self {
        pin.map_or(Verification::None, Verification::Pin)
    }
}

/// What the simulated user does when asked to touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Touches the key.
    Approve,
    /// Declines (CTAP2 OPERATION_DENIED).
    Deny,
    /// Never touches (CTAP2 USER_ACTION_TIMEOUT).
    Timeout,
}

impl Touch {
    /// Reads `BREAKGLASS_SIM_TOUCH` (default approve).
    pub fn from_env() -> Result<Self, TokenError> {
        match std::env::var("BREAKGLASS_SIM_TOUCH") {
            Err(_) => Ok(Touch::Approve),
            Ok(v) => match v.as_str() {
                "" | "approve" => Ok(Touch::Approve),
                "deny" => Ok(Touch::Deny),
                "timeout" => Ok(Touch::Timeout),
                other => Err(TokenError::BadTouchSetting(other.to_string())),
            },
        }
    }
}

/// Seconds the simulated person takes to touch (or to give up): `BREAKGLASS_SIM_TOUCH_WAIT`,
/// else 3 for `timeout` (so practice shows the wait a real key has) and 0 otherwise; at most 120.
pub fn touch_wait(touch: Touch) -> u64 {
    let default = if touch == Touch::Timeout { 3 } else { 0 };
    std::env::var("BREAKGLASS_SIM_TOUCH_WAIT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(default)
        .min(120)
}

#[derive(Serialize, Deserialize, Clone)]
struct PinState {
    /// LEFT(SHA-256(PIN), 16), hex — what a CTAP2 authenticator stores.
    hash: String,
    retries: u8,
}

#[derive(Serialize, Deserialize, Clone)]
struct Credential {
    rp_id: String,
    user_id: String,
    user_name: String,
    credential_id: String,
    private_key: Zeroizing<String>,
    cred_protect: u8,
    created: u64,
    /// False for a non-discoverable credential (`ssh-keygen -t ecdsa-sk` without `-O resident`).
    #[serde(default = "yes")]
    resident: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize, Deserialize, Clone)]
struct State {
    format: u32,
    serial: String,
    counter: u32,
    pin: Option<PinState>,
    /// Wrong PINs in a row in this "power session"; 3 blocks PIN use until re-plugged.
    consecutive_wrong: u8,
    credentials: Vec<Credential>,
    /// The key's attestation (batch key and certificates), made when it first attests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attestation: Option<attestation::SimAttestation>,
}

/// A summary of the simulated key for `breakglass sim status`.
#[derive(Debug, Clone, Serialize)]
pub struct SimStatus {
    /// State directory.
    pub dir: PathBuf,
    /// Serial number of the simulated key.
    pub serial: String,
    /// Signature counter.
    pub counter: u32,
    /// Whether a PIN is set.
    pub pin_set: bool,
    /// PIN retries left.
    pub pin_retries: Option<u8>,
    /// True when 3 wrong PINs in a row need a re-plug.
    pub needs_replug: bool,
    /// Resident credentials.
    pub credentials: Vec<SimCredentialInfo>,
}

/// One resident credential as `sim status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SimCredentialInfo {
    /// rp id (application).
    pub rp_id: String,
    /// user id, hex.
    pub user_id: String,
    /// credProtect level.
    pub cred_protect: u8,
    /// SEC1 point, for fingerprinting.
    #[serde(skip)]
    pub public_point: [u8; 65],
    /// Fingerprint of the SSH public key.
    pub fingerprint: String,
    /// Creation time.
    pub created: u64,
    /// Discoverable (resident), as `ssh-keygen -O resident` makes it.
    #[serde(skip)]
    pub resident: bool,
}

/// The simulated authenticator, bound to its state directory.
pub struct SimToken {
    dir: PathBuf,
    touch: Touch,
    state: State,
    /// Silent assertions write the counter without a barrier ([`Self::defer_silent_counter`]).
    defer_silent: bool,
    /// A counter value written without a barrier, not yet made durable by a later one.
    unsynced: bool,
}

fn state_err(dir: &Path, reason: impl Into<String>) -> TokenError {
    TokenError::SimState {
        path: dir.to_path_buf(),
        reason: reason.into(),
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // getrandom only fails on a broken OS; an all-zero value would then be caught by key checks.
    let _ = getrandom::fill(&mut b);
    b
}

fn new_signing_key() -> (SigningKey, Zeroizing<Vec<u8>>) {
    loop {
        let bytes = Zeroizing::new(random_bytes::<32>().to_vec());
        if let Ok(k) = SigningKey::from_slice(&bytes) {
            return (k, bytes);
        }
    }
}

fn point_of(key: &SigningKey) -> [u8; 65] {
    let ep = key.verifying_key().to_sec1_point(false);
    let mut out = [0u8; 65];
    out.copy_from_slice(ep.as_bytes());
    out
}

fn pin_hash(pin: &str) -> String {
    hex::encode(&Sha256::digest(pin.as_bytes())[..16])
}

/// Checks a new PIN against CTAP's policy: at least 4 code points, at most 63 bytes.
pub fn check_pin_policy(pin: &str) -> Result<(), TokenError> {
    if pin.chars().count() < 4 || pin.len() > 63 {
        return Err(TokenError::PinPolicy);
    }
    Ok(())
}

impl SimToken {
    /// Opens the simulated key in `dir`, creating a fresh one if the directory holds none.
    pub fn open(dir: &Path) -> Result<Self, TokenError> {
        let touch = Touch::from_env()?;
        let mut t = SimToken {
            dir: dir.to_path_buf(),
            touch,
            state: Self::blank(),
            defer_silent: false,
            unsynced: false,
        };
        t.with_lock(|_| Ok(()))?;
        Ok(t)
    }

    /// Opens an existing simulated key; `None` when `dir` holds none (nothing is created).
    pub fn open_existing(dir: &Path) -> Result<Option<Self>, TokenError> {
        if !dir.join(STATE_FILE).exists() {
            return Ok(None);
        }
        Self::open(dir).map(Some)
    }

    fn blank() -> State {
        let s: [u8; 4] = random_bytes();
        State {
            format: 1,
            serial: format!("SIM-{}", hex::encode(&s).to_uppercase()),
            counter: 0,
            pin: None,
            consecutive_wrong: 0,
            credentials: Vec::new(),
            attestation: None,
        }
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The simulated key's serial.
    pub fn serial(&self) -> &str {
        &self.state.serial
    }

    /// Lets an assertion without a touch write its counter with no barrier of its own
    /// ([`sim_counter::write_deferred`]); the next barrier makes it durable: the signature that
    /// follows (a mint's silent check that the key holds the CA, then the touch), or
    /// [`Authenticator::persist`], or dropping the key. For a caller that keeps the value of a
    /// silent assertion in its own memory until one of those (the CLI does): a mint then costs
    /// one counter barrier, not two. Without it (the provider library, the virtual HID key,
    /// whose answers leave the process at once) every assertion is durable before it returns.
    pub fn defer_silent_counter(&mut self) {
        self.defer_silent = true;
    }

    /// Verifies `pin` with CTAP's retry rules, mutating the counters in `state`.
    fn verify_pin(state: &mut State, pin: &str) -> Result<(), TokenError> {
        Self::verify_pin_hash_in(state, &pin_hash(pin))
    }

    /// Applies `v` to `state`: `Ok(true)` when the user is verified (PIN right or token).
    fn verify(state: &mut State, v: Verification<'_>) -> Result<bool, TokenError> {
        match v {
            Verification::None => Ok(false),
            Verification::Pin(p) => Self::verify_pin(state, p).map(|()| true),
            Verification::Token => Ok(true),
        }
    }

    /// Verifies LEFT(SHA-256(PIN), 16) — what CTAP's clientPIN sends (encrypted) — with the
    /// same retry rules as a PIN; the virtual HID key uses this.
    pub fn verify_pin_hash(&mut self, hash16: &[u8]) -> Result<(), TokenError> {
        let h = hex::encode(hash16);
        self.with_lock(|st| Self::verify_pin_hash_in(st, &h))
    }

    /// clientPIN changePIN: verifies the current PIN's hash (retry rules apply), then sets `new`.
    pub fn change_pin_with_hash(&mut self, hash16: &[u8], new: &Pin) -> Result<(), TokenError> {
        let h = hex::encode(hash16);
        self.with_lock(|st| Self::verify_pin_hash_in(st, &h))?;
        check_pin_policy(new)?;
        self.with_lock(|st| {
            st.pin = Some(PinState {
                hash: pin_hash(new),
                retries: PIN_RETRIES_MAX,
            });
            st.consecutive_wrong = 0;
            Ok(())
        })
    }

    fn verify_pin_hash_in(state: &mut State, hash_hex: &str) -> Result<(), TokenError> {
        let Some(p) = state.pin.as_mut() else {
            return Err(TokenError::PinNotSet);
        };
        if p.retries == 0 {
            return Err(TokenError::PinBlocked);
        }
        if state.consecutive_wrong >= 3 {
            return Err(TokenError::PinAuthBlocked { simulated: true });
        }
        p.retries -= 1; // decremented before comparing, as CTAP requires
        let good = constant_time_eq(p.hash.as_bytes(), hash_hex.as_bytes());
        if good {
            p.retries = PIN_RETRIES_MAX;
            state.consecutive_wrong = 0;
            return Ok(());
        }
        state.consecutive_wrong += 1;
        if p.retries == 0 {
            return Err(TokenError::PinBlocked);
        }
        if state.consecutive_wrong >= 3 {
            return Err(TokenError::PinAuthBlocked { simulated: true });
        }
        Err(TokenError::PinInvalid {
            tries_left: p.retries,
        })
    }

    /// The simulated person answers after [`touch_wait`] seconds, as a hand would.
    fn user_presence(&self) -> Result<(), TokenError> {
        let wait = touch_wait(self.touch);
        if wait > 0 {
            std::thread::sleep(std::time::Duration::from_secs(wait));
        }
        match self.touch {
            Touch::Approve => Ok(()),
            Touch::Deny => Err(TokenError::OperationDenied),
            Touch::Timeout => Err(TokenError::UserActionTimeout),
        }
    }

    /// Sets the first PIN, or changes it when `current` is given and right.
    pub fn set_pin(&mut self, current: Option<&Pin>, new: &Pin) -> Result<(), TokenError> {
        check_pin_policy(new)?;
        self.with_lock(|st| {
            if st.pin.is_some() {
                let cur = current.ok_or(TokenError::PinRequired)?;
                Self::verify_pin(st, cur)?;
            }
            st.pin = Some(PinState {
                hash: pin_hash(new),
                retries: PIN_RETRIES_MAX,
            });
            st.consecutive_wrong = 0;
            Ok(())
        })
    }

    /// "Unplugs and re-inserts" the key: clears the 3-wrong-PINs-in-a-row block.
    pub fn replug(&mut self) -> Result<(), TokenError> {
        self.with_lock(|st| {
            st.consecutive_wrong = 0;
            Ok(())
        })
    }

    /// authenticatorReset: erases every credential and the PIN (the CA is gone).
    pub fn reset(&mut self) -> Result<(), TokenError> {
        self.user_presence()?;
        self.with_lock(|st| {
            st.credentials.clear();
            st.pin = None;
            st.consecutive_wrong = 0;
            Ok(())
        })
    }

    /// The key's state for display.
    pub fn status(&mut self) -> Result<SimStatus, TokenError> {
        self.with_lock(|_| Ok(()))?;
        let st = &self.state;
        let mut credentials = Vec::new();
        for c in &st.credentials {
            let key = decode_key(&self.dir, &c.private_key)?;
            let point = point_of(&key);
            let fingerprint = sk::sk_public_key(&point, &c.rp_id)
                .map(|k| k.fingerprint(Default::default()).to_string())
                .unwrap_or_default();
            credentials.push(SimCredentialInfo {
                rp_id: c.rp_id.clone(),
                user_id: c.user_id.clone(),
                cred_protect: c.cred_protect,
                public_point: point,
                fingerprint,
                created: c.created,
                resident: c.resident,
            });
        }
        Ok(SimStatus {
            dir: self.dir.clone(),
            serial: st.serial.clone(),
            counter: st.counter,
            pin_set: st.pin.is_some(),
            pin_retries: st.pin.as_ref().map(|p| p.retries),
            needs_replug: st.consecutive_wrong >= 3,
            credentials,
        })
    }
}

fn decode_key(dir: &Path, hex_key: &str) -> Result<SigningKey, TokenError> {
    let bytes = Zeroizing::new(
        hex::decode(hex_key).ok_or_else(|| state_err(dir, "a credential key is not hex"))?,
    );
    SigningKey::from_slice(&bytes)
        .map_err(|_| state_err(dir, "a credential key is not a P-256 scalar"))
}

/// The secret scalar of a stored credential key, for signing only: unlike [`decode_key`] it does
/// not derive the public key (a scalar multiplication an assertion has no use for).
fn decode_scalar(dir: &Path, hex_key: &str) -> Result<p256::NonZeroScalar, TokenError> {
    let bytes = Zeroizing::new(
        hex::decode(hex_key).ok_or_else(|| state_err(dir, "a credential key is not hex"))?,
    );
    p256::NonZeroScalar::try_from(bytes.as_slice())
        .map_err(|_| state_err(dir, "a credential key is not a P-256 scalar"))
}

/// ECDSA P-256 with SHA-256 and RFC 6979 nonces over `msg`: what `SigningKey::sign` computes
/// (it calls the same function), from the scalar alone.
fn sign_with(d: &p256::NonZeroScalar, msg: &[u8]) -> P256Signature {
    ecdsa::hazmat::sign_prehashed_rfc6979::<p256::NistP256, Sha256>(d, &Sha256::digest(msg), &[]).0
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Drop for SimToken {
    fn drop(&mut self) {
        if self.unsynced {
            let _ = sim_counter::sync(&self.dir);
        }
    }
}

impl Authenticator for SimToken {
    fn describe(&self) -> String {
        format!("simulated key {} (SIMULATED)", self.state.serial)
    }

    fn persist(&mut self) -> Result<(), TokenError> {
        if self.unsynced {
            sim_counter::sync(&self.dir).map_err(|e| {
                state_err(&self.dir, format!("cannot save {}: {e}", sim_counter::FILE))
            })?;
            self.unsynced = false;
        }
        Ok(())
    }

    fn is_simulated(&self) -> bool {
        true
    }

    fn pin_is_set(&self) -> bool {
        self.state.pin.is_some()
    }

    fn pin_retries(&mut self) -> Result<Option<u8>, TokenError> {
        self.with_lock(|st| Ok(st.pin.as_ref().map(|p| p.retries)))
    }

    fn make_credential(
        &mut self,
        req: &MakeCredential,
        pin: Option<&Pin>,
    ) -> Result<MadeCredential, TokenError> {
        self.make_credential_with(req, Verification::from_pin(pin))
    }

    fn get_assertion(
        &mut self,
        req: &GetAssertion,
        pin: Option<&Pin>,
    ) -> Result<Assertion, TokenError> {
        self.get_assertion_with(req, Verification::from_pin(pin))
    }

    fn credentials(
        &mut self,
        rp_id: &str,
        pin: Option<&Pin>,
    ) -> Result<Vec<ResidentCredential>, TokenError> {
        self.credentials_with(rp_id, Verification::from_pin(pin))
    }

    fn resident_applications(&mut self, pin: Option<&Pin>) -> Result<Vec<String>, TokenError> {
        self.resident_rp_ids(pin)
    }
}

impl SimToken {
    /// makeCredential with any [`Verification`]. `cred_protect` 0 means "not requested": the
    /// authenticatorData then carries no extensions (a client that did not ask for credProtect
    /// must not get it back).
    pub fn make_credential_with(
        &mut self,
        req: &MakeCredential,
        v: Verification<'_>,
    ) -> Result<MadeCredential, TokenError> {
        let touch = self.user_presence();
        let dir = self.dir.clone();
        let made = self.with_lock(|st| {
            let mut flags = sk::FLAG_AT;
            if req.cred_protect > 0 {
                flags |= sk::FLAG_ED;
            }
            if st.pin.is_some() && matches!(v, Verification::None) {
                return Err(TokenError::PinRequired);
            }
            if Self::verify(st, v)? {
                flags |= sk::FLAG_UV;
            }
            touch?;
            flags |= sk::FLAG_UP;
            let user_id_hex = hex::encode(&req.user_id);
            let replaces = st.credentials.iter().position(|c| {
                c.resident && req.resident && c.rp_id == req.rp_id && c.user_id == user_id_hex
            });
            let resident_count = st.credentials.iter().filter(|c| c.resident).count();
            if req.resident && replaces.is_none() && resident_count >= MAX_RESIDENT {
                return Err(TokenError::KeyStoreFull);
            }
            let (key, key_bytes) = new_signing_key();
            let credential_id: [u8; 32] = random_bytes();
            st.counter = st.counter.wrapping_add(1);
            let point = point_of(&key);
            let mut auth_data = Sha256::digest(req.rp_id.as_bytes()).to_vec();
            auth_data.push(flags);
            auth_data.extend_from_slice(&st.counter.to_be_bytes());
            auth_data.extend_from_slice(&SIM_AAGUID);
            auth_data.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
            auth_data.extend_from_slice(&credential_id);
            auth_data.extend_from_slice(&sk::point_to_cose(&point));
            if req.cred_protect > 0 {
                // extensions: {"credProtect": n}
                auth_data.extend_from_slice(&[0xa1, 0x6b]);
                auth_data.extend_from_slice(b"credProtect");
                auth_data.push(req.cred_protect.min(23));
            }
            // Basic attestation by the key's own batch key (attestation.rs), as a YubiKey.
            if st.attestation.is_none() {
                st.attestation = Some(attestation::SimAttestation::generate(&dir, &st.serial)?);
            }
            let (att_sig, x5c) = match &st.attestation {
                Some(a) => a.sign(&dir, &auth_data, &req.client_data_hash)?,
                None => return Err(state_err(&dir, "it has no attestation key")),
            };
            {
                let cred = Credential {
                    rp_id: req.rp_id.clone(),
                    user_id: user_id_hex,
                    user_name: req.user_name.clone(),
                    credential_id: hex::encode(&credential_id),
                    private_key: Zeroizing::new(hex::encode(&key_bytes)),
                    cred_protect: req.cred_protect,
                    created: crate::clock::now(),
                    resident: req.resident,
                };
                match replaces {
                    Some(i) => st.credentials[i] = cred,
                    None => st.credentials.push(cred),
                }
            }
            Ok(MadeCredential {
                auth_data,
                fmt: "packed".into(),
                att_sig,
                x5c,
            })
        })?;
        if let Some(a) = &self.state.attestation {
            a.publish_root(&self.dir)?;
        }
        Ok(made)
    }

    /// getAssertion with any [`Verification`].
    pub fn get_assertion_with(
        &mut self,
        req: &GetAssertion,
        v: Verification<'_>,
    ) -> Result<Assertion, TokenError> {
        // Only an assertion that asks for presence waits for the (simulated) finger.
        let touch = if req.up { self.user_presence() } else { Ok(()) };
        let dir = self.dir.clone();
        let defer = self.defer_silent && !req.up;
        self.with_lock_deferring(defer, |st| {
            let mut flags = 0u8;
            if Self::verify(st, v)? {
                flags |= sk::FLAG_UV;
            }
            let uv = flags & sk::FLAG_UV != 0;
            let allow: Vec<String> = req.allow_list.iter().map(|id| hex::encode(id)).collect();
            let cred = st
                .credentials
                .iter()
                .filter(|c| c.rp_id == req.rp_id)
                .filter(|c| {
                    if allow.is_empty() {
                        c.resident
                    } else {
                        allow.contains(&c.credential_id)
                    }
                })
                .find(|c| match c.cred_protect {
                    3 => uv,
                    2 => uv || !allow.is_empty(),
                    _ => true,
                })
                .cloned()
                .ok_or(TokenError::NoCredentials)?;
            if req.up {
                touch?;
                flags |= sk::FLAG_UP;
            }
            let key = decode_scalar(&dir, &cred.private_key)?;
            st.counter = st.counter.wrapping_add(1);
            let mut auth_data = Sha256::digest(req.rp_id.as_bytes()).to_vec();
            auth_data.push(flags);
            auth_data.extend_from_slice(&st.counter.to_be_bytes());
            let mut signed = auth_data.clone();
            signed.extend_from_slice(&req.client_data_hash);
            let sig = sign_with(&key, &signed);
            let credential_id = hex::decode(&cred.credential_id)
                .ok_or_else(|| state_err(&dir, "a credential id is not hex"))?;
            Ok(Assertion {
                credential_id,
                auth_data,
                signature: sig.to_der().as_bytes().to_vec(),
            })
        })
    }

    /// credentialManagement enumerateCredentials with any [`Verification`].
    pub fn credentials_with(
        &mut self,
        rp_id: &str,
        v: Verification<'_>,
    ) -> Result<Vec<ResidentCredential>, TokenError> {
        let dir = self.dir.clone();
        self.with_lock(|st| {
            match (st.pin.is_some(), v) {
                (true, Verification::None) => return Err(TokenError::PinRequired),
                (true, v) => {
                    Self::verify(st, v)?;
                }
                (false, _) => {}
            }
            let mut out = Vec::new();
            for c in st
                .credentials
                .iter()
                .filter(|c| c.resident && c.rp_id == rp_id)
            {
                let key = decode_key(&dir, &c.private_key)?;
                out.push(ResidentCredential {
                    rp_id: c.rp_id.clone(),
                    credential_id: hex::decode(&c.credential_id)
                        .ok_or_else(|| state_err(&dir, "a credential id is not hex"))?,
                    user_id: hex::decode(&c.user_id)
                        .ok_or_else(|| state_err(&dir, "a user id is not hex"))?,
                    cose_public_key: sk::point_to_cose(&point_of(&key)),
                    cred_protect: c.cred_protect,
                });
            }
            if out.is_empty() {
                return Err(TokenError::NoCredentials);
            }
            Ok(out)
        })
    }
}

impl SimToken {
    /// The rp ids of all resident credentials (credentialManagement enumerateRPs); the PIN is
    /// needed when one is set.
    pub fn resident_rp_ids(&mut self, pin: Option<&Pin>) -> Result<Vec<String>, TokenError> {
        self.resident_rp_ids_with(Verification::from_pin(pin))
    }

    /// [`Self::resident_rp_ids`] with any [`Verification`].
    pub fn resident_rp_ids_with(&mut self, v: Verification<'_>) -> Result<Vec<String>, TokenError> {
        self.with_lock(|st| {
            match (st.pin.is_some(), v) {
                (true, Verification::None) => return Err(TokenError::PinRequired),
                (true, v) => {
                    Self::verify(st, v)?;
                }
                (false, _) => {}
            }
            let mut ids: Vec<String> = st
                .credentials
                .iter()
                .filter(|c| c.resident)
                .map(|c| c.rp_id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            Ok(ids)
        })
    }
}

/// Reads the state file for tests and tools without opening the token (no lock, no creation).
pub fn state_file(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// File name of the SecurityKeyProvider library (`sk-provider/`).
pub const PROVIDER_LIB: &str = "libbreakglass_sk.so";

/// Where the SecurityKeyProvider library is: beside the binary (a cargo build), then the usual
/// library directories.
pub fn provider_path() -> crate::Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join(PROVIDER_LIB));
            candidates.push(dir.join("../lib").join(PROVIDER_LIB));
            if dir.ends_with("deps") {
                candidates.push(dir.join("..").join(PROVIDER_LIB));
            }
        }
    }
    for d in ["/usr/local/lib", "/usr/lib"] {
        candidates.push(Path::new(d).join(PROVIDER_LIB));
    }
    candidates
        .into_iter()
        .find(|p| p.exists())
        .map(|p| p.canonicalize().unwrap_or(p))
        .ok_or(crate::Error::CompanionMissing {
            name: PROVIDER_LIB,
            package: "breakglass-sk",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_from_the_scalar_is_signing_key_sign() {
        use p256::ecdsa::signature::Signer;
        let (key, bytes) = new_signing_key();
        let d = p256::NonZeroScalar::try_from(bytes.as_slice()).unwrap();
        for msg in [&b""[..], b"authData||clientDataHash", &[0xffu8; 200][..]] {
            let ours = sign_with(&d, msg);
            let theirs: P256Signature = key.sign(msg);
            assert_eq!(ours, theirs);
            use p256::ecdsa::signature::Verifier;
            key.verifying_key().verify(msg, &ours).unwrap();
        }
    }
}
