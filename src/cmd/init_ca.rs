//! `breakglass init-ca`.

use super::{print_json, TerminalUi};
use crate::ca::{self, InitCaRequest};
use crate::cli::InitCaArgs;
use crate::sanitize::sanitize;
use crate::token::BackendChoice;
use crate::Error;

pub(super) fn run(a: InitCaArgs, backend: BackendChoice, ui: &mut TerminalUi) -> Result<(), Error> {
    ui.set_quiet(a.json);
    let req = InitCaRequest {
        file: a.file,
        comment: a.comment,
        application: a.application,
        verify_required: a.verify_required,
        force: a.force,
        backend,
        slot: a.slot,
        device: a.device,
    };
    let o = ca::init_ca(&req, ui)?;
    if a.json {
        return print_json(&o);
    }
    if let Some(old) = &o.replaced {
        eprintln!(
            "Replaced the key's previous CA {old}; hosts trusting it will refuse new certificates."
        );
    }
    println!("Created SSH user CA on {}", sanitize(&o.token));
    println!("  fingerprint: {}", o.fingerprint);
    println!(
        "  key handle:  {} (the private key stays on the key)",
        o.key_file.display()
    );
    println!("  public key:  {}", o.pub_file.display());
    if o.simulated {
        println!("  SIMULATED: practice only; never trust this CA on a real host.");
    }
    println!();
    println!("On each host, append the CA line to /etc/ssh/breakglass_user_ca.pub:");
    println!("  {}", sanitize(&o.public_key));
    println!(
        "and add to /etc/ssh/sshd_config (then `touch /etc/ssh/breakglass.krl` and reload sshd):"
    );
    for l in &o.sshd_lines {
        println!("  {l}");
    }
    Ok(())
}
