//! What host-config reads before it plans: the CA files (every line validated), the host's sshd
//! settings, the files those settings name, and the user database. Everything that reads the
//! filesystem (and everything that can fail there) happens here, in the order a user meets the
//! errors; [`super::plan_from`] then only computes.

use std::path::{Path, PathBuf};

use super::attestation::{Gate, GateResult, Role};
use super::ca_key::read_ca_files;
use super::principals::{self, ExistingPrincipals};
use super::sshd_settings::{self, DropIn, HostSettings};
use super::trusted_file::{read_trusted_file, TrustedFile};
use super::{
    drop_in, two_person, CaKey, HostConfigError, HostConfigRequest, InstallPaths,
    DEFAULT_SSHD_CONFIG,
};

/// Everything the plan is made from.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// The break-glass CAs of the command line, duplicates dropped.
    pub breakglass_cas: Vec<CaKey>,
    /// The custodian CAs of `--two-person` (empty without it).
    pub custodian_cas: Vec<CaKey>,
    /// The attestation gate's verdicts on those CAs (the kept ones are exempt).
    pub attestation: GateResult,
    /// What the host's sshd does today.
    pub settings: HostSettings,
    /// The host's own `TrustedUserCAKeys` file as sshd reads it (`None` when it sets none).
    pub trusted: Option<TrustedFile>,
    /// The CAs an earlier run carried over into `ETC/breakglass_user_ca.pub`.
    pub kept_by_earlier_run: Vec<CaKey>,
    /// Whether the host's `RevokedKeys` file exists.
    pub revoked_keys_exists: bool,
    /// For each `--principals` user, the host's principals file (`None` when the host sets no
    /// `AuthorizedPrincipalsFile`).
    pub principals: Vec<Option<ExistingPrincipals>>,
    /// Whether the `--two-person-user` account exists here.
    pub two_person_user_exists: bool,
    /// Now (dates a new KRL).
    pub now: u64,
}

impl HostFacts {
    /// Reads the CA files, checks the request's two-person part, and reads the host's sshd
    /// settings (checking that the drop-in would be the first to set its keywords).
    pub fn read(req: &HostConfigRequest) -> Result<HostFacts, HostConfigError> {
        drop_in::check_etc(&req.etc)?;
        let paths = InstallPaths::new(&req.etc);
        // 1. The break-glass CAs, every line validated, each proven by its attestation; the
        // custodians' the same way.
        let given: Vec<&Path> = req
            .ca_files
            .iter()
            .chain(&req.two_person)
            .map(PathBuf::as_path)
            .collect();
        let mut gate = Gate::new(&req.attestation, &given)?;
        let breakglass_cas = read_ca_files(&req.ca_files)?;
        gate.check(Role::BreakGlass, &breakglass_cas)?;
        let custodian_cas = read_custodians(req)?;
        gate.check(Role::Custodian, &custodian_cas)?;
        // 2. The host's settings, read against a first draft of the drop-in (the order check
        // only needs the keywords it sets globally).
        let config = req
            .sshd_config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SSHD_CONFIG));
        let own_values = vec![
            paths.ca.display().to_string(),
            paths.krl.display().to_string(),
            paths.principals_dir.join("%u").display().to_string(),
        ];
        let settings = sshd_settings::read(
            &config,
            req.sshd_config.is_some(),
            &DropIn {
                path: &paths.drop_in,
                text: &drop_in::draft(&paths),
                own_values: &own_values,
            },
        )?;
        // 3. The CA files those settings (and an earlier run) name.
        let trusted = match &settings.trusted_user_ca_keys.value {
            Some(existing) => Some(read_trusted_file(Path::new(existing))?),
            None => None,
        };
        let kept_by_earlier_run = if paths.ca.exists() {
            read_trusted_file(&paths.ca)?.kept_section
        } else {
            Vec::new()
        };
        // 4. The KRL.
        let revoked_keys_exists = settings
            .revoked_keys
            .value
            .as_ref()
            .is_some_and(|k| Path::new(k).exists());
        // 5. The principals files.
        let mut principals = Vec::new();
        for m in &req.principals {
            principals.push(match &settings.authorized_principals_file.value {
                Some(pattern) => Some(principals::read_existing(pattern, &m.user)?),
                None => None,
            });
        }
        let two_person_user_exists =
            !custodian_cas.is_empty() && principals::lookup_user(&req.two_person_user).is_some();
        Ok(HostFacts {
            breakglass_cas,
            custodian_cas,
            attestation: gate.finish(),
            settings,
            trusted,
            kept_by_earlier_run,
            revoked_keys_exists,
            principals,
            two_person_user_exists,
            now: crate::clock::now(),
        })
    }
}

/// The custodian CAs of `--two-person` after checking the account, or an error when the
/// request names no CA at all.
fn read_custodians(req: &HostConfigRequest) -> Result<Vec<CaKey>, HostConfigError> {
    if req.two_person.is_empty() {
        if req.ca_files.is_empty() {
            return Err(HostConfigError::TwoPerson(
                "no CA given: pass the break-glass CA files, or --two-person with the custodians' CA files".into(),
            ));
        }
        return Ok(Vec::new());
    }
    two_person::check_user(&req.two_person_user).map_err(HostConfigError::TwoPersonUser)?;
    if req.principals.iter().any(|m| m.user == req.two_person_user) {
        return Err(HostConfigError::TwoPerson(format!(
            "--principals names the two-person account {}, but its certificates must name the account itself",
            req.two_person_user
        )));
    }
    let custodian_cas = read_ca_files(&req.two_person)?;
    if custodian_cas.len() < 2 {
        return Err(HostConfigError::TwoPerson(
            "at least two different custodian CA keys are needed".into(),
        ));
    }
    Ok(custodian_cas)
}
