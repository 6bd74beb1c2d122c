//! The FIDO2 side: an enrolment's authenticator data, the packed attestation statement's
//! signature, and the attestation certificate's requirements (ATTESTATION.md §1, §2.1–2.2;
//! WebAuthn §6.1 authenticator data, §8.2 packed format, §8.2.1 certificate requirements).
//!
//! authData = rpIdHash 32 ‖ flags 1 ‖ signCount 4 ‖ AAGUID 16 ‖ credIdLen 2 ‖ credId ‖ COSE_Key
//! ‖ [extensions map]. The statement's `sig` is ECDSA P-256/SHA-256 by the attestation
//! certificate's key over `authData ‖ clientDataHash`, where OpenSSH (and breakglass) make
//! clientDataHash = SHA-256(challenge).

use sha2::{Digest, Sha256};

use super::error::AttestError;
use super::policy::FirmwareVersion;
use super::x509::{Attribute, Cert, PublicKey};
use crate::ssh::sk::cbor;

/// authenticatorData flags (WebAuthn §6.1).
pub mod flags {
    /// User present.
    pub const UP: u8 = 0x01;
    /// User verified.
    pub const UV: u8 = 0x04;
    /// Backup eligible.
    pub const BE: u8 = 0x08;
    /// Backed up.
    pub const BS: u8 = 0x10;
    /// Attested credential data included.
    pub const AT: u8 = 0x40;
    /// Extension data included.
    pub const ED: u8 = 0x80;
}

/// id-fido-gen-ce-aaguid.
pub const OID_FIDO_AAGUID: &str = "1.3.6.1.4.1.45724.1.1.4";
/// Yubico's firmware version in FIDO attestation certificates (DER OCTET STRING of 3 bytes).
pub const OID_YUBICO_FIDO_FIRMWARE: &str = "1.3.6.1.4.1.41482.13.1";

/// The credential public key of an enrolment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CoseKey {
    /// ES256: SEC1 uncompressed point.
    P256([u8; 65]),
    /// EdDSA Ed25519.
    Ed25519([u8; 32]),
    /// Anything else, named.
    Other(String),
}

/// The authenticator data of an enrolment (AT set).
#[derive(Clone, Debug)]
pub(crate) struct EnrolmentData {
    pub(crate) rp_id_hash: [u8; 32],
    pub(crate) flags: u8,
    pub(crate) counter: u32,
    pub(crate) aaguid: [u8; 16],
    pub(crate) key: CoseKey,
    pub(crate) cred_protect: Option<u8>,
}

fn bad(what: impl Into<String>) -> AttestError {
    AttestError::malformed(format!("authenticator data: {}", what.into()))
}

fn cbor_err(_: crate::ssh::sk::FidoError) -> AttestError {
    bad("malformed CBOR")
}

impl EnrolmentData {
    /// Parses an enrolment's authenticator data; every byte must be accounted for.
    pub(crate) fn parse(d: &[u8]) -> Result<Self, AttestError> {
        let truncated = AttestError::Truncated {
            what: "the authenticator data",
        };
        if d.len() < 37 {
            return Err(truncated);
        }
        let rp_id_hash: [u8; 32] = d[..32].try_into().map_err(|_| truncated.clone())?;
        let flag_bits = d[32];
        let counter = u32::from_be_bytes([d[33], d[34], d[35], d[36]]);
        if flag_bits & flags::AT == 0 {
            return Err(bad(
                "no attested credential data (the AT flag is clear), so it is not an enrolment",
            ));
        }
        let fixed = d.get(37..55).ok_or(truncated.clone())?;
        let aaguid: [u8; 16] = fixed[..16].try_into().map_err(|_| truncated.clone())?;
        let id_len = u16::from_be_bytes([fixed[16], fixed[17]]) as usize;
        let mut pos = 55 + id_len;
        if pos > d.len() {
            return Err(truncated);
        }
        let (key, used) = parse_cose_key(&d[pos..])?;
        pos += used;
        let mut cred_protect = None;
        if flag_bits & flags::ED != 0 {
            let (cp, used) = parse_extensions(&d[pos..])?;
            cred_protect = cp;
            pos += used;
        }
        if pos != d.len() {
            return Err(AttestError::TrailingBytes {
                what: "the authenticator data",
                extra: d.len() - pos,
            });
        }
        Ok(EnrolmentData {
            rp_id_hash,
            flags: flag_bits,
            counter,
            aaguid,
            key,
            cred_protect,
        })
    }
}

/// A COSE_Key map (RFC 9052/9053): the key and the bytes it used.
fn parse_cose_key(d: &[u8]) -> Result<(CoseKey, usize), AttestError> {
    let (major, count, mut pos) = cbor::head(d, 0).map_err(cbor_err)?;
    if major != 5 || count > 16 {
        return Err(bad("the credential public key is not a COSE_Key map"));
    }
    let (mut kty, mut alg, mut crv) = (None, None, None);
    let (mut x, mut y): (Option<&[u8]>, Option<&[u8]>) = (None, None);
    for _ in 0..count {
        let (label, next) = cbor::int(d, pos).map_err(cbor_err)?;
        pos = next;
        match label {
            1 | 3 | -1 => {
                let (v, next) = cbor::int(d, pos).map_err(cbor_err)?;
                pos = next;
                match label {
                    1 => kty = Some(v),
                    3 => alg = Some(v),
                    _ => crv = Some(v),
                }
            }
            -2 | -3 => {
                let (b, next) = cbor::bytes(d, pos).map_err(cbor_err)?;
                pos = next;
                if label == -2 {
                    x = Some(b);
                } else {
                    y = Some(b);
                }
            }
            _ => pos = cbor::skip(d, pos).map_err(cbor_err)?,
        }
    }
    let key = match (kty, alg, crv) {
        (Some(2), Some(-7), Some(1)) => {
            let (Some(x), Some(y)) = (x, y) else {
                return Err(bad("the ES256 key lacks x or y"));
            };
            if x.len() != 32 || y.len() != 32 {
                return Err(bad("the ES256 key's x or y is not 32 bytes"));
            }
            let mut p = [0u8; 65];
            p[0] = 4;
            p[1..33].copy_from_slice(x);
            p[33..].copy_from_slice(y);
            if p256::PublicKey::from_sec1_bytes(&p).is_err() {
                return Err(bad("the ES256 key is not a point on P-256"));
            }
            CoseKey::P256(p)
        }
        (Some(1), Some(-8), Some(6)) => match x.map(<[u8; 32]>::try_from) {
            Some(Ok(k)) => CoseKey::Ed25519(k),
            _ => return Err(bad("the Ed25519 key is not 32 bytes")),
        },
        (kty, alg, crv) => CoseKey::Other(format!(
            "a COSE key with kty {}, alg {}, crv {}",
            opt(kty),
            opt(alg),
            opt(crv)
        )),
    };
    Ok((key, pos))
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "none".into(), |v| v.to_string())
}

/// The extensions map: credProtect's level, if present, and the bytes used.
fn parse_extensions(d: &[u8]) -> Result<(Option<u8>, usize), AttestError> {
    let (major, count, mut pos) = cbor::head(d, 0).map_err(cbor_err)?;
    if major != 5 || count > 32 {
        return Err(bad("the extensions are not a CBOR map"));
    }
    let mut cred_protect = None;
    for _ in 0..count {
        let (kmajor, klen, kstart) = cbor::head(d, pos).map_err(cbor_err)?;
        let key_end = cbor::skip(d, pos).map_err(cbor_err)?;
        let is_cred_protect =
            kmajor == 3 && klen == 11 && d.get(kstart..key_end) == Some(b"credProtect".as_slice());
        pos = key_end;
        if is_cred_protect {
            let (v, next) = cbor::int(d, pos).map_err(cbor_err)?;
            pos = next;
            cred_protect = Some(u8::try_from(v).map_err(|_| bad("credProtect is out of range"))?);
        } else {
            pos = cbor::skip(d, pos).map_err(cbor_err)?;
        }
    }
    Ok((cred_protect, pos))
}

/// Whether `sig` by the attestation certificate's key covers `authData ‖ SHA-256(challenge)`.
/// `Err` when the key is not one a packed statement from a security key uses (ES256).
pub(crate) fn statement_verifies(
    leaf: &Cert,
    auth_data: &[u8],
    challenge: &[u8],
    sig: &[u8],
) -> Result<bool, AttestError> {
    use signature::Verifier;
    let PublicKey::P256(_, vk) = leaf.public_key() else {
        return Err(AttestError::UnsupportedAlgorithm {
            subject: leaf.subject(),
            what: format!(
                "{} for the attestation signature (only ES256 is supported)",
                leaf.public_key().describe()
            ),
        });
    };
    let Ok(sig) = p256::ecdsa::Signature::from_der(sig) else {
        return Ok(false);
    };
    let mut msg = auth_data.to_vec();
    msg.extend_from_slice(&Sha256::digest(challenge));
    Ok(vk.verify(&msg, &sig).is_ok())
}

/// WebAuthn §8.2.1: version 3; subject C, O, CN present, OU "Authenticator Attestation";
/// basicConstraints CA false (or absent); the AAGUID extension, if present, equal to authData's.
pub(crate) fn check_attestation_certificate(
    leaf: &Cert,
    aaguid: &[u8; 16],
) -> Result<(), AttestError> {
    let profile = |what: &str| AttestError::LeafProfile { what: what.into() };
    if !leaf.is_v3() {
        return Err(profile("it is not an X.509 version 3 certificate"));
    }
    let ou = leaf
        .subject_attribute(Attribute::OrganizationalUnit)
        .unwrap_or_default();
    if ou != "Authenticator Attestation" {
        return Err(AttestError::LeafWrongOu { found: ou });
    }
    for (attr, name) in [
        (Attribute::Country, "C"),
        (Attribute::Organization, "O"),
        (Attribute::CommonName, "CN"),
    ] {
        if leaf.subject_attribute(attr).is_none_or(|v| v.is_empty()) {
            return Err(profile(&format!("its subject has no {name}")));
        }
    }
    let bc = leaf
        .basic_constraints()
        .map_err(|e| profile(&format!("its basicConstraints: {e}")))?;
    if let Some((true, _)) = bc {
        return Err(AttestError::LeafIsCa);
    }
    let ext = leaf.extension(OID_FIDO_AAGUID).map_err(|e| profile(&e))?;
    if let Some(v) = ext {
        let cert_aaguid = match v {
            [0x04, 0x10, rest @ ..] if rest.len() == 16 => rest,
            _ => {
                return Err(profile(
                    "its AAGUID extension is not a 16-byte OCTET STRING",
                ))
            }
        };
        if cert_aaguid != aaguid {
            let a: [u8; 16] = cert_aaguid.try_into().unwrap_or([0; 16]);
            return Err(AttestError::AaguidMismatch {
                certificate: super::aaguid::format_aaguid(&a),
                authenticator: super::aaguid::format_aaguid(aaguid),
            });
        }
    }
    Ok(())
}

/// Yubico's firmware extension in a FIDO attestation certificate (`04 03 MM mm pp`).
pub(crate) fn certificate_firmware(leaf: &Cert) -> Result<Option<FirmwareVersion>, AttestError> {
    let profile = |what: String| AttestError::LeafProfile { what };
    match leaf.extension(OID_YUBICO_FIDO_FIRMWARE).map_err(profile)? {
        None => Ok(None),
        Some([0x04, 0x03, a, b, c]) => Ok(Some(FirmwareVersion::new(*a, *b, *c))),
        Some(_) => Err(profile(format!(
            "its firmware extension {OID_YUBICO_FIDO_FIRMWARE} is not a 3-byte OCTET STRING"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::sk::point_to_cose;

    fn auth_data(flag_bits: u8, key: &[u8], ext: &[u8]) -> Vec<u8> {
        let mut d = vec![0x11; 32];
        d.push(flag_bits);
        d.extend_from_slice(&7u32.to_be_bytes());
        d.extend_from_slice(b"breakglass-sim\x00\x01");
        d.extend_from_slice(&[0, 2, 0xaa, 0xbb]);
        d.extend_from_slice(key);
        d.extend_from_slice(ext);
        d
    }

    fn point() -> [u8; 65] {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        sk.verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .try_into()
            .unwrap()
    }

    #[test]
    fn parses_an_enrolment_with_cred_protect() {
        let ext = b"\xa1\x6bcredProtect\x03";
        let d = auth_data(0xc5, &point_to_cose(&point()), ext);
        let e = EnrolmentData::parse(&d).unwrap();
        assert_eq!(e.key, CoseKey::P256(point()));
        assert_eq!(e.cred_protect, Some(3));
        assert_eq!(e.counter, 7);
        assert_eq!(e.flags, 0xc5);
    }

    #[test]
    fn refuses_what_is_not_an_exact_enrolment() {
        let key = point_to_cose(&point());
        assert!(matches!(
            EnrolmentData::parse(&auth_data(0x01, &key, b"")),
            Err(AttestError::Malformed { .. })
        ));
        let mut d = auth_data(0x41, &key, b"");
        d.push(0);
        assert!(matches!(
            EnrolmentData::parse(&d),
            Err(AttestError::TrailingBytes { extra: 1, .. })
        ));
        let d = auth_data(0x41, &key, b"");
        for cut in [10, 36, 40, 56, d.len() - 1] {
            assert!(EnrolmentData::parse(&d[..cut]).is_err(), "{cut}");
        }
        let mut off_curve = key.clone();
        off_curve[20] ^= 1;
        assert!(matches!(
            EnrolmentData::parse(&auth_data(0x41, &off_curve, b"")),
            Err(AttestError::Malformed { .. })
        ));
    }

    #[test]
    fn names_keys_it_does_not_accept() {
        // kty OKP, alg EdDSA, crv Ed25519, x: the ed25519-sk shape.
        let mut okp = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
        okp.extend_from_slice(&[9u8; 32]);
        let e = EnrolmentData::parse(&auth_data(0x41, &okp, b"")).unwrap();
        assert_eq!(e.key, CoseKey::Ed25519([9u8; 32]));
        // kty EC2, alg ES384, crv P-384.
        let mut p384 = vec![
            0xa5, 0x01, 0x02, 0x03, 0x38, 0x22, 0x20, 0x02, 0x21, 0x58, 0x30,
        ];
        p384.extend_from_slice(&[1u8; 48]);
        p384.extend_from_slice(&[0x22, 0x58, 0x30]);
        p384.extend_from_slice(&[2u8; 48]);
        let e = EnrolmentData::parse(&auth_data(0x41, &p384, b"")).unwrap();
        assert!(matches!(e.key, CoseKey::Other(s) if s.contains("alg -35")));
    }
}
