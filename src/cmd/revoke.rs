//! `breakglass revoke`.

use super::{print_json, TerminalUi};
use crate::cli::RevokeArgs;
use crate::revoke::{self, KrlListing, RevokeOutcome, RevokeRequest};
use crate::token::BackendChoice;
use crate::Error;

pub(super) fn run(a: RevokeArgs, backend: BackendChoice, ui: &mut TerminalUi) -> Result<(), Error> {
    ui.set_quiet(a.json);
    if let Some(path) = &a.list {
        let l = revoke::list(path)?;
        return if a.json {
            print_json(&l)
        } else {
            print_listing(&l);
            Ok(())
        };
    }
    let Some(krl) = a.krl else {
        return Err(Error::Usage("give --krl FILE (or --list FILE)".into()));
    };
    let req = RevokeRequest {
        krl,
        ca: a.ca,
        serials: a.serial,
        key_ids: a.key_id,
        specs: a.spec,
        files: a.files,
        sign: a.sign,
        backend,
        device: a.device,
        application: a.application,
    };
    let o = revoke::revoke(&req, ui)?;
    if a.json {
        return print_json(&o);
    }
    print_outcome(&o);
    Ok(())
}

fn print_outcome(o: &RevokeOutcome) {
    println!(
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
        println!("  {} {}{ca}{old}", s.kind, s.value);
    }
    if o.requested > o.revoked.len() as u64 {
        println!("  … and {} more", o.requested - o.revoked.len() as u64);
    }
    if let Some(sig) = &o.signature {
        println!(
            "Signed: {} (verify: ssh-keygen -Y verify -n {} -f allowed_signers -I CA -s {} < {})",
            sig.display(),
            revoke::SIG_NAMESPACE,
            sig.display(),
            o.krl.display()
        );
    }
}

fn print_listing(l: &KrlListing) {
    // A KRL may list 100,000 serials: buffered, and a closed pipe (| head) just stops the output.
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = write_listing(&mut out, l).and_then(|_| out.flush());
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
