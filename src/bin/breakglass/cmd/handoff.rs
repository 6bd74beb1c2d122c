//! `breakglass send` and `breakglass receive`.

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::{ReceiveArgs, SendArgs, WormholeArgs};
use crate::error::Error;
use crate::output::{self, say, tell};
use breakglass::delivery::release::Delivery;
use breakglass::ops::handoff::{self, ReceiveRequest, SendRequest};
use breakglass::shell;
use breakglass::ssh::keyfile::KeyFiles;
use breakglass::ssh::summary::{self, CertSummary};

fn describe(s: &CertSummary) {
    tell!("  principals: {}", s.principals.join(", "));
    for (i, line) in summary::validity_lines(s).iter().enumerate() {
        tell!("  {:<12}{line}", if i == 0 { "valid:" } else { "" });
    }
    if let Some(left) = s.seconds_left.filter(|_| s.valid_before != u64::MAX) {
        tell!("  time left:  {}", summary::human_duration(left));
    }
    tell!("  CA:         {} {}", s.ca_type, s.ca_fingerprint);
    tell!("  key id:     \"{}\"  serial {}", s.key_id, s.serial);
}

fn progress(json: bool, bytes: u64, millis: u128) {
    if json || !std::io::stderr().is_terminal() {
        return;
    }
    let secs = (millis as f64 / 1000.0).max(0.001);
    tell!(
        "transferred {bytes} bytes in {secs:.2} s ({:.1} KiB/s)",
        bytes as f64 / 1024.0 / secs
    );
}

pub(super) fn send(a: SendArgs, json: bool) -> Result<(), Error> {
    send_out(&a.out, &a.wormhole, json)
}

/// Sends OUT (also used by `mint --send`).
pub(super) fn send_out(out: &Path, w: &WormholeArgs, json: bool) -> Result<(), Error> {
    let req = SendRequest {
        out: out.to_path_buf(),
        cfg: w.config(),
    };
    let relay_note = if w.direct {
        "direct connections allowed"
    } else {
        "relay only"
    };
    let o = handoff::send(
        &req,
        &mut |s| {
            tell!(
                "Sending {} and its certificate ({relay_note}):",
                out.display()
            );
            describe(s);
        },
        &mut |code| {
            // The code is what the colleague needs: stdout (stderr under --json).
            let lines = [
                format!("Wormhole code: {code}"),
                format!("On the other side:  breakglass receive {code}"),
                format!("  (without breakglass:  wormhole receive {code})"),
            ];
            for l in lines {
                if json {
                    tell!("{l}");
                } else {
                    say!("{l}");
                }
            }
            tell!("Waiting for the other side…");
        },
    )?;
    progress(json, o.bytes, o.millis);
    if json {
        return output::json(&o);
    }
    say!("Sent. The other side acknowledged every byte (sha256).");
    Ok(())
}

pub(super) fn receive(a: ReceiveArgs, json: bool) -> Result<(), Error> {
    let delivery = if a.agent {
        Delivery::Agent { confirm: a.confirm }
    } else {
        Delivery::Files {
            out: a.out.clone(),
            force: a.force,
        }
    };
    let req = ReceiveRequest {
        code: a.code.trim().to_string(),
        delivery,
        ca: a.ca,
        max_lifetime: a.max_lifetime,
        allow_long: a.allow_long,
        cfg: a.wormhole.config(),
    };
    let o = handoff::receive(&req)?;
    progress(json, o.bytes, o.millis);
    if json {
        return output::json(&o);
    }
    if let Some(t) = &o.text {
        say!("Received a text message (no key material):");
        say!("{t}");
        return Ok(());
    }
    if let Some(s) = &o.certificate {
        tell!("Received a key and its certificate; the signature verifies:");
        describe(s);
    }
    match o.agent_lifetime {
        Some(l) => say!(
            "Added to ssh-agent for {} (nothing written to disk).",
            summary::human_duration(u64::from(l))
        ),
        None => {
            say!(
                "Wrote {}",
                o.files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(s) = &o.certificate {
                let key = KeyFiles::new(&a.out).key.display().to_string();
                for p in &s.principals {
                    // Principals come from the peer: quoted before they become a command.
                    say!("  ssh -i {} {}@HOST", shell::word(&key), shell::word(p));
                }
            }
        }
    }
    Ok(())
}
