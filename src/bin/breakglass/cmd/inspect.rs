//! `breakglass inspect`: prints what the library found, every certificate as `ssh-keygen -L`
//! shows it, then the verdict in the exit code (`ops::inspect` judges). With `--json`, exactly
//! one document: the array of certificates, or on failure the error document with them under
//! "certificates".

use crate::cli::InspectArgs;
use crate::error::Error;
use crate::output;
use breakglass::ops::inspect::{self, InspectRequest};
use breakglass::ssh::summary;

pub(super) fn run(a: InspectArgs, json: bool) -> Result<(), Error> {
    let req = InspectRequest {
        files: a.files,
        ca: a.ca,
    };
    let o = inspect::inspect(&req, breakglass::now())?;
    if json {
        match &o.failure {
            None => output::json(&o.certificates)?,
            Some(e) => {
                let mut v = super::error_json(e);
                v["certificates"] = serde_json::to_value(&o.certificates)?;
                output::json(&v)?;
            }
        }
    } else {
        for s in &o.certificates {
            let (head, tone, word, tail) = summary::render_marked(s);
            output::out_marked(&head, tone, &word, tail.trim_end_matches('\n'));
        }
    }
    for w in &o.warnings {
        output::warning(w);
    }
    o.failure.map_or(Ok(()), |e| Err(e.into()))
}
