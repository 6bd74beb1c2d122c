//! `host-config --known-hosts PATTERN`: `@cert-authority PATTERN KEY` lines for clients'
//! known_hosts (host certificates signed by these CAs are then trusted for hosts matching
//! PATTERN). Needs only the CA files, not a host's sshd configuration.

use std::path::PathBuf;

use super::{CaKey, HostConfigError};

/// The known_hosts lines and the CAs they name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KnownHosts {
    /// The host pattern.
    pub pattern: String,
    /// The CAs, from the files given.
    pub cas: Vec<CaKey>,
    /// One `@cert-authority PATTERN KEY` line per CA.
    pub lines: Vec<String>,
}

/// Reads the CA files (every line validated) and makes a line per CA for hosts matching
/// `pattern`.
pub fn known_hosts(ca_files: &[PathBuf], pattern: &str) -> Result<KnownHosts, HostConfigError> {
    let cas = read_ca_files_keeping_duplicates(ca_files)?;
    if pattern.is_empty()
        || pattern
            .chars()
            .any(|c| c.is_whitespace() || crate::sanitize::is_dangerous(c) || c == '#')
    {
        return Err(HostConfigError::Pattern(pattern.to_string()));
    }
    let lines = cas
        .iter()
        .map(|k| Ok(format!("@cert-authority {pattern} {}", k.openssh()?)))
        .collect::<Result<_, HostConfigError>>()?;
    Ok(KnownHosts {
        pattern: pattern.to_string(),
        cas,
        lines,
    })
}

/// Every key of every file, in order (a key given twice gets two lines, as before).
fn read_ca_files_keeping_duplicates(files: &[PathBuf]) -> Result<Vec<CaKey>, HostConfigError> {
    let mut cas = Vec::new();
    for f in files {
        cas.extend(super::read_ca_file(f)?);
    }
    Ok(cas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_that_would_break_the_line_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.pub");
        let a =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICy8Ll7d2IlxitXSIxA2WNToo/LkxRto7q/bN2KLcNnc a";
        std::fs::write(&p, format!("{a}\n")).unwrap();
        let k = known_hosts(std::slice::from_ref(&p), "*.example.com").unwrap();
        assert_eq!(k.lines, [format!("@cert-authority *.example.com {a}")]);
        for bad in ["", "a b", "a#b", "a\nb"] {
            assert!(
                matches!(
                    known_hosts(std::slice::from_ref(&p), bad),
                    Err(HostConfigError::Pattern(_))
                ),
                "{bad:?}"
            );
        }
    }
}
