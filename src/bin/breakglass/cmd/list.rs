//! `breakglass list`: the keys, their PIN tries, the CAs on them, and whether each CA is the one
//! in `./sk-user-ca.pub` (the kit's CA file), so a wrong key is seen before the incident.

use crate::cli::ListArgs;
use crate::error::Error;
use crate::output::{self, say, tell};
use crate::terminal::TerminalUi;
use breakglass::token::Backend;
use breakglass::{ops::list, ssh::keyfile, DEFAULT_CA_FILE};

pub(super) fn run(
    a: ListArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    let l = list::list(a.backend.or(outer), a.application.as_deref(), &a.dir, ui)?;
    let ca_file = format!("{DEFAULT_CA_FILE}.pub");
    // The kit's CA, when this directory has one (unreadable counts as absent: list still lists).
    let kit = keyfile::read_ca_public(std::path::Path::new(&ca_file))
        .ok()
        .map(|k| k.fingerprint(ssh_key::HashAlg::Sha256).to_string());
    if json {
        let mut v = serde_json::to_value(&l)?;
        if let (Some(fp), Some(keys)) = (&kit, v["keys"].as_array_mut()) {
            for k in keys {
                for c in k["cas"].as_array_mut().into_iter().flatten() {
                    c["matches_ca_file"] = serde_json::Value::Bool(c["fingerprint"] == fp.as_str());
                }
            }
        }
        output::json(&v)?;
    } else {
        for k in &l.keys {
            let tries = k
                .pin_tries_left
                .map(|t| format!(", PIN tries left {t}"))
                .unwrap_or_default();
            say!("{}: {}{tries}", k.backend, k.device);
            if k.cas.is_empty() {
                say!("    no SSH CA");
            }
            for c in &k.cas {
                let matches = match &kit {
                    Some(fp) if *fp == c.fingerprint => format!("  = ./{ca_file}"),
                    Some(_) => format!("  (not ./{ca_file})"),
                    None => String::new(),
                };
                let attestation = match &c.attestation {
                    Some(f) => format!("  attestation {}", f.display()),
                    None => "  no attestation at hand".into(),
                };
                say!(
                    "    {}  {} {}{matches}{attestation}",
                    c.location,
                    c.key_type,
                    c.fingerprint
                );
            }
        }
        for p in &l.problems {
            tell!("note: {p}");
        }
    }
    if let Some(e) = l.no_key() {
        return Err(e.into());
    }
    Ok(())
}
