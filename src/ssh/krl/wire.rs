//! The KRL wire format (`PROTOCOL.krl`, `krl.h`): magic, section and subsection numbers, limits,
//! and the `sshbuf`-style reader and writers the decoder and encoder share.

use super::KrlError;

/// `KRL_MAGIC` (`krl.h`).
pub const MAGIC: &[u8; 8] = b"SSHKRL\n\0";
/// `KRL_FORMAT_VERSION`.
pub const FORMAT_VERSION: u32 = 1;

/// Section types (`krl.h`).
pub(super) const SECTION_CERTIFICATES: u8 = 1;
pub(super) const SECTION_EXPLICIT_KEY: u8 = 2;
pub(super) const SECTION_FINGERPRINT_SHA1: u8 = 3;
pub(super) const SECTION_SIGNATURE: u8 = 4;
pub(super) const SECTION_FINGERPRINT_SHA256: u8 = 5;
/// Certificate subsection types (`krl.h`).
pub(super) const CERT_SERIAL_LIST: u8 = 0x20;
pub(super) const CERT_SERIAL_RANGE: u8 = 0x21;
pub(super) const CERT_SERIAL_BITMAP: u8 = 0x22;
pub(super) const CERT_KEY_ID: u8 = 0x23;

/// The largest KRL file we read. OpenSSH's own limit is 128 MiB (`SSHBUF_SIZE_MAX`); a KRL that
/// size would take sshd seconds per login, so this is far beyond any real one.
pub const MAX_KRL_BYTES: usize = 32 * 1024 * 1024;
/// The most revocations (serial ranges + key ids + keys + fingerprints) a KRL may hold.
pub const MAX_ENTRIES: usize = 2_000_000;
/// The largest bitmap OpenSSH reads: `SSHBUF_MAX_BIGNUM` bytes (`sshbuf.h`).
pub(super) const MAX_BITMAP_BYTES: usize = 2048;
pub(super) const MAX_BITMAP_BITS: u64 = (MAX_BITMAP_BYTES * 8) as u64;

/// `sshbuf_put_u32`.
pub(super) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// `sshbuf_put_u64`.
pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// `sshbuf_put_string`: a u32 length, then the bytes.
pub(super) fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
}

/// A section: its type and body, left out when the body is empty (as `krl.c` does).
pub(super) fn put_section(out: &mut Vec<u8>, t: u8, body: &[u8]) {
    if !body.is_empty() {
        out.push(t);
        put_string(out, body);
    }
}

/// A bounds-checked reader over untrusted bytes (`sshbuf_get_*`).
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], KrlError> {
        if self.0.len() < n {
            return Err(KrlError::Truncated(what));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, KrlError> {
        Ok(self.take(1, what)?[0])
    }
    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, KrlError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(super) fn u64(&mut self, what: &'static str) -> Result<u64, KrlError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    pub(super) fn string(&mut self, what: &'static str) -> Result<&'a [u8], KrlError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
