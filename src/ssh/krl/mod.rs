//! OpenSSH key revocation lists (KRLs): the binary format sshd reads through `RevokedKeys` and
//! `ssh-keygen -k` writes (`PROTOCOL.krl`, `krl.c`; REFERENCE.md §8).
//!
//! A [`Krl`] is held the way `krl.c` holds it: per CA (in the order the CAs were first seen) a
//! set of serial ranges and a set of key ids, then the explicit keys and the SHA-1 and SHA-256
//! fingerprints. Decoding follows `ssh_krl_from_blob` of OpenSSH 9.2 and refuses what it refuses,
//! so a KRL we accept is one sshd accepts; everything it revokes is kept, whichever subsection
//! type carried it. Encoding follows `ssh_krl_to_blob` and its list/range/bitmap cost model
//! (`choose_next_state`), except that a bitmap never exceeds the 2048 bytes OpenSSH's reader
//! takes (`SSHBUF_MAX_BIGNUM`): ssh-keygen 9.2 writes longer ones, which its own reader and sshd
//! then refuse ("bignum is too large").
//!
//! Embedded KRL signatures (section 0x04) are refused, not kept: OpenSSH 9.4 and later refuse
//! KRLs that carry one, and any change we make would invalidate it. breakglass signs KRLs with a
//! detached SSHSIG file instead.
//!
//! Decoding never panics and bounds what it allocates ([`MAX_KRL_BYTES`], [`MAX_ENTRIES`]): a
//! KRL read from disk is untrusted.

mod sha1;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use ssh_key::encoding::{Decode, Encode};
use ssh_key::public::KeyData;
use ssh_key::Certificate;

pub use sha1::sha1;

/// `KRL_MAGIC` (`krl.h`).
pub const MAGIC: &[u8; 8] = b"SSHKRL\n\0";
/// `KRL_FORMAT_VERSION`.
pub const FORMAT_VERSION: u32 = 1;

/// Section types (`krl.h`).
const SECTION_CERTIFICATES: u8 = 1;
const SECTION_EXPLICIT_KEY: u8 = 2;
const SECTION_FINGERPRINT_SHA1: u8 = 3;
const SECTION_SIGNATURE: u8 = 4;
const SECTION_FINGERPRINT_SHA256: u8 = 5;
/// Certificate subsection types (`krl.h`).
const CERT_SERIAL_LIST: u8 = 0x20;
const CERT_SERIAL_RANGE: u8 = 0x21;
const CERT_SERIAL_BITMAP: u8 = 0x22;
const CERT_KEY_ID: u8 = 0x23;

/// The largest KRL file we read. OpenSSH's own limit is 128 MiB (`SSHBUF_SIZE_MAX`); a KRL that
/// size would take sshd seconds per login, so this is far beyond any real one.
pub const MAX_KRL_BYTES: usize = 32 * 1024 * 1024;
/// The most revocations (serial ranges + key ids + keys + fingerprints) a KRL may hold.
pub const MAX_ENTRIES: usize = 2_000_000;
/// The largest bitmap OpenSSH reads: `SSHBUF_MAX_BIGNUM` bytes (`sshbuf.h`).
const MAX_BITMAP_BYTES: usize = 2048;
const MAX_BITMAP_BITS: u64 = (MAX_BITMAP_BYTES * 8) as u64;

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
    /// The file is larger than [`MAX_KRL_BYTES`].
    TooLarge(usize),
    /// More than [`MAX_ENTRIES`] revocations.
    TooManyEntries,
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
            KrlError::TooLarge(n) => write!(f, "is {n} bytes, more than the {} MiB a KRL may be here", MAX_KRL_BYTES / 1024 / 1024),
            KrlError::TooManyEntries => write!(f, "would hold more than {MAX_ENTRIES} revocations"),
            KrlError::SerialZero => f.write_str("serial 0 cannot be revoked: OpenSSH never matches serial 0 and refuses a KRL that lists it"),
            KrlError::BadRange(a, b) => write!(f, "the serial range {a}-{b} is empty: its end must be above its start"),
            KrlError::Spec { source, line, reason } => write!(f, "{source} line {line}: {reason}"),
            KrlError::SpecNeedsCa { source, line, what } => write!(f, "{source} line {line} revokes by {what}, which needs --ca CA.pub: a KRL revokes serials and key ids per CA"),
            KrlError::SpecRead { source, error } => write!(f, "could not read {source}: {error}"),
        }
    }
}

impl std::error::Error for KrlError {}

impl KrlError {
    /// The next step for the user.
    pub fn hint(&self) -> &'static str {
        match self {
            KrlError::NotAKrl | KrlError::FormatVersion(_) => "Point --krl at a KRL file (ssh-keygen -k or breakglass revoke writes them), or at a path where none exists yet to create one.",
            KrlError::Truncated(_) | KrlError::Malformed(_) | KrlError::UnknownSection(_) | KrlError::UnknownCertSubsection(_) => "Restore the KRL from a good copy (sshd refuses every key while it reads a damaged one), then run again.",
            KrlError::EmbeddedSignature => "Rebuild the KRL without a signature (ssh-keygen -k from its spec), and sign it with breakglass revoke --sign, which writes a detached FILE.sig.",
            KrlError::TooLarge(_) | KrlError::TooManyEntries => "Split the revocations by CA, or revoke ranges (serial: A-B) instead of single serials.",
            KrlError::SerialZero => "Revoke that certificate by key id (--key-id, or id: in a spec) or by its key file instead.",
            KrlError::BadRange(..) => "Write the range as A-B with B above A, e.g. 100-199.",
            KrlError::Spec { .. } => "Fix that line: serial: N, serial: A-B, id: KEY_ID, key:/sha1:/sha256: followed by a public key, hash: SHA256:…, or a bare public key or certificate line.",
            KrlError::SpecNeedsCa { .. } => "Pass the CA that signed those certificates with --ca CA.pub.",
            KrlError::SpecRead { .. } => "Check the path and its permissions, then run again.",
        }
    }

    /// True when the mistake is on the command line (`--ca` missing): exit 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            KrlError::SpecNeedsCa { .. } | KrlError::SerialZero | KrlError::BadRange(..)
        )
    }
}

/// Serials as disjoint, non-adjacent inclusive ranges (`revoked_serial_tree`; ranges that touch
/// or overlap are merged as `insert_serial_range` does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialSet {
    ranges: BTreeMap<u64, u64>,
}

impl SerialSet {
    /// Adds `lo..=hi` (needs `lo <= hi`), merging with neighbours. Returns how many ranges the
    /// set holds now minus before (may be negative when ranges merge).
    pub fn insert(&mut self, lo: u64, hi: u64) -> isize {
        debug_assert!(lo <= hi);
        // Fast path for specs in ascending order: at or past the last range.
        if let Some(mut last) = self.ranges.last_entry() {
            let (s, e) = (*last.key(), *last.get());
            if lo > s {
                if lo <= e.saturating_add(1) {
                    if hi > e {
                        *last.get_mut() = hi;
                    }
                    return 0;
                }
                self.ranges.insert(lo, hi);
                return 1;
            }
        }
        let before = self.ranges.len() as isize;
        let (mut lo, mut hi) = (lo, hi);
        // Every range that overlaps or abuts [lo, hi] starts at or before hi+1 and ends at or
        // after lo-1; they sit just below hi+1 in start order.
        let reach = hi.saturating_add(1);
        let mut absorbed = Vec::new();
        for (&s, &e) in self.ranges.range(..=reach).rev() {
            if e.saturating_add(1) < lo {
                break;
            }
            absorbed.push(s);
            lo = lo.min(s);
            hi = hi.max(e);
        }
        for s in absorbed {
            self.ranges.remove(&s);
        }
        self.ranges.insert(lo, hi);
        self.ranges.len() as isize - before
    }

    /// True if `serial` is in the set.
    pub fn contains(&self, serial: u64) -> bool {
        self.ranges
            .range(..=serial)
            .next_back()
            .is_some_and(|(_, &e)| serial <= e)
    }

    /// The ranges in ascending order, as `(lo, hi)` inclusive.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().map(|(&s, &e)| (s, e))
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when no serial is revoked.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// Certificates revoked under one CA (`struct revoked_certs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaRevocations {
    /// The CA's public key blob, as OpenSSH re-encodes it; `None` = any CA (`ssh-keygen -s none`).
    pub ca: Option<Vec<u8>>,
    /// Revoked serials (never 0).
    pub serials: SerialSet,
    /// Revoked key ids, in `strcmp` order (bytes; never containing NUL).
    pub key_ids: BTreeSet<Vec<u8>>,
}

/// One revocation to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Serials `lo..=hi` of certificates signed by `ca` (`None` = any CA).
    Serials {
        /// CA key blob (shared: a spec of 100,000 lines names one CA).
        ca: Option<Arc<[u8]>>,
        /// First serial (not 0).
        lo: u64,
        /// Last serial (`>= lo`).
        hi: u64,
    },
    /// Certificates with this key id signed by `ca`.
    KeyId {
        /// CA key blob (shared, as for `Serials`).
        ca: Option<Arc<[u8]>>,
        /// The key id (no NUL).
        id: Vec<u8>,
    },
    /// A plain public key blob, revoked wherever it appears (also inside certificates).
    Key(Vec<u8>),
    /// SHA-1 of a plain public key blob.
    Sha1([u8; 20]),
    /// SHA-256 of a plain public key blob.
    Sha256([u8; 32]),
}

/// A key revocation list.
#[derive(Debug, Clone, Default)]
pub struct Krl {
    /// `krl_version` (ssh-keygen `-z`); breakglass bumps it on every change.
    pub krl_version: u64,
    /// Seconds since the epoch when it was written.
    pub generated_date: u64,
    /// `flags` (0 in every KRL OpenSSH writes; kept as read).
    pub flags: u64,
    /// The comment (bytes, no NUL).
    pub comment: Vec<u8>,
    /// Certificate revocations per CA, in the order the CAs were first seen.
    pub certs: Vec<CaRevocations>,
    /// Explicitly revoked plain key blobs.
    pub keys: BTreeSet<Vec<u8>>,
    /// Revoked SHA-1 fingerprints (of plain key blobs).
    pub sha1: BTreeSet<[u8; 20]>,
    /// Revoked SHA-256 fingerprints.
    pub sha256: BTreeSet<[u8; 32]>,
    entries: usize,
    /// Where each CA sits in `certs`: a hostile KRL with many CA sections must not make every
    /// lookup a linear scan (krl.c's TAILQ is quadratic there).
    ca_index: HashMap<Option<Vec<u8>>, usize>,
    last_ca: Option<usize>,
}

/// Two KRLs are equal when they say the same: header fields and revocations (not the lookup
/// caches).
impl PartialEq for Krl {
    fn eq(&self, o: &Krl) -> bool {
        self.krl_version == o.krl_version
            && self.generated_date == o.generated_date
            && self.flags == o.flags
            && self.comment == o.comment
            && self.certs == o.certs
            && self.keys == o.keys
            && self.sha1 == o.sha1
            && self.sha256 == o.sha256
    }
}

impl Eq for Krl {}

/// What `ssh_krl_check_key` says about a key or certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not revoked.
    Ok,
    /// Revoked, and why.
    Revoked(Reason),
}

/// Why a key is revoked (§8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its plain key's SHA-1 is listed.
    Sha1,
    /// Its plain key's SHA-256 is listed.
    Sha256,
    /// Its plain key is listed.
    ExplicitKey,
    /// Its key id is listed under its CA (or any CA).
    KeyId,
    /// Its non-zero serial is listed under its CA (or any CA).
    Serial,
    /// The CA that signed it is itself revoked as a key.
    CaRevoked,
}

impl Krl {
    /// An empty KRL.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored revocations (serial ranges, key ids, keys, fingerprints).
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// True when it revokes nothing.
    pub fn is_empty(&self) -> bool {
        self.certs
            .iter()
            .all(|c| c.serials.is_empty() && c.key_ids.is_empty())
            && self.keys.is_empty()
            && self.sha1.is_empty()
            && self.sha256.is_empty()
    }

    fn ca_entry(&mut self, ca: Option<&[u8]>) -> &mut CaRevocations {
        // Specs revoke under one CA line after line: try the last one used before hashing.
        if let Some(i) = self
            .last_ca
            .filter(|&i| self.certs.get(i).is_some_and(|c| c.ca.as_deref() == ca))
        {
            return &mut self.certs[i];
        }
        let key = ca.map(<[u8]>::to_vec);
        let i = match self.ca_index.get(&key) {
            Some(&i) if self.certs.get(i).is_some_and(|c| c.ca == key) => i,
            _ => match self.certs.iter().position(|c| c.ca == key) {
                Some(i) => i,
                None => {
                    self.certs.push(CaRevocations {
                        ca: key.clone(),
                        ..Default::default()
                    });
                    self.certs.len() - 1
                }
            },
        };
        self.ca_index.insert(key, i);
        self.last_ca = Some(i);
        &mut self.certs[i]
    }

    fn count(&mut self, added: isize) -> Result<(), KrlError> {
        self.entries = self.entries.saturating_add_signed(added);
        if self.entries > MAX_ENTRIES {
            return Err(KrlError::TooManyEntries);
        }
        Ok(())
    }

    /// Adds one revocation. Returns true when it revoked something not revoked before.
    pub fn revoke(&mut self, r: Revocation) -> Result<bool, KrlError> {
        match r {
            Revocation::Serials { ca, lo, hi } => {
                if lo == 0 {
                    return Err(KrlError::SerialZero);
                }
                if hi < lo {
                    return Err(KrlError::BadRange(lo, hi));
                }
                let set = &mut self.ca_entry(ca.as_deref()).serials;
                let new = !covers(set, lo, hi);
                let d = set.insert(lo, hi);
                self.count(d)?;
                Ok(new)
            }
            Revocation::KeyId { ca, id } => {
                if id.contains(&0) {
                    return Err(KrlError::Malformed("a key id contains a NUL byte".into()));
                }
                let new = self.ca_entry(ca.as_deref()).key_ids.insert(id);
                self.count(new as isize)?;
                Ok(new)
            }
            Revocation::Key(blob) => {
                let new = self.keys.insert(blob);
                self.count(new as isize)?;
                Ok(new)
            }
            Revocation::Sha1(h) => {
                let new = self.sha1.insert(h);
                self.count(new as isize)?;
                Ok(new)
            }
            Revocation::Sha256(h) => {
                let new = self.sha256.insert(h);
                self.count(new as isize)?;
                Ok(new)
            }
        }
    }

    /// Reads a KRL as `ssh_krl_from_blob` (OpenSSH 9.2) does, refusing what it refuses, and
    /// embedded signatures. An empty input is an empty KRL (sshd accepts an empty
    /// `RevokedKeys` file).
    pub fn decode(data: &[u8]) -> Result<Krl, KrlError> {
        if data.is_empty() {
            return Ok(Krl::new());
        }
        if data.len() > MAX_KRL_BYTES {
            return Err(KrlError::TooLarge(data.len()));
        }
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            return Err(KrlError::NotAKrl);
        }
        let mut r = Reader(&data[MAGIC.len()..]);
        let version = r.u32("the format version")?;
        if version != FORMAT_VERSION {
            return Err(KrlError::FormatVersion(version));
        }
        let mut krl = Krl {
            krl_version: r.u64("the KRL version")?,
            generated_date: r.u64("the generation date")?,
            flags: r.u64("the flags")?,
            ..Krl::default()
        };
        r.string("the reserved field")?;
        krl.comment = cstring(r.string("the comment")?, "the comment")?;
        // First pass, as krl.c: find signature sections before parsing anything else.
        let mut scan = Reader(r.0);
        while !scan.is_empty() {
            let t = scan.u8("a section type")?;
            scan.string("a section")?;
            if t == SECTION_SIGNATURE {
                return Err(KrlError::EmbeddedSignature);
            }
        }
        while !r.is_empty() {
            let t = r.u8("a section type")?;
            let body = r.string("a section")?;
            match t {
                SECTION_CERTIFICATES => krl.decode_certs(body)?,
                SECTION_EXPLICIT_KEY => {
                    let mut s = Reader(body);
                    while !s.is_empty() {
                        let blob = s.string("an explicit key")?.to_vec();
                        krl.revoke(Revocation::Key(blob))?;
                    }
                }
                SECTION_FINGERPRINT_SHA1 => {
                    let mut s = Reader(body);
                    while !s.is_empty() {
                        let h = s.string("a SHA-1 fingerprint")?;
                        let h: [u8; 20] = h.try_into().map_err(|_| {
                            KrlError::Malformed(format!(
                                "a SHA-1 fingerprint is {} bytes, not 20",
                                h.len()
                            ))
                        })?;
                        krl.revoke(Revocation::Sha1(h))?;
                    }
                }
                SECTION_FINGERPRINT_SHA256 => {
                    let mut s = Reader(body);
                    while !s.is_empty() {
                        let h = s.string("a SHA-256 fingerprint")?;
                        let h: [u8; 32] = h.try_into().map_err(|_| {
                            KrlError::Malformed(format!(
                                "a SHA-256 fingerprint is {} bytes, not 32",
                                h.len()
                            ))
                        })?;
                        krl.revoke(Revocation::Sha256(h))?;
                    }
                }
                other => return Err(KrlError::UnknownSection(other)),
            }
        }
        Ok(krl)
    }

    /// `parse_revoked_certs`.
    fn decode_certs(&mut self, body: &[u8]) -> Result<(), KrlError> {
        let mut r = Reader(body);
        let ca_blob = r.string("a CA key")?;
        r.string("a certificate section's reserved field")?;
        let ca = if ca_blob.is_empty() {
            None
        } else {
            Some(canonical_key_blob(ca_blob).ok_or_else(|| {
                KrlError::Malformed(
                    "a certificate section names a CA key that does not parse".into(),
                )
            })?)
        };
        while !r.is_empty() {
            let t = r.u8("a certificate subsection type")?;
            let mut s = Reader(r.string("a certificate subsection")?);
            match t {
                CERT_SERIAL_LIST => {
                    while !s.is_empty() {
                        let serial = s.u64("a serial")?;
                        self.revoke_decoded(ca.as_deref(), serial, serial)?;
                    }
                }
                CERT_SERIAL_RANGE => {
                    let lo = s.u64("a serial range")?;
                    let hi = s.u64("a serial range")?;
                    self.revoke_decoded(ca.as_deref(), lo, hi)?;
                }
                CERT_SERIAL_BITMAP => {
                    let offset = s.u64("a serial bitmap")?;
                    let bits = s.string("a serial bitmap")?;
                    if bits.first().is_some_and(|b| b & 0x80 != 0) {
                        return Err(KrlError::Malformed(
                            "a serial bitmap is a negative number".into(),
                        ));
                    }
                    if bits.len() > MAX_BITMAP_BYTES + 1
                        || (bits.len() == MAX_BITMAP_BYTES + 1 && bits[0] != 0)
                    {
                        return Err(KrlError::Malformed(format!(
                            "a serial bitmap is longer than the {MAX_BITMAP_BYTES} bytes OpenSSH reads"
                        )));
                    }
                    let start = bits.iter().position(|&b| b != 0).unwrap_or(bits.len());
                    let bits = &bits[start..];
                    let nbits = match bits.first() {
                        Some(&top) => {
                            (bits.len() as u64 - 1) * 8 + (8 - top.leading_zeros() as u64)
                        }
                        None => 0,
                    };
                    if nbits > 0 && offset.checked_add(nbits - 1).is_none() {
                        return Err(KrlError::Malformed(
                            "a serial bitmap runs past the largest serial".into(),
                        ));
                    }
                    // Runs of set bits, least significant (last byte) first.
                    let mut run: Option<u64> = None;
                    for i in 0..=nbits {
                        let set = i < nbits && {
                            let byte = bits[bits.len() - 1 - (i / 8) as usize];
                            byte >> (i % 8) & 1 == 1
                        };
                        match (set, run) {
                            (true, None) => run = Some(i),
                            (false, Some(first)) => {
                                self.revoke_decoded(
                                    ca.as_deref(),
                                    offset + first,
                                    offset + (i - 1),
                                )?;
                                run = None;
                            }
                            _ => {}
                        }
                    }
                }
                CERT_KEY_ID => {
                    while !s.is_empty() {
                        let id = cstring(s.string("a key id")?, "a key id")?;
                        self.revoke(Revocation::KeyId {
                            ca: ca.as_deref().map(Arc::from),
                            id,
                        })?;
                    }
                }
                other => return Err(KrlError::UnknownCertSubsection(other)),
            }
            if !s.is_empty() {
                return Err(KrlError::Malformed(
                    "a certificate subsection has data after its end".into(),
                ));
            }
        }
        Ok(())
    }

    fn revoke_decoded(&mut self, ca: Option<&[u8]>, lo: u64, hi: u64) -> Result<(), KrlError> {
        if lo == 0 {
            return Err(KrlError::Malformed(
                "it revokes serial 0, which OpenSSH refuses (sshd would refuse every key)".into(),
            ));
        }
        if hi < lo {
            return Err(KrlError::Malformed(format!(
                "it holds the empty serial range {lo}-{hi}"
            )));
        }
        self.revoke(Revocation::Serials {
            ca: ca.map(Arc::from),
            lo,
            hi,
        })
        .map(|_| ())
    }

    /// Writes the KRL as `ssh_krl_to_blob` does: header, one certificates section per CA in
    /// first-seen order (serials as list/range/bitmap subsections by the bit-cost model, then key
    /// ids), then explicit keys, SHA-1 and SHA-256 sections, entries sorted by bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries * 9);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, FORMAT_VERSION);
        put_u64(&mut out, self.krl_version);
        put_u64(&mut out, self.generated_date);
        put_u64(&mut out, self.flags);
        put_string(&mut out, b"");
        put_string(&mut out, &self.comment);
        for rc in &self.certs {
            let body = encode_certs(rc);
            out.push(SECTION_CERTIFICATES);
            put_string(&mut out, &body);
        }
        let mut sect = Vec::new();
        for k in &self.keys {
            put_string(&mut sect, k);
        }
        put_section(&mut out, SECTION_EXPLICIT_KEY, &sect);
        sect.clear();
        for h in &self.sha1 {
            put_string(&mut sect, h);
        }
        put_section(&mut out, SECTION_FINGERPRINT_SHA1, &sect);
        sect.clear();
        for h in &self.sha256 {
            put_string(&mut sect, h);
        }
        put_section(&mut out, SECTION_FINGERPRINT_SHA256, &sect);
        out
    }

    /// `is_key_revoked` for a plain key blob (no certificate checks).
    fn plain_revoked(&self, blob: &[u8]) -> Option<Reason> {
        if self.sha1.contains(&sha1(blob)) {
            return Some(Reason::Sha1);
        }
        let h: [u8; 32] = Sha256::digest(blob).into();
        if self.sha256.contains(&h) {
            return Some(Reason::Sha256);
        }
        if self.keys.contains(blob) {
            return Some(Reason::ExplicitKey);
        }
        None
    }

    /// Is this plain public key revoked (`ssh_krl_check_key` for a plain key)?
    pub fn check_key(&self, key: &KeyData) -> Verdict {
        match key.encode_vec().ok().and_then(|b| self.plain_revoked(&b)) {
            Some(r) => Verdict::Revoked(r),
            None => Verdict::Ok,
        }
    }

    /// Is this certificate revoked (`ssh_krl_check_key`, REFERENCE.md §8.2): its key by hash or
    /// blob; under its CA's section or the any-CA section by key id, or by serial unless the
    /// serial is 0; or its CA key revoked as a plain key.
    pub fn check_certificate(&self, cert: &Certificate) -> Verdict {
        let Ok(subject) = cert.public_key().encode_vec() else {
            return Verdict::Ok;
        };
        if let Some(r) = self.plain_revoked(&subject) {
            return Verdict::Revoked(r);
        }
        let ca = cert.signature_key().encode_vec().ok();
        for rc in &self.certs {
            if rc.ca.is_some() && rc.ca != ca {
                continue;
            }
            if rc.key_ids.contains(cert.key_id().as_bytes()) {
                return Verdict::Revoked(Reason::KeyId);
            }
            if cert.serial() != 0 && rc.serials.contains(cert.serial()) {
                return Verdict::Revoked(Reason::Serial);
            }
        }
        if ca.as_deref().and_then(|b| self.plain_revoked(b)).is_some() {
            return Verdict::Revoked(Reason::CaRevoked);
        }
        Verdict::Ok
    }

    /// Adds everything `other` revokes (CAs new to `self` are appended in `other`'s order).
    pub fn merge(&mut self, other: &Krl) -> Result<(), KrlError> {
        for rc in &other.certs {
            for (lo, hi) in rc.serials.ranges() {
                self.revoke(Revocation::Serials {
                    ca: rc.ca.as_deref().map(Arc::from),
                    lo,
                    hi,
                })?;
            }
            for id in &rc.key_ids {
                self.revoke(Revocation::KeyId {
                    ca: rc.ca.as_deref().map(Arc::from),
                    id: id.clone(),
                })?;
            }
        }
        for k in &other.keys {
            self.revoke(Revocation::Key(k.clone()))?;
        }
        for h in &other.sha1 {
            self.revoke(Revocation::Sha1(*h))?;
        }
        for h in &other.sha256 {
            self.revoke(Revocation::Sha256(*h))?;
        }
        Ok(())
    }
}

fn covers(set: &SerialSet, lo: u64, hi: u64) -> bool {
    set.ranges
        .range(..=lo)
        .next_back()
        .is_some_and(|(_, &e)| hi <= e)
}

/// The blob OpenSSH would write for a key it read from `blob` (`sshkey_from_blob` then
/// `sshkey_puts`): parsed fully, no trailing bytes, re-encoded. `None` if it does not parse.
pub fn canonical_key_blob(blob: &[u8]) -> Option<Vec<u8>> {
    let mut r = blob;
    let key = KeyData::decode(&mut r).ok()?;
    // OpenSSH refuses key types it does not know; ssh-key would keep them as opaque keys.
    if !r.is_empty() || matches!(key.algorithm(), ssh_key::Algorithm::Other(_)) {
        return None;
    }
    key.encode_vec().ok()
}

/// `sshbuf_get_cstring`: no NUL inside; one trailing NUL is dropped.
fn cstring(s: &[u8], what: &'static str) -> Result<Vec<u8>, KrlError> {
    match s.iter().position(|&b| b == 0) {
        None => Ok(s.to_vec()),
        Some(i) if i + 1 == s.len() => Ok(s[..i].to_vec()),
        Some(_) => Err(KrlError::Malformed(format!("{what} contains a NUL byte"))),
    }
}

/// `revoked_certs_generate`: CA header, serial subsections, key-id subsection.
fn encode_certs(rc: &CaRevocations) -> Vec<u8> {
    let mut buf = Vec::new();
    put_string(&mut buf, rc.ca.as_deref().unwrap_or(b""));
    put_string(&mut buf, b"");
    let mut state = 0u8;
    let mut sect: Vec<u8> = Vec::new();
    let mut bitmap: Vec<(u64, u64)> = Vec::new(); // runs relative to bitmap_start
    let mut bitmap_start = 0u64;
    let mut last = 0u64;
    let ranges: Vec<(u64, u64)> = rc.serials.ranges().collect();
    for (i, &(lo, hi)) in ranges.iter().enumerate() {
        let next = ranges.get(i + 1);
        let final_ = next.is_none();
        let gap = next.map_or(0, |n| n.0 - hi);
        let contig = 1u64.saturating_add(hi - lo);
        let (next_state, mut force_new) = choose_next_state(
            state,
            contig,
            final_,
            if state == 0 { 0 } else { lo - last },
            gap,
        );
        // OpenSSH reads at most MAX_BITMAP_BITS bits: start a new bitmap rather than grow past.
        if next_state == CERT_SERIAL_BITMAP
            && state == CERT_SERIAL_BITMAP
            && !force_new
            && hi - bitmap_start >= MAX_BITMAP_BITS
        {
            force_new = true;
        }
        if state != 0 && (force_new || next_state != state || state == CERT_SERIAL_RANGE) {
            if state == CERT_SERIAL_BITMAP {
                put_bitmap(&mut sect, &bitmap);
                bitmap.clear();
            }
            buf.push(state);
            put_string(&mut buf, &sect);
            sect.clear();
        }
        if next_state != state || force_new {
            state = next_state;
            sect.clear();
            if state == CERT_SERIAL_BITMAP {
                bitmap_start = lo;
                put_u64(&mut sect, bitmap_start);
            }
        }
        match state {
            CERT_SERIAL_LIST => {
                let mut s = lo;
                loop {
                    put_u64(&mut sect, s);
                    if s == hi {
                        break;
                    }
                    s += 1;
                }
            }
            CERT_SERIAL_RANGE => {
                put_u64(&mut sect, lo);
                put_u64(&mut sect, hi);
            }
            _ => bitmap.push((lo - bitmap_start, hi - bitmap_start)),
        }
        last = hi;
    }
    if state != 0 {
        if state == CERT_SERIAL_BITMAP {
            put_bitmap(&mut sect, &bitmap);
        }
        buf.push(state);
        put_string(&mut buf, &sect);
    }
    sect.clear();
    for id in &rc.key_ids {
        put_string(&mut sect, id);
    }
    put_section(&mut buf, CERT_KEY_ID, &sect);
    buf
}

/// `choose_next_state` of `krl.c` (OpenSSH 9.2), byte for byte: the cheapest subsection type for
/// the next run of `contig` serials. Returns the state and whether to restart a bitmap.
fn choose_next_state(
    state: u8,
    contig: u64,
    final_: bool,
    last_gap: u64,
    next_gap: u64,
) -> (u8, bool) {
    let contig = contig.min(1 << 31);
    let last_gap = last_gap.min(1 << 31);
    let next_gap = next_gap.min(1 << 31);
    // Switching costs; a range subsection holds one range, so its cost does not depend on state.
    let mut cost_range = 8u64;
    let (mut cost_list, mut cost_bitmap, mut cost_bitmap_restart) = match state {
        CERT_SERIAL_LIST => (0, 8 + 64, 8 + 64),
        CERT_SERIAL_BITMAP => (8, 0, 8 + 64),
        _ => (8, 8 + 64, 8 + 64),
    };
    let not_final = if final_ { 0 } else { 8 + 64 };
    cost_list += 64 * contig + not_final;
    cost_range += 2 * 64 + not_final;
    cost_bitmap += last_gap + contig + if final_ { 0 } else { next_gap.min(8 + 64) };
    cost_bitmap_restart += contig + if final_ { 0 } else { next_gap.min(8 + 64) };
    let bytes = |bits: u64| bits.div_ceil(8);
    let (cost_list, cost_bitmap, cost_bitmap_restart, cost_range) = (
        bytes(cost_list),
        bytes(cost_bitmap),
        bytes(cost_bitmap_restart),
        bytes(cost_range),
    );
    let mut new_state = CERT_SERIAL_BITMAP;
    let mut cost = cost_bitmap;
    let mut restart = false;
    if cost_range < cost {
        new_state = CERT_SERIAL_RANGE;
        cost = cost_range;
    }
    if cost_list < cost {
        new_state = CERT_SERIAL_LIST;
        cost = cost_list;
    }
    if cost_bitmap_restart < cost {
        new_state = CERT_SERIAL_BITMAP;
        restart = true;
    }
    (new_state, restart)
}

/// `put_bitmap`: the bits as a minimal big-endian mpint (bit 0 = LSB of the last byte).
fn put_bitmap(out: &mut Vec<u8>, runs: &[(u64, u64)]) {
    let top = runs.last().map_or(0, |r| r.1);
    let nbytes = (top / 8 + 1) as usize;
    let mut bytes = vec![0u8; nbytes];
    for &(lo, hi) in runs {
        for bit in lo..=hi {
            bytes[nbytes - 1 - (bit / 8) as usize] |= 1 << (bit % 8);
        }
    }
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        put_u32(out, bytes.len() as u32 + 1);
        out.push(0);
        out.extend_from_slice(bytes);
    } else {
        put_string(out, bytes);
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
}

fn put_section(out: &mut Vec<u8>, t: u8, body: &[u8]) {
    if !body.is_empty() {
        out.push(t);
        put_string(out, body);
    }
}

/// A bounds-checked reader over untrusted bytes (`sshbuf_get_*`).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], KrlError> {
        if self.0.len() < n {
            return Err(KrlError::Truncated(what));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, KrlError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, KrlError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, KrlError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn string(&mut self, what: &'static str) -> Result<&'a [u8], KrlError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Standard base64 without padding, as OpenSSH prints fingerprints.
pub fn base64_unpadded(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..=c.len() {
            s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    s
}

#[cfg(test)]
mod tests;
