//! `breakglass inspect`: the certificate as `ssh-keygen -L` shows it, then the verdict in the exit
//! code. A certificate that does not verify, comes from another CA, has expired or is not valid
//! yet exits 1; one with less than [`WARN_LEFT`] left is a warning. `--ca` defaults to
//! `./sk-user-ca.pub` when it is there, as for `mint`. With `--json`, exactly one document:
//! the array of certificates, or on failure the error document with them under "certificates".

use std::path::{Path, PathBuf};

use crate::cli::InspectArgs;
use crate::output::{self, say, tell};
use breakglass::ssh::summary::{self, CertSummary, TimeStatus};
use breakglass::{ssh::keyfile, Error, DEFAULT_CA_FILE};

/// Less time left than this gets a warning (a login started now may not finish in time).
pub const WARN_LEFT: u64 = 5 * 60;

pub(super) fn run(a: InspectArgs, json: bool) -> Result<(), Error> {
    let ca_path = a.ca.clone().or_else(|| {
        let p = PathBuf::from(format!("{DEFAULT_CA_FILE}.pub"));
        p.is_file().then_some(p)
    });
    let expected = match &ca_path {
        Some(p) => Some(keyfile::read_ca_public(p)?),
        None => None,
    };
    let now = breakglass::now();
    let mut summaries = Vec::new();
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for f in &a.files {
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
                summaries.push(s);
            }
            Err(e) => failures.push(not_a_cert_hint(f, e)),
        }
    }
    let outcome = match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        n => Err(Error::CertificatesInvalid(format!(
            "{n} files failed: {}",
            failures
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    };
    if json {
        match &outcome {
            Ok(()) => output::json(&summaries)?,
            Err(e) => {
                let mut v = super::error_json(e);
                v["certificates"] = serde_json::to_value(&summaries)?;
                output::json(&v)?;
            }
        }
    } else {
        for s in &summaries {
            say!("{}", summary::render(s).trim_end_matches('\n'));
        }
    }
    for w in &warnings {
        tell!("warning: {w}");
    }
    outcome
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
