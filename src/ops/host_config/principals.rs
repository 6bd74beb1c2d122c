//! `--principals USER=NAME[,NAME…]`: which certificate principals may log in as which user, and
//! each user's principals file as it will be, carrying over what the host's own
//! `AuthorizedPrincipalsFile` holds for that user.

use std::path::PathBuf;
use std::process::Command;

use super::sshd_settings::Setting;
use super::{HostConfigError, PRINCIPALS_DIR};

/// One `--principals USER=NAME[,NAME…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalMapping {
    /// The login name.
    pub user: String,
    /// Certificate principals that may log in as `user`.
    pub names: Vec<String>,
}

/// Why a `--principals` value is not a mapping (a mistyped command line). The values are as
/// typed: the binary sanitises them where it prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// No `=`.
    #[error("'{0}' is not USER=NAME[,NAME…]")]
    NotAMapping(String),
    /// The part before `=` is not a plain login name.
    #[error("'{0}' is not a login name (letters, digits, '_', '-', '.')")]
    NotALogin(String),
    /// A name sshd would misread in a principals file.
    #[error("'{0}' is not a principal name (no spaces, control characters or leading '#')")]
    NotAPrincipal(String),
}

impl std::str::FromStr for PrincipalMapping {
    type Err = MappingError;
    fn from_str(s: &str) -> Result<Self, MappingError> {
        let (user, names) = s
            .split_once('=')
            .ok_or_else(|| MappingError::NotAMapping(s.to_string()))?;
        let user_ok = !user.is_empty()
            && !user.starts_with('-')
            && user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !user_ok {
            return Err(MappingError::NotALogin(user.to_string()));
        }
        let names: Vec<String> = names.split(',').map(str::to_string).collect();
        for n in &names {
            let ok = !n.is_empty()
                && !n.starts_with('#')
                && !n
                    .chars()
                    .any(|c| c.is_whitespace() || crate::sanitize::is_dangerous(c));
            if !ok {
                return Err(MappingError::NotAPrincipal(n.clone()));
            }
        }
        Ok(PrincipalMapping {
            user: user.to_string(),
            names,
        })
    }
}

/// The host's own principals file for one user (where `AuthorizedPrincipalsFile` is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPrincipals {
    /// The setting expanded for the user.
    pub file: PathBuf,
    /// Its non-blank lines; `None` when the file does not exist.
    pub lines: Option<Vec<String>>,
}

/// A user's principals file as it will be.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrincipalsPlan {
    /// Login name.
    pub user: String,
    /// Lines carried over (from `kept_from`, or the login itself).
    pub kept: Vec<String>,
    /// The host's file they came from.
    pub kept_from: Option<PathBuf>,
    /// Names added.
    pub added: Vec<String>,
}

/// Reads the host's principals file for `user` (the `AuthorizedPrincipalsFile` `pattern`).
pub(super) fn read_existing(
    pattern: &str,
    user: &str,
) -> Result<ExistingPrincipals, HostConfigError> {
    let file = expand_principals_path(pattern, user)?;
    let lines = match crate::input::read_host_file(&file) {
        Ok(b) => Some(
            String::from_utf8_lossy(&b)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(HostConfigError::io("read", &file, e)),
    };
    Ok(ExistingPrincipals { file, lines })
}

/// Each `--principals` user's file: what the host's file for them holds (`existing`, one per
/// mapping when `setting` is set), or the login itself where the host relies on certificates
/// naming it (`host_has_cas` and no principals file), then the names asked for. Says what it
/// carried over in `merged`.
pub(super) fn merge(
    mappings: &[PrincipalMapping],
    existing: &[Option<ExistingPrincipals>],
    setting: &Setting,
    host_has_cas: bool,
    merged: &mut Vec<String>,
) -> Vec<PrincipalsPlan> {
    let mut plans = Vec::new();
    for (m, existing) in mappings.iter().zip(existing) {
        let mut p = PrincipalsPlan {
            user: m.user.clone(),
            kept: Vec::new(),
            kept_from: None,
            added: Vec::new(),
        };
        let pattern = setting.value.as_deref().unwrap_or_default();
        match existing {
            Some(ExistingPrincipals {
                file,
                lines: Some(lines),
            }) => {
                p.kept = lines.clone();
                merged.push(format!(
                    "AuthorizedPrincipalsFile {pattern}{}: {} line{} of {} kept in {PRINCIPALS_DIR}/{}",
                    setting.set_in(),
                    p.kept.len(),
                    if p.kept.len() == 1 { "" } else { "s" },
                    file.display(),
                    m.user
                ));
                p.kept_from = Some(file.clone());
            }
            Some(ExistingPrincipals { file, lines: None }) => {
                merged.push(format!(
                    "AuthorizedPrincipalsFile {pattern}{}: {} does not exist, nothing to keep for {}",
                    setting.set_in(),
                    file.display(),
                    m.user
                ));
                p.kept_from = Some(file.clone());
            }
            None if host_has_cas => {
                // Without a principals file sshd lets a certificate in when it names the login
                // itself; the host's other CAs may rely on that, so the login stays a principal.
                p.kept = vec![m.user.clone()];
                merged.push(format!(
                    "{PRINCIPALS_DIR}/{}: also lists {} itself, so certificates from the CAs kept above that name the login still work",
                    m.user, m.user
                ));
            }
            None => {}
        }
        for n in &m.names {
            let present = p
                .kept
                .iter()
                .any(|l| l.split_whitespace().last() == Some(n.as_str()));
            if !present && !p.added.contains(n) {
                p.added.push(n.clone());
            }
        }
        plans.push(p);
    }
    plans
}

/// The home directory and uid of `user`, from the system's user database (`getent passwd`).
pub(super) fn lookup_user(user: &str) -> Option<(String, String)> {
    let out = Command::new("getent")
        .arg("passwd")
        .arg(user)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .to_string();
    let f: Vec<&str> = line.split(':').collect();
    (f.len() >= 7).then(|| (f[5].to_string(), f[2].to_string()))
}

/// Expands `%%`, `%u`, `%U`, `%h` in an `AuthorizedPrincipalsFile` value for `user` the way
/// sshd does (`auth2-pubkey.c: authorized_principals_file`, `misc.c: percent_expand`); a relative
/// result is under the home directory.
fn expand_principals_path(pattern: &str, user: &str) -> Result<PathBuf, HostConfigError> {
    let mut db: Option<Option<(String, String)>> = None;
    let mut entry = || -> Result<(String, String), HostConfigError> {
        db.get_or_insert_with(|| lookup_user(user))
            .clone()
            .ok_or_else(|| HostConfigError::UnknownUser {
                user: user.to_string(),
                pattern: pattern.to_string(),
            })
    };
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('u') => out.push_str(user),
            Some('h') => out.push_str(&entry()?.0),
            Some('U') => out.push_str(&entry()?.1),
            _ => {
                return Err(HostConfigError::Unsupported(format!(
                    "AuthorizedPrincipalsFile '{pattern}' uses a token sshd does not know"
                )))
            }
        }
    }
    let p = PathBuf::from(&out);
    if p.is_absolute() {
        Ok(p)
    } else {
        Ok(PathBuf::from(entry()?.0).join(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_mappings_parse_and_refuse_what_sshd_would_misread() {
        let m: PrincipalMapping = "root=bg-root,oncall".parse().unwrap();
        assert_eq!(m.user, "root");
        assert_eq!(m.names, ["bg-root", "oncall"]);
        let e = |s: &str| s.parse::<PrincipalMapping>().unwrap_err();
        assert_eq!(e("root"), MappingError::NotAMapping("root".into()));
        assert_eq!(e("ro ot=x"), MappingError::NotALogin("ro ot".into()));
        assert_eq!(e("root=a b"), MappingError::NotAPrincipal("a b".into()));
        assert_eq!(e("root=#x"), MappingError::NotAPrincipal("#x".into()));
        assert_eq!(e("root=a,,b"), MappingError::NotAPrincipal("".into()));
        assert_eq!(e("root").to_string(), "'root' is not USER=NAME[,NAME…]");
    }

    #[test]
    fn principals_paths_expand_like_sshd() {
        assert_eq!(
            expand_principals_path("/etc/ssh/p/%u-%%", "alice").unwrap(),
            PathBuf::from("/etc/ssh/p/alice-%")
        );
        assert_eq!(
            expand_principals_path("%h/.ssh/principals", "root").unwrap(),
            PathBuf::from("/root/.ssh/principals")
        );
        assert_eq!(
            expand_principals_path(".ssh/p", "root").unwrap(),
            PathBuf::from("/root/.ssh/p")
        );
        assert!(matches!(
            expand_principals_path("%h/p", "no-such-user-here-xyz"),
            Err(HostConfigError::UnknownUser { .. })
        ));
        assert!(matches!(
            expand_principals_path("/p/%x", "root"),
            Err(HostConfigError::Unsupported(_))
        ));
    }

    #[test]
    fn a_users_file_keeps_the_hosts_lines_and_adds_only_what_is_missing() {
        let setting = Setting {
            value: Some("/etc/ssh/p/%u".into()),
            source: None,
        };
        let m: PrincipalMapping = "alice=oncall,bg,bg".parse().unwrap();
        let existing = ExistingPrincipals {
            file: "/etc/ssh/p/alice".into(),
            lines: Some(vec!["alice".into(), "from=\"10.0.0.0/8\" oncall".into()]),
        };
        let mut merged = Vec::new();
        let p = merge(
            std::slice::from_ref(&m),
            &[Some(existing)],
            &setting,
            false,
            &mut merged,
        );
        assert_eq!(p[0].added, ["bg"]);
        assert_eq!(p[0].kept_from, Some(PathBuf::from("/etc/ssh/p/alice")));
        assert_eq!(
            merged,
            ["AuthorizedPrincipalsFile /etc/ssh/p/%u: 2 lines of /etc/ssh/p/alice kept in breakglass_principals/alice"]
        );
        // No principals file on a host with CAs of its own: the login stays a principal.
        let mut merged = Vec::new();
        let p = merge(&[m], &[None], &Setting::default(), true, &mut merged);
        assert_eq!(
            (p[0].kept.clone(), p[0].added.clone()),
            (
                vec!["alice".to_string()],
                vec!["oncall".to_string(), "bg".to_string()]
            )
        );
        assert_eq!(merged.len(), 1);
    }
}
