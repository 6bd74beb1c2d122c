//! `CA.attest`, breakglass's attestation container, written beside `CA.pub` at enrolment.
//! RFC 4251 encodings, like OpenSSH's own files:
//!
//! ```text
//! string  "breakglass-ca-attestation"     magic
//! uint32  1                               version
//! string  "fido2" | "piv"                 kind
//! FIDO2:
//!   string  application                   the rpId, e.g. "ssh:"
//!   string  challenge                     clientDataHash = SHA-256(challenge), as OpenSSH
//!   string  authenticator data            raw authData of the makeCredential answer
//!   string  attestation signature         attStmt.sig (DER ECDSA)
//!   uint32  n                             number of certificates (0 = self attestation)
//!   n x string certificate                attStmt.x5c, attestation certificate first
//!   string  ssh-sk-attest-v01 file        exactly what `ssh-keygen -O write-attestation`
//!                                         would have written for the same enrolment
//! PIV:
//!   uint32  slot                          e.g. 0x9c
//!   string  slot attestation certificate  the answer to ATTEST (INS F9)
//!   string  f9 certificate                object 5FFF01, the device's attestation certificate
//! ```
//!
//! Nothing may follow. The embedded `ssh-sk-attest-v01` copy lets OpenSSH's own tools
//! (`ssh-verify-attestation`, OpenSSH ≥ 10.0) check a breakglass enrolment; on reading it must
//! equal the encoding of the fields beside it.

use super::error::AttestError;
use super::ssh_sk::SshSkAttestation;
use super::wire::{put_string, put_u32, Reader};

/// The container's magic.
pub const MAGIC: &[u8] = b"breakglass-ca-attestation";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// Bound on the number of certificates of a FIDO2 x5c.
pub const MAX_X5C: usize = 8;

/// A FIDO2 enrolment's attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FidoEvidence {
    /// The application (rpId) of the credential.
    pub application: String,
    /// The challenge whose SHA-256 was the clientDataHash.
    pub challenge: Vec<u8>,
    /// The raw authenticator data.
    pub auth_data: Vec<u8>,
    /// attStmt.sig.
    pub signature: Vec<u8>,
    /// attStmt.x5c (empty for self attestation).
    pub x5c: Vec<Vec<u8>>,
}

impl FidoEvidence {
    /// The `ssh-sk-attest-v01` file OpenSSH would write for this enrolment (it keeps `x5c[0]`
    /// only: libfido2 ≤ 1.12 drops the rest, ATTESTATION.md §1).
    pub fn ssh_sk_attestation(&self) -> Vec<u8> {
        SshSkAttestation {
            certificate: self.x5c.first().cloned().unwrap_or_default(),
            signature: self.signature.clone(),
            auth_data: self.auth_data.clone(),
        }
        .encode()
    }
}

/// A PIV slot's attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PivEvidence {
    /// The slot the CA key lives in.
    pub slot: u8,
    /// The slot attestation certificate (DER).
    pub slot_certificate: Vec<u8>,
    /// The f9 certificate (DER).
    pub f9_certificate: Vec<u8>,
}

/// The contents of a `CA.attest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Container {
    /// FIDO2.
    Fido(FidoEvidence),
    /// PIV.
    Piv(PivEvidence),
}

impl Container {
    /// The bytes of `CA.attest`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, MAGIC);
        put_u32(&mut out, VERSION);
        match self {
            Container::Fido(f) => {
                put_string(&mut out, b"fido2");
                put_string(&mut out, f.application.as_bytes());
                put_string(&mut out, &f.challenge);
                put_string(&mut out, &f.auth_data);
                put_string(&mut out, &f.signature);
                put_u32(&mut out, f.x5c.len() as u32);
                for c in &f.x5c {
                    put_string(&mut out, c);
                }
                put_string(&mut out, &f.ssh_sk_attestation());
            }
            Container::Piv(p) => {
                put_string(&mut out, b"piv");
                put_u32(&mut out, u32::from(p.slot));
                put_string(&mut out, &p.slot_certificate);
                put_string(&mut out, &p.f9_certificate);
            }
        }
        out
    }

    /// Whether `bytes` start like a container (its magic).
    pub fn is_container(bytes: &[u8]) -> bool {
        let mut r = Reader::new(bytes);
        r.string("magic").is_ok_and(|m| m == MAGIC)
    }

    /// Reads a whole `CA.attest`.
    pub fn decode(bytes: &[u8]) -> Result<Container, AttestError> {
        let mut r = Reader::new(bytes);
        if r.string("the format name")? != MAGIC {
            return Err(AttestError::UnknownFormat);
        }
        let version = r.u32("the version")?;
        if version != VERSION {
            return Err(AttestError::UnsupportedVersion {
                found: format!("{version} of breakglass-ca-attestation"),
            });
        }
        let kind = r.string("the kind")?;
        let out = match kind {
            b"fido2" => {
                let application = std::str::from_utf8(r.string("the application")?)
                    .map_err(|_| AttestError::malformed("the application is not UTF-8"))?
                    .to_string();
                let challenge = r.string("the challenge")?.to_vec();
                let auth_data = r.string("the authenticator data")?.to_vec();
                let signature = r.string("the attestation signature")?.to_vec();
                let n = r.u32("the number of certificates")? as usize;
                if n > MAX_X5C {
                    return Err(AttestError::malformed(format!(
                        "{n} certificates, more than the {MAX_X5C} an attestation carries"
                    )));
                }
                let mut x5c = Vec::with_capacity(n);
                for _ in 0..n {
                    x5c.push(r.string("a certificate")?.to_vec());
                }
                let ssh = r.string("the ssh-sk-attest-v01 copy")?;
                r.finish("the ssh-sk-attest-v01 copy")?;
                if !application.starts_with("ssh:") {
                    return Err(AttestError::malformed(format!(
                        "the application {application:?} does not start with ssh:"
                    )));
                }
                let f = FidoEvidence {
                    application,
                    challenge,
                    auth_data,
                    signature,
                    x5c,
                };
                if f.ssh_sk_attestation() != ssh {
                    return Err(AttestError::malformed(
                        "its ssh-sk-attest-v01 copy disagrees with the fields beside it",
                    ));
                }
                Container::Fido(f)
            }
            b"piv" => {
                let slot = r.u32("the slot")?;
                let slot = u8::try_from(slot).map_err(|_| {
                    AttestError::malformed(format!("slot {slot:#x} is not a PIV slot"))
                })?;
                let slot_certificate = r.string("the slot attestation certificate")?.to_vec();
                let f9_certificate = r.string("the f9 certificate")?.to_vec();
                r.finish("the f9 certificate")?;
                Container::Piv(PivEvidence {
                    slot,
                    slot_certificate,
                    f9_certificate,
                })
            }
            other => {
                return Err(AttestError::malformed(format!(
                    "unknown kind {:?}",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fido() -> Container {
        Container::Fido(FidoEvidence {
            application: "ssh:".into(),
            challenge: vec![1; 32],
            auth_data: vec![2; 160],
            signature: vec![3; 70],
            x5c: vec![vec![4; 300], vec![5; 200]],
        })
    }

    fn piv() -> Container {
        Container::Piv(PivEvidence {
            slot: 0x9c,
            slot_certificate: vec![6; 600],
            f9_certificate: vec![7; 700],
        })
    }

    #[test]
    fn round_trips_and_carries_openssh_file() {
        for c in [fido(), piv()] {
            let b = c.encode();
            assert!(Container::is_container(&b));
            assert_eq!(Container::decode(&b).unwrap(), c);
        }
        let Container::Fido(f) = fido() else {
            unreachable!()
        };
        let ssh = SshSkAttestation::decode(&f.ssh_sk_attestation()).unwrap();
        assert_eq!(ssh.certificate, f.x5c[0]);
        assert_eq!(ssh.auth_data, f.auth_data);
    }

    #[test]
    fn every_cut_and_every_extra_byte_is_refused() {
        for c in [fido(), piv()] {
            let b = c.encode();
            for cut in 0..b.len() {
                assert!(Container::decode(&b[..cut]).is_err(), "cut at {cut}");
            }
            let mut longer = b.clone();
            longer.push(0);
            assert!(matches!(
                Container::decode(&longer),
                Err(AttestError::TrailingBytes { extra: 1, .. })
            ));
        }
    }

    #[test]
    fn refuses_other_versions_kinds_and_a_disagreeing_openssh_copy() {
        let mut b = piv().encode();
        b[4 + MAGIC.len() + 3] = 2;
        assert!(matches!(
            Container::decode(&b),
            Err(AttestError::UnsupportedVersion { .. })
        ));
        let mut b = piv().encode();
        let k = 4 + MAGIC.len() + 4 + 4;
        b[k..k + 3].copy_from_slice(b"pjv");
        assert!(matches!(
            Container::decode(&b),
            Err(AttestError::Malformed { .. })
        ));
        // Change one byte of the signature inside the ssh-sk copy only (the last string).
        let mut b = fido().encode();
        let n = b.len();
        b[n - 20] ^= 1;
        assert!(
            matches!(Container::decode(&b), Err(AttestError::Malformed { what }) if what.contains("ssh-sk-attest-v01"))
        );
    }
}
