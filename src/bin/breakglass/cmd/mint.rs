//! `breakglass mint`.

use crate::cli::MintArgs;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::delivery::release::Delivery;
use breakglass::ops::mint::{self, MintRequest};
use breakglass::ssh::keyfile;
use breakglass::ssh::summary::{self, TimeStatus};
use breakglass::token::Backend;
use breakglass::ui::Ui;
use breakglass::Error;

pub(super) fn run(
    a: MintArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    if !a.stray.is_empty() {
        return Err(Error::StrayPrincipal(a.stray));
    }
    let principals = a.principals.ok_or(Error::PrincipalsMissing)?;

    let delivery = if let Some(p) = &a.pubkey {
        Delivery::Certificate {
            path: keyfile::cert_path_for(p),
            force: a.force,
        }
    } else if a.agent {
        Delivery::Agent { confirm: a.confirm }
    } else {
        Delivery::Files {
            out: a.out.clone(),
            force: a.force,
        }
    };
    let req = MintRequest {
        ca: a.ca,
        application: a.application,
        principals,
        validity: a.validity,
        key_id: a.key_id,
        serial: a.serial,
        options: a.options,
        key_type: a.key_type,
        reason: a.reason,
        max_lifetime: a.max_lifetime,
        allow_long: a.allow_long,
        backend: a.token.backend.or(outer),
        delivery,
        device: a.token.device,
        pubkey: a.pubkey.clone(),
        host: a.host,
    };
    let o = mint::mint(&req, ui)?;
    for w in &o.warnings {
        ui.note(&format!("warning: {w}"));
    }
    #[cfg(feature = "wormhole")]
    let send = a.send;
    #[cfg(not(feature = "wormhole"))]
    let send = false;
    if json && !send {
        return output::json(&o);
    }
    if !json {
        print_minted(&o, a.pubkey.is_some(), a.host);
    }
    #[cfg(feature = "wormhole")]
    if a.send {
        if !json {
            say!();
        }
        return super::handoff::send_out(&a.out, &a.wormhole, json);
    }
    Ok(())
}

fn print_minted(o: &mint::MintOutcome, pubkey: bool, host: bool) {
    let c = &o.certificate;
    if pubkey {
        say!(
            "Signed {}: wrote {} (signed by {})",
            o.pub_file.display(),
            o.cert_file.display(),
            o.token
        );
    }
    match o.agent_lifetime {
        _ if pubkey => {}
        Some(l) => say!(
            "Minted a certificate into ssh-agent for {} (signed by {}; nothing written to disk)",
            summary::human_duration(u64::from(l)),
            o.token
        ),
        None => {
            say!("Minted {} (signed by {})", o.cert_file.display(), o.token);
            say!(
                "  key:        {} ({})",
                o.key_file.display(),
                c.key_fingerprint
            );
        }
    }
    say!("  principals: {}", c.principals.join(", "));
    say!("  key id:     \"{}\"  serial {}", c.key_id, c.serial);
    for (i, line) in summary::validity_lines(c).iter().enumerate() {
        say!("  {:<12}{line}", if i == 0 { "valid:" } else { "" });
    }
    match (c.status, c.seconds_left) {
        (TimeStatus::Valid, Some(left)) if c.valid_before != u64::MAX => {
            say!("  time left:  {}", summary::human_duration(left))
        }
        (TimeStatus::NotYetValid, _) => say!("  time left:  NOT YET VALID"),
        _ => {}
    }
    say!("  CA:         {} {}", c.ca_type, c.ca_fingerprint);
    say!();
    if host {
        say!("On the host, in sshd_config (then reload sshd):");
        say!("  HostCertificate {}", o.cert_file.display());
        say!("In clients' known_hosts (breakglass host-config --known-hosts PATTERN prints it):");
        say!("  @cert-authority PATTERN {}", c.ca_public_key);
        return;
    }
    say!("Log in with:");
    for cmd in &o.ssh_commands {
        say!("  {cmd}");
    }
}
