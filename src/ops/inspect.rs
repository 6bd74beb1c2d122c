//! `inspect`: certificates read and summarised as `ssh-keygen -L` shows them, and the verdict. A
//! certificate that does not verify, comes from another CA, is distrusted, has expired or is not
//! valid yet fails the command; one with less than [`WARN_LEFT`] left is a warning. `--ca`
//! defaults to `./sk-user-ca.pub` when it is there, as for `mint`. Every file is summarised
//! even when an earlier one failed: the printer shows them all, then the verdict.

use std::path::{Path, PathBuf};

use crate::ssh::keyfile;
use crate::ssh::summary::{self, CertSummary, TimeStatus};
use crate::{Error, Result, DEFAULT_CA_FILE};

/// Less time left than this gets a warning (a login started now may not finish in time).
pub const WARN_LEFT: u64 = 5 * 60;

/// Everything `inspect` is asked to do.
#[derive(Debug, Clone)]
pub struct InspectRequest {
    /// The certificate files, in order.
    pub files: Vec<PathBuf>,
    /// `--ca`: the CA they must come from (default `./sk-user-ca.pub` when present).
    pub ca: Option<PathBuf>,
}

/// What `inspect` found.
#[derive(Debug)]
pub struct InspectOutcome {
    /// Each certificate that could be read, in order.
    pub certificates: Vec<CertSummary>,
    /// Warnings worth showing (little time left).
    pub warnings: Vec<String>,
    /// Why the command fails, when it does: the one failure, or all of them in one error.
    pub failure: Option<Error>,
}

/// Reads, verifies and judges every file at `now`. `Err` only when the CA to compare against
/// cannot be read (before any certificate is looked at).
pub fn inspect(req: &InspectRequest, now: u64) -> Result<InspectOutcome> {
    let ca_path = req.ca.clone().or_else(|| {
        let p = PathBuf::from(format!("{DEFAULT_CA_FILE}.pub"));
        p.is_file().then_some(p)
    });
    let expected = match &ca_path {
        Some(p) => Some(keyfile::read_ca_public(p)?),
        None => None,
    };
    let mut certificates = Vec::new();
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for f in &req.files {
        match summary::read_cert_line(f) {
            Ok((cert, blob)) => {
                let s = summary::summarize(
                    &f.display().to_string(),
                    &cert,
                    Some(&blob),
                    now,
                    expected.as_ref().map(|k| k.key_data()),
                );
                failures.extend(verdict(&s, ca_path.as_deref(), now));
                if let Some(why) = summary::distrust(&cert) {
                    failures.push(Error::CertificatesInvalid(format!("{}: {why}", s.file)));
                }
                if let Some(left) = s.seconds_left.filter(|l| *l < WARN_LEFT) {
                    warnings.push(format!(
                        "{} has only {} left; mint a new one before you log in",
                        s.file,
                        summary::human_duration(left)
                    ));
                }
                certificates.push(s);
            }
            Err(e) => failures.push(not_a_cert_hint(f, e)),
        }
    }
    let failure = match failures.len() {
        0 => None,
        1 => Some(failures.remove(0)),
        n => Some(Error::CertificatesInvalid(format!(
            "{n} files failed: {}",
            failures
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    };
    Ok(InspectOutcome {
        certificates,
        warnings,
        failure,
    })
}

/// What is wrong with one parsed certificate, most important first.
fn verdict(s: &CertSummary, ca_path: Option<&Path>, now: u64) -> Option<Error> {
    if !s.signature_valid {
        return Some(Error::CertificatesInvalid(format!(
            "{}: the CA signature does not verify",
            s.file
        )));
    }
    if s.ca_matches == Some(false) {
        return Some(Error::CertificatesInvalid(format!(
            "{}: signed by another CA ({}) than {}",
            s.file,
            s.ca_fingerprint,
            ca_path.map(|p| p.display().to_string()).unwrap_or_default()
        )));
    }
    match s.status {
        TimeStatus::Valid => None,
        TimeStatus::Expired => Some(Error::InspectExpired {
            file: s.file.clone(),
            ago: now.saturating_sub(s.valid_before),
            valid_before: s.valid_before,
        }),
        TimeStatus::NotYetValid => Some(Error::InspectNotYetValid {
            file: s.file.clone(),
            wait: s.valid_after.saturating_sub(now),
            valid_after: s.valid_after,
        }),
    }
}

/// `emergency.pub` where `emergency-cert.pub` was meant: say so.
fn not_a_cert_hint(path: &Path, e: Error) -> Error {
    let name = path.to_string_lossy();
    match &e {
        Error::BadFile { reason, .. }
            if reason == "is not a certificate"
                && name.ends_with(".pub")
                && !name.ends_with("-cert.pub") =>
        {
            Error::NotACertificate {
                path: path.to_path_buf(),
                cert: PathBuf::from(format!("{}-cert.pub", &name[..name.len() - 4])),
            }
        }
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_key_named_for_a_certificate_gets_the_hint() {
        let bad = || Error::BadFile {
            path: PathBuf::from("emergency.pub"),
            reason: "is not a certificate".into(),
        };
        assert!(matches!(
            not_a_cert_hint(Path::new("emergency.pub"), bad()),
            Error::NotACertificate { cert, .. } if cert == Path::new("emergency-cert.pub")
        ));
        assert!(matches!(
            not_a_cert_hint(Path::new("emergency-cert.pub"), bad()),
            Error::BadFile { .. }
        ));
    }

    #[test]
    fn every_file_is_judged_and_the_failures_are_one_error() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a-cert.pub");
        let b = d.path().join("b.pub");
        std::fs::write(&a, "not a certificate\n").unwrap();
        std::fs::write(
            &b,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfV2tH0RfvFc0Ha3OpgCUsJ5oTJMHDyWKb0J6H8dN9I k\n",
        )
        .unwrap();
        let o = inspect(
            &InspectRequest {
                files: vec![a, b],
                ca: None,
            },
            1_800_000_000,
        )
        .unwrap();
        assert!(o.certificates.is_empty());
        let e = o.failure.unwrap().to_string();
        assert!(e.starts_with("2 files failed: "), "{e}");
        assert!(e.contains("a-cert.pub: "), "{e}");
        assert!(
            e.contains("b.pub is a public key, not a certificate"),
            "{e}"
        );
        let missing_ca = inspect(
            &InspectRequest {
                files: Vec::new(),
                ca: Some(d.path().join("no-such-ca.pub")),
            },
            1_800_000_000,
        );
        assert!(missing_ca.is_err());
    }
}
