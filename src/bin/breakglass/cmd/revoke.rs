//! `breakglass revoke`.

use crate::cli::RevokeArgs;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::ops::revoke::{self, KrlListing, RevokeOutcome, RevokeRequest};
use breakglass::token::Backend;

pub(super) fn run(
    a: RevokeArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    if let Some(path) = &a.list {
        let l = revoke::list(path)?;
        return if json {
            output::json(&l)
        } else {
            print_listing(&l);
            Ok(())
        };
    }
    // clap requires --krl unless --list is given.
    let krl = a.krl.unwrap_or_default();
    let req = RevokeRequest {
        krl,
        ca: a.ca,
        serials: a.serial,
        key_ids: a.key_id,
        specs: a.spec,
        files: a.files,
        sign: a.sign,
        backend: a.token.backend.or(outer),
        device: a.token.device,
        application: a.application,
    };
    let o = revoke::revoke(&req, ui)?;
    if json {
        return output::json(&o);
    }
    print_outcome(&o);
    Ok(())
}

fn print_outcome(o: &RevokeOutcome) {
    say!(
        "{} {} (KRL version {}, {} bytes): {} new of {} revocations",
        if o.created { "Created" } else { "Updated" },
        o.krl.display(),
        o.krl_version,
        o.size,
        o.new,
        o.requested
    );
    for s in &o.revoked {
        let ca =
            s.ca.as_ref()
                .map(|c| format!("  (CA {c})"))
                .unwrap_or_default();
        let old = if s.new { "" } else { "  (already revoked)" };
        say!("  {} {}{ca}{old}", s.kind, s.value);
    }
    if o.requested > o.revoked.len() as u64 {
        say!("  … and {} more", o.requested - o.revoked.len() as u64);
    }
    if let Some(sig) = &o.signature {
        say!(
            "Signed: {} (verify: ssh-keygen -Y verify -n {} -f allowed_signers -I CA -s {} < {})",
            sig.display(),
            revoke::SIG_NAMESPACE,
            sig.display(),
            o.krl.display()
        );
    }
}

fn print_listing(l: &KrlListing) {
    // Key ids and comments come from the KRL: printed (sanitised) through the one printer.
    let mut text = Vec::new();
    let _ = write_listing(&mut text, l);
    say!("{}", String::from_utf8_lossy(&text).trim_end_matches('\n'));
}

fn write_listing(out: &mut impl std::io::Write, l: &KrlListing) -> std::io::Result<()> {
    writeln!(
        out,
        "# KRL {}: version {}, generated {}",
        l.file.display(),
        l.krl_version,
        l.generated
    )?;
    if !l.comment.is_empty() {
        writeln!(out, "# comment: {}", l.comment)?;
    }
    for ca in &l.cas {
        writeln!(out, "CA {}", ca.ca)?;
        for r in &ca.serials {
            if r.from == r.to {
                writeln!(out, "  serial {}", r.from)?;
            } else {
                writeln!(out, "  serials {}-{}", r.from, r.to)?;
            }
        }
        for id in &ca.key_ids {
            writeln!(out, "  key id \"{}\"", id.replace('"', "\\\""))?;
        }
    }
    for k in &l.keys {
        writeln!(out, "key {k}")?;
    }
    for h in l.sha256.iter().chain(&l.sha1) {
        writeln!(out, "fingerprint {h}")?;
    }
    Ok(())
}
