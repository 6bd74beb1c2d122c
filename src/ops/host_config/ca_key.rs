//! A CA public key host-config puts in front of sshd, where it came from, and the reading of the
//! CA files given on the command line (every line validated: sshd stops reading its CA file at
//! the first line it cannot parse, so nothing unvalidated may ever reach it).

use std::path::{Path, PathBuf};

use serde::ser::{Serialize, SerializeStruct, Serializer};
use ssh_key::{Algorithm, HashAlg, PublicKey};

use super::HostConfigError;
use crate::input::ReadError;

/// Bound on a CA file: a few public keys are a few hundred bytes each.
const MAX_CA_FILE: u64 = 1024 * 1024;

/// A CA key and where it came from: what the plan knows about each CA.
#[derive(Debug, Clone)]
pub struct CaKey {
    /// The key.
    pub key: PublicKey,
    /// The file it was read from.
    pub file: PathBuf,
    /// Its 1-based line in that file.
    pub line: usize,
}

impl CaKey {
    /// `SHA256:…`, as sshd logs it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The key's comment (outside text: printed only through the binary's printer).
    pub fn comment(&self) -> String {
        self.key.comment().as_str_lossy().to_string()
    }

    /// The key as one OpenSSH public key line, without a newline.
    pub fn openssh(&self) -> Result<String, HostConfigError> {
        self.key
            .to_openssh()
            .map_err(|e| HostConfigError::Unsupported(format!("cannot encode a key: {e}")))
    }
}

/// `{algorithm, fingerprint, comment, public_key, file, line}`.
impl Serialize for CaKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("CaKey", 6)?;
        st.serialize_field("algorithm", self.key.algorithm().as_str())?;
        st.serialize_field("fingerprint", &self.fingerprint())?;
        st.serialize_field("comment", &self.comment())?;
        st.serialize_field(
            "public_key",
            &self.openssh().map_err(serde::ser::Error::custom)?,
        )?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("line", &self.line)?;
        st.end()
    }
}

/// The key's OpenSSH line with a newline, for a file.
pub(super) fn key_line(key: &CaKey) -> Result<String, HostConfigError> {
    let mut line = key.openssh()?;
    line.push('\n');
    Ok(line)
}

/// Adds `k` to `list` unless `list` or `also_not_in` already holds the same key (comments
/// aside). True when it was added.
pub(super) fn push_unique(list: &mut Vec<CaKey>, k: CaKey, also_not_in: &[CaKey]) -> bool {
    let dup = |x: &CaKey| x.key.key_data() == k.key.key_data();
    if list.iter().any(dup) || also_not_in.iter().any(dup) {
        return false;
    }
    list.push(k);
    true
}

/// The keys of several CA files, each line validated, duplicates dropped.
pub(super) fn read_ca_files(files: &[PathBuf]) -> Result<Vec<CaKey>, HostConfigError> {
    let mut cas = Vec::new();
    for f in files {
        for k in read_ca_file(f)? {
            push_unique(&mut cas, k, &[]);
        }
    }
    Ok(cas)
}

/// Reads a break-glass CA file: every non-blank, non-comment line must be a public key sshd
/// accepts as a CA. Anything else is an error (sshd stops reading its CA file at the first
/// line it cannot parse, so nothing unvalidated may ever reach it).
pub fn read_ca_file(path: &Path) -> Result<Vec<CaKey>, HostConfigError> {
    let bad = |reason: String| HostConfigError::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    // Through the bounded reader: a FIFO or a device is refused at once, never waited on.
    let bytes = match crate::input::read_bounded(path, MAX_CA_FILE) {
        Ok(b) => b,
        Err(ReadError::TooLarge(_)) => {
            return Err(bad("is too large to be a file of public keys".into()))
        }
        Err(ReadError::Io(e)) => return Err(HostConfigError::io("read", path, e)),
        Err(e) => return Err(bad(e.reason())),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("is not text".into()))?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("-----BEGIN") || line.starts_with("breakglass-piv-ca") {
            return Err(bad(
                "is a private key file; pass the CA's public key (the .pub file)".into(),
            ));
        }
        let n = i + 1;
        if line
            .split_whitespace()
            .next()
            .is_some_and(|t| t.contains("-cert-v01@openssh.com"))
        {
            return Err(bad(format!(
                "line {n} is a certificate, not a CA public key"
            )));
        }
        let key = PublicKey::from_openssh(line)
            .map_err(|_| bad(format!("line {n} is not an OpenSSH public key")))?;
        if key.algorithm() == Algorithm::Dsa {
            return Err(bad(format!(
                "line {n} is an ssh-dss key, which sshd 9.2 does not accept as a CA"
            )));
        }
        keys.push(CaKey {
            key,
            file: path.to_path_buf(),
            line: n,
        });
    }
    if keys.is_empty() {
        return Err(bad("holds no public key".into()));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICy8Ll7d2IlxitXSIxA2WNToo/LkxRto7q/bN2KLcNnc a";

    #[test]
    fn every_line_of_a_ca_file_is_a_ca_key_or_the_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.pub");
        std::fs::write(&p, format!("# c\n\n{A}\n")).unwrap();
        let keys = read_ca_file(&p).unwrap();
        assert_eq!((keys.len(), keys[0].line), (1, 3));
        assert_eq!(keys[0].comment(), "a");
        std::fs::write(&p, format!("{A}\nnot a key\n")).unwrap();
        let e = read_ca_file(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("ca.pub: line 2 is not an OpenSSH public key"),
            "{e}"
        );
        std::fs::write(&p, "# only a comment\n").unwrap();
        let e = read_ca_file(&p).unwrap_err().to_string();
        assert!(e.ends_with("holds no public key"), "{e}");
    }

    #[test]
    fn a_fifo_or_a_device_is_refused_at_once_not_waited_on() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("ca.pub");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer ever opens the FIFO: std::fs::read would block here forever.
        let e = read_ca_file(&fifo).unwrap_err().to_string();
        assert!(e.ends_with("ca.pub: is a FIFO, not a regular file"), "{e}");
        let e = read_ca_file(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/dev/zero: is a device, not a regular file");
        let e = read_ca_file(d.path()).unwrap_err().to_string();
        assert!(e.ends_with(": is a directory, not a regular file"), "{e}");
        let big = d.path().join("big.pub");
        std::fs::write(&big, vec![b'#'; 1024 * 1024 + 1]).unwrap();
        let e = read_ca_file(&big).unwrap_err().to_string();
        assert!(
            e.ends_with("big.pub: is too large to be a file of public keys"),
            "{e}"
        );
        let e = read_ca_file(&d.path().join("nope.pub"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("nope.pub: no such file"), "{e}");
    }

    #[test]
    fn the_same_key_twice_is_one_ca_whatever_its_comment() {
        let d = tempfile::tempdir().unwrap();
        let (p, q) = (d.path().join("a.pub"), d.path().join("b.pub"));
        std::fs::write(&p, format!("{A}\n")).unwrap();
        std::fs::write(&q, format!("{}other\n", &A[..A.len() - 1])).unwrap();
        assert_eq!(read_ca_files(&[p, q]).unwrap().len(), 1);
    }

    #[test]
    fn a_ca_key_serialises_its_facts() {
        let k = CaKey {
            key: PublicKey::from_openssh(A).unwrap(),
            file: "ca.pub".into(),
            line: 3,
        };
        let v = serde_json::to_value(&k).unwrap();
        assert_eq!(v["algorithm"], "ssh-ed25519");
        assert_eq!(v["fingerprint"], k.fingerprint());
        assert!(v["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
        assert_eq!(v["comment"], "a");
        assert_eq!(v["public_key"], A);
        assert_eq!(
            (v["file"].as_str(), v["line"].as_u64()),
            (Some("ca.pub"), Some(3))
        );
    }
}
