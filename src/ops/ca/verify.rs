//! `breakglass ca verify`: reads the CA public key, its attestation (`CA.attest` beside it by
//! default, an ssh-keygen `-O write-attestation` file, or PIV certificates), the challenge and
//! the trust store, then runs [`crate::attest::verify`]'s two halves so that a refused
//! attestation still shows what it says (vendor, model, firmware) beside the reason.
//!
//! Without a CA it says what the file attests and for which key (the same checks, no key to
//! compare with).

use std::path::{Path, PathBuf};

use crate::attest::{self, AttestError, Expect, Report, MAX_ATTESTATION_LEN};
use crate::ssh::keyfile::{self, PivReference};
use crate::{Error, Result};

/// Bound on a challenge file (ssh-keygen's are 32 bytes or what the user wrote; a page is
/// plenty).
pub const MAX_CHALLENGE_LEN: u64 = 64 * 1024;

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    /// The CA public key; `None` describes the attestation alone.
    pub ca: Option<PathBuf>,
    /// The attestation file(s); empty = `CA.attest` beside the CA. Two files are read as one
    /// (a PIV slot certificate and its f9 certificate, both PEM or both DER).
    pub attestation: Vec<PathBuf>,
    /// The challenge file given to `ssh-keygen -O challenge=`.
    pub challenge: Option<PathBuf>,
    /// `--roots DIR`: trust these certificates instead of Yubico's.
    pub roots: Option<PathBuf>,
    /// `--min-firmware X.Y.Z|none`; `None` = the EUCLEAK floor.
    pub min_firmware: Option<String>,
}

/// What `ca verify` found.
#[derive(Debug)]
pub struct Verification {
    /// The CA public key file, when one was given.
    pub ca: Option<PathBuf>,
    /// The attestation file(s) read.
    pub attestation: Vec<PathBuf>,
    /// What the attestation says, when it is genuine (even if the policy refused it).
    pub report: Option<Report>,
    /// `None`: valid and accepted. Otherwise why not.
    pub refusal: Option<Error>,
}

/// `CA.pub` → `CA.attest` (`init-ca`'s name for it).
pub fn attestation_path_for(ca_pub: &Path) -> PathBuf {
    let s = ca_pub.as_os_str().to_string_lossy();
    let base = s.strip_suffix(".pub").unwrap_or(&s);
    PathBuf::from(format!("{base}.attest"))
}

fn read(path: &Path, max: u64) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    crate::input::read_bounded(path, max).map_err(|e| Error::BadFile {
        path: path.to_path_buf(),
        reason: e.reason(),
    })
}

/// Runs `ca verify`. `Err` only for what stops it before the attestation is examined (the
/// command line, unreadable files); a refused attestation is `Ok` with `refusal` set.
pub fn verify(req: &VerifyRequest) -> Result<Verification> {
    let usage = |error: AttestError| Error::Attestation { file: None, error };
    let (trust, policy) =
        attest::trust_and_policy(req.roots.as_deref(), req.min_firmware.as_deref())
            .map_err(usage)?;
    // The CA is an argument here, not --ca: the generic file hint, not CaFile's.
    let ca = req
        .ca
        .as_deref()
        .map(keyfile::read_public_key)
        .transpose()
        .map_err(|e| match e {
            Error::CaFile { path, reason } => Error::BadFile { path, reason },
            e => e,
        })?;
    let piv_slot = req
        .ca
        .as_deref()
        .and_then(PivReference::beside)
        .map(|r| r.slot);
    let files = match (&req.ca, req.attestation.is_empty()) {
        (Some(ca), true) => {
            let beside = attestation_path_for(ca);
            if !beside.exists() {
                return Err(Error::AttestationMissing {
                    ca: ca.clone(),
                    expected: beside,
                });
            }
            vec![beside]
        }
        _ => req.attestation.clone(),
    };
    let mut bytes = Vec::new();
    for f in &files {
        bytes.extend_from_slice(&read(f, MAX_ATTESTATION_LEN as u64)?);
    }
    let challenge = req
        .challenge
        .as_deref()
        .map(|p| read(p, MAX_CHALLENGE_LEN))
        .transpose()?;
    let expect = Expect {
        ca: ca.as_ref(),
        challenge: challenge.as_deref().map(|c| c.as_slice()),
        piv_slot,
    };
    let about = |error: AttestError| Error::Attestation {
        file: Some(if files.len() == 1 {
            files[0].clone()
        } else {
            PathBuf::from(
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" + "),
            )
        }),
        error,
    };
    let (report, refusal) = match attest::examine(&expect, &bytes, &trust) {
        Err(e) => (None, Some(about(e))),
        Ok(mut report) => match policy.apply(&mut report) {
            Ok(()) => (Some(report), None),
            Err(e) => (Some(report), Some(about(e))),
        },
    };
    Ok(Verification {
        ca: req.ca.clone(),
        attestation: files,
        report,
        refusal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attestation_beside_a_ca_is_named_like_init_ca_names_it() {
        assert_eq!(
            attestation_path_for(Path::new("keys/sk-user-ca.pub")),
            Path::new("keys/sk-user-ca.attest")
        );
        assert_eq!(
            attestation_path_for(Path::new("ca")),
            Path::new("ca.attest")
        );
    }
}
