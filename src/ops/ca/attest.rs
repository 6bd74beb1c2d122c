//! `breakglass ca attest CA.pub`: makes `CA.attest` again for an existing PIV CA, whose YubiKey
//! attests the slot at any time (INS F9). A FIDO2 key attests a credential only when it creates
//! it: for a FIDO2 CA this says so and writes nothing.

use std::path::PathBuf;

use serde::Serialize;
use ssh_key::public::KeyData;
use ssh_key::HashAlg;

use crate::attest::capture::{self, Captured};
use crate::delivery::atomic::{self, PlannedFile};
use crate::delivery::audit::{self, AuditEntry};
use crate::diagnostic::Diagnostic;
use crate::ops::ca::verify::attestation_path_for;
use crate::ssh::keyfile;
use crate::token::{self, TokenError};
use crate::{Error, Result};

/// What to attest.
#[derive(Debug, Clone)]
pub struct AttestRequest {
    /// The CA public key.
    pub ca: PathBuf,
    /// Replace an existing `CA.attest`.
    pub force: bool,
    /// The YubiKey's serial, when several are connected.
    pub device: Option<String>,
}

/// What `ca attest` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct AttestOutcome {
    /// The CA public key.
    pub ca: PathBuf,
    /// The attestation written beside it.
    pub attestation_file: PathBuf,
    /// The YubiKey and slot.
    pub token: String,
    /// What the attestation says.
    pub attestation: Captured,
}

/// Asks the CA's YubiKey for its slot's attestation, checks it against the CA key and writes
/// `CA.attest` (never over an existing one without `force`); the audit log records the outcome.
pub fn attest(req: &AttestRequest) -> Result<AttestOutcome> {
    let public = keyfile::read_public_key(&req.ca).map_err(|e| match e {
        Error::CaFile { path, reason } => Error::BadFile { path, reason },
        e => e,
    })?;
    match public.key_data() {
        KeyData::SkEcdsaSha2NistP256(_) | KeyData::SkEd25519(_) => {
            return Err(Error::AttestOnlyAtEnrolment(req.ca.clone()))
        }
        KeyData::Ecdsa(_) => {}
        _ => {
            return Err(Error::BadFile {
                path: req.ca.clone(),
                reason:
                    "is not a breakglass CA (a FIDO2 sk-ecdsa or a PIV ecdsa-sha2-nistp256 key)"
                        .into(),
            })
        }
    }
    let file = attestation_path_for(&req.ca);
    atomic::preflight(&[&file], req.force)?;
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let result: Result<AttestOutcome> = (|| {
        let (serial, slot, container) = token::attest_piv(&public, &req.ca, req.device.as_deref())?;
        let attestation = capture::inspect(&public, &container).map_err(|e| {
            TokenError::BadAnswer(format!("its attestation of the CA does not hold: {e}"))
        })?;
        atomic::write_all(&[PlannedFile::public(&file, container.encode())], req.force)?;
        Ok(AttestOutcome {
            ca: req.ca.clone(),
            attestation_file: file.clone(),
            token: format!("YubiKey {serial} PIV slot {slot:02x}"),
            attestation,
        })
    })();
    // The audit entry records the outcome either way, as init-ca's does.
    let mut entry = AuditEntry::new("ca-attest");
    entry.backend = Some("piv".into());
    entry.ca_fingerprint = Some(public.fingerprint(HashAlg::Sha256).to_string());
    match &result {
        Ok(o) => {
            entry.detail = Some(format!(
                "{} on {}: {}",
                file.display(),
                o.token,
                o.attestation.summary()
            ))
        }
        Err(e) => entry.result = format!("failed: {}", e.kind()),
    }
    let logged = audit::append(&audit_path, &entry);
    let outcome = result?;
    logged?;
    Ok(outcome)
}
