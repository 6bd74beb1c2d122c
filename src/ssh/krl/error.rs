//! What can go wrong reading, changing or writing a KRL, and what to do about it.

use std::fmt;

use super::{MAX_ENTRIES, MAX_KRL_BYTES};
use crate::diagnostic::{Diagnostic, FAILURE, USAGE};

/// What can go wrong reading, changing or writing a KRL, phrased for the person at the keyboard.
/// The caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KrlError {
    /// The bytes do not start with `SSHKRL\n\0`.
    NotAKrl,
    /// A KRL format version other than 1.
    FormatVersion(u32),
    /// The data ends in the middle of a field.
    Truncated(&'static str),
    /// A field is present but invalid (the reason says which, as OpenSSH would refuse it).
    Malformed(String),
    /// A section type OpenSSH 9.2 does not know.
    UnknownSection(u8),
    /// A certificate subsection type OpenSSH 9.2 does not know.
    UnknownCertSubsection(u8),
    /// The KRL carries an embedded signature (section 0x04).
    EmbeddedSignature,
    /// The path is not a regular file (the kind it is: a FIFO, a device, a directory).
    NotAFile(&'static str),
    /// The file is larger than [`MAX_KRL_BYTES`].
    TooLarge(usize),
    /// More than [`MAX_ENTRIES`] revocations.
    TooManyEntries,
    /// The KRL's version is `u64::MAX`: a change cannot bump it (wrapping to 0 would make every
    /// host refuse it as older).
    VersionExhausted,
    /// Serial 0 was asked for: OpenSSH never matches it and refuses KRLs that list it.
    SerialZero,
    /// A serial range whose end is not above its start.
    BadRange(u64, u64),
    /// A spec line could not be used.
    Spec {
        /// The spec file's name, or `(standard input)`.
        source: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A spec line revokes by serial or key id but no CA was given.
    SpecNeedsCa {
        /// The spec file's name.
        source: String,
        /// 1-based line number.
        line: u64,
        /// `serial` or `key id`.
        what: &'static str,
    },
    /// Reading the spec failed.
    SpecRead {
        /// The spec file's name.
        source: String,
        /// The I/O error, as text.
        error: String,
    },
}

impl fmt::Display for KrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KrlError::NotAKrl => f.write_str("is not an OpenSSH KRL (it does not start with the KRL magic \"SSHKRL\")"),
            KrlError::FormatVersion(v) => write!(f, "is a KRL of format version {v}; OpenSSH reads only version 1"),
            KrlError::Truncated(what) => write!(f, "is a damaged KRL: it ends in the middle of {what}"),
            KrlError::Malformed(why) => write!(f, "is a damaged KRL: {why}"),
            KrlError::UnknownSection(t) => write!(f, "is a KRL with a section of type {t:#04x}, which OpenSSH 9.2 does not know (sshd would refuse every key)"),
            KrlError::UnknownCertSubsection(t) => write!(f, "is a KRL with a certificate subsection of type {t:#04x}, which OpenSSH 9.2 does not know (sshd would refuse every key)"),
            KrlError::EmbeddedSignature => f.write_str("is a KRL with an embedded signature (section 0x04), which OpenSSH 9.4 and later refuse and which any change would invalidate"),
            KrlError::NotAFile(kind) => write!(f, "is {kind}, not a regular file"),
            KrlError::TooLarge(n) => write!(f, "is {n} bytes, more than the {} MiB a KRL may be here", MAX_KRL_BYTES / 1024 / 1024),
            KrlError::TooManyEntries => write!(f, "would hold more than {MAX_ENTRIES} revocations"),
            KrlError::VersionExhausted => write!(f, "is at KRL version {}, the largest a KRL can have, so no change can bump it", u64::MAX),
            KrlError::SerialZero => f.write_str("serial 0 cannot be revoked: OpenSSH never matches serial 0 and refuses a KRL that lists it"),
            KrlError::BadRange(a, b) => write!(f, "the serial range {a}-{b} is empty: its end must be above its start"),
            KrlError::Spec { source, line, reason } => write!(f, "{source} line {line}: {reason}"),
            KrlError::SpecNeedsCa { source, line, what } => write!(f, "{source} line {line} revokes by {what}, which needs --ca CA.pub: a KRL revokes serials and key ids per CA"),
            KrlError::SpecRead { source, error } => write!(f, "could not read {source}: {error}"),
        }
    }
}

impl std::error::Error for KrlError {}

impl Diagnostic for KrlError {
    fn hint(&self) -> String {
        let hint = match self {
            KrlError::NotAKrl | KrlError::FormatVersion(_) => "Point --krl at a KRL file (ssh-keygen -k or breakglass revoke writes them), or at a path where none exists yet to create one.",
            KrlError::Truncated(_) | KrlError::Malformed(_) | KrlError::UnknownSection(_) | KrlError::UnknownCertSubsection(_) => "Restore the KRL from a good copy (sshd refuses every key while it reads a damaged one), then run again.",
            KrlError::EmbeddedSignature => "Rebuild the KRL without a signature (ssh-keygen -k from its spec), and sign it with breakglass revoke --sign, which writes a detached FILE.sig.",
            KrlError::NotAFile(_) => "Name a KRL file (--krl, --list): revoke reads only regular files, and creates the KRL when the path does not exist yet.",
            KrlError::TooLarge(_) | KrlError::TooManyEntries => "Split the revocations by CA, or revoke ranges (serial: A-B) instead of single serials.",
            KrlError::VersionExhausted => "Write a new KRL with everything this one revokes (breakglass revoke --list shows it) and roll it out once with breakglass_krl_allow_older=true: hosts install only greater versions.",
            KrlError::SerialZero => "Revoke that certificate by key id (--key-id, or id: in a spec) or by its key file instead.",
            KrlError::BadRange(..) => "Write the range as A-B with B above A, e.g. 100-199.",
            KrlError::Spec { .. } => "Fix that line: serial: N, serial: A-B, id: KEY_ID, key:/sha1:/sha256: followed by a public key, hash: SHA256:…, or a bare public key or certificate line.",
            KrlError::SpecNeedsCa { .. } => "Pass the CA that signed those certificates with --ca CA.pub.",
            KrlError::SpecRead { .. } => "Check the path and its permissions, then run again.",
        };
        hint.into()
    }

    /// [`USAGE`] when the mistake is on the command line (`--ca` missing, serial 0, an empty
    /// range).
    fn exit_code(&self) -> u8 {
        match self {
            KrlError::SpecNeedsCa { .. } | KrlError::SerialZero | KrlError::BadRange(..) => USAGE,
            KrlError::NotAKrl
            | KrlError::FormatVersion(_)
            | KrlError::Truncated(_)
            | KrlError::Malformed(_)
            | KrlError::UnknownSection(_)
            | KrlError::UnknownCertSubsection(_)
            | KrlError::EmbeddedSignature
            | KrlError::NotAFile(_)
            | KrlError::TooLarge(_)
            | KrlError::TooManyEntries
            | KrlError::Spec { .. }
            | KrlError::SpecRead { .. }
            | KrlError::VersionExhausted => FAILURE,
        }
    }

    /// Always "krl": the message names the file and what is wrong with it.
    fn kind(&self) -> &'static str {
        match self {
            KrlError::NotAKrl
            | KrlError::FormatVersion(_)
            | KrlError::Truncated(_)
            | KrlError::Malformed(_)
            | KrlError::UnknownSection(_)
            | KrlError::UnknownCertSubsection(_)
            | KrlError::EmbeddedSignature
            | KrlError::NotAFile(_)
            | KrlError::TooLarge(_)
            | KrlError::TooManyEntries
            | KrlError::SerialZero
            | KrlError::BadRange(..)
            | KrlError::Spec { .. }
            | KrlError::SpecNeedsCa { .. }
            | KrlError::SpecRead { .. }
            | KrlError::VersionExhausted => "krl",
        }
    }
}
