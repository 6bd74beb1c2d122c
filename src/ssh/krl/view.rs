//! A KRL read in place: the file's bytes and, beside them, sorted offsets of what it revokes.
//!
//! Listing a hostile KRL must cost memory in proportion to its size (#23 §5): held as a [`Krl`]
//! (a tree node and a heap copy per key, id or serial range; a bitmap of 2,048 bytes expanded to
//! 8,192 ranges) a 22 MB KRL took 810 MB. A [`KrlFile`] keeps the bytes it read and, per
//! revocation, four or eight bytes: an offset into those bytes (and the CA's number). Bitmaps
//! stay bitmaps; their runs are merged with the CA's other serials only while they are listed,
//! through a window of 64 Ki bits. The parse is [`Krl::decode`]'s own (OpenSSH 9.2's
//! `ssh_krl_from_blob`), so a KRL lists exactly as it decodes, and `Krl::decode` is this parse
//! made into sets.
//!
//! The one difference from reading into a `Krl` one revocation at a time: the limit of
//! [`MAX_ENTRIES`] counts what the KRL holds once merged and deduplicated (as a `Krl` holding it
//! would), not the most held at any moment of the reading.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use super::decode::canonical_key_blob;
use super::wire::{
    Reader, CERT_KEY_ID, CERT_SERIAL_BITMAP, CERT_SERIAL_LIST, CERT_SERIAL_RANGE, FORMAT_VERSION,
    MAGIC, MAX_BITMAP_BYTES, SECTION_CERTIFICATES, SECTION_EXPLICIT_KEY, SECTION_FINGERPRINT_SHA1,
    SECTION_FINGERPRINT_SHA256, SECTION_SIGNATURE,
};
use super::{Krl, KrlError, Revocation, MAX_ENTRIES, MAX_KRL_BYTES};

/// Tags an entry of `serials` as a `(lo, hi)` pair rather than one serial (offsets are below
/// [`MAX_KRL_BYTES`] < 2^31).
const RANGE: u32 = 1 << 31;

/// A KRL's bytes and the sorted, deduplicated offsets of what it revokes.
#[derive(Debug)]
pub struct KrlFile {
    data: Vec<u8>,
    /// `krl_version`.
    pub krl_version: u64,
    /// `generated_date`.
    pub generated_date: u64,
    /// `flags`.
    pub flags: u64,
    comment: (u32, u32),
    /// CA key blobs (canonical) in the order their first revocation was read; `None` = any CA.
    cas: Vec<Option<Box<[u8]>>>,
    /// `(ca, offset)`: a serial (`u64`), or with [`RANGE`] a `lo, hi` pair; sorted by `(ca, lo)`.
    serials: Vec<(u32, u32)>,
    /// `(ca, offset)` of a bitmap subsection's body (`u64` offset, string); by `(ca, offset)`.
    bitmaps: Vec<(u32, u32)>,
    /// `(ca, offset)` of a key id string; sorted by `(ca, id)`, no duplicates.
    key_ids: Vec<(u32, u32)>,
    /// Offsets of explicit key strings, of SHA-1 and of SHA-256 strings; sorted, no duplicates.
    keys: Vec<u32>,
    sha1: Vec<u32>,
    sha256: Vec<u32>,
}

/// The string whose length prefix is at `at` (checked when the KRL was read).
fn string_at(data: &[u8], at: u32) -> &[u8] {
    let at = at as usize;
    let n = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
    &data[at + 4..at + 4 + n]
}

fn u64_at(data: &[u8], at: u32) -> u64 {
    let at = at as usize;
    let mut b = [0u8; 8];
    b.copy_from_slice(&data[at..at + 8]);
    u64::from_be_bytes(b)
}

/// A key id as `sshbuf_get_cstring` returns it: one trailing NUL dropped.
fn key_id_at(data: &[u8], at: u32) -> &[u8] {
    let s = string_at(data, at);
    s.strip_suffix(&[0]).unwrap_or(s)
}

/// `(lo, hi)` of an entry of `serials`.
fn serial_at(data: &[u8], e: u32) -> (u64, u64) {
    if e & RANGE != 0 {
        let at = e & !RANGE;
        (u64_at(data, at), u64_at(data, at + 8))
    } else {
        let s = u64_at(data, e);
        (s, s)
    }
}

/// A bitmap subsection's offset and its bits without leading zero bytes.
fn bitmap_at(data: &[u8], at: u32) -> (u64, &[u8]) {
    let bits = string_at(data, at + 8);
    let start = bits.iter().position(|&b| b != 0).unwrap_or(bits.len());
    (u64_at(data, at), &bits[start..])
}

fn nbits(bits: &[u8]) -> u64 {
    match bits.first() {
        Some(&top) => (bits.len() as u64 - 1) * 8 + (8 - top.leading_zeros() as u64),
        None => 0,
    }
}

/// Where in `data` the reader stands.
fn pos(data: &[u8], r: &Reader<'_>) -> u32 {
    (data.len() - r.0.len()) as u32
}

/// Finds or adds the CA: a hash of its blob to its number (a hostile KRL may name many CAs;
/// a collision falls back to a scan).
struct CaIndex {
    hasher: RandomState,
    by_hash: HashMap<u64, u32>,
}

impl CaIndex {
    fn slot(&mut self, cas: &mut Vec<Option<Box<[u8]>>>, ca: Option<&[u8]>) -> u32 {
        let h = self.hasher.hash_one(ca);
        if let Some(&i) = self.by_hash.get(&h) {
            if cas[i as usize].as_deref() == ca {
                return i;
            }
            if let Some(i) = cas.iter().position(|c| c.as_deref() == ca) {
                return i as u32;
            }
        }
        cas.push(ca.map(Box::from));
        let i = (cas.len() - 1) as u32;
        self.by_hash.entry(h).or_insert(i);
        i
    }
}

impl KrlFile {
    /// Reads a KRL as [`Krl::decode`] does (refusing what OpenSSH 9.2 refuses, and embedded
    /// signatures), keeping `data`. An empty input is an empty KRL.
    pub fn parse(data: Vec<u8>) -> Result<KrlFile, KrlError> {
        let mut f = KrlFile {
            data: Vec::new(),
            krl_version: 0,
            generated_date: 0,
            flags: 0,
            comment: (0, 0),
            cas: Vec::new(),
            serials: Vec::new(),
            bitmaps: Vec::new(),
            key_ids: Vec::new(),
            keys: Vec::new(),
            sha1: Vec::new(),
            sha256: Vec::new(),
        };
        if data.is_empty() {
            return Ok(f);
        }
        if data.len() > MAX_KRL_BYTES {
            return Err(KrlError::TooLarge(data.len()));
        }
        f.read(&data)?;
        f.data = data;
        f.sort();
        if f.entries() > MAX_ENTRIES {
            return Err(KrlError::TooManyEntries);
        }
        Ok(f)
    }

    fn read(&mut self, data: &[u8]) -> Result<(), KrlError> {
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            return Err(KrlError::NotAKrl);
        }
        let mut r = Reader(&data[MAGIC.len()..]);
        let version = r.u32("the format version")?;
        if version != FORMAT_VERSION {
            return Err(KrlError::FormatVersion(version));
        }
        self.krl_version = r.u64("the KRL version")?;
        self.generated_date = r.u64("the generation date")?;
        self.flags = r.u64("the flags")?;
        r.string("the reserved field")?;
        let at = pos(data, &r);
        let comment = r.string("the comment")?;
        check_cstring(comment, "the comment")?;
        self.comment = (
            at + 4,
            comment.strip_suffix(&[0]).unwrap_or(comment).len() as u32,
        );
        // First pass, as krl.c: find signature sections before parsing anything else.
        let mut scan = Reader(r.0);
        while !scan.is_empty() {
            let t = scan.u8("a section type")?;
            scan.string("a section")?;
            if t == SECTION_SIGNATURE {
                return Err(KrlError::EmbeddedSignature);
            }
        }
        let mut index = CaIndex {
            hasher: RandomState::new(),
            by_hash: HashMap::new(),
        };
        while !r.is_empty() {
            let t = r.u8("a section type")?;
            let body = r.string("a section")?;
            let body_at = pos(data, &r) - body.len() as u32;
            let mut s = Reader(body);
            match t {
                SECTION_CERTIFICATES => self.read_certs(body, body_at, &mut index)?,
                SECTION_EXPLICIT_KEY => {
                    while !s.is_empty() {
                        let at = body_at + (body.len() - s.0.len()) as u32;
                        s.string("an explicit key")?;
                        self.keys.push(at);
                    }
                }
                SECTION_FINGERPRINT_SHA1 | SECTION_FINGERPRINT_SHA256 => {
                    let (what, len, list) = if t == SECTION_FINGERPRINT_SHA1 {
                        ("a SHA-1 fingerprint", 20, &mut self.sha1)
                    } else {
                        ("a SHA-256 fingerprint", 32, &mut self.sha256)
                    };
                    while !s.is_empty() {
                        let at = body_at + (body.len() - s.0.len()) as u32;
                        let h = s.string(what)?;
                        if h.len() != len {
                            let name = if len == 20 { "SHA-1" } else { "SHA-256" };
                            return Err(KrlError::Malformed(format!(
                                "a {name} fingerprint is {} bytes, not {len}",
                                h.len()
                            )));
                        }
                        list.push(at);
                    }
                }
                other => return Err(KrlError::UnknownSection(other)),
            }
        }
        Ok(())
    }

    /// `parse_revoked_certs`.
    fn read_certs(
        &mut self,
        body: &[u8],
        body_at: u32,
        index: &mut CaIndex,
    ) -> Result<(), KrlError> {
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
        // The CA gets its number with its first revocation, as `Krl::revoke` adds it.
        let mut slot: Option<u32> = None;
        let mut ca_slot = |cas: &mut Vec<Option<Box<[u8]>>>| {
            *slot.get_or_insert_with(|| index.slot(cas, ca.as_deref()))
        };
        while !r.is_empty() {
            let t = r.u8("a certificate subsection type")?;
            let sub = r.string("a certificate subsection")?;
            let sub_at = body_at + (body.len() - r.0.len() - sub.len()) as u32;
            let mut s = Reader(sub);
            let at = |s: &Reader<'_>| sub_at + (sub.len() - s.0.len()) as u32;
            match t {
                CERT_SERIAL_LIST => {
                    while !s.is_empty() {
                        let e = at(&s);
                        let serial = s.u64("a serial")?;
                        check_range(serial, serial)?;
                        let c = ca_slot(&mut self.cas);
                        self.serials.push((c, e));
                    }
                }
                CERT_SERIAL_RANGE => {
                    let e = at(&s);
                    let lo = s.u64("a serial range")?;
                    let hi = s.u64("a serial range")?;
                    check_range(lo, hi)?;
                    let c = ca_slot(&mut self.cas);
                    self.serials.push((c, e | RANGE));
                }
                CERT_SERIAL_BITMAP => {
                    let e = at(&s);
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
                    let n = nbits(&bits[start..]);
                    if n > 0 && offset.checked_add(n - 1).is_none() {
                        return Err(KrlError::Malformed(
                            "a serial bitmap runs past the largest serial".into(),
                        ));
                    }
                    if n > 0 {
                        // Its lowest run starts at the offset when bit 0 is set.
                        let bit0 = bits[bits.len() - 1] & 1 == 1;
                        if offset == 0 && bit0 {
                            check_range(0, 0)?;
                        }
                        let c = ca_slot(&mut self.cas);
                        self.bitmaps.push((c, e));
                    }
                }
                CERT_KEY_ID => {
                    while !s.is_empty() {
                        let e = at(&s);
                        check_cstring(s.string("a key id")?, "a key id")?;
                        let c = ca_slot(&mut self.cas);
                        self.key_ids.push((c, e));
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

    /// Sorts every list in place (no copy) and drops duplicates.
    fn sort(&mut self) {
        let d = &self.data[..];
        self.serials
            .sort_unstable_by_key(|&(c, e)| (c, serial_at(d, e).0));
        self.bitmaps
            .sort_unstable_by_key(|&(c, e)| (c, u64_at(d, e)));
        self.key_ids
            .sort_unstable_by(|a, b| (a.0, key_id_at(d, a.1)).cmp(&(b.0, key_id_at(d, b.1))));
        self.key_ids
            .dedup_by(|a, b| a.0 == b.0 && key_id_at(d, a.1) == key_id_at(d, b.1));
        for list in [&mut self.keys, &mut self.sha1, &mut self.sha256] {
            list.sort_unstable_by(|&a, &b| string_at(d, a).cmp(string_at(d, b)));
            list.dedup_by(|a, b| string_at(d, *a) == string_at(d, *b));
            list.shrink_to_fit();
        }
    }

    /// Revocations held, counted as a [`Krl`] counts them (merged serial ranges per CA).
    pub fn entries(&self) -> usize {
        let ranges: usize = (0..self.cas.len()).map(|i| self.serials(i).count()).sum();
        ranges + self.key_ids.len() + self.keys.len() + self.sha1.len() + self.sha256.len()
    }

    /// The file's bytes, as read (e.g. to hash exactly what was parsed).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The comment (one trailing NUL dropped).
    pub fn comment(&self) -> &[u8] {
        let (at, n) = self.comment;
        self.data.get(at as usize..(at + n) as usize).unwrap_or(b"")
    }

    /// The CAs that revoke certificates, in the order the first of their revocations was read:
    /// their key blob, `None` for any CA. [`KrlFile::serials`] and [`KrlFile::key_ids`] take
    /// the position in this list.
    pub fn cas(&self) -> impl Iterator<Item = Option<&[u8]>> + '_ {
        self.cas.iter().map(|c| c.as_deref())
    }

    fn of_ca(list: &[(u32, u32)], ca: usize) -> &[(u32, u32)] {
        let ca = ca as u32;
        let lo = list.partition_point(|e| e.0 < ca);
        let hi = list.partition_point(|e| e.0 <= ca);
        &list[lo..hi]
    }

    /// The serials revoked under the `ca`-th CA as disjoint, non-adjacent ranges, ascending.
    pub fn serials(&self, ca: usize) -> impl Iterator<Item = (u64, u64)> + '_ {
        let d = &self.data[..];
        let plain = Self::of_ca(&self.serials, ca)
            .iter()
            .map(move |&(_, e)| serial_at(d, e))
            .peekable();
        let runs = BitmapRuns::new(d, Self::of_ca(&self.bitmaps, ca)).peekable();
        Union {
            plain,
            runs,
            cur: None,
        }
    }

    /// The key ids revoked under the `ca`-th CA, in byte order.
    pub fn key_ids(&self, ca: usize) -> impl Iterator<Item = &[u8]> + '_ {
        Self::of_ca(&self.key_ids, ca)
            .iter()
            .map(|&(_, e)| key_id_at(&self.data, e))
    }

    /// Explicitly revoked key blobs, in byte order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.keys.iter().map(|&e| string_at(&self.data, e))
    }

    /// Revoked SHA-1 fingerprints, in byte order.
    pub fn sha1(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.sha1.iter().map(|&e| string_at(&self.data, e))
    }

    /// Revoked SHA-256 fingerprints, in byte order.
    pub fn sha256(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.sha256.iter().map(|&e| string_at(&self.data, e))
    }

    /// The same revocations as a [`Krl`] (to change and write back).
    pub fn to_krl(&self) -> Result<Krl, KrlError> {
        let mut krl = Krl {
            krl_version: self.krl_version,
            generated_date: self.generated_date,
            flags: self.flags,
            comment: self.comment().to_vec(),
            ..Krl::default()
        };
        for (i, ca) in self.cas().enumerate() {
            let ca: Option<Arc<[u8]>> = ca.map(Arc::from);
            for (lo, hi) in self.serials(i) {
                krl.revoke(Revocation::Serials {
                    ca: ca.clone(),
                    lo,
                    hi,
                })?;
            }
            for id in self.key_ids(i) {
                krl.revoke(Revocation::KeyId {
                    ca: ca.clone(),
                    id: id.to_vec(),
                })?;
            }
        }
        for k in self.keys() {
            krl.revoke(Revocation::Key(k.to_vec()))?;
        }
        for h in self.sha1() {
            krl.revoke(Revocation::Sha1(h.try_into().unwrap_or([0; 20])))?;
        }
        for h in self.sha256() {
            krl.revoke(Revocation::Sha256(h.try_into().unwrap_or([0; 32])))?;
        }
        Ok(krl)
    }
}

/// `sshbuf_get_cstring`'s check: no NUL inside (one trailing NUL is dropped).
fn check_cstring(s: &[u8], what: &'static str) -> Result<(), KrlError> {
    match s.iter().position(|&b| b == 0) {
        Some(i) if i + 1 != s.len() => {
            Err(KrlError::Malformed(format!("{what} contains a NUL byte")))
        }
        _ => Ok(()),
    }
}

/// What `Krl::revoke` refuses in a serial range read from a file.
fn check_range(lo: u64, hi: u64) -> Result<(), KrlError> {
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
    Ok(())
}

/// Half the window of [`BitmapRuns`]: more bits than any bitmap holds (16,384).
const HALF: u64 = 1 << 15;
const WORDS: usize = (2 * HALF / 64) as usize;

/// The runs of set bits of bitmaps sorted by offset, ascending by start, without expanding them:
/// the bitmaps starting in the window's first half are OR-ed into a window of two halves (a
/// bitmap spans less than one half); runs starting in the first half are final, then the window
/// slides by a half. A run reaching the window's end is cut there; [`Union`] joins the pieces.
struct BitmapRuns<'a> {
    data: &'a [u8],
    bitmaps: &'a [(u32, u32)],
    next: usize,
    base: u64,
    window: Box<[u64; WORDS]>,
    /// The next bit of the window to look at.
    at: u64,
}

impl<'a> BitmapRuns<'a> {
    fn new(data: &'a [u8], bitmaps: &'a [(u32, u32)]) -> Self {
        BitmapRuns {
            data,
            bitmaps,
            next: 0,
            base: bitmaps.first().map_or(0, |&(_, e)| u64_at(data, e)),
            window: Box::new([0; WORDS]),
            at: 0,
        }
    }

    fn bit(&self, i: u64) -> bool {
        self.window[(i / 64) as usize] >> (i % 64) & 1 == 1
    }

    /// ORs in every bitmap that starts in the window's first half.
    fn load(&mut self) {
        while let Some(&(_, e)) = self.bitmaps.get(self.next) {
            let (offset, bits) = bitmap_at(self.data, e);
            if offset - self.base >= HALF {
                break;
            }
            let shift = offset - self.base;
            let n = nbits(bits);
            for i in 0..n {
                let byte = bits[bits.len() - 1 - (i / 8) as usize];
                if byte >> (i % 8) & 1 == 1 {
                    let w = shift + i;
                    self.window[(w / 64) as usize] |= 1 << (w % 64);
                }
            }
            self.next += 1;
        }
    }
}

impl Iterator for BitmapRuns<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        loop {
            self.load();
            while self.at < HALF {
                let word = self.window[(self.at / 64) as usize] >> (self.at % 64);
                if word == 0 {
                    self.at = (self.at / 64 + 1) * 64;
                    continue;
                }
                let first = self.at + word.trailing_zeros() as u64;
                if first >= HALF {
                    break;
                }
                let mut end = first;
                while end < 2 * HALF && self.bit(end) {
                    self.window[(end / 64) as usize] &= !(1 << (end % 64));
                    end += 1;
                }
                self.at = end;
                return Some((self.base + first, self.base + (end - 1)));
            }
            // Nothing more starts in the first half: slide, or jump to the next bitmap.
            let (lower, upper) = self.window.split_at_mut(WORDS / 2);
            if upper.iter().any(|&w| w != 0) {
                lower.copy_from_slice(upper);
                upper.fill(0);
                self.base += HALF; // bits above it are serials, so no overflow
            } else {
                lower.fill(0);
                let &(_, e) = self.bitmaps.get(self.next)?;
                self.base = u64_at(self.data, e);
            }
            self.at = 0;
        }
    }
}

/// Two ascending streams of ranges merged into disjoint, non-adjacent ranges.
struct Union<P: Iterator<Item = (u64, u64)>, R: Iterator<Item = (u64, u64)>> {
    plain: std::iter::Peekable<P>,
    runs: std::iter::Peekable<R>,
    cur: Option<(u64, u64)>,
}

impl<P: Iterator<Item = (u64, u64)>, R: Iterator<Item = (u64, u64)>> Iterator for Union<P, R> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        loop {
            let take_plain = match (self.plain.peek(), self.runs.peek()) {
                (Some(a), Some(b)) => a.0 <= b.0,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return self.cur.take(),
            };
            let (lo, hi) = if take_plain {
                self.plain.next()?
            } else {
                self.runs.next()?
            };
            match &mut self.cur {
                Some((_, e)) if lo <= e.saturating_add(1) => *e = (*e).max(hi),
                Some(_) => return self.cur.replace((lo, hi)),
                None => self.cur = Some((lo, hi)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bitmap_krl(bitmaps: &[(u64, Vec<u8>)], plain: &[(u64, u64)]) -> Vec<u8> {
        use super::super::wire::{put_string, put_u32, put_u64};
        let mut body = Vec::new();
        put_string(&mut body, &super::super::tests::ca_blob());
        put_string(&mut body, b"");
        for (offset, bits) in bitmaps {
            let mut sub = Vec::new();
            put_u64(&mut sub, *offset);
            put_string(&mut sub, bits);
            body.push(CERT_SERIAL_BITMAP);
            put_string(&mut body, &sub);
        }
        for (lo, hi) in plain {
            let mut sub = Vec::new();
            put_u64(&mut sub, *lo);
            put_u64(&mut sub, *hi);
            body.push(CERT_SERIAL_RANGE);
            put_string(&mut body, &sub);
        }
        let mut out = MAGIC.to_vec();
        put_u32(&mut out, 1);
        out.extend_from_slice(&[0; 24]);
        put_string(&mut out, b"");
        put_string(&mut out, b"");
        out.push(SECTION_CERTIFICATES);
        put_string(&mut out, &body);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Overlapping and far-apart bitmaps and ranges list as a naive set of serials says.
        #[test]
        fn bitmap_runs_merge_as_a_naive_set_says(
            bitmaps in proptest::collection::vec((1u64..200_000, proptest::collection::vec(0u8..=0x7f, 0..40)), 0..8),
            plain in proptest::collection::vec((1u64..200_000, 0u64..50), 0..8),
            near_top in proptest::bool::ANY,
        ) {
            let lift = if near_top { u64::MAX - 300_000 } else { 0 };
            let bitmaps: Vec<_> = bitmaps.into_iter().map(|(o, b)| (o + lift, b)).collect();
            let plain: Vec<_> = plain.into_iter().map(|(lo, n)| (lo + lift, lo + lift + n)).collect();
            let data = bitmap_krl(&bitmaps, &plain);
            let f = KrlFile::parse(data).unwrap();
            let mut naive = std::collections::BTreeSet::new();
            for (offset, bits) in &bitmaps {
                for i in 0..bits.len() as u64 * 8 {
                    if bits[bits.len() - 1 - (i / 8) as usize] >> (i % 8) & 1 == 1 {
                        naive.insert(offset + i);
                    }
                }
            }
            for &(lo, hi) in &plain {
                naive.extend(lo..=hi);
            }
            let got: Vec<u64> = if f.cas().count() == 0 {
                Vec::new()
            } else {
                f.serials(0).flat_map(|(lo, hi)| lo..=hi).collect()
            };
            prop_assert_eq!(got, naive.iter().copied().collect::<Vec<_>>());
            let ranges: Vec<_> = if f.cas().count() == 0 { Vec::new() } else { f.serials(0).collect() };
            for w in ranges.windows(2) {
                prop_assert!(w[0].1 + 1 < w[1].0, "ranges touch: {:?}", w);
            }
        }
    }

    #[test]
    fn a_full_bitmap_at_the_top_of_the_serials_lists_as_one_range() {
        let mut bits = vec![0xffu8; 2048];
        bits[0] = 0x7f;
        let offset = u64::MAX - (2048 * 8 - 2);
        let f = KrlFile::parse(bitmap_krl(&[(offset, bits)], &[(5, 9)])).unwrap();
        assert_eq!(
            f.serials(0).collect::<Vec<_>>(),
            vec![(5, 9), (offset, u64::MAX)]
        );
    }
}
