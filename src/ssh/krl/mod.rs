//! OpenSSH key revocation lists (KRLs): the binary format sshd reads through `RevokedKeys` and
//! `ssh-keygen -k` writes (`PROTOCOL.krl`, `krl.c`; REFERENCE.md §8).
//!
//! A [`Krl`] is held the way `krl.c` holds it: per CA (in the order the CAs were first seen) a
//! set of serial ranges ([`SerialSet`]) and a set of key ids, then the explicit keys and the SHA-1
//! and SHA-256 fingerprints. `decode` reads one as `ssh_krl_from_blob` of OpenSSH 9.2 does and
//! refuses what it refuses, so a KRL we accept is one sshd accepts; everything it revokes is kept,
//! whichever subsection type carried it. `encode` writes one as `ssh_krl_to_blob` does, with its
//! list/range/bitmap cost model (`choose_next_state`), except that a bitmap never exceeds the 2048
//! bytes OpenSSH's reader takes (`SSHBUF_MAX_BIGNUM`): ssh-keygen 9.2 writes longer ones, which
//! its own reader and sshd then refuse ("bignum is too large"). `check` says what sshd would
//! decide about a key or certificate; `spec` reads ssh-keygen's KRL spec files.
//!
//! Embedded KRL signatures (section 0x04) are refused, not kept: OpenSSH 9.4 and later refuse
//! KRLs that carry one, and any change we make would invalidate it. breakglass signs KRLs with a
//! detached SSHSIG file instead.
//!
//! Decoding never panics and bounds what it allocates ([`MAX_KRL_BYTES`], [`MAX_ENTRIES`]): a
//! KRL read from disk is untrusted.

mod check;
mod decode;
mod encode;
mod error;
mod serial_set;
mod sha1;
pub mod spec;
mod view;
mod wire;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub use check::{Reason, Verdict};
pub use decode::canonical_key_blob;
pub use error::KrlError;
use serial_set::covers;
pub use serial_set::SerialSet;
pub use sha1::sha1;
pub use view::KrlFile;
pub use wire::{FORMAT_VERSION, MAGIC, MAX_ENTRIES, MAX_KRL_BYTES};

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
            // Scanned only when `certs` holds CAs the index never saw (filled in by hand): a
            // KRL of 285,000 CA sections took over 300 s when every new CA was a scan.
            _ => match (self.ca_index.len() < self.certs.len())
                .then(|| self.certs.iter().position(|c| c.ca == key))
                .flatten()
            {
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
