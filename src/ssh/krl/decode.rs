//! Reading a KRL: `ssh_krl_from_blob` of OpenSSH 9.2, refusing what it refuses (and embedded
//! signatures). Every byte read from a KRL file passes through here; it never panics and bounds
//! what it allocates ([`MAX_KRL_BYTES`], [`super::MAX_ENTRIES`]).

use std::sync::Arc;

use ssh_key::encoding::{Decode, Encode};
use ssh_key::public::KeyData;

use super::wire::{
    cstring, Reader, CERT_KEY_ID, CERT_SERIAL_BITMAP, CERT_SERIAL_LIST, CERT_SERIAL_RANGE,
    FORMAT_VERSION, MAGIC, MAX_BITMAP_BYTES, SECTION_CERTIFICATES, SECTION_EXPLICIT_KEY,
    SECTION_FINGERPRINT_SHA1, SECTION_FINGERPRINT_SHA256, SECTION_SIGNATURE,
};
use super::{Krl, KrlError, Revocation, MAX_KRL_BYTES};

impl Krl {
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

#[cfg(test)]
mod tests {
    use super::super::tests::ca_blob;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decode_refuses_what_openssh_refuses() {
        let ca = ca_blob();
        let mut k = Krl::new();
        k.revoke(Revocation::Serials {
            ca: Some(ca.into()),
            lo: 7,
            hi: 7,
        })
        .unwrap();
        let good = k.encode();
        assert_eq!(Krl::decode(b"hello world"), Err(KrlError::NotAKrl));
        assert_eq!(
            Krl::decode(b"SSHKRL\n\0\0\0\0\x02"),
            Err(KrlError::FormatVersion(2))
        );
        assert!(matches!(
            Krl::decode(&good[..good.len() - 1]),
            Err(KrlError::Truncated(_))
        ));
        let mut unknown = good.clone();
        unknown.extend_from_slice(&[0x06, 0, 0, 0, 0]);
        assert_eq!(Krl::decode(&unknown), Err(KrlError::UnknownSection(6)));
        let mut signed = good.clone();
        signed.extend_from_slice(&[0x04, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Krl::decode(&signed), Err(KrlError::EmbeddedSignature));
        // Serial 0 in a list: ssh-keygen and sshd refuse the whole KRL.
        let pos = good.len() - 8;
        let mut zero = good.clone();
        zero[pos..].copy_from_slice(&[0; 8]);
        assert!(
            matches!(Krl::decode(&zero), Err(KrlError::Malformed(m)) if m.contains("serial 0"))
        );
        assert_eq!(Krl::decode(b""), Ok(Krl::new()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Krl::decode(&data);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&[0, 0, 0, 1]);
            with_magic.extend_from_slice(&data);
            let _ = Krl::decode(&with_magic);
        }
    }
}
