//! `breakglass inspect`.

use crate::cli::InspectArgs;
use crate::output::{self, say, tell};
use breakglass::ssh::summary::{self, TimeStatus};
use breakglass::{ssh::keyfile, Error};

pub(super) fn run(a: InspectArgs, json: bool) -> Result<(), Error> {
    let expected = match &a.ca {
        Some(p) => Some(keyfile::read_ca_public(p)?),
        None => None,
    };
    let now = breakglass::now();
    let mut summaries = Vec::new();
    let mut failures = Vec::new();
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
                if !s.signature_valid {
                    failures.push(format!("{}: the CA signature does not verify", s.file));
                }
                if let Some(why) = summary::distrust(&cert) {
                    failures.push(format!("{}: {why}", s.file));
                }
                if s.ca_matches == Some(false) {
                    failures.push(format!(
                        "{}: signed by another CA ({})",
                        s.file, s.ca_fingerprint
                    ));
                }
                summaries.push(s);
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    if json {
        output::json(&summaries)?;
    } else {
        for s in &summaries {
            say!("{}", summary::render(s).trim_end_matches('\n'));
            if s.status != TimeStatus::Valid {
                tell!(
                    "breakglass: {}: {}",
                    s.file,
                    if s.status == TimeStatus::Expired {
                        "EXPIRED"
                    } else {
                        "NOT YET VALID"
                    }
                );
            }
        }
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(Error::CertificatesInvalid(failures.remove(0))),
        n => Err(Error::CertificatesInvalid(format!(
            "{n} files failed: {}",
            failures.join("; ")
        ))),
    }
}
