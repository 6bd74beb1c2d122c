//! OpenSSH's enrolment attestation, `ssh-keygen -O write-attestation=FILE` (`PROTOCOL.u2f`
//! "SSH U2F attestation", `ssh-sk.c: fill_attestation_blob()`; ATTESTATION.md §2):
//!
//! ```text
//! string  "ssh-sk-attest-v01"
//! string  attestation certificate   DER of x5c[0]; empty for self attestation
//! string  enrollment signature      attStmt.sig (DER ECDSA)
//! string  authenticator data        a CBOR byte string wrapping authData (libfido2's form)
//! uint32  reserved flags            0
//! string  reserved                  ""
//! ```
//!
//! `ssh-sk-attest-v00` (OpenSSH before 8.4) has no authenticator data and is refused with its
//! own error. The challenge is not in the file: the signature covers
//! `authData ‖ SHA-256(challenge)`, so the file is verifiable only with the challenge that
//! `-O challenge=PATH` gave.

use super::error::AttestError;
use super::wire::{put_string, put_u32, Reader};

/// The magic of the current format.
pub const MAGIC_V01: &[u8] = b"ssh-sk-attest-v01";
/// The magic of the format before OpenSSH 8.4.
pub const MAGIC_V00: &[u8] = b"ssh-sk-attest-v00";

/// The fields of an `ssh-sk-attest-v01` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshSkAttestation {
    /// DER of the attestation certificate (`x5c[0]`); empty for self attestation.
    pub certificate: Vec<u8>,
    /// The attestation signature, DER ECDSA.
    pub signature: Vec<u8>,
    /// The raw authenticator data (unwrapped from its CBOR byte string).
    pub auth_data: Vec<u8>,
}

impl SshSkAttestation {
    /// Parses a whole file: the six fields, reserved ones zero and empty, nothing after them.
    pub fn decode(bytes: &[u8]) -> Result<Self, AttestError> {
        let mut r = Reader::new(bytes);
        let magic = r.string("the format name")?;
        if magic == MAGIC_V00 {
            return Err(AttestError::SshSkV00);
        }
        if magic != MAGIC_V01 {
            return Err(match magic.strip_prefix(b"ssh-sk-attest-") {
                Some(v) => AttestError::UnsupportedVersion {
                    found: format!("ssh-sk-attest-{}", String::from_utf8_lossy(v)),
                },
                None => AttestError::UnknownFormat,
            });
        }
        let certificate = r.string("the attestation certificate")?.to_vec();
        let signature = r.string("the enrolment signature")?.to_vec();
        let wrapped = r.string("the authenticator data")?;
        let flags = r.u32("the reserved flags")?;
        let reserved = r.string("the reserved field")?;
        r.finish("the reserved field")?;
        if flags != 0 {
            return Err(AttestError::malformed(format!(
                "the reserved flags are {flags:#x}, not 0"
            )));
        }
        if !reserved.is_empty() {
            return Err(AttestError::malformed("the reserved field is not empty"));
        }
        if signature.is_empty() {
            return Err(AttestError::malformed("the enrolment signature is empty"));
        }
        let auth_data = cbor_unwrap(wrapped)?.to_vec();
        Ok(SshSkAttestation {
            certificate,
            signature,
            auth_data,
        })
    }

    /// Encodes the file exactly as OpenSSH 9.2 writes it.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, MAGIC_V01);
        put_string(&mut out, &self.certificate);
        put_string(&mut out, &self.signature);
        put_string(&mut out, &cbor_wrap(&self.auth_data));
        put_u32(&mut out, 0);
        put_string(&mut out, b"");
        out
    }
}

/// Wraps bytes as a definite-length CBOR byte string (major type 2), as libfido2 hands authData
/// to OpenSSH (`fido_cred_authdata_ptr`).
pub fn cbor_wrap(data: &[u8]) -> Vec<u8> {
    let n = data.len();
    let mut out = Vec::with_capacity(n + 9);
    match n {
        0..=23 => out.push(0x40 | n as u8),
        24..=0xff => out.extend_from_slice(&[0x58, n as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(data);
    out
}

/// The content of a CBOR byte string that fills `data` exactly. Only the shortest length
/// encoding is accepted: that is what libfido2 writes, and it keeps one encoding per value.
pub fn cbor_unwrap(data: &[u8]) -> Result<&[u8], AttestError> {
    let bad = |what: &str| AttestError::malformed(format!("the authenticator data is {what}"));
    let (&head, rest) = data.split_first().ok_or_else(|| bad("empty"))?;
    if head >> 5 != 2 {
        return Err(bad(
            "not a CBOR byte string (OpenSSH writes libfido2's CBOR form)",
        ));
    }
    let (len, body) = match head & 0x1f {
        n @ 0..=23 => (n as usize, rest),
        24 if !rest.is_empty() && rest[0] >= 24 => (rest[0] as usize, &rest[1..]),
        25 if rest.len() >= 2 => {
            let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            if n <= 0xff {
                return Err(bad("a CBOR byte string with an over-long length"));
            }
            (n, &rest[2..])
        }
        _ => return Err(bad("a CBOR byte string with an unusable length")),
    };
    match body.len().cmp(&len) {
        std::cmp::Ordering::Less => Err(AttestError::Truncated {
            what: "the authenticator data",
        }),
        std::cmp::Ordering::Greater => Err(AttestError::TrailingBytes {
            what: "the authenticator data's CBOR byte string",
            extra: body.len() - len,
        }),
        std::cmp::Ordering::Equal => Ok(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SshSkAttestation {
        SshSkAttestation {
            certificate: b"CERT".to_vec(),
            signature: b"SIGNATURE".to_vec(),
            auth_data: vec![7u8; 196],
        }
    }

    #[test]
    fn round_trips_in_openssh_layout() {
        let a = sample();
        let bytes = a.encode();
        assert_eq!(&bytes[..21], b"\0\0\0\x11ssh-sk-attest-v01");
        // authData as libfido2 hands it over: 58 c4 ‖ 196 bytes (ATTESTATION.md §2).
        let pos = 21 + 8 + 13;
        assert_eq!(&bytes[pos..pos + 6], &[0, 0, 0, 198, 0x58, 0xc4]);
        assert_eq!(&bytes[bytes.len() - 8..], &[0u8; 8]);
        assert_eq!(SshSkAttestation::decode(&bytes).unwrap(), a);
    }

    #[test]
    fn refuses_v00_unknown_versions_and_bad_reserved_fields() {
        let mut v00 = Vec::new();
        put_string(&mut v00, MAGIC_V00);
        assert_eq!(SshSkAttestation::decode(&v00), Err(AttestError::SshSkV00));
        let mut v02 = Vec::new();
        put_string(&mut v02, b"ssh-sk-attest-v02");
        assert!(matches!(
            SshSkAttestation::decode(&v02),
            Err(AttestError::UnsupportedVersion { found }) if found == "ssh-sk-attest-v02"
        ));
        let mut b = sample().encode();
        let n = b.len();
        b[n - 5] = 1; // reserved flags
        assert!(matches!(
            SshSkAttestation::decode(&b),
            Err(AttestError::Malformed { .. })
        ));
        let mut b = sample().encode();
        b.push(0);
        assert!(matches!(
            SshSkAttestation::decode(&b),
            Err(AttestError::TrailingBytes { extra: 1, .. })
        ));
        let b = sample().encode();
        assert!(matches!(
            SshSkAttestation::decode(&b[..b.len() - 1]),
            Err(AttestError::Truncated { .. })
        ));
    }

    #[test]
    fn cbor_byte_strings_must_be_exact_and_shortest() {
        for n in [0usize, 23, 24, 255, 256, 1000] {
            let data = vec![1u8; n];
            assert_eq!(cbor_unwrap(&cbor_wrap(&data)).unwrap(), &data[..]);
        }
        assert!(cbor_unwrap(&[0x58, 0x05, 1, 2, 3, 4, 5]).is_err()); // 5 fits in the head
        assert!(cbor_unwrap(&[0x59, 0x00, 0x30]).is_err()); // over-long length
        assert!(matches!(
            cbor_unwrap(&[0x43, 1, 2]),
            Err(AttestError::Truncated { .. })
        ));
        assert!(matches!(
            cbor_unwrap(&[0x41, 1, 2]),
            Err(AttestError::TrailingBytes { .. })
        ));
        assert!(cbor_unwrap(&[0x61, b'a']).is_err()); // a text string
        assert!(cbor_unwrap(&[0x5f, 0x41, 1, 0xff]).is_err()); // indefinite length
    }
}
