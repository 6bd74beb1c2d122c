//! `breakglass send` and `breakglass receive`.

use std::io::IsTerminal;
use std::path::Path;

use super::print_json;
use crate::cli::{ReceiveArgs, SendArgs, WormholeArgs};
use crate::handoff::{self, ReceiveRequest, SendRequest};
use crate::inspect::{self, CertSummary};
use crate::sanitize::sanitize;
use crate::Error;

fn describe(s: &CertSummary) {
    eprintln!("  principals: {}", s.principals.join(", "));
    eprintln!("  valid:      {} (local)", s.valid_local);
    eprintln!("              {} (UTC)", s.valid_utc);
    if let Some(left) = s.seconds_left.filter(|_| s.valid_before != u64::MAX) {
        eprintln!("  time left:  {}", inspect::human_duration(left));
    }
    eprintln!("  CA:         {} {}", s.ca_type, s.ca_fingerprint);
    eprintln!("  key id:     \"{}\"  serial {}", s.key_id, s.serial);
}

fn progress(json: bool, bytes: u64, millis: u128) {
    if json || !std::io::stderr().is_terminal() {
        return;
    }
    let secs = (millis as f64 / 1000.0).max(0.001);
    eprintln!(
        "transferred {bytes} bytes in {secs:.2} s ({:.1} KiB/s)",
        bytes as f64 / 1024.0 / secs
    );
}

pub(super) fn send(a: SendArgs) -> Result<(), Error> {
    send_out(&a.out, &a.wormhole, a.json)
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
            eprintln!(
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
                    eprintln!("{l}");
                } else {
                    println!("{l}");
                }
            }
            eprintln!("Waiting for the other side…");
        },
    )?;
    progress(json, o.bytes, o.millis);
    if json {
        return print_json(&o);
    }
    println!("Sent. The other side acknowledged every byte (sha256).");
    Ok(())
}

pub(super) fn receive(a: ReceiveArgs) -> Result<(), Error> {
    let req = ReceiveRequest {
        code: a.code.trim().to_string(),
        out: a.out,
        force: a.force,
        agent: a.agent,
        confirm: a.confirm,
        ca: a.ca,
        cfg: a.wormhole.config(),
    };
    let o = handoff::receive(&req)?;
    progress(a.json, o.bytes, o.millis);
    if a.json {
        return print_json(&o);
    }
    if let Some(t) = &o.text {
        println!("Received a text message (no key material):");
        println!("{t}");
        return Ok(());
    }
    if let Some(s) = &o.certificate {
        eprintln!("Received a key and its certificate; the signature verifies:");
        describe(s);
    }
    match o.agent_lifetime {
        Some(l) => println!(
            "Added to ssh-agent for {} (nothing written to disk).",
            inspect::human_duration(u64::from(l))
        ),
        None => {
            println!(
                "Wrote {}",
                o.files
                    .iter()
                    .map(|p| sanitize(&p.display().to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(s) = &o.certificate {
                for p in &s.principals {
                    println!(
                        "  ssh -i {} {}@HOST",
                        crate::mint::shell_word(&req.out.display().to_string()),
                        // Principals come from the peer: quoted before they become a command.
                        crate::mint::shell_word(p)
                    );
                }
            }
        }
    }
    Ok(())
}
