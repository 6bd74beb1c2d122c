//! An existing `TrustedUserCAKeys` file read the way sshd reads it: every key up to the first
//! line it cannot parse (sshd's scan stops there too, REFERENCE.md §10), so host-config carries
//! over exactly the CAs the host trusts today.

use std::path::Path;

use ssh_key::PublicKey;

use super::{CaKey, HostConfigError};

/// The line that starts the section of CA keys the host trusted before breakglass; on a later run
/// the keys after it are carried over again (the host's own source may no longer name them).
pub(super) const KEPT_MARKER: &str = "# Already trusted by this host before breakglass";

/// What an existing `TrustedUserCAKeys` file holds, as sshd reads it.
#[derive(Debug, Clone, Default)]
pub struct TrustedFile {
    /// Every key sshd trusts from it.
    pub all: Vec<CaKey>,
    /// The keys after [`KEPT_MARKER`] (carried over by an earlier run).
    pub kept_section: Vec<CaKey>,
    /// What was not carried over, and why.
    pub note: Option<String>,
}

/// The CA keys sshd trusts from an existing `TrustedUserCAKeys` file: every key up to the first
/// line it cannot parse. Also returns a note on what was not carried over, and which keys follow
/// [`KEPT_MARKER`].
pub(super) fn read_trusted_file(path: &Path) -> Result<TrustedFile, HostConfigError> {
    let text = match crate::input::read_host_file(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(TrustedFile {
                note: Some(format!(
                    "{} does not exist, so sshd trusts no CA from it; nothing to carry over",
                    path.display()
                )),
                ..TrustedFile::default()
            })
        }
        Err(e) => return Err(HostConfigError::io("read", path, e)),
    };
    let mut t = TrustedFile::default();
    let mut marker = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with(KEPT_MARKER) {
            marker = true;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match PublicKey::from_openssh(line) {
            Ok(key) if !line.contains("-cert-v01@openssh.com") => {
                let k = CaKey {
                    key,
                    file: path.to_path_buf(),
                    line: i + 1,
                };
                if marker {
                    t.kept_section.push(k.clone());
                }
                t.all.push(k);
            }
            _ => {
                t.note = Some(format!(
                    "{} line {} is not a public key; sshd stops reading there, so it and any line after it were not trusted and are not carried over",
                    path.display(),
                    i + 1
                ));
                break;
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICy8Ll7d2IlxitXSIxA2WNToo/LkxRto7q/bN2KLcNnc a";

    #[test]
    fn the_hosts_files_are_never_waited_on_a_fifo_is_refused_at_once() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("trusted");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer ever opens the FIFO: std::fs::read would block here forever.
        let e = read_trusted_file(&fifo).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "could not read {}: is a FIFO, not a regular file",
                fifo.display()
            )
        );
        // The sshd configuration (and so every Include) goes through the same reader.
        let e = crate::ops::host_config::sshd_settings::parse_tree(&fifo, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a FIFO, not a regular file"), "{e}");
    }

    #[test]
    fn a_trusted_ca_file_is_read_like_sshd_up_to_the_first_bad_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.pub");
        std::fs::write(&p, format!("# c\n\n{A}\ngarbage\n{A}\n")).unwrap();
        let t = read_trusted_file(&p).unwrap();
        assert_eq!(t.all.len(), 1);
        assert!(t.note.unwrap().contains("line 4 is not a public key"));
        let t = read_trusted_file(&d.path().join("missing")).unwrap();
        assert!(t.all.is_empty() && t.note.unwrap().contains("does not exist"));
    }

    #[test]
    fn only_the_keys_after_the_marker_are_the_kept_section() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.pub");
        let b = A.replace("ICy8", "ICy9");
        std::fs::write(
            &p,
            format!("{A}\n{KEPT_MARKER} (kept by host-config):\n{b}\n"),
        )
        .unwrap();
        let t = read_trusted_file(&p).unwrap();
        assert_eq!(t.all.len(), 2);
        assert_eq!(t.kept_section.len(), 1);
        assert_eq!(t.kept_section[0].line, 3);
        assert!(t.note.is_none());
    }
}
