//! Creating the CA on a token (`init-ca`) and finding it again for signing.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey};

use crate::atomic::{self, PlannedFile};
use crate::audit::{self, AuditEntry};
use crate::keyfile;
use crate::sanitize::Sanitized;
use crate::token::ctap::{Authenticator, Pin};
use crate::token::select::{self, BackendChoice};
use crate::token::sk_ca::{self, ResidentCa, SkCaSigner};
use crate::token::Backend;
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
}

/// What `init-ca` made.
#[derive(Debug, Clone, Serialize)]
pub struct InitCaOutcome {
    /// Key-handle file.
    pub key_file: PathBuf,
    /// Public key file.
    pub pub_file: PathBuf,
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
    /// sshd_config lines for hosts.
    pub sshd_lines: Vec<String>,
}

/// Creates the resident CA on the token and writes `FILE` and `FILE.pub` atomically.
pub fn init_ca(req: &InitCaRequest, ui: &mut dyn Ui) -> Result<InitCaOutcome> {
    let pub_file = PathBuf::from(format!("{}.pub", req.file.display()));
    atomic::preflight(&[&req.file, &pub_file], req.force)?;
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let mut auth = select::open_authenticator(req.backend, None)?;
    let result = init_on(&mut *auth, req, &pub_file, ui);
    let mut entry = AuditEntry::new("init-ca");
    entry.backend = Some(backend_name(req.backend));
    match &result {
        Ok(o) => {
            entry.ca_fingerprint = Some(o.fingerprint.clone());
            entry.detail = Some(format!("{} on {}", o.pub_file.display(), o.token));
        }
        Err(e) => entry.result = format!("failed: {}", e.kind()),
    }
    let logged = audit::append(&audit_path, &entry);
    let outcome = result?;
    logged?;
    Ok(outcome)
}

fn backend_name(b: BackendChoice) -> String {
    b.0.map(|b| b.to_string()).unwrap_or_else(|| "auto".into())
}

fn init_on(
    auth: &mut dyn Authenticator,
    req: &InitCaRequest,
    pub_file: &Path,
    ui: &mut dyn Ui,
) -> Result<InitCaOutcome> {
    let simulated = auth.is_simulated();
    let mut comment = req.comment.clone().unwrap_or_else(|| {
        format!(
            "breakglass CA {}@{}",
            crate::paths::operator(),
            crate::paths::hostname()
        )
    });
    if comment.chars().any(crate::sanitize::is_dangerous) {
        return Err(Error::Usage(
            "the comment must not contain control characters".into(),
        ));
    }
    if simulated && !comment.contains("SIMULATED") {
        comment.push_str(" SIMULATED");
    }
    let enrolled = sk_ca::enroll(auth, ui, &req.application, req.verify_required, req.force)?;
    let key_data = enrolled.ca.key_data()?;
    let public = PublicKey::new(key_data.clone(), comment.as_str());
    let handle = keyfile::key_handle_file(&enrolled.ca, enrolled.key_file_flags, &comment)?;
    let pub_line = keyfile::public_line(&public)?;
    atomic::write_all(
        &[
            PlannedFile::private(&req.file, handle.as_bytes().to_vec()),
            PlannedFile::public(pub_file, pub_line.as_bytes().to_vec()),
        ],
        req.force,
    )?;
    let fingerprint = key_data.fingerprint(HashAlg::Sha256).to_string();
    Ok(InitCaOutcome {
        key_file: req.file.clone(),
        pub_file: pub_file.to_path_buf(),
        fingerprint,
        public_key: pub_line.trim_end().to_string(),
        token: auth.describe(),
        simulated,
        replaced: enrolled.replaced,
        sshd_lines: vec![
            "TrustedUserCAKeys /etc/ssh/breakglass_user_ca.pub".into(),
            "RevokedKeys /etc/ssh/breakglass.krl".into(),
            "LogLevel VERBOSE".into(),
        ],
    })
}

/// Which CA `mint` should use.
#[derive(Debug, Clone)]
pub enum CaSource {
    /// A CA public key file (`--ca`, or `sk-user-ca.pub` in the current directory).
    File(PathBuf),
    /// The token's one resident CA for this application.
    Token { application: String },
}

/// Picks the CA source: `--ca`, else `sk-user-ca.pub` when present, else the token's one CA.
pub fn ca_source(ca: Option<&Path>, application: &str) -> CaSource {
    match ca {
        Some(p) => CaSource::File(p.to_path_buf()),
        None if Path::new("sk-user-ca.pub").exists() => {
            CaSource::File(PathBuf::from("sk-user-ca.pub"))
        }
        None => CaSource::Token {
            application: application.to_string(),
        },
    }
}

/// Reads the expected CA public key (if any) without touching the token, so mistakes in `--ca`
/// are reported before a PIN is asked or a touch wasted.
pub fn expected_ca(source: &CaSource) -> Result<Option<PublicKey>> {
    match source {
        CaSource::File(p) => Ok(Some(keyfile::read_ca_public(p)?)),
        CaSource::Token { .. } => Ok(None),
    }
}

/// Opens the token and binds the signer to the CA named by `source`.
pub fn open_signer(
    source: &CaSource,
    expected: Option<&PublicKey>,
    backend: BackendChoice,
    ui: &mut dyn Ui,
) -> Result<SkCaSigner<Box<dyn Authenticator>>> {
    let fp_hint = expected.map(|k| k.fingerprint(HashAlg::Sha256).to_string());
    if let Some(k) = expected {
        if !k.key_data().is_sk_ecdsa_p256() {
            return Err(Error::CaFile {
                path: source_path(source),
                reason:
                    "is a PIV (ecdsa-sha2-nistp256) CA; this build signs with FIDO2-style CAs only"
                        .into(),
            });
        }
    }
    let backend = match backend.0 {
        Some(b) => BackendChoice(Some(b)),
        None => BackendChoice(None),
    };
    let mut auth = select::open_authenticator(backend, fp_hint.as_deref())?;
    let mut pin: Option<Pin> = None;
    let (ca, require_uv) = match (source, expected) {
        (CaSource::File(path), Some(expected)) => {
            find_expected(&mut *auth, ui, &mut pin, path, expected)?
        }
        (CaSource::Token { application }, _) => {
            find_only(&mut *auth, ui, &mut pin, application, backend)?
        }
        (CaSource::File(path), None) => {
            return Err(Error::CaFile {
                path: path.clone(),
                reason: "could not be read".into(),
            })
        }
    };
    let mut signer = SkCaSigner::new(auth, ca, require_uv, pin)?;
    signer.ca_label = source_path(source);
    Ok(signer)
}

fn source_path(source: &CaSource) -> PathBuf {
    match source {
        CaSource::File(p) => p.clone(),
        CaSource::Token { .. } => PathBuf::from("(token)"),
    }
}

fn find_expected(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    path: &Path,
    expected: &PublicKey,
) -> Result<(ResidentCa, bool)> {
    let KeyData::SkEcdsaSha2NistP256(sk) = expected.key_data() else {
        return Err(Error::CaFile {
            path: path.to_path_buf(),
            reason: "is not an sk-ecdsa CA".into(),
        });
    };
    let application = sk.application().to_string();
    // The key-handle file beside the .pub names the credential: no PIN needed to find it.
    if let Some(handle_path) = keyfile::key_handle_path_for(path) {
        if let Ok(Some(h)) = keyfile::read_key_handle(&handle_path) {
            if &h.public == expected.key_data() {
                let mut point = [0u8; 65];
                point.copy_from_slice(sk.ec_point().as_bytes());
                let require_uv = h.flags & sk_ca::SK_USER_VERIFICATION_REQD != 0;
                let ca = ResidentCa {
                    application,
                    credential_id: h.key_handle,
                    point,
                    cred_protect: if require_uv { 3 } else { 2 },
                    user_id: sk_ca::OPENSSH_USER_ID.to_vec(),
                };
                return Ok((ca, require_uv));
            }
        }
    }
    let cas = sk_ca::resident_cas(auth, ui, pin, &application)?;
    for ca in cas {
        if &ca.key_data()? == expected.key_data() {
            let uv = ca.verify_required();
            return Ok((ca, uv));
        }
    }
    Err(Error::CaNotOnToken {
        path: path.to_path_buf(),
        expected: expected.fingerprint(HashAlg::Sha256).to_string(),
    })
}

fn find_only(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    application: &str,
    backend: BackendChoice,
) -> Result<(ResidentCa, bool)> {
    let mut cas = sk_ca::resident_cas(auth, ui, pin, application)?;
    match cas.len() {
        0 => Err(Error::NoCa {
            backend: match backend.0 {
                Some(Backend::Sim) => "simulated".into(),
                _ => "security".into(),
            },
            application: Sanitized::new(application),
        }),
        1 => {
            let ca = cas.remove(0);
            let uv = ca.verify_required();
            Ok((ca, uv))
        }
        _ => Err(Error::SeveralCas {
            application: Sanitized::new(application),
            fingerprints: cas
                .iter()
                .filter_map(|c| c.key_data().ok())
                .map(|k| k.fingerprint(HashAlg::Sha256).to_string())
                .collect(),
        }),
    }
}
