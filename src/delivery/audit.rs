//! The audit log: one JSON object per line, appended and fsync'd before anything it records is
//! released, each line carrying the SHA-256 of the line before it (`prev`) and its number in the
//! log (`seq`), so a removed or edited line breaks the chain (`breakglass log --verify`). Never a
//! key or a PIN in it.
//!
//! What the chain alone cannot see is a cut *end* (the last lines deleted, or the file rewritten
//! from some line on with a recomputed chain). Two anchors outside the file catch that: every
//! entry for a signature records the security key's signature counter (compared with the key's
//! current counter by `log --verify`), and the default key id of every certificate carries the
//! chain head it was minted on, so the hosts' sshd logs hold an independent copy.
//!
//! Numbers that can exceed 2^53 (serials, times, counters) are written as JSON *strings*, because
//! jq and JavaScript round larger numbers; logs written before that hold plain numbers and are
//! read as well.
//!
//! Appending reads only the tail of the log (the last complete line), never the whole file. A
//! write that fails (a full disk) is truncated back, so no fragment is left; a fragment left by a
//! crash in an earlier run is reported as such, and never chained onto.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{hex, paths, Error, Result};

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest line we read; longer ones are damage (an entry is well under 4 KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// One audit record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// UTC time, RFC 3339, stamped when the entry is appended (so entries are in time order).
    pub time: String,
    /// Operator login name.
    pub operator: String,
    /// Host name.
    pub host: String,
    /// `init-ca`, `mint`, `send`, `receive`, …
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
    /// The security key's signature counter in the CA signature (FIDO2 and the simulator).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::json_u64::option"
    )]
    pub counter: Option<u64>,
    /// Why (`--reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Files written (paths), or the wormhole nameplate for send/receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The entry's number in the log, from 1 (absent in logs written before it existed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::json_u64::option"
    )]
    pub seq: Option<u64>,
    /// SHA-256 (hex) of the previous line.
    #[serde(default)]
    pub prev: String,
}

impl AuditEntry {
    /// A new entry for `action`, by the operator on this host.
    pub fn new(action: &str) -> Self {
        AuditEntry {
            time: crate::ssh::validity::format_time_utc(crate::clock::now()),
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

/// Where the log ends: the hash of its last complete line and the number of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// SHA-256 (hex) of the last complete line, or [`GENESIS`] for an empty log.
    pub hash: String,
    /// Entries in the log (the last entry's `seq`).
    pub entries: u64,
}

impl Head {
    /// The short form that goes into default key ids: `log:` and 12 hex digits of the head hash,
    /// `#` and the entry count.
    pub fn short(&self) -> String {
        format!("log:{}#{}", &self.hash[..12], self.entries)
    }
}

/// Reads the head of the log at `path` without reading the whole file (an empty head when
/// there is no log yet).
pub fn head(path: &Path) -> Result<Head> {
    match File::open(path) {
        Ok(mut f) => tail(&mut f, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Head {
            hash: GENESIS.into(),
            entries: 0,
        }),
        Err(e) => Err(audit_err(path, e)),
    }
}

/// The last complete line of `f`: read backwards in blocks until a full line is found. A
/// fragment after the last newline (a crash in an earlier run) is ignored.
fn last_line(f: &mut File, path: &Path) -> Result<Option<Vec<u8>>> {
    let len = f.seek(SeekFrom::End(0)).map_err(|e| audit_err(path, e))?;
    let mut block = 4096u64;
    loop {
        let start = len.saturating_sub(block);
        f.seek(SeekFrom::Start(start))
            .map_err(|e| audit_err(path, e))?;
        let mut buf = Vec::new();
        Read::by_ref(f)
            .take(len - start)
            .read_to_end(&mut buf)
            .map_err(|e| audit_err(path, e))?;
        // Cut any fragment after the last newline; then the line before it.
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
            if start == 0 {
                return Ok(None); // no complete line at all
            }
            block *= 2;
            continue;
        };
        let complete = &buf[..end];
        match complete.iter().rposition(|b| *b == b'\n') {
            Some(i) => return Ok(Some(complete[i + 1..].to_vec())),
            None if start == 0 => return Ok(Some(complete.to_vec())),
            None if block as usize > 2 * MAX_LINE => {
                return Err(Error::AuditDamaged {
                    path: path.to_path_buf(),
                    line: 0,
                    reason: format!("its last line is longer than {MAX_LINE} bytes"),
                })
            }
            None => block *= 2,
        }
    }
}

fn tail(f: &mut File, path: &Path) -> Result<Head> {
    let Some(line) = last_line(f, path)? else {
        return Ok(Head {
            hash: GENESIS.into(),
            entries: 0,
        });
    };
    let hash = hex::encode(&Sha256::digest(&line));
    let entries = match serde_json::from_slice::<AuditEntry>(&line)
        .ok()
        .and_then(|e| e.seq)
    {
        Some(n) => n,
        // A log from before `seq`: count its lines once (later entries carry the number).
        None => count_entries(path)?,
    };
    Ok(Head { hash, entries })
}

fn count_entries(path: &Path) -> Result<u64> {
    let mut n = 0;
    for_each_line(path, |_, line| {
        if serde_json::from_slice::<AuditEntry>(line).is_ok() {
            n += 1;
        }
        Ok(())
    })?;
    Ok(n)
}

/// Appends `entry` to the log at `path` (created 0600, parent created 0700 if missing when it
/// is the default location), stamps its time, number and chain link, and fsyncs before
/// returning. On failure the file is truncated back to where it was.
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
    let len = f.metadata().map_err(|e| audit_err(path, e))?.len();
    let head = tail(&mut f, path)?;
    let ends_clean = len == 0 || {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1))
            .and_then(|_| f.read_exact(&mut last))
            .map_err(|e| audit_err(path, e))?;
        last[0] == b'\n'
    };
    let mut e = entry.clone();
    e.time = crate::ssh::validity::format_time_utc(crate::clock::now());
    e.prev = head.hash;
    e.seq = Some(head.entries + 1);
    let mut line =
        serde_json::to_vec(&e).map_err(|err| audit_err(path, std::io::Error::other(err)))?;
    if !ends_clean {
        // A fragment from a crash stays as evidence, on its own line; the chain skips it.
        line.insert(0, b'\n');
    }
    line.push(b'\n');
    let written = fault_point("audit-append")
        .and_then(|()| f.write_all(&line))
        .and_then(|()| f.sync_data());
    if let Err(err) = written {
        // Never leave a partial line behind (we hold the lock): back to where we started.
        let _ = f.set_len(len).and_then(|()| f.sync_data());
        return Err(audit_err(path, err));
    }
    Ok(())
}

/// A fault-injection hook for the crash and full-disk tests: in debug builds,
/// `BREAKGLASS_FAULT=NAME` makes the step NAME fail as a full disk would. Release builds ignore
/// it.
pub(crate) fn fault_point(name: &str) -> std::io::Result<()> {
    let injected = cfg!(debug_assertions)
        && (std::env::var("BREAKGLASS_FAULT").is_ok_and(|v| v == name)
            || FAULT.with(|f| f.get() == Some(name)));
    if injected {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

thread_local! {
    /// The same hook for unit tests, per thread (tests run in parallel threads).
    static FAULT: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
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

/// Calls `f(line_number, line)` for every non-empty line, reading line by line with a bound
/// per line (a missing log has no lines).
fn for_each_line(path: &Path, mut f: impl FnMut(usize, &[u8]) -> Result<()>) -> Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let mut r = BufReader::new(file);
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        let got = r
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("read", path, e))?;
        if got == 0 {
            return Ok(());
        }
        n += 1;
        if line.len() > MAX_LINE {
            return Err(Error::AuditDamaged {
                path: path.to_path_buf(),
                line: n,
                reason: format!("the line is longer than {MAX_LINE} bytes"),
            });
        }
        let complete = line.last() == Some(&b'\n');
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        if !body.is_empty() {
            if !complete {
                // The last line, unfinished: a crash or a full disk during an earlier append.
                return f(n, body).or(Ok(()));
            }
            f(n, body)?;
        }
    }
}

/// Reads every entry; a line that does not parse is an error naming its number, except a
/// fragment an interrupted write left (reported by [`verify`]).
pub fn read(path: &Path) -> Result<Vec<AuditEntry>> {
    let mut out = Vec::new();
    for_each_line(path, |n, line| {
        match serde_json::from_slice(line) {
            Ok(e) => out.push(e),
            Err(_) if is_fragment(line) => {}
            Err(e) => {
                return Err(Error::AuditDamaged {
                    path: path.to_path_buf(),
                    line: n,
                    reason: format!("not a JSON entry ({e})"),
                })
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// A line an interrupted append left: the start of a JSON object that never ended.
fn is_fragment(line: &[u8]) -> bool {
    line.starts_with(b"{\"time\":") && !line.ends_with(b"}")
}

/// What `log --verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Entries in the chain.
    #[serde(with = "crate::json_u64")]
    pub entries: u64,
    /// SHA-256 (hex) of the last line: write it down with the count.
    pub head: String,
    /// The highest signature counter an entry records, if any.
    #[serde(with = "crate::json_u64::option")]
    pub last_counter: Option<u64>,
    /// Lines left unfinished by a crash or a full disk (their numbers).
    pub fragments: Vec<usize>,
}

/// Verifies the hash chain line by line.
pub fn verify(path: &Path) -> Result<Verified> {
    let mut prev = GENESIS.to_string();
    let mut v = Verified {
        entries: 0,
        head: GENESIS.into(),
        last_counter: None,
        fragments: Vec::new(),
    };
    if !path.exists() {
        return Err(Error::io(
            "read",
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    for_each_line(path, |n, line| {
        let e: AuditEntry = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(_) if is_fragment(line) => {
                v.fragments.push(n);
                return Ok(());
            }
            Err(err) => {
                return Err(Error::AuditDamaged {
                    path: path.to_path_buf(),
                    line: n,
                    reason: format!("not a JSON entry ({err})"),
                })
            }
        };
        if e.prev != prev {
            return Err(Error::AuditDamaged {
                path: path.to_path_buf(),
                line: n,
                reason: "the hash chain is broken (a line before it was changed or removed)".into(),
            });
        }
        v.entries += 1;
        if e.seq.is_some_and(|s| s != v.entries) {
            return Err(Error::AuditDamaged {
                path: path.to_path_buf(),
                line: n,
                reason: format!(
                    "the entry says it is number {}, but it is number {}",
                    e.seq.unwrap_or_default(),
                    v.entries
                ),
            });
        }
        if let Some(c) = e.counter {
            v.last_counter = Some(v.last_counter.map_or(c, |l| l.max(c)));
        }
        prev = hex::encode(&Sha256::digest(line));
        Ok(())
    })?;
    v.head = prev;
    Ok(v)
}

/// The highest signature counter the log records for the CA `fingerprint`; entries that name no
/// CA count for every CA (logs written before entries named one).
pub fn last_counter_of(path: &Path, fingerprint: &str) -> Result<Option<u64>> {
    Ok(read(path)?
        .iter()
        .filter(|e| e.ca_fingerprint.as_deref().is_none_or(|f| f == fingerprint))
        .filter_map(|e| e.counter)
        .max())
}

/// The default log path (for messages).
pub fn default_path() -> PathBuf {
    paths::audit_log()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(serial: u64) -> AuditEntry {
        let mut e = AuditEntry::new("mint");
        e.serial = Some(serial);
        e
    }

    #[test]
    fn entries_chain_and_tampering_is_detected() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        for i in 0..3 {
            append(&p, &entry(i)).unwrap();
        }
        let v = verify(&p).unwrap();
        assert_eq!(v.entries, 3);
        assert_eq!(head(&p).unwrap().hash, v.head);
        assert_eq!(read(&p).unwrap().len(), 3);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = fs::read_to_string(&p).unwrap();
        let tampered = text.replacen("\"serial\":\"1\"", "\"serial\":\"7\"", 1);
        assert_ne!(text, tampered);
        fs::write(&p, tampered).unwrap();
        let err = verify(&p).unwrap_err();
        assert!(matches!(err, Error::AuditDamaged { line: 3, .. }), "{err}");
    }

    #[test]
    fn big_serials_are_strings_and_old_numeric_logs_still_read() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        append(&p, &entry(15729956150294075776)).unwrap();
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("\"serial\":\"15729956150294075776\""),
            "{text}"
        );
        let old = format!(
            "{{\"time\":\"t\",\"operator\":\"o\",\"host\":\"h\",\"action\":\"mint\",\"result\":\"ok\",\"serial\":15729956150294075776,\"prev\":\"{GENESIS}\"}}\n"
        );
        let q = d.path().join("old.jsonl");
        fs::write(&q, old).unwrap();
        assert_eq!(read(&q).unwrap()[0].serial, Some(15729956150294075776));
        assert_eq!(verify(&q).unwrap().entries, 1);
        // The next append numbers on from the old lines.
        append(&q, &entry(1)).unwrap();
        assert_eq!(read(&q).unwrap()[1].seq, Some(2));
        assert_eq!(verify(&q).unwrap().entries, 2);
    }

    #[test]
    fn a_fragment_from_a_crash_is_reported_and_never_chained_onto() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        append(&p, &entry(1)).unwrap();
        let before = verify(&p).unwrap();
        // What a crash mid-write leaves: the start of an entry, no newline.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"time\":\"2026-11-27T0").unwrap();
        drop(f);
        assert_eq!(head(&p).unwrap().hash, before.head);
        append(&p, &entry(2)).unwrap();
        let v = verify(&p).unwrap();
        assert_eq!(v.entries, 2);
        assert_eq!(v.fragments, vec![2]);
        assert_eq!(read(&p).unwrap().len(), 2);
    }

    #[test]
    fn a_failed_append_leaves_the_log_as_it_was() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        append(&p, &entry(1)).unwrap();
        let before = fs::read(&p).unwrap();
        // A full disk, through the fault hook.
        FAULT.with(|f| f.set(Some("audit-append")));
        let r = append(&p, &entry(2));
        FAULT.with(|f| f.set(None));
        assert!(matches!(r, Err(Error::Audit { .. })), "{r:?}");
        assert_eq!(fs::read(&p).unwrap(), before);
        assert_eq!(verify(&p).unwrap().entries, 1);
    }

    #[test]
    fn appending_reads_only_the_tail() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        for i in 0..200 {
            append(&p, &entry(i)).unwrap();
        }
        let h = head(&p).unwrap();
        assert_eq!(h.entries, 200);
        assert_eq!(h.short().len(), "log:".len() + 12 + "#200".len());
        assert_eq!(verify(&p).unwrap().head, h.hash);
    }

    #[test]
    fn a_missing_directory_fails_preflight() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("nope/audit.jsonl");
        assert!(matches!(preflight(&p), Err(Error::Audit { .. })));
    }
}
