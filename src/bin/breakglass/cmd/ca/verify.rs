//! `breakglass ca verify`: what the attestation says on stdout (also when the policy refuses
//! it), the reason for a refusal on stderr, the verdict in the exit code. With `--json`,
//! exactly one document: the verdict with the report, or the error document with them.

use crate::cli::CaVerifyArgs;
use crate::error::Error;
use crate::output::{self, say};
use breakglass::ops::ca::verify::{self, Verification, VerifyRequest};

pub(super) fn run(a: CaVerifyArgs, json: bool) -> Result<(), Error> {
    let v = verify::verify(&VerifyRequest {
        ca: a.ca,
        attestation: a.attestation,
        challenge: a.challenge,
        roots: a.roots,
        min_firmware: a.min_firmware,
    })?;
    if json {
        let doc = document(&v)?;
        match v.refusal {
            None => output::json(&doc)?,
            Some(e) => {
                let mut err = crate::cmd::error_json(&e);
                if let (Some(e), Some(d)) = (err.as_object_mut(), doc.as_object()) {
                    e.extend(d.clone());
                }
                output::json(&err)?;
                return Err(e.into());
            }
        }
        return Ok(());
    }
    if let Some(report) = &v.report {
        say!("{}", text(&v, report));
    }
    match v.refusal {
        None => Ok(()),
        Some(e) => Err(e.into()),
    }
}

fn names(v: &Verification) -> String {
    v.attestation
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The headline, then the report's lines, labels aligned.
fn text(v: &Verification, report: &breakglass::attest::Report) -> String {
    let head = match (&v.refusal, &v.ca) {
        (Some(_), _) => format!("{}: REFUSED; what it attests:", names(v)),
        (None, Some(ca)) => format!("{}: VALID attestation of the CA {}", names(v), ca.display()),
        (None, None) => format!(
            "{}: VALID attestation (no CA given to compare with: the key is below)",
            names(v)
        ),
    };
    let mut lines = report.lines();
    if v.ca.is_none() {
        if let Some(k) = &report.key.openssh {
            lines.push(("public key", k.clone()));
        }
    }
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let mut out = head;
    for (label, value) in lines {
        out.push_str(&format!("\n    {label:width$}  {value}"));
    }
    out
}

fn document(v: &Verification) -> Result<serde_json::Value, Error> {
    Ok(serde_json::json!({
        "verdict": if v.refusal.is_none() { "valid" } else { "refused" },
        "ca": v.ca.as_ref().map(|p| p.display().to_string()),
        "attestation": v.attestation.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "report": serde_json::to_value(&v.report)?,
    }))
}
