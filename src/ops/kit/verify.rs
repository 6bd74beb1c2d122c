//! Checking a kit: first the signature over `SHA256SUMS` (by a key the kit's `allowed_signers`
//! names, and by a CA the operator trusts), then every file against `SHA256SUMS`, with nothing
//! missing and nothing added. Only what is checked is trusted: the running binary is compared
//! with the kit's, but never used to decide anything about the kit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ssh_key::{PublicKey, SshSig};

use super::manifest::{self, fingerprint};
use super::{KitError, ALLOWED_SIGNERS, BINARY, NAMESPACE, SUMS, SUMS_SIG};
use crate::{Error, Result};

/// Upper bound for `SHA256SUMS`, `SHA256SUMS.sig` and `allowed_signers`.
const MAX_INDEX: u64 = 1 << 20;

/// What `kit --verify DIR` is asked to check.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The kit directory.
    pub dir: PathBuf,
    /// CA fingerprints the operator trusts (`--ca-fingerprint`); empty: the kit's own CA files.
    pub fingerprints: Vec<String>,
    /// The running program, compared with the kit's `breakglass` (for information only).
    pub running: Option<PathBuf>,
}

/// Why the signer is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    /// It is a CA the operator named with `--ca-fingerprint`.
    Given,
    /// It is only the kit's own CA file: the kit is self-consistent, no more.
    KitOnly,
}

/// A kit that passed every check.
#[derive(Debug, Clone, Serialize)]
pub struct KitVerified {
    /// The kit directory.
    pub dir: PathBuf,
    /// Files checked against `SHA256SUMS`.
    pub files: usize,
    /// The signing CA's fingerprint.
    pub signer: String,
    /// Why the signer is trusted.
    pub trust: Trust,
    /// SHA-256 of the kit's `breakglass`, when it has one.
    pub binary_sha256: Option<String>,
    /// Whether the running program is the kit's `breakglass` (`None` when not asked).
    pub running_is_kit_binary: Option<bool>,
    /// What the operator should know (e.g. that the trust is only self-consistency).
    pub warnings: Vec<String>,
}

/// Whether `dir` looks like a kit, for `doctor`: `SHA256SUMS` with `KIT.md` or the signature
/// beside it (a kit whose signature was removed is still checked, and fails).
pub fn is_kit(dir: &Path) -> bool {
    dir.join(SUMS).is_file() && (dir.join(SUMS_SIG).exists() || dir.join(super::KIT_MD).exists())
}

/// A `--ca-fingerprint` value as ssh-keygen prints it (`SHA256:` and 43 base64 characters).
fn check_fingerprint(fp: &str) -> Result<()> {
    let ok = fp.strip_prefix("SHA256:").is_some_and(|b| {
        b.len() == 43
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    });
    if ok {
        Ok(())
    } else {
        Err(KitError::BadFingerprint(fp.to_string()).into())
    }
}

fn read_index(dir: &Path, name: &str) -> std::result::Result<Vec<u8>, String> {
    crate::input::read_bounded(&dir.join(name), MAX_INDEX)
        .map(|b| b.to_vec())
        .map_err(|e| format!("{name}: {}", e.reason()))
}

/// Checks the kit `req.dir`; the first problem found is the error.
pub fn verify(req: &VerifyRequest) -> Result<KitVerified> {
    for fp in &req.fingerprints {
        check_fingerprint(fp)?;
    }
    let dir = &req.dir;
    if !dir.join(SUMS).exists() {
        return Err(KitError::NotAKit(dir.clone()).into());
    }
    let bad_sig = |reason: String| -> Error {
        KitError::BadSignature {
            dir: dir.clone(),
            reason,
        }
        .into()
    };
    let sums = read_index(dir, SUMS).map_err(&bad_sig)?;
    let pem = read_index(dir, SUMS_SIG).map_err(&bad_sig)?;
    let sig = SshSig::from_pem(&pem).map_err(|_| {
        bad_sig(format!(
            "{SUMS_SIG} is not an SSH signature (-----BEGIN SSH SIGNATURE-----)"
        ))
    })?;
    if sig.namespace() != NAMESPACE {
        return Err(bad_sig(format!(
            "{SUMS_SIG} is for namespace {:?}, not {NAMESPACE}",
            sig.namespace()
        )));
    }
    let signer = PublicKey::from(sig.public_key().clone());
    let signer_fp = fingerprint(&signer);

    // Who may sign: the kit's allowed_signers, and the operator's CA (or the kit's own).
    let allowed = read_index(dir, ALLOWED_SIGNERS)
        .map(|b| manifest::parse_allowed_signers(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    if !allowed.iter().any(|k| k.key_data() == signer.key_data()) {
        return Err(KitError::SignerNotAllowed {
            dir: dir.clone(),
            signer: signer_fp,
        }
        .into());
    }
    let manifest =
        manifest::parse_sums(&String::from_utf8_lossy(&sums)).map_err(|(line, reason)| {
            Error::from(KitError::Manifest {
                dir: dir.clone(),
                line,
                reason,
            })
        })?;
    let mut warnings = Vec::new();
    let trust = if req.fingerprints.is_empty() {
        let own = manifest
            .keys()
            .filter(|n| n.ends_with(".pub") && !n.contains('/'))
            .filter_map(|n| crate::ssh::keyfile::read_ca_public(&dir.join(n)).ok())
            .any(|k| k.key_data() == signer.key_data());
        if !own {
            return Err(KitError::SignerNotInKit {
                dir: dir.clone(),
                signer: signer_fp,
            }
            .into());
        }
        warnings.push(format!(
            "no --ca-fingerprint given: this shows only that the kit agrees with itself (signed by its own CA {signer_fp}), not that the CA is yours; compare that fingerprint with the one your hosts trust, or run again with --ca-fingerprint"
        ));
        Trust::KitOnly
    } else if req.fingerprints.contains(&signer_fp) {
        Trust::Given
    } else {
        return Err(KitError::UntrustedSigner {
            dir: dir.clone(),
            signer: signer_fp,
            expected: req.fingerprints.clone(),
        }
        .into());
    };
    signer.verify(NAMESPACE, &sums, &sig).map_err(|_| {
        bad_sig(format!(
            "{SUMS_SIG} does not verify over {SUMS} (one of them was changed after signing)"
        ))
    })?;

    let problems = compare(dir, &manifest)?;
    if !problems.is_empty() {
        return Err(KitError::Tampered {
            dir: dir.clone(),
            problems,
        }
        .into());
    }
    let binary_sha256 = manifest.get(BINARY).cloned();
    let running_is_kit_binary = match (&req.running, &binary_sha256) {
        (Some(p), Some(h)) => manifest::sha256_file(p).ok().map(|r| &r == h),
        _ => None,
    };
    if running_is_kit_binary == Some(false) {
        warnings.push(format!(
            "the breakglass running this check is not the kit's {BINARY} (its SHA-256 differs); the kit is checked all the same"
        ));
    }
    Ok(KitVerified {
        dir: dir.clone(),
        files: manifest.len(),
        signer: signer_fp,
        trust,
        binary_sha256,
        running_is_kit_binary,
        warnings,
    })
}

/// Each file against the manifest: one phrase per changed, missing or extra file.
fn compare(dir: &Path, manifest: &BTreeMap<String, String>) -> Result<Vec<String>> {
    let mut found = BTreeMap::new();
    walk(dir, "", &mut found)?;
    let mut problems = Vec::new();
    for (name, want) in manifest {
        match found.remove(name) {
            None => problems.push(format!("{name} is missing")),
            Some(false) => problems.push(format!("{name} is not a regular file")),
            Some(true) => match manifest::sha256_file(&dir.join(name)) {
                Ok(h) if &h == want => {}
                Ok(_) => problems.push(format!("{name} has changed")),
                Err(e) => problems.push(format!("{name} cannot be read ({e})")),
            },
        }
    }
    for name in found.keys() {
        problems.push(format!("{name} is not in {SUMS} (added after signing)"));
    }
    Ok(problems)
}

/// Every entry under `dir` (except the manifest and its signature): name → is a regular file.
fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, bool>) -> Result<()> {
    let rd =
        std::fs::read_dir(dir.join(prefix)).map_err(|e| Error::io("read", &dir.join(prefix), e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io("read", dir, e))?;
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if prefix.is_empty() && (name == SUMS || name == SUMS_SIG) {
            continue;
        }
        let t = e
            .file_type()
            .map_err(|err| Error::io("read", &e.path(), err))?;
        if t.is_dir() {
            walk(dir, &format!("{name}/"), out)?;
        } else {
            out.insert(name, t.is_file());
        }
    }
    Ok(())
}
