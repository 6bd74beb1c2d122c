//! `breakglass inspect`.

use super::print_json;
use crate::cli::InspectArgs;
use crate::inspect::{self, TimeStatus};
use crate::{clock, keyfile, Error};

pub(super) fn run(a: InspectArgs) -> Result<(), Error> {
    let expected = match &a.ca {
        Some(p) => Some(keyfile::read_ca_public(p)?),
        None => None,
    };
    let now = clock::now();
    let mut summaries = Vec::new();
    let mut failures = Vec::new();
    for f in &a.files {
        match inspect::read_cert_line(f) {
            Ok((cert, blob)) => {
                let s = inspect::summarize(
                    &f.display().to_string(),
                    &cert,
                    Some(&blob),
                    now,
                    expected.as_ref().map(|k| k.key_data()),
                );
                if !s.signature_valid {
                    failures.push(format!("{}: the CA signature does not verify", s.file));
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
    if a.json {
        print_json(&summaries)?;
    } else {
        for s in &summaries {
            print!("{}", inspect::render(s));
            if s.status != TimeStatus::Valid {
                eprintln!(
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
        1 => Err(Error::Inspect(failures.remove(0))),
        n => Err(Error::Inspect(format!(
            "{n} files failed: {}",
            failures.join("; ")
        ))),
    }
}
