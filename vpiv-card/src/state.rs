//! What the card keeps across power cycles: PIN and PUK with their counters, the management key,
//! the slots' keys and the simulated user's touch behaviour. One JSON file, written atomically
//! with mode 0600 from the first byte; tests edit it between host connections.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::mgm::MgmAlgorithm;

/// Default management key bytes (3DES and AES-192 alike).
pub const DEFAULT_MGM_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
/// Factory PIN.
pub(crate) const DEFAULT_PIN: &[u8] = b"123456";
/// Factory PUK.
pub(crate) const DEFAULT_PUK: &[u8] = b"12345678";

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
    /// `BREAKGLASS_PIV_TOUCH` (`approve`, `deny`, `timeout`), which overrides the state file.
    pub(crate) fn from_env() -> Option<TouchMode> {
        match std::env::var("BREAKGLASS_PIV_TOUCH").ok()?.as_str() {
            "approve" => Some(TouchMode::Approve),
            "deny" => Some(TouchMode::Deny),
            "timeout" => Some(TouchMode::Timeout),
            _ => None,
        }
    }
}

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
    /// PIN tries after a reset of the counter.
    pub pin_tries_total: u8,
    /// PIN tries left (0 = blocked).
    pub pin_tries_left: u8,
    /// PUK bytes, hex (unpadded).
    pub puk: String,
    /// PUK tries after a reset of the counter.
    pub puk_tries_total: u8,
    /// PUK tries left.
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
        let mgm = if aes {
            MgmAlgorithm::Aes192
        } else {
            MgmAlgorithm::Tdes
        };
        CardState {
            pin: hex(DEFAULT_PIN),
            pin_tries_total: 3,
            pin_tries_left: 3,
            puk: hex(DEFAULT_PUK),
            puk_tries_total: 3,
            puk_tries_left: 3,
            mgm_alg: mgm.code(),
            mgm_key: hex(&DEFAULT_MGM_KEY),
            protected_mgm: None,
            touch: TouchMode::Approve,
            touch_timeout_ms: default_touch_timeout(),
            slots: BTreeMap::new(),
        }
    }

    /// Reads a state file.
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = Zeroizing::new(std::fs::read(path)?);
        serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Writes the state file: temp file in the same directory, 0600, fsync, rename.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let json = Zeroizing::new(serde_json::to_vec_pretty(self).map_err(io::Error::other)?);
        write_atomic(path, &json)
    }

    /// Reads the state file, or creates it with the factory state when it is missing.
    pub fn load_or_create(path: &Path, version: (u8, u8, u8)) -> io::Result<Self> {
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

/// (inode, length, mtime) of the state file; every save renames a new inode into place, so a
/// changed id means someone else wrote it.
pub(crate) type FileId = (u64, u64, Option<std::time::SystemTime>);

/// The state file's current [`FileId`], `None` when it cannot be read.
pub(crate) fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()))
}

/// Atomic 0600 write: temp file beside the target, fsync, rename, fsync the directory. (The
/// card does not link breakglass, so this is its own small copy of `breakglass::atomic`.)
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
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

/// Lower-case hex, the state file's encoding of bytes.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The inverse of [`hex`]; `None` for odd lengths or non-hex digits.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
