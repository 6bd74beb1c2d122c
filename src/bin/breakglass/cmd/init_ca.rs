//! `breakglass init-ca`.

use crate::cli::InitCaArgs;
use crate::error::Error;
use crate::output::{self, say, tell};
use crate::terminal::TerminalUi;
use breakglass::ops::init_ca::{self, InitCaRequest};
use breakglass::token::Backend;

pub(super) fn run(
    a: InitCaArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    let req = InitCaRequest {
        file: a.file,
        comment: a.comment,
        application: a.application,
        verify_required: a.verify_required,
        force: a.force,
        backend: a.token.backend.or(outer),
        slot: a.slot,
        device: a.token.device,
    };
    let o = init_ca::init_ca(&req, ui)?;
    if json {
        return output::json(&o);
    }
    if let Some(old) = &o.replaced {
        tell!(
            "Replaced the key's previous CA {old}; hosts trusting it will refuse new certificates."
        );
    }
    say!("Created SSH user CA on {}", o.token);
    say!("  fingerprint: {}", o.fingerprint);
    say!(
        "  key handle:  {} (the private key stays on the key)",
        o.key_file.display()
    );
    say!("  public key:  {}", o.pub_file.display());
    if let (Some(f), Some(c)) = (&o.attestation_file, &o.attestation) {
        say!("  attestation: {} ({})", f.display(), c.summary());
        if let Some(v) = &o.verify_command {
            say!("               check it: {v}");
        }
    }
    if o.simulated {
        say!("  SIMULATED: practice only; never trust this CA on a real host.");
    }
    match &o.attestation {
        Some(c) if c.vendor_root => {
            if let Some(why) = &c.policy_refusal {
                output::warning(&format!(
                    "`breakglass ca verify` refuses this CA's attestation: {why}. Hosts that require an attestation will refuse the CA."
                ));
            }
        }
        Some(_) if !o.simulated => output::warning(
            "no built-in vendor root vouches for the key that made this CA: `breakglass ca verify` refuses its attestation unless --roots names that issuer's root.",
        ),
        _ => {}
    }
    if let Some(why) = &o.no_attestation {
        output::warning(&format!(
            "no attestation of this CA: {why}. Nothing proves to a host that its key was born in hardware; hosts that require an attestation will refuse it."
        ));
    }
    say!();
    say!("Next, make the hosts trust it (with the backup key's CA file too, if you have one):");
    say!("  {}", o.host_config);
    say!("It prints the plan, merged with what the hosts' sshd already trusts; --out DIR writes");
    say!("the files for deploy/ansible. The whole procedure: `breakglass runbook setup`.");
    Ok(())
}
