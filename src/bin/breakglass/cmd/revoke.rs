//! `breakglass revoke`.

use crate::cli::RevokeArgs;
use crate::error::Error;
use crate::output::{self, say};
use crate::terminal::TerminalUi;
use breakglass::ops::revoke::{self, KrlListing, ListedItem, RevokeOutcome, RevokeRequest};
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
            output::json_stream(&l)
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
    // Key ids and comments come from the KRL: printed (sanitised) through the one printer, line
    // by line as they are listed (a hostile KRL may list millions).
    let head = format!(
        "# KRL {}: version {}, generated {}",
        l.file.display(),
        l.krl.krl_version,
        l.generated()
    );
    let comment = l.comment();
    let comment = (!comment.is_empty()).then(|| format!("# comment: {comment}"));
    let items = l.items().map(|item| match item {
        ListedItem::Ca(ca) => format!("CA {ca}"),
        ListedItem::Serials(from, to) if from == to => format!("  serial {from}"),
        ListedItem::Serials(from, to) => format!("  serials {from}-{to}"),
        ListedItem::KeyId(id) => format!("  key id \"{}\"", id.replace('"', "\\\"")),
        ListedItem::Key(k) => format!("key {k}"),
        ListedItem::Fingerprint(h) => format!("fingerprint {h}"),
    });
    output::out_stream(std::iter::once(head).chain(comment).chain(items));
}
