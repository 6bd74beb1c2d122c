//! `breakglass approve`.

use crate::cli::ApproveArgs;
use crate::error::Error;
use crate::output::{self, say, tell};
use crate::terminal::TerminalUi;
use breakglass::ops::approve::{self, ApproveRequest, RequestView};
use breakglass::ops::sign_spec::{ApproverSpec, LifetimePolicy, SignFlags};
use breakglass::token::Backend;
use breakglass::ui::Ui;

fn show(v: &RequestView) {
    match &v.requester {
        Some(r) => tell!("Request from {r} (as their machine says):"),
        None => tell!("A public key arrived (no breakglass on the other side):"),
    }
    tell!("  key:        {} {}", v.key_type, v.key_fingerprint);
    if !v.principals.is_empty() && v.requester.is_some() {
        tell!("  asks for:   {}", v.principals.join(", "));
        tell!("  valid:      {} (local)", v.valid_local);
        tell!("              {} (UTC)", v.valid_utc);
    }
    if let Some(r) = &v.reason {
        tell!("  reason:     {r}");
    }
    if !v.grant_principals.is_empty() {
        tell!("  will sign:  {}", v.grant_principals.join(", "));
        tell!("              {} (UTC)", v.grant_valid_utc);
    }
    if v.hardware_bound {
        tell!(
            "  The key is a security key of theirs: logging in will also need their touch of it."
        );
    }
}

pub(super) fn run(
    a: ApproveArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    // The approver's -n, -V, -O, -I, -z and token, parsed once, before anything is received.
    let spec = ApproverSpec::parse(
        SignFlags {
            principals: a.principals,
            validity: a.validity,
            options: a.options,
            key_id: a.key_id,
            serial: a.serial,
            backend: a.token.backend.or(outer),
            device: a.token.device,
            ..SignFlags::default()
        },
        a.text,
        breakglass::now(),
    )?;
    let req = ApproveRequest {
        code: a.code.trim().to_string(),
        ca: a.ca,
        application: a.application,
        spec,
        policy: LifetimePolicy {
            max: a.max_lifetime,
            allow_long: a.allow_long,
        },
        yes: a.yes,
        text: a.text,
        cfg: a.wormhole.config(),
    };
    let o = approve::approve(&req, ui, &mut show, &mut |code| {
        let lines = [
            format!("Wormhole code: {code}"),
            format!("On the other side:  wormhole receive {code}"),
        ];
        for l in lines {
            if json {
                tell!("{l}");
            } else {
                say!("{l}");
            }
        }
        tell!("Waiting for the other side to take the certificate…");
    })?;
    for w in &o.warnings {
        ui.warning(w);
    }
    if json {
        return output::json(&o);
    }
    let c = &o.certificate;
    say!("Signed and sent (signed by {})", o.token);
    say!("  principals: {}", c.principals.join(", "));
    say!("  key id:     \"{}\"  serial {}", c.key_id, c.serial);
    say!("  valid:      {} (UTC)", c.valid_utc);
    match o.accepted {
        Some(true) => say!("The requester checked and stored it."),
        Some(false) => say!("The requester did NOT accept it."),
        None => {}
    }
    if o.request.hardware_bound {
        say!("Logging in with it needs the requester's touch of their own security key too.");
    }
    Ok(())
}
