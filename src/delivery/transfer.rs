//! Handing a key and its certificate to a colleague over magic-wormhole.
//!
//! We speak the "file transfer v1" protocol of the Python `wormhole` CLI
//! (app id `lothar.com/wormhole/text-or-file-xfer`) on top of the public,
//! lower-level API of the `magic-wormhole` crate (`MailboxConnection`,
//! `Wormhole`, `transit`). We don't use the crate's `transfer` module: it sends
//! folders as a tar with every entry 0644, has no text messages, no timeouts,
//! and reports cancellation as success.
//!
//! The peer protocol, as JSON messages over the encrypted mailbox:
//! * sender → `{"transit": {"abilities-v1": [...], "hints-v1": [...]}}`
//! * sender → `{"offer": {"directory": {"mode": "zipfile/deflated", "dirname": D,
//!   "zipsize": Z, "numbytes": N, "numfiles": F}}}` (or `{"file": {"filename",
//!   "filesize"}}`, or `{"message": TEXT}`)
//! * receiver → its own `{"transit": ...}`, then `{"answer": {"file_ack": "ok"}}`
//!   (`{"answer": {"message_ack": "ok"}}` for text; `{"error": "..."}` to refuse)
//! * then over transit (sender = leader), encrypted records carrying the bytes,
//!   and one record back: `{"ack": "ok", "sha256": HEX}`.
//!
//! The transit key is HKDF of the wormhole key with the purpose
//! `"lothar.com/wormhole/text-or-file-xfer/transit-key"` (Python always uses this
//! app id there, see its "BUG339"), derived through the crate's public
//! `Key::derive_subkey_from_purpose`.
//!
//! Cancelling: drop the future. Every phase has a timeout.
//!
//! The parts: `config` (servers, timeouts, relay-only), `error` (what went wrong and what to
//! do), `code` (checking a typed code), `wire` (mailbox messages and the transit connection both
//! sides use), `send` (the directory offer), `offer` and `receive` (checking an offer, then the
//! receiver's steps), [`zipdir`] (the zip both sides write and read).

mod code;
mod config;
mod error;
mod offer;
mod receive;
mod send;
mod wire;
pub mod zipdir;

use zeroize::Zeroizing;

pub use config::{WormholeConfig, DEFAULT_MAILBOX_URL, DEFAULT_RELAY_URL};
pub use error::TransferError;
#[cfg(feature = "test-support")]
pub use offer::{parse_offer, Offer};
pub use receive::receive;
#[cfg(feature = "test-support")]
pub use send::send_raw_offer;
pub use send::{send_dir, send_file};
pub use zipdir::display_safe;

/// The app id of Python's file/text transfer; also the transit key's purpose prefix.
pub const APPID: &str = "lothar.com/wormhole/text-or-file-xfer";
/// Most bytes we accept (sum of all files, uncompressed).
pub const MAX_TOTAL_BYTES: u64 = 1 << 20;
/// Most files we accept in a directory offer.
pub const MAX_ENTRIES: usize = 16;
/// Most bytes of a zip we accept on the wire (content cap + room for headers).
pub const MAX_ZIP_BYTES: u64 = MAX_TOTAL_BYTES + 64 * 1024;
/// Longest text message we accept.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A file to send, or one received. `name` is a plain file name (no path).
#[derive(Clone, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub bytes: Zeroizing<Vec<u8>>,
    /// Permission bits, e.g. `0o600`.
    pub mode: u32,
}

impl std::fmt::Debug for OutFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutFile")
            .field("name", &self.name)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("mode", &format_args!("{:o}", self.mode))
            .finish()
    }
}

/// What the other side sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A directory offer (what `send_dir` and `wormhole send DIR` send).
    Files {
        dir_name: String,
        files: Vec<OutFile>,
    },
    /// A single file (`wormhole send FILE`); mode is 0600 since none is sent.
    File(OutFile),
    /// A text message (`wormhole send --text`). Not sanitised: use
    /// [`display_safe`] before printing it.
    Text(String),
}

type Result<T, E = TransferError> = std::result::Result<T, E>;
