//! The key's answers, checked and turned into breakglass's CTAP types: the attestation of a new
//! credential, the credProtect level, the COSE key of a listed credential, an assertion.

use ctap_hid_fido2::fidokey::credential_management::credential_management_params::{
    Credential, CredentialProtectionPolicy,
};
use ctap_hid_fido2::fidokey::get_assertion::get_assertion_params::Assertion as CrateAssertion;
use ctap_hid_fido2::fidokey::make_credential::make_credential_params::Attestation;
use ctap_hid_fido2::public_key::PublicKeyType;

use crate::ssh::sk;
use crate::token::ctap::Assertion;
use crate::token::TokenError;

/// Checks a makeCredential attestation signature: self attestation against the new
/// credential's key, full attestation against the key in its certificate.
pub(super) fn check_attestation(
    att: &Attestation,
    cdh_sent: &[u8; 32],
    point: &[u8; 65],
) -> Result<(), TokenError> {
    let bad = |e: sk::FidoError| TokenError::BadAnswer(format!("makeCredential attestation: {e}"));
    match (att.fmt.as_str(), att.attstmt_x5c.first()) {
        ("packed", None) => {
            sk::verify_self_attestation(&att.auth_data, cdh_sent, &att.attstmt_sig, point)
                .map_err(bad)
        }
        ("packed", Some(cert)) => match p256_point_in_cert(cert) {
            // Full attestation (YubiKeys): the batch key signed. The chain is not checked
            // (no trust anchors here); this only proves the answer is internally consistent.
            Some(att_key) => {
                sk::verify_self_attestation(&att.auth_data, cdh_sent, &att.attstmt_sig, &att_key)
                    .map_err(bad)
            }
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Finds the P-256 SubjectPublicKeyInfo in a DER certificate (the subject key: the issuer's key
/// is not in a certificate) and returns its point.
pub fn p256_point_in_cert(der: &[u8]) -> Option<[u8; 65]> {
    const SPKI_P256: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let mut hits = der
        .windows(SPKI_P256.len())
        .enumerate()
        .filter(|(_, w)| *w == SPKI_P256);
    let (at, _) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let p = der.get(at + SPKI_P256.len()..at + SPKI_P256.len() + 65)?;
    let mut point = [0u8; 65];
    point.copy_from_slice(p);
    (point[0] == 4).then_some(point)
}

/// The crate's credProtect policy for a CTAP level (1–3).
pub(super) fn cred_protect_policy(level: u8) -> Option<CredentialProtectionPolicy> {
    match level {
        1 => Some(CredentialProtectionPolicy::UserVerificationOptional),
        2 => Some(CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList),
        3 => Some(CredentialProtectionPolicy::UserVerificationRequired),
        _ => None,
    }
}

/// The CTAP level (1–3) of the crate's credProtect policy.
pub(super) fn cred_protect_level(p: CredentialProtectionPolicy) -> u8 {
    match p {
        CredentialProtectionPolicy::UserVerificationOptional => 1,
        CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList => 2,
        CredentialProtectionPolicy::UserVerificationRequired => 3,
        // Not reported: the CTAP default policy.
        CredentialProtectionPolicy::Unknown => 1,
    }
}

/// The COSE_Key for a listed credential (the crate gives `04‖x‖y` for P-256, `x` for Ed25519).
pub(super) fn cose_of(c: &Credential) -> Result<Vec<u8>, TokenError> {
    let raw = &c.public_key.der;
    match c.public_key.key_type {
        PublicKeyType::Ecdsa256 if raw.len() == 65 && raw[0] == 4 => {
            let mut p = [0u8; 65];
            p.copy_from_slice(raw);
            Ok(sk::point_to_cose(&p))
        }
        PublicKeyType::Ed25519 if raw.len() == 32 => {
            // {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}
            let mut out = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
            out.extend_from_slice(raw);
            Ok(out)
        }
        _ => Err(TokenError::BadAnswer(format!(
            "credentialManagement listed a credential with an unusable public key ({} bytes)",
            raw.len()
        ))),
    }
}

/// The assertion of the crate's answer, checked against the allow list it was asked with.
pub(super) fn assertion_from(
    a: CrateAssertion,
    allow_list: &[Vec<u8>],
) -> Result<Assertion, TokenError> {
    if a.auth_data.is_empty() || a.signature.is_empty() {
        return Err(TokenError::BadAnswer(
            "getAssertion answer lacks authenticatorData or signature".into(),
        ));
    }
    // CTAP: the credential may be omitted when the allow list held exactly one.
    let credential_id = match (a.credential_id.is_empty(), allow_list) {
        (false, _) => a.credential_id,
        (true, [only]) => only.clone(),
        (true, _) => {
            return Err(TokenError::BadAnswer(
                "getAssertion answer does not say which credential signed".into(),
            ))
        }
    };
    if !allow_list.is_empty() && !allow_list.contains(&credential_id) {
        return Err(TokenError::BadAnswer(
            "getAssertion answer is from a credential that was not asked for".into(),
        ));
    }
    Ok(Assertion {
        credential_id,
        auth_data: a.auth_data,
        signature: a.signature,
    })
}
