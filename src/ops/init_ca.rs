//! `init-ca`: the CA files and the audit entry. Creating the CA itself is the token's job
//! ([`crate::token::Token::enroll`]).

use crate::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ssh_key::{HashAlg, PublicKey};

use crate::attest::capture::{self, Captured};
use crate::delivery::atomic::{self, PlannedFile};
use crate::delivery::audit::{self, AuditEntry};
use crate::ops::ca::verify::attestation_path_for;
use crate::sanitize::is_dangerous;
use crate::ssh::keyfile;
use crate::token::{self, BackendChoice, Birth, EnrollRequest};
use crate::ui::Ui;
use crate::{Error, Result};

/// Default CA file name, as in the manual procedure (REFERENCE.md §1).
pub const DEFAULT_CA_FILE: &str = "sk-user-ca";

/// What `init-ca` is asked to do.
#[derive(Debug, Clone)]
pub struct InitCaRequest {
    /// Key-handle file; `FILE.pub` beside it.
    pub file: PathBuf,
    /// Comment; default names the operator and host (and says SIMULATED on the sim).
    pub comment: Option<String>,
    /// Application (rp id), `ssh:` or `ssh:NAME`.
    pub application: String,
    /// Require the PIN for every signature (`-O verify-required`).
    pub verify_required: bool,
    /// Replace an existing CA on the token and existing files.
    pub force: bool,
    /// Token choice.
    pub backend: BackendChoice,
    /// PIV slot for `--backend piv` (default 0x82, a retired slot).
    pub slot: u8,
    /// Which key when several are connected (serial).
    pub device: Option<String>,
}

/// What `init-ca` made.
#[derive(Debug, Clone, Serialize)]
pub struct InitCaOutcome {
    /// Key-handle file.
    pub key_file: PathBuf,
    /// Public key file.
    pub pub_file: PathBuf,
    /// The attestation written beside it (`CA.attest` for `CA.pub`), when the key attested the
    /// CA at its birth.
    pub attestation_file: Option<PathBuf>,
    /// What that attestation says (checked against the new key; the chain tried against the
    /// built-in vendor roots).
    pub attestation: Option<Captured>,
    /// Why there is no attestation, when there is none: hosts cannot then tell this CA from a
    /// key made in software.
    pub no_attestation: Option<String>,
    /// The command that checks the attestation (with the simulated key's own root and no
    /// firmware floor for a simulated CA: it has no firmware).
    pub verify_command: Option<String>,
    /// CA fingerprint.
    pub fingerprint: String,
    /// CA public key line.
    pub public_key: String,
    /// The token.
    pub token: String,
    /// True for the simulated key.
    pub simulated: bool,
    /// Fingerprint of a CA it destroyed (with --force).
    pub replaced: Option<String>,
    /// The command that makes hosts trust this CA (`breakglass host-config PUB_FILE`): it
    /// merges with what their sshd already trusts, which hand-written sshd lines would not.
    pub host_config: String,
    /// The key's signature counter after the enrolment, for the audit log.
    #[serde(skip)]
    pub counter: Option<u64>,
}

impl InitCaOutcome {
    /// The attestation for the audit log and the setup record: what it says, or `none` and why.
    pub fn attestation_line(&self) -> String {
        match (
            &self.attestation_file,
            &self.attestation,
            &self.no_attestation,
        ) {
            (Some(f), Some(c), _) => format!("{} ({})", f.display(), c.summary()),
            (_, _, Some(why)) => format!("none ({why})"),
            _ => "none".into(),
        }
    }
}

/// Creates the CA on the token and writes `FILE`, `FILE.pub` and, when the key attested the CA,
/// `FILE.attest` atomically (all or none); the audit entry records the outcome either way,
/// with what the attestation says or "none".
pub fn init_ca(req: &InitCaRequest, ui: &mut dyn Ui) -> Result<InitCaOutcome> {
    let pub_file = PathBuf::from(format!("{}.pub", req.file.display()));
    let attest_file = attestation_path_for(&pub_file);
    atomic::preflight(&[&req.file, &pub_file, &attest_file], req.force)?;
    if let Some(c) = &req.comment {
        if c.chars().any(is_dangerous) {
            return Err(Error::ControlCharacters { what: "-C" });
        }
    }
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let result = create(req, &pub_file, ui);
    let mut entry = AuditEntry::new("init-ca");
    entry.backend = Some(
        req.backend
            .0
            .map(|b| b.to_string())
            .unwrap_or_else(|| "auto".into()),
    );
    match &result {
        Ok(o) => {
            entry.ca_fingerprint = Some(o.fingerprint.clone());
            entry.counter = o.counter;
            entry.detail = Some(format!(
                "{} on {}; attestation: {}",
                o.pub_file.display(),
                o.token,
                o.attestation_line()
            ));
        }
        Err(e) => entry.result = format!("failed: {}", e.kind()),
    }
    let logged = audit::append(&audit_path, &entry);
    let outcome = result?;
    logged?;
    Ok(outcome)
}

fn create(req: &InitCaRequest, pub_file: &Path, ui: &mut dyn Ui) -> Result<InitCaOutcome> {
    let mut token = token::open(req.backend, req.device.as_deref(), None)?;
    let simulated = token.is_simulated();
    let new = token.enroll(
        &EnrollRequest {
            application: req.application.clone(),
            verify_required: req.verify_required,
            force: req.force,
            slot: req.slot,
        },
        ui,
    )?;
    let mut comment = req.comment.clone().unwrap_or(new.default_comment);
    if simulated && !comment.contains("SIMULATED") {
        comment.push_str(" SIMULATED");
    }
    let public = PublicKey::new(new.public.clone(), comment.as_str());
    let pub_line = keyfile::public_line(&public)?;
    let handle = new.handle.file_text(&comment)?;
    let attest_file = attestation_path_for(pub_file);
    let (attestation, no_attestation, attest_bytes) = match &new.attestation {
        Birth::Attested(container) => {
            // A key whose attestation does not hold for the key it just made is not trusted
            // with the CA (libfido2 refuses such an enrolment too).
            let captured = capture::inspect(&public, container).map_err(|e| {
                token::TokenError::BadAnswer(format!(
                    "its attestation of the new CA does not hold: {e}"
                ))
            })?;
            (Some(captured), None, Some(container.encode()))
        }
        Birth::Unattested(why) => (None, Some(why.clone()), None),
    };
    let mut files = vec![
        PlannedFile::private(&req.file, handle.as_bytes().to_vec()),
        PlannedFile::public(pub_file, pub_line.as_bytes().to_vec()),
    ];
    if let Some(bytes) = attest_bytes {
        files.push(PlannedFile::public(&attest_file, bytes));
    }
    // An unattested birth under --force: the replaced CA's attestation must not stay beside the
    // new CA.
    let stale = no_attestation.is_some().then_some(attest_file.as_path());
    write_ca_files(&files, stale, req.force, |p| std::fs::remove_file(p))?;
    let counter = new.counter;
    Ok(InitCaOutcome {
        key_file: req.file.clone(),
        pub_file: pub_file.to_path_buf(),
        attestation_file: attestation.as_ref().map(|_| attest_file.clone()),
        verify_command: attestation
            .as_ref()
            .map(|_| verify_command(pub_file, simulated)),
        attestation,
        no_attestation,
        fingerprint: new.public.fingerprint(HashAlg::Sha256).to_string(),
        public_key: pub_line.trim_end().to_string(),
        token: new.token,
        simulated,
        replaced: new.replaced,
        // A simulated CA is never attested by a trusted root: hosts take it for practice only,
        // through host-config's explicit override.
        host_config: format!(
            "breakglass host-config {}{}",
            if simulated { "--allow-unattested " } else { "" },
            crate::shell::word(&pub_file.display().to_string())
        ),
        counter,
    })
}

/// Writes the CA's files as one atomic set, after removing `stale` (the replaced CA's
/// attestation, when the new CA has none) with `remove`: staged first, then the stale file
/// removed, then the set moved into place. So a failed removal fails the command with nothing
/// written, and a success leaves no attestation of another key beside the new CA.
fn write_ca_files(
    files: &[PlannedFile],
    stale: Option<&Path>,
    force: bool,
    remove: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<()> {
    let staged = atomic::stage(files, force)?;
    if let Some(path) = stale {
        match remove(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                // Dropping `staged` removes the temporary files.
                return Err(Error::BadFile {
                    path: path.to_path_buf(),
                    reason: format!("is the old CA's attestation and cannot be removed ({e})"),
                });
            }
            _ => {}
        }
    }
    Ok(staged.commit()?)
}

/// `breakglass ca verify CA.pub`, with the simulated key's root for a simulated CA.
fn verify_command(pub_file: &Path, simulated: bool) -> String {
    let word = |p: &Path| crate::shell::word(&p.display().to_string());
    let mut c = format!("breakglass ca verify {}", word(pub_file));
    if simulated {
        let root = token::sim::attestation_root_path(&crate::paths::sim_dir());
        c.push_str(&format!(" --roots {} --min-firmware none", word(&root)));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(dir: &Path) -> Vec<PlannedFile> {
        vec![
            PlannedFile::private(dir.join("ca"), b"new handle".to_vec()),
            PlannedFile::public(dir.join("ca.pub"), b"new public key".to_vec()),
        ]
    }

    #[test]
    fn the_replaced_cas_attestation_goes_before_the_new_files_come() {
        let d = tempfile::tempdir().unwrap();
        let stale = d.path().join("ca.attest");
        for (name, old) in [
            ("ca", "old handle"),
            ("ca.pub", "old public key"),
            ("ca.attest", "old attestation"),
        ] {
            std::fs::write(d.path().join(name), old).unwrap();
        }
        // The removal fails: the command fails, and the old CA's files are as they were (no new
        // CA beside a failure, no temporary file left).
        let e = write_ca_files(&set(d.path()), Some(&stale), true, |_| {
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("is the old CA's attestation and cannot be removed"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("ca.pub")).unwrap(),
            "old public key"
        );
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 3);
        // It is removed before the new files are in place: they are not there yet when it goes.
        let seen = std::cell::Cell::new(String::new());
        write_ca_files(&set(d.path()), Some(&stale), true, |p| {
            seen.set(std::fs::read_to_string(d.path().join("ca.pub")).unwrap());
            std::fs::remove_file(p)
        })
        .unwrap();
        assert_eq!(seen.take(), "old public key");
        assert!(!stale.exists());
        assert_eq!(
            std::fs::read_to_string(d.path().join("ca.pub")).unwrap(),
            "new public key"
        );
        // None to remove is fine.
        write_ca_files(&set(d.path()), Some(&stale), true, |p| {
            std::fs::remove_file(p)
        })
        .unwrap();
    }
}
