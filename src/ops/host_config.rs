//! `host-config`: everything a host needs to trust one or more break-glass CAs, merged with what
//! its sshd already trusts so that normal access keeps working (REFERENCE.md §10).
//!
//! sshd takes the first value of `TrustedUserCAKeys`, `RevokedKeys` and
//! `AuthorizedPrincipalsFile`, and Debian includes `sshd_config.d/*.conf` before the main file.
//! So the drop-in is named `00-breakglass.conf`, carries every CA the host already trusts, keeps
//! an existing KRL as the `RevokedKeys` file, and sets `AuthorizedPrincipalsFile` only for the
//! users named with `--principals` (in a `Match User` block), carrying over what their existing
//! principals files hold.

pub mod alert;
pub mod cloud_init;
mod error;
pub mod sshd_settings;
pub mod two_person;

use std::path::{Path, PathBuf};
use std::process::Command;

use ssh_key::{Algorithm, HashAlg, PublicKey};

use crate::delivery::atomic::{self, PlannedFile};
use crate::sanitize::sanitize;
pub use error::HostConfigError;
use sshd_settings::{DropIn, HostSettings, Method, Setting};

/// The CA file's name in `--out` and under `--etc`.
pub const CA_FILE: &str = "breakglass_user_ca.pub";
/// The KRL's name in `--out` and under `--etc`.
pub const KRL_FILE: &str = "breakglass_revoked.krl";
/// The drop-in's path in `--out` (and under `--etc`).
pub const DROP_IN: &str = "sshd_config.d/00-breakglass.conf";
/// The directory of per-user principals files in `--out` and under `--etc`.
pub const PRINCIPALS_DIR: &str = "breakglass_principals";
/// The default main sshd configuration.
pub const DEFAULT_SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

// The line that starts the section of CA keys the host trusted before breakglass; on a later run
// the keys after it are carried over again (the host's own source may no longer name them).
const KEPT_MARKER: &str = "# Already trusted by this host before breakglass";

/// One `--principals USER=NAME[,NAME…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalMapping {
    /// The login name.
    pub user: String,
    /// Certificate principals that may log in as `user`.
    pub names: Vec<String>,
}

impl std::str::FromStr for PrincipalMapping {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (user, names) = s
            .split_once('=')
            .ok_or_else(|| format!("'{}' is not USER=NAME[,NAME…]", sanitize(s)))?;
        let user_ok = !user.is_empty()
            && !user.starts_with('-')
            && user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !user_ok {
            return Err(format!(
                "'{}' is not a login name (letters, digits, '_', '-', '.')",
                sanitize(user)
            ));
        }
        let names: Vec<String> = names.split(',').map(str::to_string).collect();
        for n in &names {
            let ok = !n.is_empty()
                && !n.starts_with('#')
                && !n
                    .chars()
                    .any(|c| c.is_whitespace() || crate::sanitize::is_dangerous(c));
            if !ok {
                return Err(format!(
                    "'{}' is not a principal name (no spaces, control characters or leading '#')",
                    sanitize(n)
                ));
            }
        }
        Ok(PrincipalMapping {
            user: user.to_string(),
            names,
        })
    }
}

/// What `host-config` is asked to do.
#[derive(Debug, Clone)]
pub struct HostConfigRequest {
    /// The break-glass CA public key files.
    pub ca_files: Vec<PathBuf>,
    /// Where the host keeps these files (`--etc`, default `/etc/ssh`).
    pub etc: PathBuf,
    /// The host's main sshd configuration; `None` for the default (a missing default is fine).
    pub sshd_config: Option<PathBuf>,
    /// `--principals`.
    pub principals: Vec<PrincipalMapping>,
    /// `--alert PROGRAM`.
    pub alert: Option<String>,
    /// `--two-person CUSTODIAN_CA.pub…`: the custodians' CA files (empty: no two-person account).
    pub two_person: Vec<PathBuf>,
    /// `--two-person-user NAME` (default [`two_person::DEFAULT_USER`]).
    pub two_person_user: String,
    /// Tests only: the gate logs to this syslog socket instead of `/dev/log`.
    pub two_person_log_socket: Option<PathBuf>,
}

/// A CA key and where it came from.
#[derive(Debug, Clone)]
pub struct CaKey {
    /// The key.
    pub key: PublicKey,
    /// The file (and line) it was read from.
    pub origin: String,
}

impl CaKey {
    /// `TYPE SHA256:… comment`, sanitised, for the plan.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.key.algorithm().as_str(),
            self.key.fingerprint(HashAlg::Sha256),
            sanitize(self.key.comment().as_str_lossy())
        )
        .trim_end()
        .to_string()
    }
}

/// One file host-config produces.
#[derive(Debug, Clone)]
pub struct GeneratedFile {
    /// Path relative to `--out`.
    pub rel: PathBuf,
    /// Where it goes on the host.
    pub install: PathBuf,
    /// Content.
    pub bytes: Vec<u8>,
    /// Mode.
    pub mode: u32,
    /// Never replaced once it exists (the KRL: it may hold revocations by now).
    pub keep_existing: bool,
}

/// A user's principals file as it will be.
#[derive(Debug, Clone)]
pub struct PrincipalsPlan {
    /// Login name.
    pub user: String,
    /// Lines carried over, and the file they came from.
    pub kept: Vec<String>,
    /// That file.
    pub kept_from: Option<PathBuf>,
    /// Names added.
    pub added: Vec<String>,
}

/// Everything host-config would write, and what it merged.
#[derive(Debug, Clone)]
pub struct HostPlan {
    /// The request's `--etc`.
    pub etc: PathBuf,
    /// The host's settings.
    pub settings: HostSettings,
    /// The break-glass CAs (from the command line).
    pub breakglass_cas: Vec<CaKey>,
    /// CAs the host already trusted, carried over.
    pub kept_cas: Vec<CaKey>,
    /// The `RevokedKeys` file the drop-in names, and whether it is the host's existing one.
    pub revoked_keys: PathBuf,
    /// True when the host's own KRL stays the `RevokedKeys` file.
    pub krl_kept: bool,
    /// Per-user principals.
    pub principals: Vec<PrincipalsPlan>,
    /// The custodian CAs of `--two-person` (empty without it).
    pub custodian_cas: Vec<CaKey>,
    /// The two-person account (`None` without `--two-person`).
    pub two_person_user: Option<String>,
    /// What was merged, one sentence each.
    pub merged: Vec<String>,
    /// Things the operator must know.
    pub warnings: Vec<String>,
    /// The files.
    pub files: Vec<GeneratedFile>,
}

/// The bytes of an empty KRL, as the KRL module writes every KRL (`PROTOCOL.krl`,
/// `krl.c: ssh_krl_to_blob`; REFERENCE.md §8.1): magic, format version 1, KRL version 0, the
/// generated date, flags 0, empty reserved and comment strings, no sections. sshd and
/// `ssh-keygen -Q` read it as "nothing revoked"; `revoke` extends it.
pub fn empty_krl(generated: u64) -> Vec<u8> {
    let mut krl = crate::ssh::krl::Krl::new();
    krl.generated_date = generated;
    krl.encode()
}

/// Reads a break-glass CA file: every non-blank, non-comment line must be a public key sshd
/// accepts as a CA. Anything else is an error (sshd stops reading its CA file at the first
/// line it cannot parse, so nothing unvalidated may ever reach it).
pub fn read_ca_file(path: &Path) -> Result<Vec<CaKey>, HostConfigError> {
    let bad = |reason: String| HostConfigError::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad("no such file".into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
            return Err(bad("is a directory".into()))
        }
        Err(e) => return Err(HostConfigError::io("read", path, e)),
    };
    if bytes.len() > 1024 * 1024 {
        return Err(bad("is too large to be a file of public keys".into()));
    }
    let text = String::from_utf8(bytes).map_err(|_| bad("is not text".into()))?;
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
            origin: format!("{}:{n}", path.display()),
        });
    }
    if keys.is_empty() {
        return Err(bad("holds no public key".into()));
    }
    Ok(keys)
}

/// What an existing `TrustedUserCAKeys` file holds, as sshd reads it.
struct TrustedFile {
    /// Every key sshd trusts from it.
    all: Vec<CaKey>,
    /// The keys after [`KEPT_MARKER`] (carried over by an earlier run).
    kept_section: Vec<CaKey>,
    /// What was not carried over, and why.
    note: Option<String>,
}

/// The CA keys sshd trusts from an existing `TrustedUserCAKeys` file: every key up to the first
/// line it cannot parse (sshd's scan stops there too, REFERENCE.md §10). Also returns a note on
/// what was not carried over, and which keys follow [`KEPT_MARKER`].
fn read_trusted_file(path: &Path) -> Result<TrustedFile, HostConfigError> {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(TrustedFile {
                all: Vec::new(),
                kept_section: Vec::new(),
                note: Some(format!(
                    "{} does not exist, so sshd trusts no CA from it; nothing to carry over",
                    path.display()
                )),
            })
        }
        Err(e) => return Err(HostConfigError::io("read", path, e)),
    };
    let mut all = Vec::new();
    let mut after_marker = Vec::new();
    let mut marker = false;
    let mut note = None;
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
                    origin: format!("{}:{}", path.display(), i + 1),
                };
                if marker {
                    after_marker.push(k.clone());
                }
                all.push(k);
            }
            _ => {
                note = Some(format!(
                    "{} line {} is not a public key; sshd stops reading there, so it and any line after it were not trusted and are not carried over",
                    path.display(),
                    i + 1
                ));
                break;
            }
        }
    }
    Ok(TrustedFile {
        all,
        kept_section: after_marker,
        note,
    })
}

fn push_unique(list: &mut Vec<CaKey>, k: CaKey, also_not_in: &[CaKey]) -> bool {
    let dup = |x: &CaKey| x.key.key_data() == k.key.key_data();
    if list.iter().any(dup) || also_not_in.iter().any(dup) {
        return false;
    }
    list.push(k);
    true
}

/// An sshd_config argument: bare when plain, double-quoted when it has spaces.
fn sshd_arg(s: &str) -> Result<String, HostConfigError> {
    if s.chars()
        .any(|c| crate::sanitize::is_dangerous(c) || c == '"' || c == '\\')
    {
        return Err(HostConfigError::Unsupported(format!(
            "the path '{}' cannot be written into sshd_config",
            sanitize(s)
        )));
    }
    if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '#' || c == '\'') {
        Ok(format!("\"{s}\""))
    } else {
        Ok(s.to_string())
    }
}

fn check_etc(etc: &Path) -> Result<(), HostConfigError> {
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

/// The home directory and uid of `user`, from the system's user database (`getent passwd`).
fn lookup_user(user: &str) -> Option<(String, String)> {
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
                    "AuthorizedPrincipalsFile '{}' uses a token sshd does not know",
                    sanitize(pattern)
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

/// Works out everything host-config would write (reads the CA files and the host's sshd
/// configuration; writes nothing).
pub fn plan(req: &HostConfigRequest) -> Result<HostPlan, HostConfigError> {
    check_etc(&req.etc)?;
    let etc = &req.etc;
    // 1. The break-glass CAs, every line validated.
    let mut breakglass_cas: Vec<CaKey> = Vec::new();
    for f in &req.ca_files {
        for k in read_ca_file(f)? {
            push_unique(&mut breakglass_cas, k, &[]);
        }
    }
    let ca_install = etc.join(CA_FILE);
    let krl_install = etc.join(KRL_FILE);
    let principals_install = etc.join(PRINCIPALS_DIR);
    let drop_in_install = etc.join(DROP_IN);
    // 1b. The custodian CAs of --two-person, every line validated the same way.
    let mut custodian_cas: Vec<CaKey> = Vec::new();
    if !req.two_person.is_empty() {
        two_person::check_user(&req.two_person_user).map_err(HostConfigError::TwoPerson)?;
        if req.principals.iter().any(|m| m.user == req.two_person_user) {
            return Err(HostConfigError::TwoPerson(format!(
                "--principals names the two-person account {}, but its certificates must name the account itself",
                req.two_person_user
            )));
        }
        for f in &req.two_person {
            for k in read_ca_file(f)? {
                push_unique(&mut custodian_cas, k, &[]);
            }
        }
        if custodian_cas.len() < 2 {
            return Err(HostConfigError::TwoPerson(
                "at least two different custodian CA keys are needed".into(),
            ));
        }
    } else if req.ca_files.is_empty() {
        return Err(HostConfigError::TwoPerson(
            "no CA given: pass the break-glass CA files, or --two-person with the custodians' CA files".into(),
        ));
    }

    // 2. The host's settings, read against a first draft of the drop-in (the order check only
    // needs the keywords it sets globally).
    let explicit = req.sshd_config.is_some();
    let config = req
        .sshd_config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SSHD_CONFIG));
    let own_values = vec![
        ca_install.display().to_string(),
        krl_install.display().to_string(),
        principals_install.join("%u").display().to_string(),
    ];
    let draft = format!(
        "TrustedUserCAKeys {}\nRevokedKeys {}\n",
        ca_install.display(),
        krl_install.display()
    );
    let settings = sshd_settings::read(
        &config,
        explicit,
        &DropIn {
            path: &drop_in_install,
            text: &draft,
            own_values: &own_values,
        },
    )?;

    let mut merged = Vec::new();
    let mut warnings = Vec::new();
    for d in &settings.in_match {
        warnings.push(format!(
            "{} line {} sets {} inside a Match block; for the connections it matches, that value replaces this drop-in's",
            d.file.display(),
            d.line,
            sshd_settings::display_keyword(&d.keyword)
        ));
    }

    // 3. CA keys the host already trusts stay trusted.
    let mut kept_cas: Vec<CaKey> = Vec::new();
    if let Some(existing) = &settings.trusted_user_ca_keys.value {
        let TrustedFile { all, note, .. } = read_trusted_file(Path::new(existing))?;
        let n = all
            .into_iter()
            .filter(|k| push_unique(&mut kept_cas, k.clone(), &breakglass_cas))
            .count();
        merged.push(format!(
            "TrustedUserCAKeys {existing}{}: {n} CA key{} already trusted, kept in {CA_FILE}",
            source_text(&settings.trusted_user_ca_keys),
            if n == 1 { "" } else { "s" }
        ));
        warnings.extend(note);
    }
    if Path::new(&ca_install).exists() {
        let n = read_trusted_file(&ca_install)?
            .kept_section
            .into_iter()
            .filter(|k| push_unique(&mut kept_cas, k.clone(), &breakglass_cas))
            .count();
        if n > 0 {
            merged.push(format!(
                "{}: {n} CA key{} kept there by an earlier run, kept again",
                ca_install.display(),
                if n == 1 { "" } else { "s" }
            ));
        }
    }

    // 4. An existing KRL stays the RevokedKeys file.
    let (revoked_keys, krl_kept) = match &settings.revoked_keys.value {
        Some(existing) => {
            merged.push(format!(
                "RevokedKeys {existing}{}: stays the RevokedKeys file (breakglass revoke --krl {existing} adds to it); no new KRL",
                source_text(&settings.revoked_keys)
            ));
            if !Path::new(existing).exists() {
                warnings.push(format!(
                    "RevokedKeys {existing} does not exist: sshd refuses every public-key login until it does (an empty file will do)"
                ));
            }
            (PathBuf::from(existing), true)
        }
        None => (krl_install.clone(), false),
    };

    // 5. Principals: only for the named users, carrying over what they have.
    let mut principals = Vec::new();
    for m in &req.principals {
        let mut p = PrincipalsPlan {
            user: m.user.clone(),
            kept: Vec::new(),
            kept_from: None,
            added: Vec::new(),
        };
        match &settings.authorized_principals_file.value {
            Some(pattern) => {
                let file = expand_principals_path(pattern, &m.user)?;
                match std::fs::read(&file) {
                    Ok(b) => {
                        p.kept = String::from_utf8_lossy(&b)
                            .lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(str::to_string)
                            .collect();
                        merged.push(format!(
                            "AuthorizedPrincipalsFile {pattern}{}: {} line{} of {} kept in {PRINCIPALS_DIR}/{}",
                            source_text(&settings.authorized_principals_file),
                            p.kept.len(),
                            if p.kept.len() == 1 { "" } else { "s" },
                            file.display(),
                            m.user
                        ));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => merged.push(format!(
                        "AuthorizedPrincipalsFile {pattern}{}: {} does not exist, nothing to keep for {}",
                        source_text(&settings.authorized_principals_file),
                        file.display(),
                        m.user
                    )),
                    Err(e) => return Err(HostConfigError::io("read", &file, e)),
                }
                p.kept_from = Some(file);
            }
            None if !kept_cas.is_empty() => {
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
        principals.push(p);
    }
    if req.principals.is_empty() {
        if let Some(pattern) = &settings.authorized_principals_file.value {
            warnings.push(format!(
                "AuthorizedPrincipalsFile {pattern} is set: a break-glass certificate must carry a principal listed there (add one with --principals USER=NAME)"
            ));
        }
    }

    // 6. The files.
    let mut files = Vec::new();
    let mut ca_text = String::from(
        "# Written by breakglass host-config: the CAs this host trusts for user certificates.\n# Break-glass CAs:\n",
    );
    for k in &breakglass_cas {
        ca_text.push_str(&key_line(&k.key)?);
    }
    if !kept_cas.is_empty() {
        ca_text.push_str(KEPT_MARKER);
        ca_text.push_str(" (kept by host-config):\n");
        for k in &kept_cas {
            ca_text.push_str(&key_line(&k.key)?);
        }
    }
    files.push(GeneratedFile {
        rel: CA_FILE.into(),
        install: ca_install.clone(),
        bytes: ca_text.into_bytes(),
        mode: 0o644,
        keep_existing: false,
    });
    if !krl_kept {
        files.push(GeneratedFile {
            rel: KRL_FILE.into(),
            install: krl_install.clone(),
            bytes: empty_krl(crate::clock::now()),
            mode: 0o644,
            keep_existing: true,
        });
    }
    let mut drop_in = format!(
        "# Written by breakglass host-config. sshd keeps the first value it reads and reads\n\
         # sshd_config.d/*.conf in name order, so this file is named 00- to come first; it carries\n\
         # every CA and the KRL the host had before.\n\
         TrustedUserCAKeys {}\n\
         RevokedKeys {}\n",
        sshd_arg(&ca_install.display().to_string())?,
        sshd_arg(&revoked_keys.display().to_string())?,
    );
    if !principals.is_empty() {
        let users: Vec<&str> = principals.iter().map(|p| p.user.as_str()).collect();
        drop_in.push_str(&format!(
            "# Only for these users; everyone else keeps the host's own setting.\nMatch User {}\n    AuthorizedPrincipalsFile {}\n",
            users.join(","),
            sshd_arg(&principals_install.join("%u").display().to_string())?
        ));
    }
    if !custodian_cas.is_empty() {
        let custodian_install = etc.join(two_person::CUSTODIAN_CA_FILE);
        let gate_install = etc.join(two_person::GATE_NAME);
        let user = &req.two_person_user;
        let principals_file = principals_install.join(user);
        drop_in.push_str(&two_person::match_block(
            user,
            &sshd_arg(&custodian_install.display().to_string())?,
            &sshd_arg(&principals_file.display().to_string())?,
            &sshd_arg(&gate_install.display().to_string())?,
        ));
        files.push(GeneratedFile {
            rel: Path::new(PRINCIPALS_DIR).join(user),
            install: principals_file,
            bytes: format!("# Written by breakglass host-config --two-person: custodian certificates must name the account.\n{user}\n").into_bytes(),
            mode: 0o644,
            keep_existing: false,
        });
        let mut text = format!(
            "# Written by breakglass host-config --two-person: the custodian CAs, trusted only for\n# {} and only two together (the gate checks that).\n",
            req.two_person_user
        );
        for k in &custodian_cas {
            text.push_str(&key_line(&k.key)?);
        }
        files.push(GeneratedFile {
            rel: two_person::CUSTODIAN_CA_FILE.into(),
            install: custodian_install,
            bytes: text.into_bytes(),
            mode: 0o644,
            keep_existing: false,
        });
        let fps: Vec<String> = custodian_cas
            .iter()
            .map(|k| k.key.fingerprint(HashAlg::Sha256).to_string())
            .collect();
        files.push(GeneratedFile {
            rel: two_person::GATE_NAME.into(),
            install: gate_install,
            bytes: two_person::gate_script(&fps, req.two_person_log_socket.as_deref()).into_bytes(),
            mode: 0o755,
            keep_existing: false,
        });
        if lookup_user(&req.two_person_user).is_none() {
            warnings.push(format!(
                "there is no account {} here: create it on the host (a login shell, no password, e.g. useradd -m -s /bin/bash -p '*' {})",
                req.two_person_user, req.two_person_user
            ));
        }
    }
    files.push(GeneratedFile {
        rel: DROP_IN.into(),
        install: drop_in_install.clone(),
        bytes: drop_in.into_bytes(),
        mode: 0o644,
        keep_existing: false,
    });
    for p in &principals {
        let mut text = String::from("# Written by breakglass host-config.\n");
        for l in p.kept.iter().chain(p.added.iter()) {
            text.push_str(l);
            text.push('\n');
        }
        files.push(GeneratedFile {
            rel: Path::new(PRINCIPALS_DIR).join(&p.user),
            install: principals_install.join(&p.user),
            bytes: text.into_bytes(),
            mode: 0o644,
            keep_existing: false,
        });
    }
    if let Some(program) = &req.alert {
        alert::check_program(program).map_err(HostConfigError::Alert)?;
        // Custodian certificates page too: sshd's Accepted line for the second one, and the
        // gate's line naming both custodians.
        let fps: Vec<String> = breakglass_cas
            .iter()
            .chain(custodian_cas.iter())
            .map(|k| k.key.fingerprint(HashAlg::Sha256).to_string())
            .collect();
        let script_install = etc.join(alert::SCRIPT_NAME);
        files.push(GeneratedFile {
            rel: alert::SCRIPT_NAME.into(),
            install: script_install.clone(),
            bytes: alert::script(program, &fps).into_bytes(),
            mode: 0o755,
            keep_existing: false,
        });
        files.push(GeneratedFile {
            rel: alert::RULE_NAME.into(),
            install: Path::new(alert::RULE_INSTALL_DIR).join("30-breakglass-alert.conf"),
            bytes: alert::rsyslog_rule(&script_install, &fps).into_bytes(),
            mode: 0o644,
            keep_existing: false,
        });
    }
    Ok(HostPlan {
        etc: etc.clone(),
        settings,
        breakglass_cas,
        kept_cas,
        revoked_keys,
        krl_kept,
        principals,
        two_person_user: (!custodian_cas.is_empty()).then(|| req.two_person_user.clone()),
        custodian_cas,
        merged,
        warnings,
        files,
    })
}

fn key_line(key: &PublicKey) -> Result<String, HostConfigError> {
    let mut line = key
        .to_openssh()
        .map_err(|e| HostConfigError::Unsupported(format!("cannot encode a key: {e}")))?;
    line.push('\n');
    Ok(line)
}

fn source_text(s: &Setting) -> String {
    match &s.source {
        Some(src) => format!(" (set in {} line {})", src.file.display(), src.line),
        None => String::new(),
    }
}

/// What [`write`] did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Files left as they were (an existing KRL).
    pub kept: Vec<PathBuf>,
}

/// Writes the plan's files under `out` (0644, the alert script 0755), all or none. An existing
/// file is an error unless `force`; an existing KRL is always kept.
pub fn write(plan: &HostPlan, out: &Path, force: bool) -> Result<Written, HostConfigError> {
    match std::fs::metadata(out) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(HostConfigError::OutNotDir(out.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HostConfigError::OutMissing(out.to_path_buf()))
        }
        Err(e) => return Err(HostConfigError::io("open", out, e)),
    }
    let mut result = Written::default();
    let mut planned = Vec::new();
    for f in &plan.files {
        let path = out.join(&f.rel);
        let exists = std::fs::symlink_metadata(&path).is_ok();
        if exists && f.keep_existing {
            result.kept.push(path);
            continue;
        }
        if exists && !force {
            return Err(HostConfigError::Exists(path));
        }
        planned.push(PlannedFile {
            path,
            bytes: zeroize::Zeroizing::new(f.bytes.clone()),
            mode: f.mode,
        });
    }
    // Subdirectories (sshd_config.d, breakglass_principals, rsyslog.d) are made just before the
    // write and removed again if it fails and they were new.
    let mut made = Vec::new();
    for p in &planned {
        let dir = p.path.parent().unwrap_or(out);
        if !dir.exists() {
            if let Err(e) = std::fs::create_dir(dir) {
                remove_dirs(&made);
                return Err(HostConfigError::io("create the directory", dir, e));
            }
            made.push(dir.to_path_buf());
        }
    }
    if let Err(e) = atomic::write_all(&planned, force) {
        remove_dirs(&made);
        return Err(match e {
            atomic::AtomicError::FileExists(p) => HostConfigError::Exists(p),
            atomic::AtomicError::Io {
                action,
                path,
                source,
            } => HostConfigError::Io {
                action,
                path,
                source,
            },
            other => HostConfigError::Unsupported(other.to_string()),
        });
    }
    result.written = planned.into_iter().map(|p| p.path).collect();
    Ok(result)
}

fn remove_dirs(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// `@cert-authority PATTERN KEY` lines for clients' known_hosts (host certificates signed by
/// these CAs are then trusted for hosts matching PATTERN).
pub fn known_hosts_lines(cas: &[CaKey], pattern: &str) -> Result<Vec<String>, HostConfigError> {
    if pattern.is_empty()
        || pattern
            .chars()
            .any(|c| c.is_whitespace() || crate::sanitize::is_dangerous(c) || c == '#')
    {
        return Err(HostConfigError::Pattern(pattern.to_string()));
    }
    cas.iter()
        .map(|k| {
            Ok(format!(
                "@cert-authority {pattern} {}",
                key_line(&k.key)?.trim_end()
            ))
        })
        .collect()
}

/// The plan as text: what was read, what was merged, each file and where it goes. `wrote` is
/// `Some(out)` after [`write`].
pub fn render(plan: &HostPlan, wrote: Option<(&Path, &Written)>) -> String {
    let mut s = String::new();
    let cfg = plan.settings.config.display();
    match wrote {
        Some((out, _)) => s.push_str(&format!(
            "Wrote the host configuration to {}.\n",
            out.display()
        )),
        None => s.push_str("Plan (nothing written; --out DIR writes these files):\n"),
    }
    s.push_str("\nThe host's sshd today: ");
    match &plan.settings.method {
        Method::SshdT => s.push_str(&format!("sshd -T -f {cfg}\n")),
        Method::Files(why) => s.push_str(&format!("read from {cfg} and its Includes ({why})\n")),
        Method::NoConfig => s.push_str(&format!(
            "{cfg} does not exist here, so nothing was merged; on the host, its sshd_config must Include sshd_config.d/*.conf before setting these keywords\n"
        )),
    }
    if plan.settings.method != Method::NoConfig {
        for (kw, set) in [
            ("TrustedUserCAKeys", &plan.settings.trusted_user_ca_keys),
            ("RevokedKeys", &plan.settings.revoked_keys),
            (
                "AuthorizedPrincipalsFile",
                &plan.settings.authorized_principals_file,
            ),
        ] {
            s.push_str(&format!(
                "  {kw:<25}{}\n",
                sanitize(set.value.as_deref().unwrap_or("none"))
            ));
        }
    }
    s.push_str("\nMerged:\n");
    if plan.merged.is_empty() {
        s.push_str("  nothing: the host set none of these keywords\n");
    }
    for m in &plan.merged {
        s.push_str(&format!("  - {}\n", sanitize(m)));
    }
    for n in &plan.settings.notes {
        s.push_str(&format!("  - {}\n", sanitize(n)));
    }
    s.push_str("\nTrusted CAs:\n");
    for k in &plan.breakglass_cas {
        s.push_str(&format!("  break-glass  {}\n", k.describe()));
    }
    for k in &plan.kept_cas {
        s.push_str(&format!("  kept         {}\n", k.describe()));
    }
    for k in &plan.custodian_cas {
        s.push_str(&format!("  custodian    {}\n", k.describe()));
    }
    s.push_str("\nFiles:\n");
    for f in &plan.files {
        let state = match wrote {
            Some((out, w)) if w.kept.contains(&out.join(&f.rel)) => " (exists, kept)",
            _ => "",
        };
        s.push_str(&format!(
            "  {}{state} -> {} (0{:o})\n",
            f.rel.display(),
            f.install.display(),
            f.mode
        ));
        if f.rel == Path::new(KRL_FILE) {
            s.push_str(&format!(
                "      an empty KRL ({} bytes); installed only where none exists\n",
                f.bytes.len()
            ));
            continue;
        }
        if f.rel == Path::new(two_person::GATE_NAME) {
            s.push_str(
                "      the two-person gate (sshd ForceCommand): two custodians or nothing\n",
            );
            continue;
        }
        if f.rel == Path::new(alert::SCRIPT_NAME) {
            s.push_str(
                "      runs the --alert program for each break-glass login (rsyslog omprog)\n",
            );
            continue;
        }
        for l in String::from_utf8_lossy(&f.bytes).lines() {
            if l.starts_with('#') || f.rel == Path::new(alert::RULE_NAME) && !l.starts_with("if ") {
                continue;
            }
            s.push_str(&format!("      {}\n", sanitize(l)));
        }
    }
    if !plan.warnings.is_empty() {
        s.push_str("\nWarnings:\n");
        for w in &plan.warnings {
            s.push_str(&format!("  ! {}\n", sanitize(w)));
        }
    }
    s.push_str(&format!(
        "\nOn the host: install the files, then `sshd -t` and reload sshd (deploy/ansible does both){}.\n",
        if plan.files.iter().any(|f| f.rel == Path::new(alert::RULE_NAME)) {
            ", and restart rsyslog"
        } else {
            ""
        }
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_krl_is_the_44_bytes_of_protocol_krl() {
        let k = empty_krl(0x0102030405060708);
        assert_eq!(k.len(), 44);
        assert_eq!(&k[..8], b"SSHKRL\n\0");
        assert_eq!(&k[8..12], &[0, 0, 0, 1]);
        assert_eq!(&k[20..28], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(k[28..].iter().all(|b| *b == 0));
    }

    #[test]
    fn a_trusted_ca_file_is_read_like_sshd_up_to_the_first_bad_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.pub");
        let a =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICy8Ll7d2IlxitXSIxA2WNToo/LkxRto7q/bN2KLcNnc a";
        std::fs::write(&p, format!("# c\n\n{a}\ngarbage\n{a}\n")).unwrap();
        let t = read_trusted_file(&p).unwrap();
        assert_eq!(t.all.len(), 1);
        assert!(t.note.unwrap().contains("line 4 is not a public key"));
        let t = read_trusted_file(&d.path().join("missing")).unwrap();
        assert!(t.all.is_empty() && t.note.unwrap().contains("does not exist"));
    }

    #[test]
    fn principals_mappings_parse_and_refuse_what_sshd_would_misread() {
        let m: PrincipalMapping = "root=bg-root,oncall".parse().unwrap();
        assert_eq!(m.user, "root");
        assert_eq!(m.names, ["bg-root", "oncall"]);
        assert!("root".parse::<PrincipalMapping>().is_err());
        assert!("ro ot=x".parse::<PrincipalMapping>().is_err());
        assert!("root=a b".parse::<PrincipalMapping>().is_err());
        assert!("root=#x".parse::<PrincipalMapping>().is_err());
        assert!("root=a,,b".parse::<PrincipalMapping>().is_err());
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
    }
}
