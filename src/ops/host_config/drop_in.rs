//! The sshd_config drop-in host-config writes (`sshd_config.d/00-breakglass.conf`), and what may
//! be written into it: `--etc` and every path it names must read back as the same one argument.

use std::path::Path;

use super::{two_person, HostConfigError, InstallPaths};

/// The two-person account's block: the account and where its files go on the host.
pub(super) struct TwoPersonBlock<'a> {
    /// The account.
    pub user: &'a str,
    /// Its CA file (the custodians' CAs only).
    pub custodian_ca: &'a Path,
    /// Its principals file.
    pub principals: &'a Path,
    /// The gate (its `ForceCommand`).
    pub gate: &'a Path,
}

/// The drop-in: the CA file and the `RevokedKeys` file for everyone, the principals directory
/// for the `--principals` users, and the two-person account's own block.
pub(super) fn text(
    paths: &InstallPaths,
    revoked_keys: &Path,
    principal_users: &[&str],
    two_person: Option<&TwoPersonBlock>,
) -> Result<String, HostConfigError> {
    let mut drop_in = format!(
        "# Written by breakglass host-config. sshd keeps the first value it reads and reads\n\
         # sshd_config.d/*.conf in name order, so this file is named 00- to come first; it carries\n\
         # every CA and the KRL the host had before.\n\
         TrustedUserCAKeys {}\n\
         RevokedKeys {}\n",
        sshd_arg(&paths.ca)?,
        sshd_arg(revoked_keys)?,
    );
    if !principal_users.is_empty() {
        drop_in.push_str(&format!(
            "# Only for these users; everyone else keeps the host's own setting.\nMatch User {}\n    AuthorizedPrincipalsFile {}\n",
            principal_users.join(","),
            sshd_arg(&paths.principals_dir.join("%u"))?
        ));
    }
    if let Some(b) = two_person {
        drop_in.push_str(&two_person::match_block(
            b.user,
            &sshd_arg(b.custodian_ca)?,
            &sshd_arg(b.principals)?,
            &sshd_arg(b.gate)?,
        ));
    }
    Ok(drop_in)
}

/// The first draft of the drop-in that the order check reads: only the keywords it sets
/// globally matter there.
pub(super) fn draft(paths: &InstallPaths) -> String {
    format!(
        "TrustedUserCAKeys {}\nRevokedKeys {}\n",
        paths.ca.display(),
        paths.krl.display()
    )
}

/// A path as an sshd_config argument: bare when plain, double-quoted when it has spaces.
fn sshd_arg(path: &Path) -> Result<String, HostConfigError> {
    let s = path.display().to_string();
    if s.chars()
        .any(|c| crate::sanitize::is_dangerous(c) || c == '"' || c == '\\')
    {
        return Err(HostConfigError::Unsupported(format!(
            "the path '{s}' cannot be written into sshd_config"
        )));
    }
    if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '#' || c == '\'') {
        Ok(format!("\"{s}\""))
    } else {
        Ok(s)
    }
}

/// Checks `--etc`: an absolute path that sshd_config, sh and `%` expansion all read as itself.
pub(super) fn check_etc(etc: &Path) -> Result<(), HostConfigError> {
    let s = etc.to_string_lossy();
    let ok = etc.is_absolute()
        && !s.chars().any(|c| {
            c.is_whitespace()
                || crate::sanitize::is_dangerous(c)
                || matches!(c, '"' | '\'' | '\\' | '#' | '%' | '*' | '?' | '[')
        });
    if ok {
        Ok(())
    } else {
        Err(HostConfigError::BadEtc(etc.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_bare_or_quoted_and_never_broken() {
        assert_eq!(sshd_arg(Path::new("/etc/ssh/ca")).unwrap(), "/etc/ssh/ca");
        assert_eq!(
            sshd_arg(Path::new("/etc/my ssh/ca")).unwrap(),
            "\"/etc/my ssh/ca\""
        );
        assert_eq!(sshd_arg(Path::new("/a#b")).unwrap(), "\"/a#b\"");
        for bad in ["/a\"b", "/a\\b", "/a\nb", "/a\u{202e}b"] {
            assert!(
                matches!(
                    sshd_arg(Path::new(bad)),
                    Err(HostConfigError::Unsupported(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn etc_must_be_plain_and_absolute() {
        assert!(check_etc(Path::new("/etc/ssh")).is_ok());
        for bad in ["etc/ssh", "/etc/my ssh", "/etc/%u", "/etc/*", "/e\x1bc"] {
            assert!(check_etc(Path::new(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_drop_in_sets_the_globals_then_the_match_blocks() {
        let paths = InstallPaths::new(Path::new("/etc/ssh"));
        let t = text(
            &paths,
            Path::new("/etc/ssh/revoked.krl"),
            &["root", "alice"],
            None,
        )
        .unwrap();
        let settings: Vec<&str> = t.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            settings,
            [
                "TrustedUserCAKeys /etc/ssh/breakglass_user_ca.pub",
                "RevokedKeys /etc/ssh/revoked.krl",
                "Match User root,alice",
                "    AuthorizedPrincipalsFile /etc/ssh/breakglass_principals/%u",
            ]
        );
    }
}
