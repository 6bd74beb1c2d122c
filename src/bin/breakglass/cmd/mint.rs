//! `breakglass mint`.

use crate::cli::MintArgs;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::delivery::release::Delivery;
use breakglass::ops::mint::{self, MintRequest};
use breakglass::ops::sign_spec::{LifetimePolicy, SignFlags, SignSpec};
use breakglass::ssh::keyfile;
use breakglass::ssh::summary::{self, TimeStatus};
use breakglass::token::Backend;
use breakglass::ui::Ui;

pub(super) fn run(
    a: MintArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    if !a.stray.is_empty() {
        return Err(Error::StrayPrincipal(a.stray));
    }
    // What to sign, parsed once, in the order a user would fix it (a bare number of seconds in
    // -V may ask a question first).
    let spec = SignSpec::for_mint(
        SignFlags {
            principals: a.principals,
            validity: Some(a.validity),
            reason: a.reason,
            options: a.options,
            key_id: a.key_id,
            serial: a.serial,
            host: a.host,
            backend: a.token.backend.or(outer),
            device: a.token.device,
        },
        &LifetimePolicy {
            max: a.max_lifetime,
            allow_long: a.allow_long,
        },
        breakglass::now(),
        ui,
    )?;
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
        spec,
        ca: a.ca,
        application: a.application,
        key_type: a.key_type,
        delivery,
        pubkey: a.pubkey.clone(),
    };
    let o = mint::mint(&req, ui)?;
    for w in &o.warnings {
        ui.warning(w);
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
