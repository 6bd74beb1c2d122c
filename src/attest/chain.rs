//! The chain walk, as explicit signature steps with fixed rules (ATTESTATION.md §3.3, §4).
//!
//! Yubico's real chains fail strict validators (the old PIV f9 certificate has no
//! basicConstraints; the new PKI has no AKI/SKI and CAs without keyUsage), so no WebPKI path
//! builder is used. From the first certificate the device gave (FIDO: the attestation
//! certificate; PIV: the f9 certificate), each step finds a certificate of the trust store whose
//! subject Name is the issuer Name (as RFC 4514 text, so string types do not matter) and checks the signature with its key. The walk
//! ends at a self-issued store certificate (a root; its self-signature is not checked, it is
//! pinned) or at a store certificate whose issuer the store does not hold (a trusted
//! intermediate). keyUsage, AKI/SKI, pathLen and validity dates are not looked at: every
//! certificate past the first is in the store by choice, and attestation certificates copy their
//! dates (the new PKI's run to 9999).

use super::error::AttestError;
use super::roots::TrustStore;
use super::x509::{colon_hex, Cert, StepError};

/// Longest chain walked: Yubico's longest is slot → f9 → PIV Attestation B 1 → Intermediate B 1
/// → Root 1.
pub(crate) const MAX_CHAIN: usize = 8;

/// A verified path from a device certificate to a trusted certificate.
#[derive(Clone, Debug)]
pub(crate) struct Path {
    /// Subjects, from the first certificate to the anchor.
    pub(crate) subjects: Vec<String>,
    /// SHA-256 of the anchor (colon hex).
    pub(crate) anchor_fingerprint: String,
    /// The anchor's vendor.
    pub(crate) vendor: String,
}

/// Walks from `first` to a certificate of `store`.
pub(crate) fn walk(first: &Cert, store: &TrustStore) -> Result<Path, AttestError> {
    let mut subjects = vec![first.subject()];
    let mut current = first.clone();
    for _ in 0..MAX_CHAIN {
        let held = store
            .anchors()
            .iter()
            .find(|a| a.cert.fingerprint() == current.fingerprint());
        if let Some(anchor) = held {
            let issuer_held = store
                .anchors()
                .iter()
                .any(|a| a.cert.subject_key() == current.issuer_key());
            if current.is_self_issued() || !issuer_held {
                return Ok(Path {
                    subjects,
                    anchor_fingerprint: colon_hex(&anchor.cert.fingerprint()),
                    vendor: anchor.vendor.clone(),
                });
            }
        }
        let issuer = current.issuer_key();
        let candidates: Vec<_> = store
            .anchors()
            .iter()
            .filter(|a| a.cert.subject_key() == issuer)
            .collect();
        if candidates.is_empty() {
            return Err(AttestError::UnknownRoot {
                issuer: current.issuer(),
            });
        }
        let mut unsupported = None;
        let mut next = None;
        for cand in candidates {
            match current.verify_signed_by(&cand.cert.public_key()) {
                Ok(()) => {
                    next = Some(cand.cert.clone());
                    break;
                }
                Err(StepError::Unsupported(what)) => unsupported = Some(what),
                Err(StepError::Invalid) => {}
            }
        }
        match (next, unsupported) {
            (Some(n), _) => {
                subjects.push(n.subject());
                current = n;
            }
            (None, Some(what)) => {
                return Err(AttestError::UnsupportedAlgorithm {
                    subject: current.subject(),
                    what,
                })
            }
            (None, None) => {
                return Err(AttestError::ChainSignature {
                    subject: current.subject(),
                    issuer: current.issuer(),
                })
            }
        }
    }
    Err(AttestError::ChainTooLong { max: MAX_CHAIN })
}
