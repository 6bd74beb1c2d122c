//! Making a kit: every file is copied (and hashed) into a temporary directory beside the target,
//! the manifest is signed by the CA with one touch, the audit entry is made durable, and only
//! then does the directory get its name (`rename(2)`, never over an existing kit without
//! `--force`). A failure at any step leaves nothing but what was there before.

use crate::diagnostic::Diagnostic;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use ssh_key::{HashAlg, LineEnding, PublicKey, SshSig};

use super::manifest::{self, fingerprint};
use super::{KitError, ALLOWED_SIGNERS, BINARY, KIT_MD, NAMESPACE, RUNBOOK_DIR, SUMS, SUMS_SIG};
use crate::delivery::audit::{self, AuditEntry};
use crate::runbooks::RUNBOOKS;
use crate::ssh::keyfile;
use crate::token::{self, BackendChoice, CaSigner, CaSource};
use crate::ui::Ui;
use crate::{Error, Result};

/// What `kit DIR` is asked to do.
#[derive(Debug, Clone)]
pub struct KitRequest {
    /// The kit directory to create.
    pub dir: PathBuf,
    /// The CA public keys (`--ca`, at least one); the first signs the kit.
    pub cas: Vec<PathBuf>,
    /// An inventory of hosts for the fleet drill (`--hosts`).
    pub hosts: Option<PathBuf>,
    /// The program copied into the kit (the running binary).
    pub binary: PathBuf,
    /// Replace an existing kit directory.
    pub force: bool,
    /// Which token holds the signing CA.
    pub backend: BackendChoice,
    /// Which key, when several are connected.
    pub device: Option<String>,
}

/// One file of a made kit.
#[derive(Debug, Clone, Serialize)]
pub struct KitFile {
    /// Its path inside the kit.
    pub name: String,
    /// SHA-256 of its contents (hex), as in `SHA256SUMS`.
    pub sha256: String,
    /// What it is for (KIT.md's table).
    pub what: String,
}

/// What `kit DIR` made.
#[derive(Debug, Clone, Serialize)]
pub struct KitOutcome {
    /// The kit directory.
    pub dir: PathBuf,
    /// Every file `SHA256SUMS` lists, then `SHA256SUMS` and its signature.
    pub files: Vec<KitFile>,
    /// The signing CA's fingerprint.
    pub signer: String,
    /// Its `allowed_signers` principal (`ssh-keygen -Y verify -I`).
    pub identity: String,
    /// The signing CA is on the simulated key.
    pub simulated: bool,
    /// An existing kit was replaced (`--force`).
    pub replaced: bool,
    /// The key's signature counter after signing (FIDO2 and the simulator).
    #[serde(with = "crate::json_u64::option")]
    pub counter: Option<u64>,
}

/// A CA named with `--ca`: its public key and the files that go with it.
struct Ca {
    key: PublicKey,
    /// The `.pub` file's name without `.pub`: the CA's name in the kit.
    name: String,
    /// (source, name in the kit, mode, what).
    files: Vec<(PathBuf, String, u32, String)>,
}

fn file_name(p: &Path) -> Result<String> {
    p.file_name()
        .and_then(|n| n.to_str())
        .filter(|n| manifest::valid_name(n))
        .map(str::to_string)
        .ok_or_else(|| Error::BadFile {
            path: p.to_path_buf(),
            reason: "has no file name a kit can hold".into(),
        })
}

fn read_ca(path: &Path) -> Result<Ca> {
    let key = keyfile::read_ca_public(path)?;
    let pub_name = file_name(path)?;
    let name = pub_name
        .strip_suffix(".pub")
        .filter(|s| !s.is_empty())
        .unwrap_or(&pub_name)
        .to_string();
    let fp = fingerprint(&key);
    let mut files = vec![(
        path.to_path_buf(),
        pub_name.clone(),
        0o644,
        format!("CA public key {fp}: what the hosts trust (TrustedUserCAKeys); `--ca {pub_name}`"),
    )];
    if let Some(handle) = keyfile::key_handle_path_for(path).filter(|p| p.is_file()) {
        let what = if keyfile::PivReference::beside(path).is_some() {
            "which YubiKey and PIV slot hold the CA (nothing secret)"
        } else {
            "key handle: how the security key finds the CA (nothing secret without the key)"
        };
        files.push((handle.clone(), file_name(&handle)?, 0o600, what.into()));
    }
    let attest = path.with_file_name(format!("{name}.attest"));
    if attest.is_file() {
        files.push((
            attest,
            format!("{name}.attest"),
            0o644,
            format!(
                "the CA's attestation: the key it was born in (`breakglass ca verify {pub_name}`)"
            ),
        ));
    }
    Ok(Ca { key, name, files })
}

/// Makes the kit `req.dir`, signed by the first `--ca` with one touch.
pub fn assemble(req: &KitRequest, ui: &mut dyn Ui) -> Result<KitOutcome> {
    let cas = req
        .cas
        .iter()
        .map(|p| read_ca(p))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = cas.first() else {
        return Err(Error::CaFile {
            path: PathBuf::from("--ca"),
            reason: "no CA given".into(),
        });
    };
    let mut taken: Vec<String> = [BINARY, KIT_MD, ALLOWED_SIGNERS, SUMS, SUMS_SIG, RUNBOOK_DIR]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut claim = |name: &str| -> Result<()> {
        if taken.iter().any(|t| t == name) {
            return Err(KitError::NameClash(name.to_string()).into());
        }
        taken.push(name.to_string());
        Ok(())
    };
    for ca in &cas {
        for (_, name, _, _) in &ca.files {
            claim(name)?;
        }
    }
    let hosts = match &req.hosts {
        Some(p) => {
            let name = file_name(p)?;
            claim(&name)?;
            if !p.is_file() {
                return Err(Error::BadFile {
                    path: p.clone(),
                    reason: if p.exists() {
                        "is not a regular file (give the inventory file itself)".into()
                    } else {
                        "no such file".into()
                    },
                });
            }
            Some((p.clone(), name))
        }
        None => None,
    };

    let parent = match req.dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(crate::delivery::atomic::AtomicError::DirMissing(parent).into());
    }
    let exists = std::fs::symlink_metadata(&req.dir).is_ok();
    if exists && !req.force {
        return Err(KitError::Exists(req.dir.clone()).into());
    }
    let audit_path = audit::default_path();
    audit::preflight(&audit_path)?;

    // The token first: a missing key or a wrong CA is told before megabytes are copied.
    let ca_path = &req.cas[0];
    let source = CaSource::File(ca_path.clone());
    let token = token::open(
        req.backend,
        req.device.as_deref(),
        Some((ca_path, &first.key)),
    )?;
    let simulated = token.is_simulated();
    let mut signer = token.find_ca(&source, Some(&first.key), ui)?;

    let mut entry = AuditEntry::new("kit");
    entry.backend = Some(
        req.backend
            .0
            .map(|b| b.to_string())
            .unwrap_or_else(|| "auto".into()),
    );
    entry.ca_fingerprint = Some(fingerprint(&first.key));
    entry.detail = Some(req.dir.display().to_string());
    let result = build(
        req,
        &cas,
        hosts,
        &parent,
        exists,
        simulated,
        signer.as_mut(),
        &mut entry,
        &audit_path,
        ui,
    );
    if let Err(e) = &result {
        if entry.counter.is_some() && !matches!(e, Error::Audit { .. }) {
            // The key signed (its counter moved): the log says so even though no kit was made.
            entry.result = format!("failed: {}", e.kind());
            let _ = audit::append(&audit_path, &entry); // the original error matters more
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn build(
    req: &KitRequest,
    cas: &[Ca],
    hosts: Option<(PathBuf, String)>,
    parent: &Path,
    exists: bool,
    simulated: bool,
    signer: &mut dyn CaSigner,
    entry: &mut AuditEntry,
    audit_path: &Path,
    ui: &mut dyn Ui,
) -> Result<KitOutcome> {
    let base = req
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kit".into());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{base}.tmp-"))
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a directory in", parent, e))?;
    let root = tmp.path();
    let mut files: Vec<KitFile> = Vec::new();
    let mut copy = |src: &Path, name: &str, mode: u32, what: String| -> Result<()> {
        let sha256 = copy_hashed(src, &root.join(name), mode)?;
        files.push(KitFile {
            name: name.to_string(),
            sha256,
            what,
        });
        Ok(())
    };
    copy(
        &req.binary,
        BINARY,
        0o755,
        format!(
            "breakglass {} for {} {} (needs only the C library): `./breakglass --version --verbose` prints its SHA-256",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
    )?;
    for ca in cas {
        for (src, name, mode, what) in &ca.files {
            copy(src, name, *mode, what.clone())?;
        }
    }
    if let Some((src, name)) = &hosts {
        copy(
            src,
            name,
            0o644,
            "the hosts for the fleet drill (Ansible inventory)".into(),
        )?;
    }
    let dir = root.join(RUNBOOK_DIR);
    std::fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
    set_mode(&dir, 0o755)?;
    for r in RUNBOOKS {
        let name = format!("{RUNBOOK_DIR}/{}.md", r.name);
        let sha256 = write_new(&root.join(&name), r.text.as_bytes(), 0o644)?;
        files.push(KitFile {
            name,
            sha256,
            what: format!("runbook: {}", r.summary),
        });
    }

    let signer_ca = &cas[0];
    let identity = manifest::principal(&signer_ca.name);
    let signers: String = cas
        .iter()
        .map(|c| manifest::allowed_signers_line(&c.name, &c.key))
        .collect::<Result<_>>()?;
    let sha256 = write_new(&root.join(ALLOWED_SIGNERS), signers.as_bytes(), 0o644)?;
    files.push(KitFile {
        name: ALLOWED_SIGNERS.into(),
        sha256,
        what: "the CAs that may sign this kit, for `ssh-keygen -Y verify -f allowed_signers`"
            .into(),
    });
    let kit_md = kit_md(cas, &identity, simulated, &files);
    let sha256 = write_new(&root.join(KIT_MD), kit_md.as_bytes(), 0o644)?;
    files.push(KitFile {
        name: KIT_MD.into(),
        sha256,
        what: "this page".into(),
    });

    let entries: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.name.clone(), f.sha256.clone()))
        .collect();
    let sums = manifest::sums_text(&entries);
    let sig = sign(signer, sums.as_bytes(), ui)?;
    entry.counter = crate::ssh::sk::sk_flags_counter(sig.signature()).map(|(_, c)| u64::from(c));
    let pem = sig.to_pem(LineEnding::LF)?;
    let sums_hash = write_new(&root.join(SUMS), sums.as_bytes(), 0o644)?;
    let sig_hash = write_new(&root.join(SUMS_SIG), pem.as_bytes(), 0o644)?;
    files.push(KitFile {
        name: SUMS.into(),
        sha256: sums_hash.clone(),
        what: "the SHA-256 of every file above (`sha256sum -c SHA256SUMS`)".into(),
    });
    files.push(KitFile {
        name: SUMS_SIG.into(),
        sha256: sig_hash,
        what: "the CA's signature over SHA256SUMS (SSHSIG, namespace breakglass-kit)".into(),
    });
    sync_dir(&dir)?;
    set_mode(root, 0o755)?;
    sync_dir(root)?;

    // The audit entry is durable before the kit has its name.
    entry.detail = Some(format!(
        "{}: {} files, SHA256SUMS sha256 {sums_hash}",
        req.dir.display(),
        entries.len()
    ));
    audit::append(audit_path, entry)?;
    let tmp_path = tmp.keep();
    place(&tmp_path, &req.dir, exists, parent).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&tmp_path);
    })?;
    Ok(KitOutcome {
        dir: req.dir.clone(),
        files,
        signer: fingerprint(&signer_ca.key),
        identity,
        simulated,
        replaced: exists,
        counter: entry.counter,
    })
}

/// An SSHSIG over `msg` by the CA (one touch), checked before it is used.
fn sign(signer: &mut dyn CaSigner, msg: &[u8], ui: &mut dyn Ui) -> Result<SshSig> {
    let public = signer.public_key().key_data().clone();
    let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, msg)?;
    let signature = signer.sign(&data, ui)?;
    let sig = SshSig::new(public, NAMESPACE, HashAlg::Sha512, signature)?;
    PublicKey::from(sig.public_key().clone())
        .verify(NAMESPACE, msg, &sig)
        .map_err(|_| Error::SignatureInvalid)?;
    Ok(sig)
}

fn kit_md(cas: &[Ca], identity: &str, simulated: bool, files: &[KitFile]) -> String {
    let signer = &cas[0];
    let fp = fingerprint(&signer.key);
    let pub_name = &signer.files[0].1;
    let mut s = String::from("# breakglass emergency kit\n\n");
    if simulated {
        s.push_str("**SIMULATED CA: for practice only. Hosts must never trust it.**\n\n");
    }
    s.push_str(&format!(
        "Made {} by {}@{} with breakglass {}, signed by the CA {fp} ({pub_name}).\n\n",
        crate::ssh::validity::format_time_utc(crate::clock::now()),
        crate::paths::operator(),
        crate::paths::hostname(),
        env!("CARGO_PKG_VERSION"),
    ));
    s.push_str(&format!(
        "## Check it before you trust it\n\n\
         Compare the CA fingerprint with the one your hosts trust (`ssh-keygen -lf` on their\n\
         TrustedUserCAKeys file), then:\n\n\
         ```\n\
         ./breakglass kit --verify . --ca-fingerprint {fp}\n\
         ```\n\n\
         Or with coreutils and OpenSSH alone:\n\n\
         ```\n\
         sha256sum -c SHA256SUMS\n\
         ssh-keygen -Y verify -f allowed_signers -I {identity} -n {NAMESPACE} -s SHA256SUMS.sig < SHA256SUMS\n\
         ```\n\n\
         `./breakglass --version --verbose` prints the program's SHA-256; SHA256SUMS has the same.\n\n"
    ));
    s.push_str(&format!(
        "## In an incident\n\n\
         Mint outside the kit (a file added to it fails the check), from inside it:\n\n\
         ```\n\
         KIT=\"$PWD\"; mkdir -p ~/breakglass && cd ~/breakglass\n\
         \"$KIT/breakglass\" mint -n LOGIN --ca \"$KIT/{pub_name}\" --reason \"INC-…: why\"\n\
         ssh -i emergency LOGIN@HOST\n\
         ```\n\n\
         The whole procedure: `runbooks/incident.md` (or `./breakglass runbook incident`).\n\n\
         ## What each file is for\n\n\
         | file | what |\n| --- | --- |\n"
    ));
    for f in files {
        s.push_str(&format!(
            "| `{}` | {} |\n",
            f.name,
            f.what.replace('|', "\\|")
        ));
    }
    s.push_str(&format!(
        "| `{KIT_MD}` | this page |\n\
         | `{SUMS}` | the SHA-256 of every file above (`sha256sum -c {SUMS}`) |\n\
         | `{SUMS_SIG}` | the CA's signature over {SUMS} (SSHSIG, namespace {NAMESPACE}) |\n"
    ));
    s
}

/// Copies `src` to the new file `dst` (mode `mode` from the first byte), returning its SHA-256.
fn copy_hashed(src: &Path, dst: &Path, mode: u32) -> Result<String> {
    let mut from = File::open(src).map_err(|e| Error::io("read", src, e))?;
    let mut to = create_new(dst, mode)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = from.read(&mut buf).map_err(|e| Error::io("read", src, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        to.write_all(&buf[..n])
            .map_err(|e| Error::io("write", dst, e))?;
    }
    to.sync_all().map_err(|e| Error::io("write", dst, e))?;
    Ok(crate::hex::encode(&h.finalize()))
}

fn write_new(dst: &Path, bytes: &[u8], mode: u32) -> Result<String> {
    let mut f = create_new(dst, mode)?;
    f.write_all(bytes).map_err(|e| Error::io("write", dst, e))?;
    f.sync_all().map_err(|e| Error::io("write", dst, e))?;
    Ok(crate::hex::encode(&Sha256::digest(bytes)))
}

fn create_new(dst: &Path, mode: u32) -> Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dst)
        .map_err(|e| Error::io("create", dst, e))?;
    // The umask may have taken bits the kit needs (the program must stay executable).
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("create", dst, e))?;
    Ok(f)
}

fn set_mode(p: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("create", p, e))
}

fn sync_dir(p: &Path) -> Result<()> {
    File::open(p)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("write", p, e))
}

/// Gives the finished kit its name: without `replace` by a rename that refuses to replace
/// anything (`RENAME_NOREPLACE`), with it by moving the old kit aside first (put back if the
/// new one cannot take its place).
fn place(tmp: &Path, dir: &Path, replace: bool, parent: &Path) -> Result<()> {
    if !replace {
        rename_noreplace(tmp, dir)?;
    } else {
        let old = tempfile::Builder::new()
            .prefix(".kit.old-")
            .tempdir_in(parent)
            .map_err(|e| Error::io("create a directory in", parent, e))?
            .keep();
        let aside = old.join("kit");
        std::fs::rename(dir, &aside).map_err(|e| Error::io("move aside", dir, e))?;
        if let Err(e) = std::fs::rename(tmp, dir) {
            let _ = std::fs::rename(&aside, dir);
            let _ = std::fs::remove_dir(&old);
            return Err(Error::io("replace", dir, e));
        }
        let _ = std::fs::remove_dir_all(&old);
    }
    sync_dir(parent)
}

fn rename_noreplace(from: &Path, to: &Path) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::BadFile {
            path: p.to_path_buf(),
            reason: "has a NUL byte in its name".into(),
        })
    };
    let (f, t) = (c(from)?, c(to)?);
    // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EEXIST) | Some(libc::ENOTEMPTY) => {
            Err(KitError::Exists(to.to_path_buf()).into())
        }
        // A filesystem without RENAME_NOREPLACE (some FUSE and network mounts): check, then rename.
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            if std::fs::symlink_metadata(to).is_ok() {
                return Err(KitError::Exists(to.to_path_buf()).into());
            }
            std::fs::rename(from, to).map_err(|e| Error::io("create", to, e))
        }
        _ => Err(Error::io("create", to, e)),
    }
}
