//! One X.509 certificate as the verifier needs it: parsed by `x509-cert`, with the exact bytes
//! its signature covers, its key, the attributes and extensions attestation reads, and the
//! signature check of one step of a chain (RSA PKCS#1 v1.5 with SHA-256/384/512, ECDSA P-256
//! and P-384). No path-building rules live here (ATTESTATION.md §3.3, §4: Yubico's real chains
//! fail strict X.509 validators, so `chain.rs` applies its own, fixed rules).

use der::asn1::ObjectIdentifier;
use der::Decode;
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashVerifier;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::Certificate;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
pub(super) const EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
pub(super) const CURVE_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(super) const CURVE_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
pub(super) const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// Bound on an RSA modulus: Yubico's are 2048 bits; anything past 4096 is refused unverified.
const MAX_RSA_BITS: usize = 4096;

/// A certificate's subject public key, in the forms the verifier checks signatures with.
#[derive(Clone, Debug)]
pub(crate) enum PublicKey {
    /// NIST P-256: the SEC1 uncompressed point `04‖x‖y` and its verifying key.
    P256([u8; 65], p256::ecdsa::VerifyingKey),
    /// NIST P-384: the SEC1 uncompressed point and its verifying key.
    P384(Vec<u8>, p384::ecdsa::VerifyingKey),
    /// RSA (PKCS#1 v1.5 signatures only).
    Rsa(rsa::RsaPublicKey),
    /// Ed25519, named but never used to verify a chain.
    Ed25519([u8; 32]),
    /// Anything else, by name.
    Other(String),
}

impl PublicKey {
    /// How a person would name the key type.
    pub(crate) fn describe(&self) -> String {
        match self {
            PublicKey::P256(..) => "ECDSA P-256".into(),
            PublicKey::P384(..) => "ECDSA P-384".into(),
            PublicKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                format!("RSA-{}", k.size() * 8)
            }
            PublicKey::Ed25519(_) => "Ed25519".into(),
            PublicKey::Other(s) => s.clone(),
        }
    }
}

/// Why one signature step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepError {
    /// The signature does not verify with the issuer's key.
    Invalid,
    /// The algorithm (named) is not one the verifier implements, or does not fit the key.
    Unsupported(String),
}

/// A parsed certificate with its DER and the exact to-be-signed bytes.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    der: Vec<u8>,
    cert: Certificate,
    tbs: std::ops::Range<usize>,
}

impl Cert {
    /// Parses one DER certificate; every byte of `der` must belong to it.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
        // The signature covers the TBSCertificate exactly as encoded, so take it from the input
        // rather than re-encoding the parsed value.
        let (outer_header, _) = tlv(der, 0).ok_or("bad outer header")?;
        let (tbs_header, tbs_len) = tlv(der, outer_header).ok_or("bad tbsCertificate header")?;
        let end = (outer_header + tbs_header)
            .checked_add(tbs_len)
            .filter(|&e| e <= der.len())
            .ok_or("a tbsCertificate longer than the certificate")?;
        Ok(Cert {
            der: der.to_vec(),
            cert,
            tbs: outer_header..end,
        })
    }

    /// SHA-256 of the DER, the certificate's usual fingerprint.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// The subject as RFC 4514 text.
    pub(crate) fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The issuer as RFC 4514 text.
    pub(crate) fn issuer(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    /// The subject Name as compared with issuer names: its RFC 4514 text, so that the same
    /// name in PrintableString and in UTF8String matches (RFC 5280 §7.1 treats them as equal).
    /// Matching only picks the candidate issuer; its signature decides.
    pub(crate) fn subject_key(&self) -> String {
        self.subject()
    }

    /// The issuer Name as compared with subject names.
    pub(crate) fn issuer_key(&self) -> String {
        self.issuer()
    }

    /// Whether the certificate names itself as its issuer.
    pub(crate) fn is_self_issued(&self) -> bool {
        self.subject_key() == self.issuer_key()
    }

    /// X.509 version 3.
    pub(crate) fn is_v3(&self) -> bool {
        self.cert.tbs_certificate().version() == x509_cert::Version::V3
    }

    /// The first value of a subject attribute (CN, O, OU, C) as text, if present and a string.
    pub(crate) fn subject_attribute(&self, which: Attribute) -> Option<String> {
        let name = self.cert.tbs_certificate().subject();
        match which {
            Attribute::CommonName => name.common_name().ok().flatten().map(String::from),
            Attribute::Organization => name.organization().ok().flatten().map(String::from),
            Attribute::OrganizationalUnit => {
                name.organization_unit().ok().flatten().map(String::from)
            }
            Attribute::Country => name.country().ok().flatten().map(|s| s.to_string()),
        }
    }

    /// The extnValue content (inside the OCTET STRING) of the extension `oid`, if present once.
    /// Several copies of one extension are refused as absent-and-suspicious by the callers'
    /// requirements: `Err` names the OID.
    pub(crate) fn extension(&self, oid: &str) -> Result<Option<&[u8]>, String> {
        let oid = ObjectIdentifier::new(oid).map_err(|e| e.to_string())?;
        let mut found = None;
        for ext in self
            .cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
        {
            if ext.extn_id == oid {
                if found.is_some() {
                    return Err(format!("extension {oid} appears twice"));
                }
                found = Some(ext.extn_value.as_bytes());
            }
        }
        Ok(found)
    }

    /// basicConstraints: `None` when absent, else (cA, pathLenConstraint).
    pub(crate) fn basic_constraints(&self) -> Result<Option<(bool, Option<u8>)>, String> {
        match self.extension(&BASIC_CONSTRAINTS.to_string())? {
            None => Ok(None),
            Some(v) => {
                let bc = BasicConstraints::from_der(v).map_err(|e| e.to_string())?;
                Ok(Some((bc.ca, bc.path_len_constraint)))
            }
        }
    }

    /// The subject public key.
    pub(crate) fn public_key(&self) -> PublicKey {
        let spki = self.cert.tbs_certificate().subject_public_key_info();
        let bits = spki.subject_public_key.raw_bytes();
        let alg = spki.algorithm.oid;
        if alg == EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(c) if c == CURVE_P256 => {
                    if let (Ok(point), Ok(vk)) = (
                        <[u8; 65]>::try_from(bits),
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(bits),
                    ) {
                        return PublicKey::P256(point, vk);
                    }
                    PublicKey::Other("an invalid P-256 point".into())
                }
                Some(c) if c == CURVE_P384 => {
                    match p384::ecdsa::VerifyingKey::from_sec1_bytes(bits) {
                        Ok(vk) if bits.len() == 97 => PublicKey::P384(bits.to_vec(), vk),
                        _ => PublicKey::Other("an invalid P-384 point".into()),
                    }
                }
                Some(c) => PublicKey::Other(format!("an EC key on curve {c}")),
                None => PublicKey::Other("an EC key without a named curve".into()),
            }
        } else if alg == RSA_ENCRYPTION {
            use rsa::pkcs1::DecodeRsaPublicKey;
            match rsa::RsaPublicKey::from_pkcs1_der(bits) {
                Ok(k) => {
                    use rsa::traits::PublicKeyParts;
                    if k.size() * 8 > MAX_RSA_BITS {
                        PublicKey::Other(format!("an RSA key of {} bits", k.size() * 8))
                    } else {
                        PublicKey::Rsa(k)
                    }
                }
                Err(_) => PublicKey::Other("an invalid RSA key".into()),
            }
        } else if alg == ED25519 {
            match <[u8; 32]>::try_from(bits) {
                Ok(k) => PublicKey::Ed25519(k),
                Err(_) => PublicKey::Other("an invalid Ed25519 key".into()),
            }
        } else {
            PublicKey::Other(format!("a key of algorithm {alg}"))
        }
    }

    /// Checks that `issuer`'s key made this certificate's signature (one step of a chain).
    pub(crate) fn verify_signed_by(&self, issuer: &PublicKey) -> Result<(), StepError> {
        let tbs = &self.der[self.tbs.clone()];
        let alg = self.cert.signature_algorithm().oid;
        let sig = self
            .cert
            .signature()
            .as_bytes()
            .ok_or_else(|| StepError::Unsupported("a signature with unused bits".into()))?;
        let digest = |alg: ObjectIdentifier| -> Option<Vec<u8>> {
            Some(match alg {
                a if a == SHA256_WITH_RSA || a == ECDSA_SHA256 => Sha256::digest(tbs).to_vec(),
                a if a == SHA384_WITH_RSA || a == ECDSA_SHA384 => Sha384::digest(tbs).to_vec(),
                a if a == SHA512_WITH_RSA || a == ECDSA_SHA512 => Sha512::digest(tbs).to_vec(),
                _ => return None,
            })
        };
        let hashed = digest(alg)
            .ok_or_else(|| StepError::Unsupported(format!("signature algorithm {alg}")))?;
        let is_rsa = [SHA256_WITH_RSA, SHA384_WITH_RSA, SHA512_WITH_RSA].contains(&alg);
        match issuer {
            PublicKey::Rsa(key) if is_rsa => {
                let scheme = if alg == SHA256_WITH_RSA {
                    rsa::Pkcs1v15Sign::new::<Sha256>()
                } else if alg == SHA384_WITH_RSA {
                    rsa::Pkcs1v15Sign::new::<Sha384>()
                } else {
                    rsa::Pkcs1v15Sign::new::<Sha512>()
                };
                key.verify(scheme, &hashed, sig)
                    .map_err(|_| StepError::Invalid)
            }
            PublicKey::P256(_, vk) if !is_rsa => {
                let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| StepError::Invalid)?;
                vk.verify_prehash(&hashed, &s)
                    .map_err(|_| StepError::Invalid)
            }
            PublicKey::P384(_, vk) if !is_rsa => {
                let s = p384::ecdsa::Signature::from_der(sig).map_err(|_| StepError::Invalid)?;
                vk.verify_prehash(&hashed, &s)
                    .map_err(|_| StepError::Invalid)
            }
            // A known key of the other family cannot have made this signature.
            PublicKey::Rsa(_) | PublicKey::P256(..) | PublicKey::P384(..) => {
                Err(StepError::Invalid)
            }
            other => Err(StepError::Unsupported(format!(
                "an issuer key that is {}",
                other.describe()
            ))),
        }
    }
}

/// Subject attributes attestation reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Attribute {
    /// CN
    CommonName,
    /// O
    Organization,
    /// OU
    OrganizationalUnit,
    /// C
    Country,
}

/// Header length and content length of the DER TLV at `pos` (definite lengths only).
fn tlv(d: &[u8], pos: usize) -> Option<(usize, usize)> {
    let first = *d.get(pos + 1)?;
    if first < 0x80 {
        return Some((2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return None;
    }
    let bytes = d.get(pos + 2..pos + 2 + n)?;
    let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
    Some((2 + n, len))
}

/// Splits concatenated DER certificates (as a PIV bundle may be given) into single ones.
pub(crate) fn split_der(mut d: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    while !d.is_empty() {
        if d[0] != 0x30 {
            return Err("bytes between certificates".into());
        }
        let (h, l) = tlv(d, 0).ok_or("a bad certificate length")?;
        let end = h
            .checked_add(l)
            .filter(|&e| e <= d.len())
            .ok_or("a cut certificate")?;
        out.push(&d[..end]);
        d = &d[end..];
    }
    Ok(out)
}

/// Colon-separated uppercase hex, as `openssl x509 -fingerprint -sha256` prints it.
pub(crate) fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_reads_short_and_long_lengths_and_refuses_the_rest() {
        assert_eq!(tlv(&[0x30, 0x05], 0), Some((2, 5)));
        assert_eq!(tlv(&[0x30, 0x82, 0x01, 0x00], 0), Some((4, 256)));
        assert_eq!(tlv(&[0x30, 0x80], 0), None);
        assert_eq!(tlv(&[0x30, 0x85, 1, 2, 3, 4, 5], 0), None);
        assert_eq!(tlv(&[0x30], 0), None);
    }

    #[test]
    fn split_der_refuses_cut_and_stray_bytes() {
        assert_eq!(split_der(&[0x30, 0x00, 0x30, 0x01, 0x00]).unwrap().len(), 2);
        assert!(split_der(&[0x30, 0x02, 0x00]).is_err());
        assert!(split_der(&[0x30, 0x00, 0x04]).is_err());
    }
}
