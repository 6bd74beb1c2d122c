//! The plan: what the host needs, worked out from what it has ([`HostFacts`]) and what was asked.
//! [`plan_from`] reads nothing and writes nothing; [`plan`] reads the facts first.

use std::path::PathBuf;

use serde::Serialize;

use super::attestation::Verdict;
use super::ca_key::push_unique;
use super::drop_in::{self, TwoPersonBlock};
use super::sshd_settings::{self, Directive, HostSettings};
use super::trusted_file::TrustedFile;
use super::{
    cloud_init, files, principals, CaKey, HostConfigError, HostConfigRequest, HostFacts, HostFile,
    InstallPaths, PrincipalsPlan, CA_FILE,
};

/// Everything host-config would write, what it merged, and what the operator must know.
#[derive(Debug, Clone, Serialize)]
pub struct HostPlan {
    /// `--etc`: where the files live on the host.
    pub etc: PathBuf,
    /// What the host's sshd does today.
    pub sshd: HostSettings,
    /// The break-glass CAs (from the command line).
    pub breakglass_cas: Vec<CaKey>,
    /// CAs the host already trusted (its online CAs), carried over.
    pub kept_cas: Vec<CaKey>,
    /// The custodian CAs of `--two-person` (empty without it).
    pub custodian_cas: Vec<CaKey>,
    /// The attestation gate's verdict on every CA (break-glass, custodian, kept).
    pub attestation: Verdict,
    /// The two-person account (`None` without `--two-person`).
    pub two_person_user: Option<String>,
    /// The `RevokedKeys` file the drop-in names.
    pub revoked_keys: PathBuf,
    /// True when the host's own KRL stays the `RevokedKeys` file (no new KRL is written).
    pub krl_kept: bool,
    /// Per-user principals.
    pub principals: Vec<PrincipalsPlan>,
    /// `--alert PROGRAM` (`None` without it).
    pub alert: Option<String>,
    /// What was merged, one sentence each.
    pub merged: Vec<String>,
    /// Things the operator must know.
    pub warnings: Vec<String>,
    /// The files, in the order they are shown and written.
    pub files: Vec<HostFile>,
    /// The same files as a `#cloud-config` document for new VMs (`--cloud-init`).
    pub cloud_init: String,
}

impl HostPlan {
    /// The first file of this kind.
    pub fn file(&self, kind: files::FileKind) -> Option<&HostFile> {
        self.files.iter().find(|f| f.kind == kind)
    }
}

/// Works out everything host-config would write: reads the CA files and the host's sshd
/// configuration ([`HostFacts::read`]), then [`plan_from`]. Writes nothing.
pub fn plan(req: &HostConfigRequest) -> Result<HostPlan, HostConfigError> {
    let facts = HostFacts::read(req)?;
    plan_from(req, facts)
}

/// The plan for `req` on a host with these `facts`. Pure: reads and writes nothing.
pub fn plan_from(req: &HostConfigRequest, facts: HostFacts) -> Result<HostPlan, HostConfigError> {
    let HostFacts {
        breakglass_cas,
        custodian_cas,
        attestation,
        settings,
        trusted,
        kept_by_earlier_run,
        revoked_keys_exists,
        principals: existing_principals,
        two_person_user_exists,
        now,
    } = facts;
    let paths = InstallPaths::new(&req.etc);
    let mut notes = Notes::default();
    let kept_cas = keep_host_cas(
        &settings,
        trusted,
        kept_by_earlier_run,
        &breakglass_cas,
        &paths,
        &mut notes,
    );
    let attestation = Verdict::new(attestation, &kept_cas);
    // The unattested CAs first: what the operator must see before anything else.
    let mut warnings = attestation.warnings();
    warnings.extend(settings.in_match.iter().map(in_match_warning));
    warnings.append(&mut notes.warnings);
    notes.warnings = warnings;
    let (revoked_keys, krl_kept) =
        keep_host_krl(&settings, revoked_keys_exists, &paths, &mut notes);
    // Principals: only for the named users, carrying over what they have.
    let principals = principals::merge(
        &req.principals,
        &existing_principals,
        &settings.authorized_principals_file,
        !kept_cas.is_empty(),
        &mut notes.merged,
    );
    if let (true, Some(pattern)) = (
        req.principals.is_empty(),
        &settings.authorized_principals_file.value,
    ) {
        notes.warnings.push(format!(
            "AuthorizedPrincipalsFile {pattern} is set: a break-glass certificate must carry a principal listed there (add one with --principals USER=NAME)"
        ));
    }
    let two_person_user = (!custodian_cas.is_empty()).then(|| req.two_person_user.clone());
    if let (Some(user), false) = (&two_person_user, two_person_user_exists) {
        notes.warnings.push(format!(
            "there is no account {user} here: create it on the host (a login shell, no password, e.g. useradd -m -s /bin/bash -p '*' {user})"
        ));
    }
    let files = plan_files(
        req,
        &Parts {
            paths: &paths,
            breakglass_cas: &breakglass_cas,
            kept_cas: &kept_cas,
            custodian_cas: &custodian_cas,
            two_person_user: two_person_user.as_deref(),
            revoked_keys: &revoked_keys,
            krl_kept,
            principals: &principals,
            attestation: &attestation,
        },
        now,
    )?;
    let cloud_init = cloud_init::render(&files, two_person_user.as_deref(), &attestation);
    Ok(HostPlan {
        etc: req.etc.clone(),
        sshd: settings,
        breakglass_cas,
        kept_cas,
        custodian_cas,
        attestation,
        two_person_user,
        revoked_keys,
        krl_kept,
        principals,
        alert: req.alert.clone(),
        merged: notes.merged,
        warnings: notes.warnings,
        files,
        cloud_init,
    })
}

/// What the plan tells the operator, in the order it was found.
#[derive(Default)]
struct Notes {
    /// What was merged, one sentence each.
    merged: Vec<String>,
    /// What the operator must know.
    warnings: Vec<String>,
}

/// A keyword host-config sets is also set in a `Match` block, which wins there.
fn in_match_warning(d: &Directive) -> String {
    format!(
        "{} line {} sets {} inside a Match block; for the connections it matches, that value replaces this drop-in's",
        d.file.display(),
        d.line,
        sshd_settings::display_keyword(&d.keyword)
    )
}

/// The CA keys the host already trusts (its own `TrustedUserCAKeys` file, then what an earlier
/// run carried over) stay trusted, each once and none that is a break-glass CA.
fn keep_host_cas(
    settings: &HostSettings,
    trusted: Option<TrustedFile>,
    kept_by_earlier_run: Vec<CaKey>,
    breakglass_cas: &[CaKey],
    paths: &InstallPaths,
    notes: &mut Notes,
) -> Vec<CaKey> {
    let mut kept_cas: Vec<CaKey> = Vec::new();
    if let (Some(existing), Some(trusted)) = (&settings.trusted_user_ca_keys.value, trusted) {
        let n = trusted
            .all
            .into_iter()
            .filter(|k| push_unique(&mut kept_cas, k.clone(), breakglass_cas))
            .count();
        notes.merged.push(format!(
            "TrustedUserCAKeys {existing}{}: {n} CA key{} already trusted, kept in {CA_FILE}",
            settings.trusted_user_ca_keys.set_in(),
            plural(n)
        ));
        notes.warnings.extend(trusted.note);
    }
    let n = kept_by_earlier_run
        .into_iter()
        .filter(|k| push_unique(&mut kept_cas, k.clone(), breakglass_cas))
        .count();
    if n > 0 {
        notes.merged.push(format!(
            "{}: {n} CA key{} kept there by an earlier run, kept again",
            paths.ca.display(),
            plural(n)
        ));
    }
    kept_cas
}

/// The `RevokedKeys` file: the host's own when it has one (true), else ours.
fn keep_host_krl(
    settings: &HostSettings,
    exists: bool,
    paths: &InstallPaths,
    notes: &mut Notes,
) -> (PathBuf, bool) {
    let Some(existing) = &settings.revoked_keys.value else {
        return (paths.krl.clone(), false);
    };
    notes.merged.push(format!(
        "RevokedKeys {existing}{}: stays the RevokedKeys file (breakglass revoke --krl {existing} adds to it); no new KRL",
        settings.revoked_keys.set_in()
    ));
    if !exists {
        notes.warnings.push(format!(
            "RevokedKeys {existing} does not exist: sshd refuses every public-key login until it does (an empty file will do)"
        ));
    }
    (PathBuf::from(existing), true)
}

/// What the files are made from.
struct Parts<'a> {
    paths: &'a InstallPaths,
    breakglass_cas: &'a [CaKey],
    kept_cas: &'a [CaKey],
    custodian_cas: &'a [CaKey],
    two_person_user: Option<&'a str>,
    revoked_keys: &'a std::path::Path,
    krl_kept: bool,
    principals: &'a [PrincipalsPlan],
    attestation: &'a Verdict,
}

/// Every file, in the order they are shown and written.
fn plan_files(
    req: &HostConfigRequest,
    p: &Parts,
    now: u64,
) -> Result<Vec<HostFile>, HostConfigError> {
    let mut out = vec![files::ca_keys(p.paths, p.breakglass_cas, p.kept_cas)?];
    if !p.krl_kept {
        out.push(files::krl(p.paths, now));
    }
    let users: Vec<&str> = p.principals.iter().map(|p| p.user.as_str()).collect();
    let two_person_principals = p.two_person_user.map(|u| p.paths.principals_dir.join(u));
    let block =
        p.two_person_user
            .zip(two_person_principals.as_deref())
            .map(|(user, principals)| TwoPersonBlock {
                user,
                custodian_ca: &p.paths.custodian_ca,
                principals,
                gate: &p.paths.gate,
            });
    let drop_in = drop_in::text(p.paths, p.revoked_keys, &users, block.as_ref())?;
    if let Some(user) = p.two_person_user {
        out.extend(files::two_person(
            p.paths,
            user,
            p.custodian_cas,
            req.two_person_log_socket.as_deref(),
        )?);
    }
    out.push(files::drop_in(p.paths, drop_in));
    out.extend(p.principals.iter().map(|u| files::principals(p.paths, u)));
    if let Some(program) = &req.alert {
        let cas: Vec<&CaKey> = p.breakglass_cas.iter().chain(p.custodian_cas).collect();
        out.extend(files::alert(p.paths, program, &cas)?);
    }
    out.extend(files::attestation(p.paths, p.attestation)?);
    Ok(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::super::attestation::{Role, Status};
    use super::super::sshd_settings::{Method, Setting, Source};
    use super::super::FileKind;
    use super::*;

    const A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICy8Ll7d2IlxitXSIxA2WNToo/LkxRto7q/bN2KLcNnc bg";
    const ONLINE: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIILSlXhXcxtaP3MnBQvAajWAigH0E9E16Hd61ZaZXYG9 online";

    fn ca(line: &str, file: &str) -> CaKey {
        CaKey {
            key: ssh_key::PublicKey::from_openssh(line).unwrap(),
            file: file.into(),
            line: 1,
        }
    }

    fn request() -> HostConfigRequest {
        HostConfigRequest {
            ca_files: vec!["bg.pub".into()],
            etc: "/etc/ssh".into(),
            sshd_config: None,
            principals: Vec::new(),
            alert: None,
            two_person: Vec::new(),
            two_person_user: "breakglass".into(),
            two_person_log_socket: None,
            attestation: Default::default(),
        }
    }

    fn set(value: &str, line: usize) -> Setting {
        Setting {
            value: Some(value.into()),
            source: Some(Source {
                file: "/etc/ssh/sshd_config".into(),
                line,
            }),
        }
    }

    /// A host whose sshd trusts an online CA and has a KRL of its own.
    fn facts() -> HostFacts {
        HostFacts {
            breakglass_cas: vec![ca(A, "bg.pub")],
            custodian_cas: Vec::new(),
            attestation: super::super::attestation::GateResult::default(),
            settings: HostSettings {
                config: "/etc/ssh/sshd_config".into(),
                method: Method::SshdT,
                trusted_user_ca_keys: set("/etc/ssh/online.pub", 20),
                revoked_keys: set("/etc/ssh/revoked.krl", 21),
                authorized_principals_file: Setting::default(),
                in_match: Vec::new(),
                notes: Vec::new(),
            },
            trusted: Some(super::super::trusted_file::TrustedFile {
                // The break-glass CA is already there too: it is not kept twice.
                all: vec![
                    ca(ONLINE, "/etc/ssh/online.pub"),
                    ca(A, "/etc/ssh/online.pub"),
                ],
                kept_section: Vec::new(),
                note: None,
            }),
            kept_by_earlier_run: Vec::new(),
            revoked_keys_exists: false,
            principals: Vec::new(),
            two_person_user_exists: false,
            now: 0,
        }
    }

    #[test]
    fn the_online_ca_and_the_hosts_krl_are_carried_over_without_touching_a_disk() {
        let p = plan_from(&request(), facts()).unwrap();
        assert_eq!(p.kept_cas.len(), 1);
        assert_eq!(p.kept_cas[0].comment(), "online");
        assert!(p.krl_kept && p.file(FileKind::Krl).is_none());
        assert_eq!(p.revoked_keys, PathBuf::from("/etc/ssh/revoked.krl"));
        assert_eq!(
            p.merged[0],
            "TrustedUserCAKeys /etc/ssh/online.pub (set in /etc/ssh/sshd_config line 20): 1 CA key already trusted, kept in breakglass_user_ca.pub"
        );
        assert_eq!(
            p.warnings,
            ["RevokedKeys /etc/ssh/revoked.krl does not exist: sshd refuses every public-key login until it does (an empty file will do)"]
        );
        let drop_in = String::from_utf8(p.file(FileKind::DropIn).unwrap().bytes.clone()).unwrap();
        assert!(drop_in.ends_with(
            "TrustedUserCAKeys /etc/ssh/breakglass_user_ca.pub\nRevokedKeys /etc/ssh/revoked.krl\n"
        ));
        let cas = String::from_utf8(p.file(FileKind::CaKeys).unwrap().bytes.clone()).unwrap();
        let keys: Vec<&str> = cas.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(keys, [A, ONLINE]);
        assert!(p.cloud_init.starts_with("#cloud-config\n"));
        // The online CA is exempt from attestation, and listed so (in the verdict file too).
        let kept = &p.attestation.cas[0];
        assert_eq!(
            (kept.role, kept.status, kept.fingerprint.as_str()),
            (
                Role::Kept,
                Status::Exempt,
                p.kept_cas[0].fingerprint().as_str()
            )
        );
        let verdict = p.file(FileKind::AttestationVerdict).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&verdict.bytes).unwrap();
        assert_eq!(v["cas"][0]["status"], "exempt");
        assert_eq!(v["cas"][0]["role"], "kept");
        assert!(p.cloud_init.contains(&format!(
            "# kept CA {}: exempt (merged from the host's TrustedUserCAKeys)\n",
            kept.fingerprint
        )));
    }

    #[test]
    fn a_host_without_settings_gets_a_new_krl_and_an_alert_that_must_be_absolute() {
        let mut f = facts();
        f.settings.trusted_user_ca_keys = Setting::default();
        f.settings.revoked_keys = Setting::default();
        f.trusted = None;
        f.now = 0x0102030405060708;
        let mut req = request();
        req.alert = Some("/usr/local/bin/page".into());
        let p = plan_from(&req, f.clone()).unwrap();
        assert!(p.merged.is_empty() && p.warnings.is_empty());
        let krl = p.file(FileKind::Krl).unwrap();
        assert_eq!(
            krl.install,
            PathBuf::from("/etc/ssh/breakglass_revoked.krl")
        );
        assert!(krl.keep_existing);
        assert_eq!(&krl.bytes[20..28], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let kinds: Vec<FileKind> = p.files.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FileKind::CaKeys,
                FileKind::Krl,
                FileKind::DropIn,
                FileKind::AlertScript,
                FileKind::AlertRule,
                FileKind::AttestationVerdict
            ]
        );
        req.alert = Some("page".into());
        assert!(matches!(plan_from(&req, f), Err(HostConfigError::Alert(_))));
    }
}
