//! A virtual YubiKey PIV card for tests: it speaks the vsmartcard `vpcd` socket protocol, so the
//! real chain `yubikey` → PC/SC → pcscd → `libifdvpcd.so` → this card runs without hardware.
//!
//! Byte layouts follow REFERENCE.md §13 (what `yubikey` 0.9.0-rc.0 sends and expects) and Yubico's
//! PIV APDU pages. Persistent state (keys, PIN/PUK and counters, management key) lives in a JSON
//! file written atomically with mode 0600; session state (PIN verified, management key
//! authenticated, pending witness) is cleared by SELECT and by vpcd's power off/on/reset.
//!
//! Touch is simulated: `approve` signs, `deny` answers at once and `timeout` answers after
//! `touch_timeout_ms`, both with `69 82` (security status not satisfied) — the status a real
//! YubiKey returns when a touch-policy key is not touched in time.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

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

/// What the simulated user does when the card wants a touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TouchMode {
    /// The user touches the key.
    #[default]
    Approve,
    /// The touch is refused at once (answered `69 82`).
    Deny,
    /// Nobody touches; the card answers `69 82` after `touch_timeout_ms`.
    Timeout,
}

impl TouchMode {
    fn from_env() -> Option<TouchMode> {
        match std::env::var("BREAKGLASS_PIV_TOUCH").ok()?.as_str() {
            "approve" => Some(TouchMode::Approve),
            "deny" => Some(TouchMode::Deny),
            "timeout" => Some(TouchMode::Timeout),
            _ => None,
        }
    }
}

/// YubiKey 5 NFC ATR (T=1; `pcsc_scan` names it "Yubico YubiKey 5 NFC (PKI)").
pub const ATR: [u8; 23] = [
    0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 0x59,
    0x75, 0x62, 0x69, 0x4B, 0x65, 0x79, 0x40,
];

const PIV_AID: [u8; 5] = [0xA0, 0x00, 0x00, 0x03, 0x08];
/// Default management key bytes (3DES and AES-192 alike).
pub const DEFAULT_MGM_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
const DEFAULT_PIN: &[u8] = b"123456";
const DEFAULT_PUK: &[u8] = b"12345678";

const ALG_3DES: u8 = 0x03;
const ALG_AES128: u8 = 0x08;
const ALG_AES192: u8 = 0x0A;
const ALG_AES256: u8 = 0x0C;
const ALG_P256: u8 = 0x11;

const SW_OK: u16 = 0x9000;
const SW_WRONG_LENGTH: u16 = 0x6700;
const SW_SECURITY: u16 = 0x6982;
const SW_BLOCKED: u16 = 0x6983;
const SW_CHAINING: u16 = 0x6884;
const SW_WRONG_DATA: u16 = 0x6A80;
const SW_NOT_FOUND: u16 = 0x6A82;
const SW_REF_NOT_FOUND: u16 = 0x6A88;
const SW_WRONG_P1P2: u16 = 0x6B00;
const SW_INS: u16 = 0x6D00;
const SW_CLA: u16 = 0x6E00;

/// One generated key in a slot.
#[derive(Clone, Serialize, Deserialize)]
pub struct SlotKey {
    /// Algorithm code (`11` = P-256).
    pub alg: u8,
    /// Effective PIN policy (`01` never, `02` once, `03` always).
    pub pin_policy: u8,
    /// Effective touch policy (`01` never, `02` always, `03` cached).
    pub touch_policy: u8,
    /// `01` generated, `02` imported.
    pub origin: u8,
    /// Private scalar, hex.
    pub secret: String,
}

/// Everything the card keeps across power cycles.
#[derive(Clone, Serialize, Deserialize)]
pub struct CardState {
    /// PIN bytes, hex (unpadded).
    pub pin: String,
    pub pin_tries_total: u8,
    pub pin_tries_left: u8,
    /// PUK bytes, hex (unpadded).
    pub puk: String,
    pub puk_tries_total: u8,
    pub puk_tries_left: u8,
    /// Management key algorithm (`03`, `08`, `0A`, `0C`).
    pub mgm_alg: u8,
    /// Management key, hex.
    pub mgm_key: String,
    /// When set, the PIN-protected object `5FC109` holds this key (hex), readable after VERIFY.
    #[serde(default)]
    pub protected_mgm: Option<String>,
    /// Touch behaviour; env `BREAKGLASS_PIV_TOUCH` overrides it.
    #[serde(default)]
    pub touch: TouchMode,
    /// How long `timeout` makes the host wait.
    #[serde(default = "default_touch_timeout")]
    pub touch_timeout_ms: u64,
    /// Keys by slot, key = two hex digits (`"82"`).
    #[serde(default)]
    pub slots: BTreeMap<String, SlotKey>,
}

fn default_touch_timeout() -> u64 {
    15_000
}

impl CardState {
    /// Factory state: PIN 123456, PUK 12345678, 3 tries each, default management key
    /// (3DES before 5.7, AES-192 from 5.7 on).
    pub fn factory(version: (u8, u8, u8)) -> Self {
        let aes = version.0 > 5 || (version.0 == 5 && version.1 >= 7);
        CardState {
            pin: hex(DEFAULT_PIN),
            pin_tries_total: 3,
            pin_tries_left: 3,
            puk: hex(DEFAULT_PUK),
            puk_tries_total: 3,
            puk_tries_left: 3,
            mgm_alg: if aes { ALG_AES192 } else { ALG_3DES },
            mgm_key: hex(&DEFAULT_MGM_KEY),
            protected_mgm: None,
            touch: TouchMode::Approve,
            touch_timeout_ms: default_touch_timeout(),
            slots: BTreeMap::new(),
        }
    }

    /// Reads a state file.
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = std::fs::read(path)?;
        serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Writes the state file: temp file in the same directory, 0600, fsync, rename.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let json = Zeroizing::new(serde_json::to_vec_pretty(self).map_err(io::Error::other)?);
        write_atomic(path, &json)
    }
}

/// Changes the touch behaviour recorded in a card's state file (the card reads it at its next
/// power-on, i.e. at the host's next connect).
pub fn set_touch_mode(
    state_path: &Path,
    mode: TouchMode,
    timeout_ms: Option<u64>,
) -> io::Result<()> {
    let mut st = CardState::load(state_path)?;
    st.touch = mode;
    if let Some(t) = timeout_ms {
        st.touch_timeout_ms = t;
    }
    st.save(state_path)
}

/// Atomic 0600 write: temp file beside the target, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("state path has no file name"))?;
    let mut rnd = [0u8; 6];
    getrandom::fill(&mut rnd).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), hex(&rnd)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Per-session flags, cleared by SELECT and by vpcd power off/on/reset.
#[derive(Default)]
struct Session {
    pin_verified: bool,
    /// A VERIFY happened since the last signature (PIN policy `always`).
    pin_fresh: bool,
    mgm_authenticated: bool,
    witness: Option<Zeroizing<Vec<u8>>>,
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
}

/// (inode, length, mtime) of the state file; every save renames a new inode into place.
type FileId = (u64, u64, Option<std::time::SystemTime>);

fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()))
}

impl Card {
    /// Loads the state file, or creates it with factory defaults.
    pub fn open(cfg: &CardConfig) -> io::Result<Self> {
        let state = load_or_create(&cfg.state_path, cfg.version)?;
        Ok(Card {
            version: cfg.version,
            serial: cfg.serial,
            state_path: cfg.state_path.clone(),
            state,
            session: Session::default(),
            last_touch: None,
            file_id: file_id(&cfg.state_path),
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
        if let Ok(st) = load_or_create(&self.state_path, self.version) {
            self.state = st;
            self.file_id = file_id(&self.state_path);
        }
    }

    fn save(&mut self) -> bool {
        let ok = self.state.save(&self.state_path).is_ok();
        self.file_id = file_id(&self.state_path);
        ok
    }

    /// Answers one command APDU: response data followed by SW1 SW2.
    pub fn process_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.refresh();
        let (data, sw) = match parse_apdu(apdu) {
            Ok(cmd) => self.dispatch(&cmd),
            Err(sw) => (Vec::new(), sw),
        };
        let mut out = data;
        out.extend_from_slice(&sw.to_be_bytes());
        out
    }

    fn dispatch(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        if c.cla & 0x10 != 0 {
            return (vec![], SW_CHAINING);
        }
        if c.cla != 0 {
            return (vec![], SW_CLA);
        }
        match c.ins {
            0xA4 => self.select(c),
            0xFD => (vec![self.version.0, self.version.1, self.version.2], SW_OK),
            0xF8 => (self.serial.to_be_bytes().to_vec(), SW_OK),
            0x20 => self.verify(c),
            0xF7 => self.metadata(c),
            0xCB => self.get_data(c),
            0x87 => self.general_authenticate(c),
            0x47 => self.generate(c),
            _ => (vec![], SW_INS),
        }
    }

    fn select(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        if c.p1 != 0x04 || c.data.len() < 5 || c.data.len() > 16 || c.data[..5] != PIV_AID {
            return (vec![], SW_NOT_FOUND);
        }
        self.session = Session::default();
        // Application property template as a YubiKey 5 returns it (the crate ignores it).
        let apt = vec![
            0x61, 0x11, 0x4F, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79, 0x07, 0x4F, 0x05,
            0xA0, 0x00, 0x00, 0x03, 0x08,
        ];
        (apt, SW_OK)
    }

    fn verify(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        if c.p2 != 0x80 {
            return (vec![], SW_REF_NOT_FOUND);
        }
        match c.p1 {
            0x00 => {}
            // P1 FF: reset verification status.
            0xFF if c.data.is_empty() => {
                self.session.pin_verified = false;
                self.session.pin_fresh = false;
                return (vec![], SW_OK);
            }
            _ => return (vec![], SW_WRONG_P1P2),
        }
        if self.state.pin_tries_left == 0 {
            return (vec![], SW_BLOCKED);
        }
        if c.data.is_empty() {
            // Status query: never counted.
            if self.session.pin_verified {
                return (vec![], SW_OK);
            }
            return (
                vec![],
                0x63C0 | u16::from(self.state.pin_tries_left.min(15)),
            );
        }
        if c.data.len() != 8 {
            return (vec![], SW_WRONG_DATA);
        }
        let stored = unhex(&self.state.pin).unwrap_or_default();
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
            (vec![], SW_OK)
        } else {
            self.state.pin_tries_left = self.state.pin_tries_left.saturating_sub(1);
            self.session.pin_verified = false;
            self.session.pin_fresh = false;
            self.save();
            (
                vec![],
                0x63C0 | u16::from(self.state.pin_tries_left.min(15)),
            )
        }
    }

    fn metadata(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        if c.p1 != 0 {
            return (vec![], SW_WRONG_P1P2);
        }
        let st = &self.state;
        match c.p2 {
            0x80 | 0x81 => {
                let (secret, default, total, left) = if c.p2 == 0x80 {
                    (&st.pin, DEFAULT_PIN, st.pin_tries_total, st.pin_tries_left)
                } else {
                    (&st.puk, DEFAULT_PUK, st.puk_tries_total, st.puk_tries_left)
                };
                let is_default = u8::from(unhex(secret).as_deref() == Some(default));
                (
                    vec![
                        0x01, 0x01, 0xFF, 0x05, 0x01, is_default, 0x06, 0x02, total, left,
                    ],
                    SW_OK,
                )
            }
            0x9B => {
                let is_default = u8::from(
                    unhex(&st.mgm_key).as_deref() == Some(&DEFAULT_MGM_KEY[..])
                        && matches!(st.mgm_alg, ALG_3DES | ALG_AES192),
                );
                (
                    vec![
                        0x01, 0x01, st.mgm_alg, 0x02, 0x02, 0x00, 0x01, 0x05, 0x01, is_default,
                    ],
                    SW_OK,
                )
            }
            slot if is_key_slot(slot) || slot == 0xF9 => {
                let Some(key) = st.slots.get(&hex(&[slot])) else {
                    return (vec![], SW_REF_NOT_FOUND);
                };
                let Some(point) = public_point(key) else {
                    return (vec![], SW_REF_NOT_FOUND);
                };
                let mut out = vec![
                    0x01,
                    0x01,
                    key.alg,
                    0x02,
                    0x02,
                    key.pin_policy,
                    key.touch_policy,
                    0x03,
                    0x01,
                    key.origin,
                    0x04,
                    0x43,
                    0x86,
                    0x41,
                ];
                out.extend_from_slice(&point);
                (out, SW_OK)
            }
            _ => (vec![], SW_REF_NOT_FOUND),
        }
    }

    fn get_data(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        if c.p1 != 0x3F || c.p2 != 0xFF {
            return (vec![], SW_WRONG_P1P2);
        }
        // 5C len object-id
        let Some((tag, value, _)) = parse_tlv(c.data) else {
            return (vec![], SW_WRONG_DATA);
        };
        if tag != 0x5C {
            return (vec![], SW_WRONG_DATA);
        }
        if value == [0x5F, 0xC1, 0x09] {
            // PIN-protected data object: 53 { 88 { 89 key } }.
            let Some(key) = self.state.protected_mgm.as_deref().and_then(unhex) else {
                return (vec![], SW_NOT_FOUND);
            };
            if !self.session.pin_verified {
                return (vec![], SW_SECURITY);
            }
            if key.len() > 100 {
                return (vec![], SW_NOT_FOUND);
            }
            let inner_len = 2 + key.len();
            let mut out = vec![
                0x53,
                (inner_len + 2) as u8,
                0x88,
                inner_len as u8,
                0x89,
                key.len() as u8,
            ];
            out.extend_from_slice(&key);
            return (out, SW_OK);
        }
        (vec![], SW_NOT_FOUND)
    }

    fn general_authenticate(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        let Some((0x7C, body, _)) = parse_tlv(c.data) else {
            return (vec![], SW_WRONG_DATA);
        };
        let Some(items) = parse_tlvs(body) else {
            return (vec![], SW_WRONG_DATA);
        };
        if c.p2 == 0x9B {
            self.mgm_authenticate(c.p1, &items)
        } else if is_key_slot(c.p2) {
            self.sign(c.p1, c.p2, &items)
        } else {
            (vec![], SW_REF_NOT_FOUND)
        }
    }

    fn mgm_authenticate(&mut self, alg: u8, items: &[(u8, &[u8])]) -> (Vec<u8>, u16) {
        if alg != self.state.mgm_alg {
            self.session.witness = None;
            return (vec![], SW_WRONG_DATA);
        }
        let Some(key) = unhex(&self.state.mgm_key).map(Zeroizing::new) else {
            return (vec![], SW_WRONG_DATA);
        };
        let Some(bs) = block_size(alg) else {
            return (vec![], SW_WRONG_DATA);
        };
        let find = |t: u8| items.iter().find(|(tag, _)| *tag == t).map(|(_, v)| *v);
        match (find(0x80), find(0x81)) {
            // Step 1: the host asks for a witness.
            (Some([]), None) => {
                let mut w = Zeroizing::new(vec![0u8; bs]);
                if getrandom::fill(&mut w).is_err() {
                    return (vec![], 0x6F00);
                }
                let Some(enc) = block_crypt(alg, &key, &w, true) else {
                    return (vec![], SW_WRONG_DATA);
                };
                self.session.witness = Some(w);
                let mut out = vec![0x7C, (2 + bs) as u8, 0x80, bs as u8];
                out.extend_from_slice(&enc);
                (out, SW_OK)
            }
            // Step 2: decrypted witness plus the host's challenge.
            (Some(decrypted), Some(challenge)) => {
                let Some(w) = self.session.witness.take() else {
                    return (vec![], SW_SECURITY);
                };
                if decrypted.len() != bs || challenge.len() != bs || !ct_eq(decrypted, &w) {
                    self.session.mgm_authenticated = false;
                    return (vec![], SW_SECURITY);
                }
                let Some(enc) = block_crypt(alg, &key, challenge, true) else {
                    return (vec![], SW_WRONG_DATA);
                };
                self.session.mgm_authenticated = true;
                let mut out = vec![0x7C, (2 + bs) as u8, 0x82, bs as u8];
                out.extend_from_slice(&enc);
                (out, SW_OK)
            }
            _ => {
                self.session.witness = None;
                (vec![], SW_WRONG_DATA)
            }
        }
    }

    fn sign(&mut self, alg: u8, slot: u8, items: &[(u8, &[u8])]) -> (Vec<u8>, u16) {
        let Some(key) = self.state.slots.get(&hex(&[slot])).cloned() else {
            return (vec![], SW_WRONG_DATA);
        };
        if alg != key.alg || alg != ALG_P256 {
            return (vec![], SW_WRONG_DATA);
        }
        let find = |t: u8| items.iter().find(|(tag, _)| *tag == t).map(|(_, v)| *v);
        let (Some([]), Some(digest)) = (find(0x82), find(0x81)) else {
            return (vec![], SW_WRONG_DATA);
        };
        if digest.len() > 32 {
            return (vec![], SW_WRONG_DATA);
        }
        let pin_ok = match key.pin_policy {
            0x01 => true,
            0x03 => self.session.pin_verified && self.session.pin_fresh,
            _ => self.session.pin_verified,
        };
        if !pin_ok {
            return (vec![], SW_SECURITY);
        }
        if !self.touch(key.touch_policy) {
            return (vec![], SW_SECURITY);
        }
        let Some(sk) = unhex(&key.secret).map(Zeroizing::new) else {
            return (vec![], SW_WRONG_DATA);
        };
        let Some(der) = ecdsa_sign(&sk, digest) else {
            return (vec![], SW_WRONG_DATA);
        };
        if key.pin_policy == 0x03 {
            self.session.pin_fresh = false;
        }
        let mut out = vec![0x7C, (2 + der.len()) as u8, 0x82, der.len() as u8];
        out.extend_from_slice(&der);
        (out, SW_OK)
    }

    /// Returns whether the simulated user touched the key.
    fn touch(&mut self, policy: u8) -> bool {
        let needed = match policy {
            0x02 => true,
            // Cached: a touch within the last 15 s counts.
            0x03 => self
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

    fn generate(&mut self, c: &Command<'_>) -> (Vec<u8>, u16) {
        if c.p1 != 0 || !is_key_slot(c.p2) {
            return (vec![], SW_WRONG_P1P2);
        }
        if !self.session.mgm_authenticated {
            return (vec![], SW_SECURITY);
        }
        let Some((0xAC, body, _)) = parse_tlv(c.data) else {
            return (vec![], SW_WRONG_DATA);
        };
        let Some(items) = parse_tlvs(body) else {
            return (vec![], SW_WRONG_DATA);
        };
        let one = |t: u8| -> Result<Option<u8>, ()> {
            match items.iter().find(|(tag, _)| *tag == t) {
                None => Ok(None),
                Some((_, [v])) => Ok(Some(*v)),
                Some(_) => Err(()),
            }
        };
        let (Ok(Some(alg)), Ok(pin), Ok(touch)) = (one(0x80), one(0xAA), one(0xAB)) else {
            return (vec![], SW_WRONG_DATA);
        };
        if alg != ALG_P256 {
            return (vec![], SW_WRONG_DATA);
        }
        let pin_policy = match pin.unwrap_or(0) {
            0 => match c.p2 {
                0x9C => 0x03,
                0x9E => 0x01,
                _ => 0x02,
            },
            p @ 1..=3 => p,
            _ => return (vec![], SW_WRONG_DATA),
        };
        let touch_policy = match touch.unwrap_or(0) {
            0 => 0x01,
            t @ 1..=3 => t,
            _ => return (vec![], SW_WRONG_DATA),
        };
        let Some(secret) = random_scalar() else {
            return (vec![], 0x6F00);
        };
        let key = SlotKey {
            alg,
            pin_policy,
            touch_policy,
            origin: 0x01,
            secret: hex(&secret),
        };
        let Some(point) = public_point(&key) else {
            return (vec![], 0x6F00);
        };
        self.state.slots.insert(hex(&[c.p2]), key);
        if !self.save() {
            return (vec![], 0x6F00);
        }
        let mut out = vec![0x7F, 0x49, 0x43, 0x86, 0x41];
        out.extend_from_slice(&point);
        (out, SW_OK)
    }
}

fn load_or_create(path: &Path, version: (u8, u8, u8)) -> io::Result<CardState> {
    match CardState::load(path) {
        Ok(st) => Ok(st),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let st = CardState::factory(version);
            st.save(path)?;
            Ok(st)
        }
        Err(e) => Err(e),
    }
}

fn is_key_slot(slot: u8) -> bool {
    matches!(slot, 0x9A | 0x9C | 0x9D | 0x9E | 0x82..=0x95)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn block_size(alg: u8) -> Option<usize> {
    match alg {
        ALG_3DES => Some(8),
        ALG_AES128 | ALG_AES192 | ALG_AES256 => Some(16),
        _ => None,
    }
}

/// One-block ECB with the management key.
fn block_crypt(alg: u8, key: &[u8], block: &[u8], encrypt: bool) -> Option<Vec<u8>> {
    use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
    fn run<C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt>(
        key: &[u8],
        block: &[u8],
        encrypt: bool,
    ) -> Option<Vec<u8>> {
        let c = C::new_from_slice(key).ok()?;
        let mut b = aes::cipher::Block::<C>::try_from(block).ok()?;
        if encrypt {
            c.encrypt_block(&mut b);
        } else {
            c.decrypt_block(&mut b);
        }
        Some(b.to_vec())
    }
    match alg {
        ALG_3DES => run::<des::TdesEde3>(key, block, encrypt),
        ALG_AES128 => run::<aes::Aes128>(key, block, encrypt),
        ALG_AES192 => run::<aes::Aes192>(key, block, encrypt),
        ALG_AES256 => run::<aes::Aes256>(key, block, encrypt),
        _ => None,
    }
}

fn random_scalar() -> Option<Zeroizing<Vec<u8>>> {
    for _ in 0..16 {
        let mut b = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut b).ok()?;
        if p256::SecretKey::from_slice(&b).is_ok() {
            return Some(b);
        }
    }
    None
}

fn public_point(key: &SlotKey) -> Option<[u8; 65]> {
    if key.alg != ALG_P256 {
        return None;
    }
    let sk = Zeroizing::new(unhex(&key.secret)?);
    let sk = p256::SecretKey::from_slice(&sk).ok()?;
    use p256::elliptic_curve::sec1::ToSec1Point;
    let ep = sk.public_key().to_sec1_point(false);
    ep.as_bytes().try_into().ok()
}

/// ECDSA P-256 over a digest of at most 32 bytes (left-padded, as the integer conversion of a
/// shorter hash does anyway); deterministic nonce (RFC 6979); DER output.
fn ecdsa_sign(secret: &[u8], digest: &[u8]) -> Option<Vec<u8>> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let sk = p256::ecdsa::SigningKey::from_slice(secret).ok()?;
    let mut z = [0u8; 32];
    z[32 - digest.len()..].copy_from_slice(digest);
    let sig: p256::ecdsa::Signature = sk.sign_prehash(&z).ok()?;
    Some(sig.to_der().as_bytes().to_vec())
}

/// A parsed command APDU.
struct Command<'a> {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &'a [u8],
}

/// Short and extended APDUs; a lone fifth byte is read as Le/"no data" (the crate always sends Lc).
fn parse_apdu(a: &[u8]) -> Result<Command<'_>, u16> {
    if a.len() < 4 {
        return Err(SW_WRONG_LENGTH);
    }
    let (cla, ins, p1, p2) = (a[0], a[1], a[2], a[3]);
    let body = &a[4..];
    let data: &[u8] = match body.len() {
        0 | 1 => &[],
        _ if body[0] != 0 => {
            let lc = usize::from(body[0]);
            let rest = &body[1..];
            if rest.len() == lc || rest.len() == lc + 1 {
                &rest[..lc]
            } else {
                return Err(SW_WRONG_LENGTH);
            }
        }
        // Extended: 00 Lc1 Lc2 data [Le1 Le2], or 00 Le1 Le2 alone.
        3 => &[],
        n if n >= 3 => {
            let lc = usize::from(u16::from_be_bytes([body[1], body[2]]));
            let rest = &body[3..];
            if lc > 0 && (rest.len() == lc || rest.len() == lc + 2) {
                &rest[..lc]
            } else {
                return Err(SW_WRONG_LENGTH);
            }
        }
        _ => return Err(SW_WRONG_LENGTH),
    };
    Ok(Command {
        cla,
        ins,
        p1,
        p2,
        data,
    })
}

/// One BER-TLV with a one-byte tag (or `7F xx`, returned as its second byte): (tag, value, rest).
fn parse_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (len, rest) = match rest.split_first()? {
        (&l, r) if l < 0x80 => (usize::from(l), r),
        (0x81, r) => (usize::from(*r.first()?), r.get(1..)?),
        (0x82, r) => (
            usize::from(u16::from_be_bytes([*r.first()?, *r.get(1)?])),
            r.get(2..)?,
        ),
        _ => return None,
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn parse_tlvs(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, v, rest) = parse_tlv(b)?;
        out.push((t, v));
        b = rest;
    }
    Some(out)
}

/// Plugs the card into vpcd and serves it until `stop` is set. Connection attempts are retried
/// every 200 ms (vpcd may not be listening yet); when vpcd closes the socket the card reconnects.
pub fn run_card(cfg: &CardConfig, stop: &AtomicBool) -> io::Result<()> {
    let mut card = Card::open(cfg)?;
    while !stop.load(Ordering::SeqCst) {
        let stream = match TcpStream::connect(&cfg.vpcd_addr) {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        stream.set_read_timeout(Some(Duration::from_millis(200)))?;
        card.power_cycle();
        match serve(&mut card, stream, stop) {
            Ok(()) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    Ok(())
}

fn serve(card: &mut Card, mut s: TcpStream, stop: &AtomicBool) -> io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        if !read_full(&mut s, &mut len, stop, true)? {
            return Ok(());
        }
        let n = usize::from(u16::from_be_bytes(len));
        let mut msg = Zeroizing::new(vec![0u8; n]);
        if !read_full(&mut s, &mut msg, stop, false)? {
            return Ok(());
        }
        let reply: Option<Vec<u8>> = match msg.as_slice() {
            [] => None,
            [0x00] | [0x01] | [0x02] => {
                card.power_cycle();
                None
            }
            [0x04] => Some(ATR.to_vec()),
            [_] => None,
            apdu => Some(card.process_apdu(apdu)),
        };
        if let Some(r) = reply {
            let r = Zeroizing::new(r);
            let n = u16::try_from(r.len()).map_err(io::Error::other)?;
            let mut frame = Zeroizing::new(Vec::with_capacity(r.len() + 2));
            frame.extend_from_slice(&n.to_be_bytes());
            frame.extend_from_slice(&r);
            s.write_all(&frame)?;
        }
    }
}

/// vpcd sends a message's length and its body in two writes with Nagle on; without an immediate
/// ACK from us the body waits for our delayed ACK (~40 ms per APDU). Linux clears QUICKACK after
/// use, so it is set again before every read.
fn quickack(s: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: valid socket fd, pointer and length of a c_int option value.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = s;
}

/// Reads exactly `buf.len()` bytes, checking `stop` on every read timeout. Returns false when
/// the peer closed the socket before the first byte of a message (`at_boundary`) or stop was set.
fn read_full(
    s: &mut TcpStream,
    buf: &mut [u8],
    stop: &AtomicBool,
    at_boundary: bool,
) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::SeqCst) {
            return Ok(false);
        }
        quickack(s);
        match s.read(&mut buf[got..]) {
            Ok(0) if got == 0 && at_boundary => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => got += k,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
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

    fn sw(r: &[u8]) -> u16 {
        u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
    }

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
        assert_eq!(sw(&c.process_apdu(SELECT)), 0x9000);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), 0x63C3);
        assert_eq!(sw(&c.process_apdu(PIN_OK)), 0x9000);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), 0x9000);
        assert_eq!(sw(&c.process_apdu(SELECT)), 0x9000);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), 0x63C3);
        assert_eq!(sw(&c.process_apdu(PIN_BAD)), 0x63C2);
        assert_eq!(sw(&c.process_apdu(PIN_BAD)), 0x63C1);
        assert_eq!(sw(&c.process_apdu(PIN_BAD)), 0x63C0);
        assert_eq!(sw(&c.process_apdu(PIN_OK)), 0x6983);
        assert_eq!(sw(&c.process_apdu(PIN_QUERY)), 0x6983);
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

    #[test]
    fn block_ciphers_round_trip() {
        for alg in [ALG_3DES, ALG_AES128, ALG_AES192, ALG_AES256] {
            let klen = match alg {
                ALG_AES128 => 16,
                ALG_AES256 => 32,
                _ => 24,
            };
            let bs = block_size(alg).unwrap();
            let key = vec![7u8; klen];
            let blk: Vec<u8> = (0..bs as u8).collect();
            let e = block_crypt(alg, &key, &blk, true).unwrap();
            assert_ne!(e, blk);
            assert_eq!(block_crypt(alg, &key, &e, false).unwrap(), blk);
        }
    }

    /// Management-key authentication and a P-256 key in slot 82, as the crate would do it.
    fn authenticated_card_with_key() -> (tempfile::TempDir, Card) {
        let (d, mut c) = card();
        let r = c.process_apdu(&[0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C, 0x02, 0x80, 0x00]);
        assert_eq!(sw(&r), 0x9000);
        let w = block_crypt(ALG_3DES, &DEFAULT_MGM_KEY, &r[4..12], false).unwrap();
        let mut a = vec![0x00, 0x87, 0x03, 0x9B, 0x16, 0x7C, 0x14, 0x80, 0x08];
        a.extend(&w);
        a.extend([0x81, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
        let r = c.process_apdu(&a);
        assert_eq!(sw(&r), 0x9000);
        assert_eq!(
            &r[4..12],
            &block_crypt(ALG_3DES, &DEFAULT_MGM_KEY, &[1, 2, 3, 4, 5, 6, 7, 8], true).unwrap()[..]
        );
        let r = c.process_apdu(&[
            0x00, 0x47, 0x00, 0x82, 0x0B, 0xAC, 0x09, 0x80, 0x01, 0x11, 0xAA, 0x01, 0x02, 0xAB,
            0x01, 0x01,
        ]);
        assert_eq!(&r[..5], &[0x7F, 0x49, 0x43, 0x86, 0x41]);
        assert_eq!(sw(&r), 0x9000);
        (d, c)
    }

    #[test]
    fn sign_needs_the_pin_once_and_answers_der() {
        let (_d, mut c) = authenticated_card_with_key();
        let mut sign = vec![
            0x00, 0x87, 0x11, 0x82, 0x26, 0x7C, 0x24, 0x82, 0x00, 0x81, 0x20,
        ];
        sign.extend([0xAB; 32]);
        assert_eq!(sw(&c.process_apdu(&sign)), 0x6982);
        c.process_apdu(PIN_OK);
        let r = c.process_apdu(&sign);
        assert_eq!(sw(&r), 0x9000);
        assert_eq!((r[0], r[2], r[4]), (0x7C, 0x82, 0x30));
        assert_eq!(
            sw(&c.process_apdu(&sign)),
            0x9000,
            "policy once: no second VERIFY needed"
        );
        c.process_apdu(SELECT);
        assert_eq!(
            sw(&c.process_apdu(&sign)),
            0x6982,
            "SELECT ends the PIN session"
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
                prop_assert!(r.len() >= 2 && r.len() <= 257);
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
                prop_assert!(r.len() <= 257);
            }
        }
    }
}
