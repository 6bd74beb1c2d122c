//! `breakglass mint`.

use super::{print_json, TerminalUi};
use crate::cli::MintArgs;
use crate::inspect::{self, TimeStatus};
use crate::mint::{self, MintRequest};
use crate::sanitize::sanitize;
use crate::token::BackendChoice;
use crate::ui::Ui;
use crate::Error;

pub(super) fn run(a: MintArgs, backend: BackendChoice, ui: &mut TerminalUi) -> Result<(), Error> {
    ui.set_quiet(a.json);
    let req = MintRequest {
        ca: a.ca,
        application: a.application,
        principals: a.principals,
        validity: a.validity,
        key_id: a.key_id,
        serial: a.serial,
        options: a.options,
        key_type: a.key_type,
        out: a.out,
        force: a.force,
        reason: a.reason,
        max_lifetime: a.max_lifetime,
        allow_long: a.allow_long,
        backend,
        agent: a.agent.then_some(a.confirm),
        device: a.device,
    };
    #[cfg(feature = "wormhole")]
    if a.agent && a.send {
        return Err(Error::Usage("--agent and --send do not go together: --send hands the files to a colleague, --agent keeps the key off the disk".into()));
    }
    let o = mint::mint(&req, ui)?;
    for w in &o.warnings {
        ui.note(&format!("warning: {w}"));
    }
    #[cfg(feature = "wormhole")]
    let send = a.send;
    #[cfg(not(feature = "wormhole"))]
    let send = false;
    if a.json && !send {
        return print_json(&o);
    }
    if !a.json {
        print_minted(&o);
    }
    #[cfg(feature = "wormhole")]
    if a.send {
        if !a.json {
            println!();
        }
        return super::handoff::send_out(&req.out, &a.wormhole, a.json);
    }
    Ok(())
}

fn print_minted(o: &mint::MintOutcome) {
    let c = &o.certificate;
    println!(
        "Minted {} (signed by {})",
        o.cert_file.display(),
        sanitize(&o.token)
    );
    println!(
        "  key:        {} ({})",
        o.key_file.display(),
        c.key_fingerprint
    );
    println!("  principals: {}", c.principals.join(", "));
    println!("  key id:     \"{}\"  serial {}", c.key_id, c.serial);
    println!("  valid:      {} (local)", c.valid_local);
    println!("              {} (UTC)", c.valid_utc);
    match (c.status, c.seconds_left) {
        (TimeStatus::Valid, Some(left)) if c.valid_before != u64::MAX => {
            println!("  time left:  {}", inspect::human_duration(left))
        }
        (TimeStatus::NotYetValid, _) => println!("  time left:  NOT YET VALID"),
        _ => {}
    }
    println!("  CA:         {} {}", c.ca_type, c.ca_fingerprint);
    println!();
    println!("Log in with:");
    for cmd in &o.ssh_commands {
        println!("  {cmd}");
    }
}
