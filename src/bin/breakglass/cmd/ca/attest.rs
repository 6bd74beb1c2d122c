//! `breakglass ca attest`: what was written and what the attestation says.

use crate::cli::CaAttestArgs;
use crate::error::Error;
use crate::output::{self, say};
use breakglass::ops::ca::attest::{self, AttestRequest};

pub(super) fn run(a: CaAttestArgs, json: bool) -> Result<(), Error> {
    let o = attest::attest(&AttestRequest {
        ca: a.ca,
        force: a.force,
        device: a.device,
    })?;
    if json {
        return output::json(&o);
    }
    say!(
        "Wrote {} for {} ({})",
        o.attestation_file.display(),
        o.ca.display(),
        o.token
    );
    say!("  {}", o.attestation.summary());
    say!(
        "Check it: breakglass ca verify {}",
        breakglass::shell::word(&o.ca.display().to_string())
    );
    Ok(())
}
