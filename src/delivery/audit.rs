//! The audit log: one JSON object per line, appended and fsync'd before anything it records is
//! released, each line carrying the SHA-256 of the line before it (`prev`), so a removed or edited
//! line breaks the chain (`breakglass log --verify`). Never a key or a PIN in it.

use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{hex, paths, Error, Result};

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// UTC time, RFC 3339.
    pub time: String,
    /// Operator login name.
    pub operator: String,
    /// Host name.
    pub host: String,
    /// `init-ca`, `mint`, `send`, `receive`.
    pub action: String,
    /// `ok` or `failed: <kind>`.
    pub result: String,
    /// Backend used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// CA fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_fingerprint: Option<String>,
    /// Certified key fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_fingerprint: Option<String>,
    /// Certificate serial (a JSON string; old logs hold a number).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::json_u64::option"
    )]
    pub serial: Option<u64>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Principals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    /// valid_after (a JSON string; old logs hold a number).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::json_u64::option"
    )]
    pub valid_after: Option<u64>,
    /// valid_before (a JSON string; old logs hold a number).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::json_u64::option"
    )]
    pub valid_before: Option<u64>,
    /// Why (`--reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Files written (paths), or the wormhole nameplate for send/receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// SHA-256 (hex) of the previous line.
    #[serde(default)]
    pub prev: String,
}

impl AuditEntry {
    /// A new entry stamped with now, the operator and the host.
    pub fn new(action: &str) -> Self {
        let now = crate::clock::now();
        AuditEntry {
            time: crate::ssh::validity::format_time_utc(now),
            operator: paths::operator(),
            host: paths::hostname(),
            action: action.into(),
            result: "ok".into(),
            ..Default::default()
        }
    }
}

fn audit_err(path: &Path, source: std::io::Error) -> Error {
    Error::Audit {
        path: path.to_path_buf(),
        source,
    }
}

/// Appends `entry` to the log at `path` (created 0600, parent created 0700 if missing when it
/// is the default location), chains it, and fsyncs before returning.
pub fn append(path: &Path, entry: &AuditEntry) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists()
            && path == paths::audit_log()
            && std::env::var_os("BREAKGLASS_AUDIT_LOG").is_none()
        {
            use std::os::unix::fs::DirBuilderExt;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| audit_err(path, e))?;
        }
    }
    let mut f = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| audit_err(path, e))?;
    f.lock().map_err(|e| audit_err(path, e))?;
    let mut existing = Vec::new();
    f.seek(SeekFrom::Start(0)).map_err(|e| audit_err(path, e))?;
    f.read_to_end(&mut existing)
        .map_err(|e| audit_err(path, e))?;
    let prev = match existing.split(|b| *b == b'\n').rfind(|l| !l.is_empty()) {
        Some(last) => hex::encode(&Sha256::digest(last)),
        None => GENESIS.to_string(),
    };
    let mut e = entry.clone();
    e.prev = prev;
    let mut line =
        serde_json::to_vec(&e).map_err(|err| audit_err(path, std::io::Error::other(err)))?;
    if !existing.is_empty() && existing.last() != Some(&b'\n') {
        line.insert(0, b'\n');
    }
    line.push(b'\n');
    f.write_all(&line).map_err(|e| audit_err(path, e))?;
    f.sync_all().map_err(|e| audit_err(path, e))?;
    Ok(())
}

/// Checks the log can be appended to, without writing (so a mint fails before the touch).
pub fn preflight(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.exists() => {
            if path == paths::audit_log() && std::env::var_os("BREAKGLASS_AUDIT_LOG").is_none() {
                return Ok(()); // append() creates the default directory
            }
            Err(audit_err(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "its directory does not exist"),
            ))
        }
        _ => {
            if path.exists() {
                OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map(|_| ())
                    .map_err(|e| audit_err(path, e))
            } else {
                Ok(())
            }
        }
    }
}

/// Reads every entry; a line that does not parse is an error naming its number.
pub fn read(path: &Path) -> Result<Vec<AuditEntry>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::AuditDamaged {
                path: path.to_path_buf(),
                line: i + 1,
                reason: format!("not a JSON entry ({e})"),
            })
        })
        .collect()
}

/// Verifies the hash chain; returns the number of entries.
pub fn verify(path: &Path) -> Result<usize> {
    let text = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let mut prev = GENESIS.to_string();
    let mut n = 0;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let e: AuditEntry = serde_json::from_slice(line).map_err(|err| Error::AuditDamaged {
            path: path.to_path_buf(),
            line: i + 1,
            reason: format!("not a JSON entry ({err})"),
        })?;
        if e.prev != prev {
            return Err(Error::AuditDamaged {
                path: path.to_path_buf(),
                line: i + 1,
                reason: "the hash chain is broken (a line before it was changed or removed)".into(),
            });
        }
        prev = hex::encode(&Sha256::digest(line));
        n += 1;
    }
    Ok(n)
}

/// The default log path (for messages).
pub fn default_path() -> PathBuf {
    paths::audit_log()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_chain_and_tampering_is_detected() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        for i in 0..3 {
            let mut e = AuditEntry::new("mint");
            e.serial = Some(i);
            append(&p, &e).unwrap();
        }
        assert_eq!(verify(&p).unwrap(), 3);
        assert_eq!(read(&p).unwrap().len(), 3);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = fs::read_to_string(&p).unwrap();
        let tampered = text.replacen("\"serial\":\"1\"", "\"serial\":\"7\"", 1);
        fs::write(&p, tampered).unwrap();
        let err = verify(&p).unwrap_err();
        assert!(matches!(err, Error::AuditDamaged { line: 3, .. }), "{err}");
    }

    #[test]
    fn a_missing_directory_fails_preflight() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("nope/audit.jsonl");
        assert!(matches!(preflight(&p), Err(Error::Audit { .. })));
    }
}
