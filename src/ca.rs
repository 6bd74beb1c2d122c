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
use crate::token::{Backend, CaSigner};
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
    let result = match req.backend.0 {
        Some(Backend::Piv) => init_piv(req, &pub_file, ui),
        _ => select::open_authenticator(req.backend, None, req.device.as_deref())
            .and_then(|mut auth| init_on(&mut *auth, req, &pub_file, ui)),
    };
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

#[cfg(feature = "piv")]
fn init_piv(req: &InitCaRequest, pub_file: &Path, ui: &mut dyn Ui) -> Result<InitCaOutcome> {
    use crate::keyfile::PivReference;
    use crate::token::piv_ca;
    let serial = match &req.device {
        Some(d) => Some(d.parse::<u32>().map_err(|_| {
            Error::Usage(format!(
                "--device {} is not a YubiKey serial number",
                Sanitized::new(d)
            ))
        })?),
        None => None,
    };
    if req.verify_required || req.application != "ssh:" {
        return Err(Error::Usage("--verify-required and --application apply to FIDO2 CAs; a PIV CA always needs its PIN (policy once) and a touch (policy always)".into()));
    }
    let ca = piv_ca::generate(serial, req.slot, req.force, ui)?;
    let comment = req.comment.clone().unwrap_or_else(|| {
        format!(
            "breakglass PIV CA YubiKey {} slot {:02x}",
            ca.serial, ca.slot
        )
    });
    if comment.chars().any(crate::sanitize::is_dangerous) {
        return Err(Error::Usage(
            "the comment must not contain control characters".into(),
        ));
    }
    let public = piv_ca::public_key(&ca.point, &comment)?;
    let pub_line = keyfile::public_line(&public)?;
    let reference = PivReference {
        serial: ca.serial,
        slot: ca.slot,
    };
    atomic::write_all(
        &[
            PlannedFile::private(&req.file, reference.to_text().into_bytes()),
            PlannedFile::public(pub_file, pub_line.as_bytes().to_vec()),
        ],
        req.force,
    )?;
    Ok(InitCaOutcome {
        key_file: req.file.clone(),
        pub_file: pub_file.to_path_buf(),
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        public_key: pub_line.trim_end().to_string(),
        token: format!("YubiKey {} PIV slot {:02x}", ca.serial, ca.slot),
        simulated: false,
        replaced: None,
        sshd_lines: sshd_lines(),
    })
}

#[cfg(not(feature = "piv"))]
fn init_piv(_: &InitCaRequest, _: &Path, _: &mut dyn Ui) -> Result<InitCaOutcome> {
    Err(crate::token::TokenError::BackendUnavailable("piv".into()).into())
}

fn sshd_lines() -> Vec<String> {
    vec![
        "TrustedUserCAKeys /etc/ssh/breakglass_user_ca.pub".into(),
        "RevokedKeys /etc/ssh/breakglass.krl".into(),
        "LogLevel VERBOSE".into(),
    ]
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
        sshd_lines: sshd_lines(),
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

/// Opens the token and binds the signer to the CA named by `source`. The CA's type picks the
/// backend when none is given: an sk key is a FIDO2 CA, a plain ecdsa key a PIV CA.
pub fn open_signer(
    source: &CaSource,
    expected: Option<&PublicKey>,
    backend: BackendChoice,
    device: Option<&str>,
    ui: &mut dyn Ui,
) -> Result<Box<dyn CaSigner>> {
    if let Some(k) = expected {
        if k.key_data().is_ecdsa() {
            return open_piv_signer(source, k, backend, device);
        }
        if backend.0 == Some(Backend::Piv) {
            return Err(Error::CaFile { path: source_path(source), reason: "is a FIDO2 (sk-ecdsa) CA; --backend piv signs with PIV (ecdsa-sha2-nistp256) CAs".into() });
        }
    }
    if backend.0 == Some(Backend::Piv) {
        return Err(Error::Usage(
            "with --backend piv, name the CA with --ca CA.pub (the file init-ca wrote)".into(),
        ));
    }
    let fp_hint = expected.map(|k| k.fingerprint(HashAlg::Sha256).to_string());
    let mut auth = select::open_authenticator(backend, fp_hint.as_deref(), device)?;
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
    Ok(Box::new(signer))
}

#[cfg(feature = "piv")]
fn open_piv_signer(
    source: &CaSource,
    expected: &PublicKey,
    backend: BackendChoice,
    device: Option<&str>,
) -> Result<Box<dyn CaSigner>> {
    use crate::token::piv_ca;
    match backend.0 {
        None | Some(Backend::Piv) => {}
        Some(b) => {
            return Err(Error::CaFile { path: source_path(source), reason: format!("is a PIV (ecdsa-sha2-nistp256) CA; the {b} backend holds FIDO2 CAs only (use --backend piv)") })
        }
    }
    let mut reference = match source {
        CaSource::File(p) => crate::keyfile::PivReference::beside(p),
        CaSource::Token { .. } => None,
    };
    if let Some(d) = device {
        let serial = d.parse::<u32>().map_err(|_| {
            Error::Usage(format!(
                "--device {} is not a YubiKey serial number",
                Sanitized::new(d)
            ))
        })?;
        reference = Some(crate::keyfile::PivReference {
            serial,
            slot: reference.map(|r| r.slot).unwrap_or(0x82),
        });
    }
    let (serial, slot) = piv_ca::find(expected, reference.as_ref())?;
    Ok(Box::new(piv_ca::PivCaSigner::new(
        serial,
        slot,
        expected.clone(),
    )))
}

#[cfg(not(feature = "piv"))]
fn open_piv_signer(
    _: &CaSource,
    _: &PublicKey,
    _: BackendChoice,
    _: Option<&str>,
) -> Result<Box<dyn CaSigner>> {
    Err(crate::token::TokenError::BackendUnavailable("piv".into()).into())
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
