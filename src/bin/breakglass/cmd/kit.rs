//! `breakglass kit DIR` and `kit --verify DIR`; `--version --verbose`.

use std::path::PathBuf;

use crate::cli::KitArgs;
use crate::error::Error;
use crate::output::{self, say, tell};
use crate::terminal::TerminalUi;
use breakglass::ops::kit::{self, manifest, KitRequest, Trust, VerifyRequest};
use breakglass::token::Backend;

fn current_exe() -> Result<PathBuf, Error> {
    std::env::current_exe().map_err(|e| {
        breakglass::Error::io("find", std::path::Path::new("the breakglass program"), e).into()
    })
}

pub(super) fn run(
    a: KitArgs,
    outer: Option<Backend>,
    json: bool,
    ui: &mut TerminalUi,
) -> Result<(), Error> {
    if a.verify {
        let v = kit::verify(&VerifyRequest {
            dir: a.dir,
            fingerprints: a.ca_fingerprint,
            running: current_exe().ok(),
        })?;
        if json {
            return output::json(&v);
        }
        for w in &v.warnings {
            tell!("warning: {w}.");
        }
        say!(
            "Kit {}: OK, {} files match SHA256SUMS, signed by CA {}{}.",
            v.dir.display(),
            v.files,
            v.signer,
            match v.trust {
                Trust::Given => " (the --ca-fingerprint given)",
                Trust::KitOnly => " (the kit's own CA: compare it with your hosts')",
            }
        );
        if let Some(h) = &v.binary_sha256 {
            say!("  breakglass SHA-256 {h}");
        }
        return Ok(());
    }
    let req = KitRequest {
        dir: a.dir,
        cas: a.ca,
        hosts: a.hosts,
        binary: current_exe()?,
        force: a.force,
        backend: a.token.backend.or(outer),
        device: a.token.device,
    };
    let o = kit::assemble(&req, ui)?;
    if json {
        return output::json(&o);
    }
    say!(
        "{} {}: {} files, SHA256SUMS signed by CA {}{}.",
        if o.replaced {
            "Replaced kit"
        } else {
            "Made kit"
        },
        o.dir.display(),
        o.files.len(),
        o.signer,
        if o.simulated { " (SIMULATED)" } else { "" }
    );
    let width = o.files.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &o.files {
        say!("  {:<width$}  {}", f.name, f.sha256);
    }
    let dir = breakglass::shell::word(&o.dir.display().to_string());
    say!(
        "Check it anywhere: breakglass kit --verify {dir} --ca-fingerprint {}",
        o.signer
    );
    say!(
        "  or: cd {dir} && sha256sum -c SHA256SUMS && ssh-keygen -Y verify -f allowed_signers -I {} -n {} -s SHA256SUMS.sig < SHA256SUMS",
        o.identity,
        kit::NAMESPACE
    );
    Ok(())
}

/// `--version --verbose`.
pub(super) fn version_verbose() -> Result<(), Error> {
    let exe = current_exe()?;
    let sha = manifest::sha256_file(&exe).map_err(|e| breakglass::Error::io("read", &exe, e))?;
    let mut features = Vec::new();
    if cfg!(feature = "fido2") {
        features.push("fido2");
    }
    if cfg!(feature = "piv") {
        features.push("piv");
    }
    if cfg!(feature = "wormhole") {
        features.push("wormhole");
    }
    say!(
        "breakglass {} ({} {}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        features.join(", ")
    );
    say!("{}", exe.display());
    say!("SHA-256 {sha}");
    Ok(())
}
