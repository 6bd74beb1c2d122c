//! The card's PIV application: one instruction handler per command `yubikey` 0.9.0-rc.0 sends
//! (REFERENCE.md §13.8), over the persistent [`CardState`] and a per-session [`Session`].
//!
//! Session state (PIN verified, management key authenticated, pending witness, the rest of a
//! long answer) is cleared by SELECT and by vpcd's power off/on/reset. Touch is simulated: `approve` signs, `deny` answers
//! at once and `timeout` answers after `touch_timeout_ms`, both with `69 82` (security status not
//! satisfied) — the status a real YubiKey returns when a touch-policy key is not touched in time.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use breakglass::attest::testing::{PivSlot, TestF9};
use breakglass::attest::FirmwareVersion;

use crate::apdu::{Command, Ins, Response, StatusWord};
use crate::ecc::{ecdsa_sign, public_point, random_scalar, ALG_P256};
use crate::mgm::MgmAlgorithm;
use crate::state::{
    file_id, hex, unhex, CardState, FileId, SlotKey, TouchMode, DEFAULT_MGM_KEY, DEFAULT_PIN,
    DEFAULT_PUK,
};
use crate::tlv;

/// Where the card keeps its state, which vpcd port it plugs into, and what it reports.
#[derive(Clone, Debug)]
pub struct CardConfig {
    /// JSON state file (created with defaults when missing).
    pub state_path: PathBuf,
    /// vpcd's listening address, e.g. `127.0.0.1:40000`.
    pub vpcd_addr: String,
    /// Firmware version reported by GET VERSION; 5.7 and later default to an AES-192 management key.
    pub version: (u8, u8, u8),
    /// Serial reported by GET SERIAL.
    pub serial: u32,
}

impl CardConfig {
    /// A 5.4.3 card (3DES management key) with serial 1234567 on vpcd's port 40000.
    pub fn new(state_path: impl Into<PathBuf>) -> Self {
        CardConfig {
            state_path: state_path.into(),
            vpcd_addr: "127.0.0.1:40000".into(),
            version: (5, 4, 3),
            serial: 1_234_567,
        }
    }
}

/// The PIV application identifier SELECT names (NIST RID `A0 00 00 03 08`, PIX prefix optional).
const PIV_AID: [u8; 5] = [0xA0, 0x00, 0x00, 0x03, 0x08];

/// Key references (P2 of VERIFY, GET METADATA, GENERAL AUTHENTICATE).
const KEY_PIN: u8 = 0x80;
const KEY_PUK: u8 = 0x81;
const KEY_MGM: u8 = 0x9B;

/// PIN policies (Yubico): `00` is "the slot's default" in GENERATE only.
const PIN_NEVER: u8 = 0x01;
const PIN_ONCE: u8 = 0x02;
const PIN_ALWAYS: u8 = 0x03;
/// Key origins (GET METADATA tag `03`): generated on the card, or imported.
const ORIGIN_GENERATED: u8 = 0x01;
/// Form factor the attestation states (Yubico OID 1.3.6.1.4.1.41482.3.9): USB-C keychain.
const FORM_FACTOR: u8 = 0x03;
/// The longest response data in one answer; the rest waits for GET RESPONSE (`61 xx`).
pub(crate) const MAX_RESPONSE_DATA: usize = 256;
/// The attestation (f9) certificate's data object, read with GET DATA.
const OBJECT_ATTESTATION: [u8; 3] = [0x5F, 0xFF, 0x01];
/// The PIN-protected data object (the management key, when stored there).
const OBJECT_PROTECTED: [u8; 3] = [0x5F, 0xC1, 0x09];

/// Touch policies (Yubico).
const TOUCH_NEVER: u8 = 0x01;
const TOUCH_ALWAYS: u8 = 0x02;
const TOUCH_CACHED: u8 = 0x03;

/// Per-session flags, cleared by SELECT and by vpcd power off/on/reset.
#[derive(Default)]
struct Session {
    pin_verified: bool,
    /// A VERIFY happened since the last signature (PIN policy `always`).
    pin_fresh: bool,
    mgm_authenticated: bool,
    witness: Option<Zeroizing<Vec<u8>>>,
    /// What a long answer has left for GET RESPONSE.
    pending: Vec<u8>,
}

/// The card: persistent state plus the current session. `process_apdu` never panics.
pub struct Card {
    version: (u8, u8, u8),
    serial: u32,
    state_path: PathBuf,
    state: CardState,
    session: Session,
    last_touch: Option<Instant>,
    /// Identity of the state file as last read or written, to notice edits from outside.
    file_id: Option<FileId>,
    /// The device's attestation key and certificate (slot f9): the test PKI's, which chains to
    /// the breakglass TEST root only (never trusted by default). `None` if it did not load.
    f9: Option<TestF9>,
}

impl Card {
    /// Loads the state file, or creates it with factory defaults.
    pub fn open(cfg: &CardConfig) -> io::Result<Self> {
        let state = CardState::load_or_create(&cfg.state_path, cfg.version)?;
        Ok(Card {
            version: cfg.version,
            serial: cfg.serial,
            state_path: cfg.state_path.clone(),
            state,
            session: Session::default(),
            last_touch: None,
            file_id: file_id(&cfg.state_path),
            f9: TestF9::fixture().ok(),
        })
    }

    /// vpcd control codes `00` power off, `01` power on, `02` reset: end the session. The state
    /// file is re-read, so a test can edit it between host connections.
    pub fn power_cycle(&mut self) {
        self.session = Session::default();
        self.refresh();
    }

    /// Re-reads the state file if someone else replaced, edited or removed it (a removed file
    /// means factory state). An unreadable file leaves the state in memory as it is.
    fn refresh(&mut self) {
        let id = file_id(&self.state_path);
        if id.is_some() && id == self.file_id {
            return;
        }
        if let Ok(st) = CardState::load_or_create(&self.state_path, self.version) {
            self.state = st;
            self.file_id = file_id(&self.state_path);
        }
    }

    fn save(&mut self) -> bool {
        let ok = self.state.save(&self.state_path).is_ok();
        self.file_id = file_id(&self.state_path);
        ok
    }

    /// Answers one command APDU: response data followed by SW1 SW2. An answer longer than
    /// [`MAX_RESPONSE_DATA`] comes in pieces: `61 xx`, then GET RESPONSE until `90 00`.
    pub fn process_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.refresh();
        let response = match Command::parse(apdu) {
            Ok(cmd) if cmd.ins == Ins::GetResponse => self.get_response(&cmd),
            Ok(cmd) => {
                self.session.pending.clear();
                self.dispatch(&cmd)
            }
            Err(sw) => sw.into(),
        };
        self.in_pieces(response).into_bytes()
    }

    /// Keeps what does not fit in one answer for GET RESPONSE.
    fn in_pieces(&mut self, mut r: Response) -> Response {
        if r.status != StatusWord::Success || r.data.len() <= MAX_RESPONSE_DATA {
            return r;
        }
        self.session.pending = r.data.split_off(MAX_RESPONSE_DATA);
        let left = self.session.pending.len().min(MAX_RESPONSE_DATA);
        r.status = StatusWord::BytesRemaining { len: left as u8 };
        r
    }

    /// GET RESPONSE (`00 C0 00 00`): the next piece of the pending answer.
    fn get_response(&mut self, c: &Command<'_>) -> Response {
        if c.cla != 0 || c.p1 != 0 || c.p2 != 0 || !c.data.is_empty() {
            self.session.pending.clear();
            return StatusWord::WrongP1P2.into();
        }
        if self.session.pending.is_empty() {
            return StatusWord::ConditionsNotSatisfied.into();
        }
        Response::ok(std::mem::take(&mut self.session.pending))
    }

    fn dispatch(&mut self, c: &Command<'_>) -> Response {
        if c.cla & 0x10 != 0 {
            return StatusWord::ChainingUnsupported.into();
        }
        if c.cla != 0 {
            return StatusWord::ClaNotSupported.into();
        }
        match c.ins {
            Ins::SelectApplication => self.select(c),
            Ins::GetVersion => Response::ok(vec![self.version.0, self.version.1, self.version.2]),
            Ins::GetSerial => Response::ok(self.serial.to_be_bytes().to_vec()),
            Ins::Verify => self.verify(c),
            Ins::GetMetadata => self.metadata(c),
            Ins::GetData => self.get_data(c),
            Ins::Authenticate => self.general_authenticate(c),
            Ins::GenerateAsymmetric => self.generate(c),
            Ins::Attest => self.attest(c),
            Ins::GetResponse | Ins::Other(_) => StatusWord::InsNotSupported.into(),
        }
    }

    fn select(&mut self, c: &Command<'_>) -> Response {
        if c.p1 != 0x04 || c.data.len() < 5 || c.data.len() > 16 || c.data[..5] != PIV_AID {
            return StatusWord::NotFound.into();
        }
        self.session = Session::default();
        // Application property template as a YubiKey 5 returns it (the crate ignores it).
        Response::ok(vec![
            0x61, 0x11, 0x4F, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79, 0x07, 0x4F, 0x05,
            0xA0, 0x00, 0x00, 0x03, 0x08,
        ])
    }

    fn pin_status(&self) -> StatusWord {
        StatusWord::VerifyFail {
            tries: self.state.pin_tries_left,
        }
    }

    fn verify(&mut self, c: &Command<'_>) -> Response {
        if c.p2 != KEY_PIN {
            return StatusWord::ReferenceNotFound.into();
        }
        match c.p1 {
            0x00 => {}
            // P1 FF: reset verification status.
            0xFF if c.data.is_empty() => {
                self.session.pin_verified = false;
                self.session.pin_fresh = false;
                return Response::ok(vec![]);
            }
            _ => return StatusWord::WrongP1P2.into(),
        }
        if self.state.pin_tries_left == 0 {
            return StatusWord::AuthBlocked.into();
        }
        if c.data.is_empty() {
            // Status query: never counted.
            if self.session.pin_verified {
                return Response::ok(vec![]);
            }
            return self.pin_status().into();
        }
        if c.data.len() != 8 {
            return StatusWord::IncorrectData.into();
        }
        let stored = Zeroizing::new(unhex(&self.state.pin).unwrap_or_default());
        let mut padded = Zeroizing::new([0xFFu8; 8]);
        for (d, s) in padded.iter_mut().zip(stored.iter()) {
            *d = *s;
        }
        if ct_eq(&padded[..], c.data) {
            if self.state.pin_tries_left != self.state.pin_tries_total {
                self.state.pin_tries_left = self.state.pin_tries_total;
                self.save();
            }
            self.session.pin_verified = true;
            self.session.pin_fresh = true;
            Response::ok(vec![])
        } else {
            self.state.pin_tries_left = self.state.pin_tries_left.saturating_sub(1);
            self.session.pin_verified = false;
            self.session.pin_fresh = false;
            self.save();
            self.pin_status().into()
        }
    }

    /// Yubico GET METADATA: TLVs `01` algorithm, `02` policies, `03` origin, `04` public key,
    /// `05` is-default, `06` retries (total, left).
    fn metadata(&mut self, c: &Command<'_>) -> Response {
        if c.p1 != 0 {
            return StatusWord::WrongP1P2.into();
        }
        let st = &self.state;
        let mut out = Vec::new();
        match c.p2 {
            KEY_PIN | KEY_PUK => {
                let (secret, default, total, left) = if c.p2 == KEY_PIN {
                    (&st.pin, DEFAULT_PIN, st.pin_tries_total, st.pin_tries_left)
                } else {
                    (&st.puk, DEFAULT_PUK, st.puk_tries_total, st.puk_tries_left)
                };
                let is_default = u8::from(unhex(secret).as_deref() == Some(default));
                tlv::push(&mut out, &[0x01], &[0xFF]);
                tlv::push(&mut out, &[0x05], &[is_default]);
                tlv::push(&mut out, &[0x06], &[total, left]);
            }
            KEY_MGM => {
                let is_default = u8::from(
                    unhex(&st.mgm_key).as_deref() == Some(&DEFAULT_MGM_KEY[..])
                        && matches!(
                            MgmAlgorithm::from_code(st.mgm_alg),
                            Some(MgmAlgorithm::Tdes | MgmAlgorithm::Aes192)
                        ),
                );
                tlv::push(&mut out, &[0x01], &[st.mgm_alg]);
                tlv::push(&mut out, &[0x02], &[0x00, TOUCH_NEVER]);
                tlv::push(&mut out, &[0x05], &[is_default]);
            }
            slot if is_key_slot(slot) || slot == 0xF9 => {
                let Some(key) = st.slots.get(&hex(&[slot])) else {
                    return StatusWord::ReferenceNotFound.into();
                };
                let Some(point) = public_point(key) else {
                    return StatusWord::ReferenceNotFound.into();
                };
                tlv::push(&mut out, &[0x01], &[key.alg]);
                tlv::push(&mut out, &[0x02], &[key.pin_policy, key.touch_policy]);
                tlv::push(&mut out, &[0x03], &[key.origin]);
                tlv::push(&mut out, &[0x04], &tlv::encode(&[0x86], &point));
            }
            _ => return StatusWord::ReferenceNotFound.into(),
        }
        Response::ok(out)
    }

    fn get_data(&mut self, c: &Command<'_>) -> Response {
        if c.p1 != 0x3F || c.p2 != 0xFF {
            return StatusWord::WrongP1P2.into();
        }
        // 5C len object-id
        let Some((0x5C, object, _)) = tlv::parse(c.data) else {
            return StatusWord::IncorrectData.into();
        };
        if object == OBJECT_ATTESTATION {
            return self.attestation_object();
        }
        if object != OBJECT_PROTECTED {
            return StatusWord::NotFound.into();
        }
        // PIN-protected data object: 53 { 88 { 89 key } }.
        let Some(key) = self
            .state
            .protected_mgm
            .as_deref()
            .and_then(unhex)
            .map(Zeroizing::new)
        else {
            return StatusWord::NotFound.into();
        };
        if !self.session.pin_verified {
            return StatusWord::SecurityStatus.into();
        }
        // Keeps the answer within one short response.
        if key.len() > 100 {
            return StatusWord::NotFound.into();
        }
        let inner = Zeroizing::new(tlv::encode(&[0x89], &key));
        let middle = Zeroizing::new(tlv::encode(&[0x88], &inner));
        Response::ok(tlv::encode(&[0x53], &middle))
    }

    /// Object 5FFF01, as a YubiKey stores its f9 certificate: `53 { 70 cert, 71 00, FE }`
    /// (certificate, not compressed, no LRC). Readable without the PIN.
    fn attestation_object(&self) -> Response {
        let Some(f9) = &self.f9 else {
            return StatusWord::NotFound.into();
        };
        let mut body = tlv::encode(&[0x70], f9.certificate());
        tlv::push(&mut body, &[0x71], &[0x00]);
        tlv::push(&mut body, &[0xFE], &[]);
        Response::ok(tlv::encode(&[0x53], &body))
    }

    /// ATTEST (`00 F9 slot 00`, Yubico): the slot attestation certificate (DER), signed by the
    /// f9 key, stating this card's firmware, serial, form factor and the key's PIN and touch
    /// policies (ATTESTATION.md §3.2). Only for a key generated on the card: an imported key
    /// could have been copied, so attesting it would prove nothing (a YubiKey refuses it too;
    /// which status word it sends was not established, this card answers `6A 80`).
    fn attest(&mut self, c: &Command<'_>) -> Response {
        if self.version < (4, 3, 0) {
            return StatusWord::InsNotSupported.into();
        }
        if c.p2 != 0 || !c.data.is_empty() || !is_key_slot(c.p1) {
            return StatusWord::WrongP1P2.into();
        }
        let Some(key) = self.state.slots.get(&hex(&[c.p1])) else {
            return StatusWord::ReferenceNotFound.into();
        };
        if key.origin != ORIGIN_GENERATED {
            return StatusWord::IncorrectData.into();
        }
        let (Some(point), Some(f9)) = (public_point(key), &self.f9) else {
            return StatusWord::NoPreciseDiagnosis.into();
        };
        let (major, minor, patch) = self.version;
        let slot = PivSlot {
            slot: c.p1,
            public_key: point.to_vec(),
            pin_policy: key.pin_policy,
            touch_policy: key.touch_policy,
            firmware: FirmwareVersion::new(major, minor, patch),
            serial: self.serial,
            form_factor: FORM_FACTOR,
        };
        match f9.attest_slot(&slot) {
            Ok(der) => Response::ok(der),
            Err(_) => StatusWord::NoPreciseDiagnosis.into(),
        }
    }

    fn general_authenticate(&mut self, c: &Command<'_>) -> Response {
        // 7C { items }: dynamic authentication template.
        let Some((0x7C, body, _)) = tlv::parse(c.data) else {
            return StatusWord::IncorrectData.into();
        };
        let Some(items) = tlv::parse_all(body) else {
            return StatusWord::IncorrectData.into();
        };
        if c.p2 == KEY_MGM {
            self.mgm_authenticate(c.p1, &items)
        } else if is_key_slot(c.p2) {
            self.sign(c.p1, c.p2, &items)
        } else {
            StatusWord::ReferenceNotFound.into()
        }
    }

    /// Mutual authentication with the management key (yubikey.rs `YubiKey::authenticate`): the
    /// card sends an encrypted witness (`80`), the host answers it decrypted with a challenge
    /// (`81`), the card answers the challenge encrypted (`82`).
    fn mgm_authenticate(&mut self, alg: u8, items: &[(u8, &[u8])]) -> Response {
        if alg != self.state.mgm_alg {
            self.session.witness = None;
            return StatusWord::IncorrectData.into();
        }
        let Some(key) = unhex(&self.state.mgm_key).map(Zeroizing::new) else {
            return StatusWord::IncorrectData.into();
        };
        let Some(alg) = MgmAlgorithm::from_code(alg) else {
            return StatusWord::IncorrectData.into();
        };
        let bs = alg.block_size();
        match (tlv::find(items, 0x80), tlv::find(items, 0x81)) {
            // Step 1: the host asks for a witness.
            (Some([]), None) => {
                let mut w = Zeroizing::new(vec![0u8; bs]);
                if getrandom::fill(&mut w).is_err() {
                    return StatusWord::NoPreciseDiagnosis.into();
                }
                let Some(enc) = alg.crypt(&key, &w, true) else {
                    return StatusWord::IncorrectData.into();
                };
                self.session.witness = Some(w);
                Response::ok(tlv::encode(&[0x7C], &tlv::encode(&[0x80], &enc)))
            }
            // Step 2: decrypted witness plus the host's challenge.
            (Some(decrypted), Some(challenge)) => {
                let Some(w) = self.session.witness.take() else {
                    return StatusWord::SecurityStatus.into();
                };
                if decrypted.len() != bs || challenge.len() != bs || !ct_eq(decrypted, &w) {
                    self.session.mgm_authenticated = false;
                    return StatusWord::SecurityStatus.into();
                }
                let Some(enc) = alg.crypt(&key, challenge, true) else {
                    return StatusWord::IncorrectData.into();
                };
                self.session.mgm_authenticated = true;
                Response::ok(tlv::encode(&[0x7C], &tlv::encode(&[0x82], &enc)))
            }
            _ => {
                self.session.witness = None;
                StatusWord::IncorrectData.into()
            }
        }
    }

    /// ECDSA with a slot's key: `7C { 82 (empty) 81 digest }` in, `7C { 82 DER }` out.
    fn sign(&mut self, alg: u8, slot: u8, items: &[(u8, &[u8])]) -> Response {
        let Some(key) = self.state.slots.get(&hex(&[slot])).cloned() else {
            return StatusWord::IncorrectData.into();
        };
        if alg != key.alg || alg != ALG_P256 {
            return StatusWord::IncorrectData.into();
        }
        let (Some([]), Some(digest)) = (tlv::find(items, 0x82), tlv::find(items, 0x81)) else {
            return StatusWord::IncorrectData.into();
        };
        if digest.len() > 32 {
            return StatusWord::IncorrectData.into();
        }
        let pin_ok = match key.pin_policy {
            PIN_NEVER => true,
            PIN_ALWAYS => self.session.pin_verified && self.session.pin_fresh,
            _ => self.session.pin_verified,
        };
        if !pin_ok {
            return StatusWord::SecurityStatus.into();
        }
        if !self.touch(key.touch_policy) {
            return StatusWord::SecurityStatus.into();
        }
        let Some(sk) = unhex(&key.secret).map(Zeroizing::new) else {
            return StatusWord::IncorrectData.into();
        };
        let Some(der) = ecdsa_sign(&sk, digest) else {
            return StatusWord::IncorrectData.into();
        };
        if key.pin_policy == PIN_ALWAYS {
            self.session.pin_fresh = false;
        }
        Response::ok(tlv::encode(&[0x7C], &tlv::encode(&[0x82], &der)))
    }

    /// Returns whether the simulated user touched the key.
    fn touch(&mut self, policy: u8) -> bool {
        let needed = match policy {
            TOUCH_ALWAYS => true,
            // Cached: a touch within the last 15 s counts.
            TOUCH_CACHED => self
                .last_touch
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(15)),
            _ => false,
        };
        if !needed {
            return true;
        }
        match TouchMode::from_env().unwrap_or(self.state.touch) {
            TouchMode::Approve => {
                self.last_touch = Some(Instant::now());
                true
            }
            TouchMode::Deny => false,
            TouchMode::Timeout => {
                std::thread::sleep(Duration::from_millis(
                    self.state.touch_timeout_ms.min(60_000),
                ));
                false
            }
        }
    }

    /// GENERATE ASYMMETRIC KEY PAIR: `AC { 80 alg [AA pin-policy] [AB touch-policy] }` in,
    /// `7F49 { 86 point }` out. Needs the management key.
    fn generate(&mut self, c: &Command<'_>) -> Response {
        if c.p1 != 0 || !is_key_slot(c.p2) {
            return StatusWord::WrongP1P2.into();
        }
        if !self.session.mgm_authenticated {
            return StatusWord::SecurityStatus.into();
        }
        let Some((0xAC, body, _)) = tlv::parse(c.data) else {
            return StatusWord::IncorrectData.into();
        };
        let Some(items) = tlv::parse_all(body) else {
            return StatusWord::IncorrectData.into();
        };
        // A one-byte value, if the item is there.
        let one = |t: u8| -> Result<Option<u8>, ()> {
            match tlv::find(&items, t) {
                None => Ok(None),
                Some([v]) => Ok(Some(*v)),
                Some(_) => Err(()),
            }
        };
        let (Ok(Some(alg)), Ok(pin), Ok(touch)) = (one(0x80), one(0xAA), one(0xAB)) else {
            return StatusWord::IncorrectData.into();
        };
        if alg != ALG_P256 {
            return StatusWord::IncorrectData.into();
        }
        let pin_policy = match pin.unwrap_or(0) {
            // The slot's default, as on a YubiKey.
            0 => match c.p2 {
                0x9C => PIN_ALWAYS,
                0x9E => PIN_NEVER,
                _ => PIN_ONCE,
            },
            p @ PIN_NEVER..=PIN_ALWAYS => p,
            _ => return StatusWord::IncorrectData.into(),
        };
        let touch_policy = match touch.unwrap_or(0) {
            0 => TOUCH_NEVER,
            t @ TOUCH_NEVER..=TOUCH_CACHED => t,
            _ => return StatusWord::IncorrectData.into(),
        };
        let Some(secret) = random_scalar() else {
            return StatusWord::NoPreciseDiagnosis.into();
        };
        let key = SlotKey {
            alg,
            pin_policy,
            touch_policy,
            origin: ORIGIN_GENERATED,
            secret: hex(&secret),
        };
        let Some(point) = public_point(&key) else {
            return StatusWord::NoPreciseDiagnosis.into();
        };
        self.state.slots.insert(hex(&[c.p2]), key);
        if !self.save() {
            return StatusWord::NoPreciseDiagnosis.into();
        }
        Response::ok(tlv::encode(&[0x7F, 0x49], &tlv::encode(&[0x86], &point)))
    }
}

/// Slots that hold asymmetric keys: 9A, 9C, 9D, 9E and the retired 82–95.
fn is_key_slot(slot: u8) -> bool {
    matches!(slot, 0x9A | 0x9C | 0x9D | 0x9E | 0x82..=0x95)
}

/// Constant-time equality for PINs and witnesses.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn card() -> (tempfile::TempDir, Card) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = CardConfig::new(dir.path().join("card.json"));
        let c = Card::open(&cfg).unwrap();
        (dir, c)
    }

    fn sw(r: &[u8]) -> StatusWord {
        StatusWord::of_response(r).unwrap()
    }

    use StatusWord::{AuthBlocked, SecurityStatus, Success, VerifyFail};

    const SELECT: &[u8] = &[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08];
    const PIN_OK: &[u8] = &[
        0x00, 0x20, 0x00, 0x80, 0x08, b'1', b'2', b'3', b'4', b'5', b'6', 0xFF, 0xFF,
    ];
    const PIN_BAD: &[u8] = &[
        0x00, 0x20, 0x00, 0x80, 0x08, b'0', b'0', b'0', b'0', b'0', b'0', 0xFF, 0xFF,
    ];
    const PIN_QUERY: &[u8] = &[0x00, 0x20, 0x00, 0x80, 0x00];

    #[test]
    fn pin_counter_status_query_and_select_clearing() {
        let (_d, mut c) = card();
        assert_eq!(sw(&c.process_apdu(SELECT)), Success);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), VerifyFail { tries: 3 });
        assert_eq!(sw(&c.process_apdu(PIN_OK)), Success);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), Success);
        assert_eq!(sw(&c.process_apdu(SELECT)), Success);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), VerifyFail { tries: 3 });
        assert_eq!(sw(&c.process_apdu(PIN_BAD)), VerifyFail { tries: 2 });
        assert_eq!(sw(&c.process_apdu(PIN_BAD)), VerifyFail { tries: 1 });
        assert_eq!(sw(&c.process_apdu(PIN_BAD)), VerifyFail { tries: 0 });
        assert_eq!(sw(&c.process_apdu(PIN_OK)), AuthBlocked);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), AuthBlocked);
        let meta = c.process_apdu(&[0x00, 0xF7, 0x00, 0x80, 0x00]);
        assert_eq!(meta, vec![1, 1, 0xFF, 5, 1, 1, 6, 2, 3, 0, 0x90, 0x00]);
    }

    #[test]
    fn state_file_is_private_and_survives_reload() {
        use std::os::unix::fs::PermissionsExt;
        let (d, mut c) = card();
        c.process_apdu(PIN_BAD);
        let path = d.path().join("card.json");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let c2 = Card::open(&CardConfig::new(&path)).unwrap();
        assert_eq!(c2.state.pin_tries_left, 2);
    }

    /// Management-key authentication and a P-256 key in slot 82, as the crate would do it.
    fn authenticated_card_with_key() -> (tempfile::TempDir, Card) {
        let (d, mut c) = card();
        let r = c.process_apdu(&[0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C, 0x02, 0x80, 0x00]);
        assert_eq!(sw(&r), Success);
        let w = MgmAlgorithm::Tdes
            .crypt(&DEFAULT_MGM_KEY, &r[4..12], false)
            .unwrap();
        let mut a = vec![0x00, 0x87, 0x03, 0x9B, 0x16, 0x7C, 0x14, 0x80, 0x08];
        a.extend(&w);
        a.extend([0x81, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
        let r = c.process_apdu(&a);
        assert_eq!(sw(&r), Success);
        assert_eq!(
            &r[4..12],
            &MgmAlgorithm::Tdes
                .crypt(&DEFAULT_MGM_KEY, &[1, 2, 3, 4, 5, 6, 7, 8], true)
                .unwrap()[..]
        );
        let r = c.process_apdu(&[
            0x00, 0x47, 0x00, 0x82, 0x0B, 0xAC, 0x09, 0x80, 0x01, 0x11, 0xAA, 0x01, 0x02, 0xAB,
            0x01, 0x01,
        ]);
        assert_eq!(&r[..5], &[0x7F, 0x49, 0x43, 0x86, 0x41]);
        assert_eq!(sw(&r), Success);
        (d, c)
    }

    #[test]
    fn sign_needs_the_pin_once_and_answers_der() {
        let (_d, mut c) = authenticated_card_with_key();
        let mut sign = vec![
            0x00, 0x87, 0x11, 0x82, 0x26, 0x7C, 0x24, 0x82, 0x00, 0x81, 0x20,
        ];
        sign.extend([0xAB; 32]);
        assert_eq!(sw(&c.process_apdu(&sign)), SecurityStatus);
        c.process_apdu(PIN_OK);
        let r = c.process_apdu(&sign);
        assert_eq!(sw(&r), Success);
        assert_eq!((r[0], r[2], r[4]), (0x7C, 0x82, 0x30));
        assert_eq!(
            sw(&c.process_apdu(&sign)),
            Success,
            "policy once: no second VERIFY needed"
        );
        c.process_apdu(SELECT);
        assert_eq!(
            sw(&c.process_apdu(&sign)),
            SecurityStatus,
            "SELECT ends the PIN session"
        );
    }

    /// Sends `apdu`, then GET RESPONSE while the card says `61 xx`; the whole answer.
    fn chained(c: &mut Card, apdu: &[u8]) -> (StatusWord, Vec<u8>, usize) {
        let mut r = c.process_apdu(apdu);
        let mut data = Vec::new();
        let mut pieces = 1;
        loop {
            let status = sw(&r);
            assert!(
                r.len() <= MAX_RESPONSE_DATA + 2,
                "{} bytes in one answer",
                r.len()
            );
            data.extend_from_slice(&r[..r.len() - 2]);
            match status {
                StatusWord::BytesRemaining { .. } => {
                    r = c.process_apdu(&[0x00, 0xC0, 0x00, 0x00]);
                    pieces += 1;
                }
                other => return (other, data, pieces),
            }
        }
    }

    #[test]
    fn attest_chains_its_answer_and_the_f9_certificate_signs_it() {
        use breakglass::attest::{examine, AttestError, Expect, Policy, TrustStore};
        let (d, mut c) = authenticated_card_with_key();
        let meta = c.process_apdu(&[0x00, 0xF7, 0x00, 0x82, 0x00]);
        let point = meta[meta.len() - 67..meta.len() - 2].to_vec();
        let (status, slot_cert, pieces) = chained(&mut c, &[0x00, 0xF9, 0x82, 0x00]);
        assert_eq!(
            (status, pieces),
            (Success, 2),
            "a certificate is longer than one answer"
        );
        let (status, object, _) = chained(
            &mut c,
            &[0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xFF, 0x01],
        );
        assert_eq!(status, Success);
        let (0x53, body, []) = tlv::parse(&object).unwrap() else {
            panic!("not 53 {{…}}");
        };
        let items = tlv::parse_all(body).unwrap();
        assert_eq!(tlv::find(&items, 0x71), Some(&[0u8][..]));
        let f9 = tlv::find(&items, 0x70).unwrap();
        let mut pair = slot_cert.clone();
        pair.extend_from_slice(f9);
        let roots = breakglass::attest::testing::trust_store().unwrap();
        let report = examine(&Expect::default(), &pair, &roots).unwrap();
        let piv = report.piv.as_ref().unwrap();
        assert_eq!(
            (
                piv.slot.as_str(),
                piv.pin_policy.as_str(),
                piv.touch_policy.as_str()
            ),
            ("82", "once", "never")
        );
        assert_eq!(report.serial, Some(1_234_567));
        assert_eq!(report.firmware.as_ref().unwrap().version, "5.4.3");
        let ca = ssh_key::PublicKey::from(ssh_key::public::KeyData::Ecdsa(
            ssh_key::public::EcdsaPublicKey::from_sec1_bytes(&point).unwrap(),
        ));
        assert_eq!(report.key.openssh, ca.to_openssh().ok());
        // The card's default firmware is below the EUCLEAK floor; its touch policy is never.
        let e = Expect {
            ca: Some(&ca),
            challenge: None,
            piv_slot: Some(0x82),
        };
        assert!(matches!(
            breakglass::attest::verify(&e, &pair, &roots, &Policy::default()),
            Err(AttestError::FirmwareBelowFloor { .. })
        ));
        assert_eq!(
            breakglass::attest::verify(&e, &pair, &roots, &Policy::with_floor("none").unwrap())
                .unwrap_err(),
            AttestError::TouchPolicyNever
        );
        assert!(matches!(
            examine(&e, &pair, &TrustStore::yubico()),
            Err(AttestError::UnknownRoot { .. })
        ));

        // Nothing pending: GET RESPONSE is refused; any other command drops what was pending.
        assert_eq!(
            sw(&c.process_apdu(&[0x00, 0xC0, 0x00, 0x00])),
            StatusWord::ConditionsNotSatisfied
        );
        let r = c.process_apdu(&[0x00, 0xF9, 0x82, 0x00]);
        assert!(matches!(sw(&r), StatusWord::BytesRemaining { .. }));
        c.process_apdu(&[0x00, 0xFD, 0x00, 0x00]);
        assert_eq!(
            sw(&c.process_apdu(&[0x00, 0xC0, 0x00, 0x00])),
            StatusWord::ConditionsNotSatisfied
        );

        // An empty slot, and an imported key, are not attested.
        assert_eq!(
            sw(&c.process_apdu(&[0x00, 0xF9, 0x9A, 0x00])),
            StatusWord::ReferenceNotFound
        );
        let path = d.path().join("card.json");
        let mut st = CardState::load(&path).unwrap();
        st.slots.get_mut("82").unwrap().origin = 0x02;
        st.save(&path).unwrap();
        let mut c = Card::open(&CardConfig::new(&path)).unwrap();
        assert_eq!(
            sw(&c.process_apdu(&[0x00, 0xF9, 0x82, 0x00])),
            StatusWord::IncorrectData
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn random_apdus_in_an_authenticated_session_never_panic(apdus in proptest::collection::vec(
            (prop::sample::select(vec![0x20u8, 0xF7, 0xCB, 0x87, 0x47]),
             prop::sample::select(vec![0x00u8, 0x03, 0x0A, 0x11, 0x14, 0xFF]),
             prop::sample::select(vec![0x80u8, 0x9B, 0x82, 0x83, 0x9A, 0x9E]),
             proptest::collection::vec(any::<u8>(), 0..70))
                .prop_map(|(ins, p1, p2, body)| {
                    // Wrap the body in a plausible outer TLV half of the time.
                    let mut inner = body.clone();
                    if body.first().is_some_and(|b| b & 1 == 0) {
                        inner = vec![if ins == 0x47 { 0xAC } else { 0x7C }, body.len() as u8];
                        inner.extend(&body);
                    }
                    let mut a = vec![0, ins, p1, p2, inner.len() as u8];
                    a.extend(inner);
                    a
                }), 1..10)) {
            let (_d, mut c) = authenticated_card_with_key();
            c.process_apdu(PIN_OK);
            for a in apdus {
                let r = c.process_apdu(&a);
                prop_assert!(r.len() >= 2 && r.len() <= MAX_RESPONSE_DATA + 2);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_apdus_always_get_a_status_word(apdus in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                // Mostly-valid headers with random bodies reach deeper code.
                (prop::sample::select(vec![0xA4u8, 0xFD, 0xF8, 0x20, 0xF7, 0xCB, 0x87, 0x47, 0xC0]),
                 any::<u8>(), prop::sample::select(vec![0x80u8, 0x81, 0x9B, 0x82, 0x83, 0x9A, 0x9C, 0xFF]),
                 proptest::collection::vec(any::<u8>(), 0..80))
                    .prop_map(|(ins, p1, p2, body)| {
                        let mut a = vec![0, ins, p1 % 16, p2, body.len() as u8];
                        a.extend(body);
                        a
                    }),
            ], 1..8)) {
            let (_d, mut c) = card();
            c.process_apdu(PIN_OK);
            for a in apdus {
                let r = c.process_apdu(&a);
                prop_assert!(r.len() >= 2);
                prop_assert!(r.len() <= MAX_RESPONSE_DATA + 2);
            }
        }
    }
}
