//! `revoke`: creates or extends an OpenSSH KRL (the file sshd's `RevokedKeys` names) by serial,
//! key id, certificate, key or ssh-keygen spec file, and optionally signs it with a detached
//! SSHSIG (`FILE.sig`, namespace `breakglass-krl`) by one touch of the CA. `list` reads a KRL
//! back. The KRL format itself is [`crate::krl`].
//!
//! Updating an existing KRL is the point of the command (as `ssh-keygen -k -u`), so it needs no
//! `--force`: everything the KRL held is kept, its version is bumped, and the new file replaces
//! the old atomically (temp file in the same directory, fsync, rename) only after the audit entry
//! is on disk. `FILE.sig` is replaced with it: a signature of the old content is worthless.

use crate::diagnostic::Diagnostic;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ssh_key::encoding::Encode;
use ssh_key::public::KeyData;
use ssh_key::{HashAlg, LineEnding, SshSig};

use crate::delivery::atomic::{self, PlannedFile};
use crate::delivery::audit::{self, AuditEntry};
use crate::sanitize::sanitize_bytes;
use crate::ssh::krl::spec::{self, SpecCa, SpecKey};
use crate::ssh::krl::{Krl, KrlError, KrlFile, Revocation, MAX_KRL_BYTES};
use crate::ssh::summary::display_type;
use crate::token::BackendChoice;
use crate::token::CaSource;
use crate::ui::Ui;
use crate::{clock, Error, Result};

/// The SSHSIG namespace of KRL signatures (`ssh-keygen -Y verify -n breakglass-krl`).
pub const SIG_NAMESPACE: &str = "breakglass-krl";

/// What `revoke` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct RevokeRequest {
    /// The KRL to create or extend.
    pub krl: PathBuf,
    /// CA public key: scope of `serials`/`key_ids`/spec `serial:` and `id:` lines; the signer.
    pub ca: Option<PathBuf>,
    /// `N` or `A-B`, as typed.
    pub serials: Vec<String>,
    /// Key ids.
    pub key_ids: Vec<String>,
    /// ssh-keygen spec files; `-` is standard input.
    pub specs: Vec<PathBuf>,
    /// Certificate or public key files (read as spec files, as `ssh-keygen -k` does).
    pub files: Vec<PathBuf>,
    /// Write `FILE.sig` too.
    pub sign: bool,
    /// Token choice for `sign`.
    pub backend: BackendChoice,
    /// Which key when several are connected.
    pub device: Option<String>,
    /// Application to find the CA on the token when there is no CA file.
    pub application: String,
}

/// One revocation as shown to the user (sanitised).
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    /// `serial`, `serials`, `key id`, `key`, `sha1`, `sha256`.
    pub kind: &'static str,
    /// The value: `42`, `100-199`, `"id"`, `ED25519 SHA256:…`.
    pub value: String,
    /// The CA it applies under (fingerprint), `any` for any CA, none for keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// False when the KRL already revoked it.
    pub new: bool,
}

/// What `revoke` did.
#[derive(Debug, Clone, Serialize)]
pub struct RevokeOutcome {
    /// The KRL written.
    pub krl: PathBuf,
    /// True when it did not exist before.
    pub created: bool,
    /// Its new `krl_version` (a string: JSON readers round u64).
    #[serde(serialize_with = "as_string")]
    pub krl_version: u64,
    /// Its size in bytes.
    #[serde(serialize_with = "as_string")]
    pub size: u64,
    /// Revocations asked for, in order (the first [`SHOWN_MAX`]).
    pub revoked: Vec<Shown>,
    /// How many were asked for in all.
    #[serde(serialize_with = "as_string")]
    pub requested: u64,
    /// How many of them the KRL did not hold before.
    #[serde(serialize_with = "as_string")]
    pub new: u64,
    /// The detached signature written, with `sign`.
    pub signature: Option<PathBuf>,
}

/// The most revocations listed in an outcome (a spec of 100,000 serials is summarised).
pub const SHOWN_MAX: usize = 50;

fn as_string<S: serde::Serializer>(v: &u64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

fn krl_err(path: &Path, error: KrlError) -> Error {
    Error::Krl {
        path: path.to_path_buf(),
        error,
    }
}

/// The `FILE.sig` path for a KRL.
pub fn sig_path(krl: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sig", krl.display()))
}

/// Reads a public key file for `--ca`: any OpenSSH public key type (a KRL may revoke under any
/// CA, e.g. the host's online CA), with a precise reason when it is not one.
pub fn read_public_key(path: &Path) -> Result<KeyData> {
    let err = |reason: &str| Error::CaFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let bytes = match crate::input::read_bounded(path, 64 * 1024) {
        Ok(b) => b,
        Err(crate::input::ReadError::Io(e)) => return Err(Error::io("read", path, e)),
        Err(e) => return Err(err(&e.reason())),
    };
    let line = bytes
        .split(|&b| b == b'\n')
        .map(spec::trim_line)
        .find(|l| !l.is_empty())
        .unwrap_or(b"");
    if line.is_empty() {
        return Err(err("is empty"));
    }
    if line.starts_with(b"-----BEGIN") {
        return Err(err(
            "is a private key file; pass the CA's public key (the .pub file)",
        ));
    }
    match spec::read_key(line) {
        Ok(SpecKey::Plain(k)) => Ok(k),
        Ok(SpecKey::Cert(_)) => Err(err("is a certificate, not a CA public key")),
        Err(_) => Err(err("is not an OpenSSH public key")),
    }
}

/// Reads a KRL file; a missing file is `None`. Bounded: never reads more than the KRL limit, and
/// a FIFO, a device or a directory is refused at once (never waited on or read without end).
pub fn read_krl(path: &Path) -> Result<Option<Krl>> {
    match read_krl_file(path)? {
        Some(f) => f.to_krl().map(Some).map_err(|e| krl_err(path, e)),
        None => Ok(None),
    }
}

/// [`read_krl`], kept as read: the file's bytes and offsets into them (memory in proportion to
/// the file, whatever it holds).
pub fn read_krl_file(path: &Path) -> Result<Option<KrlFile>> {
    use crate::input::ReadError;
    let mut data = match crate::input::read_bounded(path, MAX_KRL_BYTES as u64) {
        Ok(d) => d,
        Err(ReadError::NotFound) => return Ok(None),
        Err(ReadError::NotRegular(kind)) => return Err(krl_err(path, KrlError::NotAFile(kind))),
        Err(ReadError::TooLarge(max)) => {
            let len = std::fs::metadata(path).map_or(max + 1, |m| m.len().max(max + 1));
            return Err(krl_err(path, KrlError::TooLarge(len as usize)));
        }
        Err(ReadError::Io(e)) => return Err(Error::io("read", path, e)),
    };
    // A KRL holds no secret: the bytes leave the zeroizing buffer rather than being copied.
    KrlFile::parse(std::mem::take(&mut *data))
        .map(Some)
        .map_err(|e| krl_err(path, e))
}

fn ca_label(ca: Option<&[u8]>) -> String {
    match ca {
        None => "any".into(),
        Some(blob) => describe_key(blob),
    }
}

/// `TYPE SHA256:…` for a key blob, or the SHA-256 of bytes that do not parse as a key.
pub fn describe_key(blob: &[u8]) -> String {
    use ssh_key::encoding::Decode;
    let mut r = blob;
    match KeyData::decode(&mut r) {
        Ok(k) if r.is_empty() => format!(
            "{} {}",
            display_type(&k.algorithm(), false),
            k.fingerprint(HashAlg::Sha256)
        ),
        _ => {
            use sha2::Digest;
            format!(
                "unparsable key SHA256:{}",
                crate::ssh::krl::base64_unpadded(&sha2::Sha256::digest(blob))
            )
        }
    }
}

fn show(r: &Revocation, new: bool) -> Shown {
    let (kind, value, ca) = match r {
        Revocation::Serials { ca, lo, hi } if lo == hi => {
            ("serial", lo.to_string(), Some(ca_label(ca.as_deref())))
        }
        Revocation::Serials { ca, lo, hi } => (
            "serials",
            format!("{lo}-{hi}"),
            Some(ca_label(ca.as_deref())),
        ),
        Revocation::KeyId { ca, id } => (
            "key id",
            format!("\"{}\"", sanitize_bytes(id).replace('"', "\\\"")),
            Some(ca_label(ca.as_deref())),
        ),
        Revocation::Key(blob) => ("key", describe_key(blob), None),
        Revocation::Sha1(h) => (
            "sha1",
            format!("SHA1:{}", crate::ssh::krl::base64_unpadded(h)),
            None,
        ),
        Revocation::Sha256(h) => (
            "sha256",
            format!("SHA256:{}", crate::ssh::krl::base64_unpadded(h)),
            None,
        ),
    };
    Shown {
        kind,
        value,
        ca,
        new,
    }
}

/// Collects what was added, for the outcome and the audit log.
#[derive(Default)]
struct Tally {
    shown: Vec<Shown>,
    requested: u64,
    new: u64,
    single_serial: Option<u64>,
    single_id: Option<String>,
}

impl Tally {
    fn add(&mut self, krl: &mut Krl, r: Revocation) -> std::result::Result<(), KrlError> {
        self.requested += 1;
        if self.requested == 1 {
            match &r {
                Revocation::Serials { lo, hi, .. } if lo == hi => self.single_serial = Some(*lo),
                Revocation::KeyId { id, .. } => {
                    self.single_id = Some(String::from_utf8_lossy(id).into_owned())
                }
                _ => {}
            }
        } else {
            self.single_serial = None;
            self.single_id = None;
        }
        let shown = (self.shown.len() < SHOWN_MAX).then(|| r.clone());
        let new = krl.revoke(r)?;
        self.new += new as u64;
        if let Some(r) = shown {
            self.shown.push(show(&r, new));
        }
        Ok(())
    }
}

/// Parses a `--serial` value with the spec rules (`N` or `A-B`, `0x` hex, `0` octal; not 0).
pub fn parse_serial_arg(v: &str) -> Result<(u64, u64)> {
    let bad = |reason: &str| Error::BadSerial {
        value: v.to_string(),
        reason: reason.to_string(),
    };
    if v.contains(['#', '\n', '\0']) {
        return Err(bad("not a serial number or range (N or A-B)"));
    }
    match spec::parse_line(format!("serial: {v}").as_bytes(), SpecCa::Any) {
        Ok(Some(Revocation::Serials { lo, hi, .. })) => Ok((lo, hi)),
        Err(spec::LineError::Invalid(m)) => Err(bad(&m)),
        _ => Err(bad("not a serial number or range (N or A-B)")),
    }
}

/// Creates or extends the KRL, records the audit entry, then replaces the file (and writes
/// `FILE.sig` with `sign`). Nothing is written unless every input was valid.
pub fn revoke(req: &RevokeRequest, ui: &mut dyn Ui) -> Result<RevokeOutcome> {
    if req.serials.is_empty()
        && req.key_ids.is_empty()
        && req.specs.is_empty()
        && req.files.is_empty()
    {
        return Err(Error::NothingToRevoke);
    }
    if req.ca.is_none() {
        if !req.serials.is_empty() {
            return Err(Error::RevokeNeedsCa { what: "serials" });
        }
        if !req.key_ids.is_empty() {
            return Err(Error::RevokeNeedsCa { what: "key ids" });
        }
    }
    if req.specs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Error::StdinTwice);
    }
    let serials = req
        .serials
        .iter()
        .map(|s| parse_serial_arg(s))
        .collect::<Result<Vec<_>>>()?;
    for id in &req.key_ids {
        if id.contains('\0') {
            return Err(Error::ControlCharacters { what: "--key-id" });
        }
    }
    let ca_key = match &req.ca {
        Some(p) => Some(read_public_key(p)?),
        None => None,
    };
    let ca_blob = match &ca_key {
        Some(k) => Some(k.encode_vec().map_err(ssh_key::Error::from)?),
        None => None,
    };
    // Read first: a FIFO, a device or a directory at --krl is named as what it is.
    let existing = read_krl(&req.krl)?;
    atomic::preflight(&[&req.krl], true)?;
    // FILE.sig is checked before the touch: a directory there would fail only after signing.
    if req.sign {
        let sig = sig_path(&req.krl);
        atomic::preflight(&[&sig], true).map_err(|e| match e {
            atomic::AtomicError::IsDirectory(p) => Error::SignatureIsDirectory(p),
            e => e.into(),
        })?;
    }
    let created = existing.is_none();
    let mut krl = existing.unwrap_or_default();
    let mut tally = Tally::default();

    let add = |tally: &mut Tally, krl: &mut Krl, r: Revocation| {
        tally.add(krl, r).map_err(|e| krl_err(&req.krl, e))
    };
    for (lo, hi) in serials {
        add(
            &mut tally,
            &mut krl,
            Revocation::Serials {
                ca: ca_blob.as_deref().map(Into::into),
                lo,
                hi,
            },
        )?;
    }
    for id in &req.key_ids {
        add(
            &mut tally,
            &mut krl,
            Revocation::KeyId {
                ca: ca_blob.as_deref().map(Into::into),
                id: id.as_bytes().to_vec(),
            },
        )?;
    }
    let spec_ca = match &ca_blob {
        Some(b) => SpecCa::Key(b),
        None => SpecCa::Missing,
    };
    for path in req.specs.iter().chain(&req.files) {
        let is_stdin = path.as_os_str() == "-" && req.specs.contains(path);
        let source = if is_stdin {
            "(standard input)".to_string()
        } else {
            path.display().to_string()
        };
        let sink = |r: Revocation| tally.add(&mut krl, r);
        let parsed = if is_stdin {
            spec::parse(std::io::stdin().lock(), &source, spec_ca, sink)
        } else {
            let f = std::fs::File::open(path).map_err(|e| {
                let error = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    _ => e.to_string(),
                };
                krl_err(
                    path,
                    KrlError::SpecRead {
                        source: source.clone(),
                        error,
                    },
                )
            })?;
            spec::parse(BufReader::new(f), &source, spec_ca, sink)
        };
        parsed.map_err(|e| krl_err(path, e))?;
    }

    let now = clock::now();
    // Never wrap to 0: hosts install only a greater version (deploy/ansible).
    krl.krl_version = krl
        .krl_version
        .checked_add(1)
        .ok_or_else(|| krl_err(&req.krl, KrlError::VersionExhausted))?;
    krl.generated_date = now;
    let bytes = krl.encode();

    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;
    let mut entry = AuditEntry::new("revoke");
    entry.ca_fingerprint = ca_key
        .as_ref()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string());
    entry.serial = tally.single_serial;
    entry.key_id = tally.single_id.clone();
    entry.detail = Some(audit_detail(&req.krl, &krl, &tally, req.sign));

    let result = sign_and_write(req, &bytes, &mut entry, &audit_path, ui);
    // A failure after a touch is recorded (the token was used); others leave no trace.
    if let Err(e) = &result {
        if req.sign && !matches!(e, Error::Audit { .. }) {
            entry.result = format!("failed: {}", e.kind());
            let _ = audit::append(&audit_path, &entry); // the original error matters more
        }
    }
    let signature = result?;
    Ok(RevokeOutcome {
        krl: req.krl.clone(),
        created,
        krl_version: krl.krl_version,
        size: bytes.len() as u64,
        revoked: tally.shown,
        requested: tally.requested,
        new: tally.new,
        signature,
    })
}

fn sign_and_write(
    req: &RevokeRequest,
    bytes: &[u8],
    entry: &mut AuditEntry,
    audit_path: &Path,
    ui: &mut dyn Ui,
) -> Result<Option<PathBuf>> {
    let mut files = vec![PlannedFile::public(&req.krl, bytes.to_vec())];
    let mut signature = None;
    if req.sign {
        let sig = sign_krl(req, bytes, ui)?;
        entry.ca_fingerprint = Some(sig.1);
        let path = sig_path(&req.krl);
        files.push(PlannedFile::public(&path, sig.0.into_bytes()));
        signature = Some(path);
    }
    let mut staged = atomic::stage(&files, true)?;
    // The audit entry is durable before the KRL is replaced; if it cannot be written, the staged
    // files are dropped (removed) and the old KRL stays. The new KRL's data is synced beside
    // the audit entry's barrier (one wait, not two): it is not in place until the commit.
    let (synced, appended) = std::thread::scope(|s| {
        let sync = std::thread::Builder::new().spawn_scoped(s, || staged.sync_data());
        let appended = audit::append(audit_path, entry);
        let synced = match sync {
            Ok(h) => h.join().unwrap_or(Ok(())),
            Err(_) => Ok(()), // no thread: the commit syncs the data itself
        };
        (synced, appended)
    });
    appended?;
    synced?;
    staged.commit()?;
    Ok(signature)
}

/// An SSHSIG over `bytes` by the CA on the token (one touch): the PEM text and the CA fingerprint.
fn sign_krl(req: &RevokeRequest, bytes: &[u8], ui: &mut dyn Ui) -> Result<(String, String)> {
    let source = CaSource::choose(req.ca.as_deref(), &req.application);
    let expected = source.expected()?;
    let token = crate::token::open(
        req.backend,
        req.device.as_deref(),
        match (&source, &expected) {
            (CaSource::File(p), Some(k)) => Some((p.as_path(), k)),
            _ => None,
        },
    )?;
    let mut signer = token.find_ca(&source, expected.as_ref(), ui)?;
    let public = signer.public_key().key_data().clone();
    let msg = SshSig::signed_data(SIG_NAMESPACE, HashAlg::Sha512, bytes)?;
    let signature = signer.sign(&msg, ui)?;
    let sig = SshSig::new(public.clone(), SIG_NAMESPACE, HashAlg::Sha512, signature)?;
    {
        use signature::Verifier;
        if public.verify(&msg, sig.signature()).is_err() {
            return Err(Error::SignatureInvalid);
        }
    }
    Ok((
        sig.to_pem(LineEnding::LF)?,
        public.fingerprint(HashAlg::Sha256).to_string(),
    ))
}

fn audit_detail(path: &Path, krl: &Krl, tally: &Tally, signed: bool) -> String {
    let mut items: Vec<String> = tally
        .shown
        .iter()
        .take(10)
        .map(|s| match &s.ca {
            Some(ca) => format!("{} {} (CA {ca})", s.kind, s.value),
            None => format!("{} {}", s.kind, s.value),
        })
        .collect();
    if tally.requested > items.len() as u64 {
        items.push(format!("and {} more", tally.requested - items.len() as u64));
    }
    format!(
        "{} version {}: {} new of {} requested: {}{}",
        path.display(),
        krl.krl_version,
        tally.new,
        tally.requested,
        items.join(", "),
        if signed { "; signed" } else { "" }
    )
}

/// What a KRL revokes, for `revoke --list`: the file as read, listed while it is printed (a
/// hostile KRL lists in memory proportional to its size, #23 §5). As JSON: `file`,
/// `krl_version`, `generated_date` (strings), `generated`, `comment`, `cas` (each `ca`,
/// `serials` as `{from, to}`, `key_ids`), `keys`, `sha256`, `sha1`; text from the KRL sanitised.
#[derive(Debug)]
pub struct KrlListing {
    /// The file.
    pub file: PathBuf,
    /// What it holds.
    pub krl: KrlFile,
}

/// One line of a listing, as [`KrlListing::lines`] yields them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedItem {
    /// A CA's section starts: `TYPE SHA256:…` or `any`.
    Ca(String),
    /// Serials `from..=to` under the last CA.
    Serials(u64, u64),
    /// A key id under the last CA (sanitised).
    KeyId(String),
    /// An explicitly revoked key (`TYPE SHA256:…`).
    Key(String),
    /// A fingerprint, `SHA256:…` or `SHA1:…`.
    Fingerprint(String),
}

impl KrlListing {
    /// The generation date as UTC text.
    pub fn generated(&self) -> String {
        crate::ssh::validity::format_time_utc(self.krl.generated_date)
    }

    /// The comment, sanitised.
    pub fn comment(&self) -> String {
        sanitize_bytes(self.krl.comment())
    }

    /// Everything it revokes, in listing order, one item at a time.
    pub fn items(&self) -> impl Iterator<Item = ListedItem> + '_ {
        let k = &self.krl;
        let certs = k.cas().enumerate().flat_map(move |(i, ca)| {
            std::iter::once(ListedItem::Ca(ca_label(ca)))
                .chain(k.serials(i).map(|(lo, hi)| ListedItem::Serials(lo, hi)))
                .chain(k.key_ids(i).map(|id| ListedItem::KeyId(sanitize_bytes(id))))
        });
        certs
            .chain(k.keys().map(|b| ListedItem::Key(describe_key(b))))
            .chain(k.sha256().map(|h| ListedItem::Fingerprint(sha256_text(h))))
            .chain(k.sha1().map(|h| ListedItem::Fingerprint(sha1_text(h))))
    }
}

fn sha256_text(h: &[u8]) -> String {
    format!("SHA256:{}", crate::ssh::krl::base64_unpadded(h))
}

fn sha1_text(h: &[u8]) -> String {
    format!("SHA1:{}", crate::ssh::krl::base64_unpadded(h))
}

/// A sequence serialised as it is produced (never collected).
struct Streamed<F>(F);

impl<I, F> Serialize for Streamed<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
struct SerialRange {
    #[serde(serialize_with = "as_string")]
    from: u64,
    #[serde(serialize_with = "as_string")]
    to: u64,
}

impl Serialize for KrlListing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let k = &self.krl;
        let mut st = s.serialize_struct("KrlListing", 9)?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("krl_version", &k.krl_version.to_string())?;
        st.serialize_field("generated_date", &k.generated_date.to_string())?;
        st.serialize_field("generated", &self.generated())?;
        st.serialize_field("comment", &self.comment())?;
        st.serialize_field(
            "cas",
            &Streamed(|| {
                k.cas().enumerate().map(move |(i, ca)| CaListing {
                    ca: ca_label(ca),
                    krl: k,
                    index: i,
                })
            }),
        )?;
        st.serialize_field("keys", &Streamed(|| k.keys().map(describe_key)))?;
        st.serialize_field("sha256", &Streamed(|| k.sha256().map(sha256_text)))?;
        st.serialize_field("sha1", &Streamed(|| k.sha1().map(sha1_text)))?;
        st.end()
    }
}

/// Certificates revoked under one CA, serialised as `{ca, serials, key_ids}`.
struct CaListing<'a> {
    ca: String,
    krl: &'a KrlFile,
    index: usize,
}

impl Serialize for CaListing<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (k, i) = (self.krl, self.index);
        let mut st = s.serialize_struct("CaListing", 3)?;
        st.serialize_field("ca", &self.ca)?;
        st.serialize_field(
            "serials",
            &Streamed(|| k.serials(i).map(|(from, to)| SerialRange { from, to })),
        )?;
        st.serialize_field("key_ids", &Streamed(|| k.key_ids(i).map(sanitize_bytes)))?;
        st.end()
    }
}

/// Reads a KRL to list what it revokes.
pub fn list(path: &Path) -> Result<KrlListing> {
    let krl = read_krl_file(path)?.ok_or_else(|| Error::BadFile {
        path: path.to_path_buf(),
        reason: "no such file".into(),
    })?;
    Ok(KrlListing {
        file: path.to_path_buf(),
        krl,
    })
}
