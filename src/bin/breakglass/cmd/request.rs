//! `breakglass request`.

use crate::cli::RequestArgs;
use crate::error::Error;
use crate::output::{self, say, tell};
use breakglass::delivery::messages::MAX_REASON;
use breakglass::delivery::release::Delivery;
use breakglass::ops::request::{self, KeySource, RequestOutcome, RequestRequest};
use breakglass::ops::sign_spec::Ask;
use breakglass::ssh::summary::{self, TimeStatus};

/// The line that tells the user a hardware-bound certificate needs their own key at login.
pub(super) const HARDWARE_NOTE: &str =
    "This certificate is bound to a security key: logging in needs that key and its touch too.";

pub(super) fn run(a: RequestArgs, json: bool) -> Result<(), Error> {
    // What to ask for, parsed once, before a key is made or a code exists.
    let ask = Ask::for_request(
        &a.principals,
        &a.validity,
        a.reason,
        MAX_REASON,
        breakglass::now(),
    )?;
    let key = match &a.pubkey {
        Some(p) => KeySource::PublicKey {
            path: p.clone(),
            force: a.force,
        },
        None => KeySource::Generate {
            key_type: a.key_type,
            delivery: if a.agent {
                Delivery::Agent { confirm: a.confirm }
            } else {
                Delivery::Files {
                    out: a.out.clone(),
                    force: a.force,
                }
            },
        },
    };
    let req = RequestRequest {
        ask,
        key,
        ca: a.ca,
        cfg: a.wormhole.config(),
    };
    let o = request::request(&req, &mut |code| {
        // The code is what the approver needs: stdout (stderr under --json).
        let lines = [
            format!("Wormhole code: {code}"),
            format!("Read it to the approver, who runs:  breakglass approve {code}"),
        ];
        for l in lines {
            if json {
                tell!("{l}");
            } else {
                say!("{l}");
            }
        }
        tell!("Waiting for the approver…");
    })?;
    if json {
        return output::json(&o);
    }
    print_got(&o);
    Ok(())
}

fn print_got(o: &RequestOutcome) {
    let c = &o.certificate;
    match o.agent_lifetime {
        Some(l) => say!(
            "Got a certificate; it is in ssh-agent for {} (nothing written to disk)",
            summary::human_duration(u64::from(l))
        ),
        None => say!(
            "Got a certificate; wrote {}",
            o.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    say!("  principals: {}", c.principals.join(", "));
    if c.principals != o.asked_principals {
        say!(
            "              (asked for {}; the approver narrowed it)",
            o.asked_principals.join(", ")
        );
    }
    say!("  key id:     \"{}\"  serial {}", c.key_id, c.serial);
    say!("  valid:      {} (local)", c.valid_local);
    say!("              {} (UTC)", c.valid_utc);
    match (c.status, c.seconds_left) {
        (TimeStatus::Valid, Some(left)) if c.valid_before != u64::MAX => {
            say!("  time left:  {}", summary::human_duration(left))
        }
        (TimeStatus::NotYetValid, _) => say!("  time left:  NOT YET VALID"),
        _ => {}
    }
    say!("  CA:         {} {}", c.ca_type, c.ca_fingerprint);
    if o.hardware_bound {
        say!();
        say!("{HARDWARE_NOTE}");
    }
    say!();
    say!("Log in with:");
    for cmd in &o.ssh_commands {
        say!("  {cmd}");
    }
}
