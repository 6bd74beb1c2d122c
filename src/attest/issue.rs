//! Building attestation certificates: what the simulators need to attest like a YubiKey, with
//! no key in it. The test PKI (test builds only) and the simulated key's
//! own attestation root (`token::sim`, every build) issue their certificates through it.

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString};
use der::Encode;
use p256::ecdsa::{DerSignature, SigningKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use super::policy::FirmwareVersion;

use super::x509::{
    BASIC_CONSTRAINTS as OID_BASIC_CONSTRAINTS, CURVE_P256, CURVE_P384, EC_PUBLIC_KEY,
};

/// The verifier's FIDO extension OIDs ([`super::packed`]), as the builder takes them.
const OID_FIDO_AAGUID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap(super::packed::OID_FIDO_AAGUID);
const OID_FIDO_FIRMWARE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap(super::packed::OID_YUBICO_FIDO_FIRMWARE);

/// The validity of the test PKI and of the simulated key's attestation: 2025-01-01 to
/// 9999-12-31 (as Yubico's 2024 PKI).
pub fn validity() -> Result<Validity, String> {
    let from = GeneralizedTime::from_unix_duration(Duration::from_secs(1_735_689_600))
        .map_err(|e| e.to_string())?;
    let to = GeneralizedTime::from_unix_duration(Duration::from_secs(253_402_300_799))
        .map_err(|e| e.to_string())?;
    Ok(Validity::new(
        Time::GeneralTime(from),
        Time::GeneralTime(to),
    ))
}

/// A profile that writes exactly the issuer, subject and extensions it is given.
struct Exact {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Exact {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// A distinguished name from its string form (`CN=…,O=…`).
pub fn name(s: &str) -> Result<Name, String> {
    Name::from_str(s).map_err(|e| format!("{s}: {e}"))
}

/// An X.509 extension with `value` as its extnValue content.
pub fn ext(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Result<Extension, String> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).map_err(|e| e.to_string())?,
    })
}

pub fn ca_extensions(path_len: u8) -> Result<Vec<Extension>, String> {
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: Some(path_len),
    };
    let ku = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
    Ok(vec![
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.19"),
            true,
            bc.to_der().map_err(|e| e.to_string())?,
        )?,
        ext(
            ObjectIdentifier::new_unwrap("2.5.29.15"),
            true,
            ku.to_der().map_err(|e| e.to_string())?,
        )?,
    ])
}

/// A SubjectPublicKeyInfo for a SEC1 uncompressed P-256 or P-384 point.
pub fn ec_spki(sec1: &[u8]) -> Result<SubjectPublicKeyInfoOwned, String> {
    let curve = match sec1.len() {
        65 if p256::PublicKey::from_sec1_bytes(sec1).is_ok() => CURVE_P256,
        97 if p384::PublicKey::from_sec1_bytes(sec1).is_ok() => CURVE_P384,
        _ => return Err("the public key is not an uncompressed P-256 or P-384 point".into()),
    };
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: EC_PUBLIC_KEY,
            parameters: Some(der::Any::from(&curve)),
        },
        subject_public_key: BitString::from_bytes(sec1).map_err(|e| e.to_string())?,
    })
}

/// The SEC1 uncompressed point of a key.
pub fn sec1(key: &SigningKey) -> Vec<u8> {
    key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
}

/// Builds and signs (deterministic ECDSA, RFC 6979) one certificate; returns its DER.
pub fn issue(
    signer: &SigningKey,
    issuer: Name,
    subject: Name,
    serial: &[u8],
    validity: Validity,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
) -> Result<Vec<u8>, String> {
    let profile = Exact {
        issuer,
        subject,
        extensions,
    };
    let serial = SerialNumber::new(serial).map_err(|e| e.to_string())?;
    let builder =
        CertificateBuilder::new(profile, serial, validity, spki).map_err(|e| e.to_string())?;
    let cert: Certificate = builder
        .build::<_, DerSignature>(signer)
        .map_err(|e| e.to_string())?;
    cert.to_der().map_err(|e| e.to_string())
}

/// The extensions of a FIDO batch attestation certificate (WebAuthn §8.2.1): the AAGUID
/// (1.3.6.1.4.1.45724.1.1.4), Yubico's firmware extension 1.3.6.1.4.1.41482.13.1 when
/// `firmware` is given, basicConstraints with `ca` (false for a genuine leaf).
pub fn fido_leaf_extensions(
    aaguid: &[u8; 16],
    firmware: Option<FirmwareVersion>,
    ca: bool,
) -> Result<Vec<Extension>, String> {
    let mut extensions = vec![ext(OID_FIDO_AAGUID, false, {
        let mut v = vec![0x04, 0x10];
        v.extend_from_slice(aaguid);
        v
    })?];
    if let Some(fw) = firmware {
        let mut v = vec![0x04, 0x03];
        v.extend_from_slice(&fw.to_bytes());
        extensions.push(ext(OID_FIDO_FIRMWARE, false, v)?);
    }
    let bc = BasicConstraints {
        ca,
        path_len_constraint: None,
    };
    extensions.push(ext(
        OID_BASIC_CONSTRAINTS,
        true,
        bc.to_der().map_err(|e| e.to_string())?,
    )?);
    Ok(extensions)
}

/// A certificate (DER) in PEM.
pub fn pem(der: &[u8]) -> Result<String, String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).map_err(|e| e.to_string())
}
