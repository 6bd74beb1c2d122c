//! What the host's sshd already does with the three keywords host-config sets
//! (`TrustedUserCAKeys`, `RevokedKeys`, `AuthorizedPrincipalsFile`), and whether a drop-in named
//! `00-breakglass.conf` would be the first to set them.
//!
//! sshd keeps the *first* value it reads for each keyword (`servconf.c`: every setter checks
//! `*charptr == NULL`), reads `Include`d files where the `Include` line stands, a glob's matches
//! in name order (`glob(3)`), and a `Match` block lasts to the next `Match` or the end of the
//! file that holds it (checked with `sshd -T -C` on 9.2: a `Match` in a drop-in does not leak
//! into the main file). The file reader here follows those rules; `sshd -T -f FILE` is asked
//! too where it can run (it needs the host keys, and as root `/run/sshd`), and its answer wins.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::HostConfigError;

/// The keywords host-config sets, as `sshd -T` prints them.
pub const KEYWORDS: [&str; 3] = [
    "trustedusercakeys",
    "revokedkeys",
    "authorizedprincipalsfile",
];

/// One configuration line: keyword (lower case), arguments, where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directive {
    /// The keyword, lower case.
    pub keyword: String,
    /// Its arguments, quotes removed.
    pub args: Vec<String>,
    /// The file it is in.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// True inside a `Match` block (conditional; not a global value).
    pub in_match: bool,
}

/// Where a value was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// File.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

/// A keyword's global value as the host has it today, apart from breakglass's own drop-in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Setting {
    /// The value; `None` when unset or `none`.
    pub value: Option<String>,
    /// Where the files set it, when known.
    pub source: Option<Source>,
}

impl Setting {
    /// ` (set in FILE line N)` when the files say where, for a sentence about the value.
    pub fn set_in(&self) -> String {
        match &self.source {
            Some(src) => format!(" (set in {} line {})", src.file.display(), src.line),
            None => String::new(),
        }
    }
}

/// How the settings were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// `sshd -T -f FILE` answered.
    SshdT,
    /// sshd could not be asked; the files were read. The reason says why.
    Files(String),
    /// There is no sshd configuration at the path (default path only).
    NoConfig,
}

/// The host's effective settings and the drop-in order check.
#[derive(Debug, Clone, Serialize)]
pub struct HostSettings {
    /// The main configuration file.
    pub config: PathBuf,
    /// How they were read.
    pub method: Method,
    /// `TrustedUserCAKeys` apart from ours.
    pub trusted_user_ca_keys: Setting,
    /// `RevokedKeys` apart from ours.
    pub revoked_keys: Setting,
    /// `AuthorizedPrincipalsFile` (global) apart from ours.
    pub authorized_principals_file: Setting,
    /// Keywords host-config sets that some `Match` block also sets (they override ours there).
    pub in_match: Vec<Directive>,
    /// Notes for the plan (disagreements between sshd -T and the files, and the like).
    pub notes: Vec<String>,
}

/// Our drop-in as it will be: its path on the host and the keywords it sets globally.
pub struct DropIn<'a> {
    /// `ETC/sshd_config.d/00-breakglass.conf`.
    pub path: &'a Path,
    /// Its text.
    pub text: &'a str,
    /// Paths of our own files; a value naming one of them is ours, not the host's.
    pub own_values: &'a [String],
}

/// Reads what the host's sshd does today and checks that `drop_in` would be read first.
/// `explicit` says whether the user named the config file (then a missing one is an error).
pub fn read(
    config: &Path,
    explicit: bool,
    drop_in: &DropIn,
) -> Result<HostSettings, HostConfigError> {
    if !explicit && !config.exists() {
        return Ok(HostSettings {
            config: config.to_path_buf(),
            method: Method::NoConfig,
            trusted_user_ca_keys: Setting::default(),
            revoked_keys: Setting::default(),
            authorized_principals_file: Setting::default(),
            in_match: Vec::new(),
            notes: Vec::new(),
        });
    }
    let directives = parse_tree(config, Some((drop_in.path, drop_in.text)))?;
    check_order(config, &directives, drop_in)?;
    let from_files = |kw: &str| -> Setting {
        directives
            .iter()
            .find(|d| d.keyword == kw && !d.in_match && d.file != drop_in.path)
            .map(|d| Setting {
                value: d
                    .args
                    .first()
                    .filter(|v| !v.eq_ignore_ascii_case("none"))
                    .cloned(),
                source: Some(Source {
                    file: d.file.clone(),
                    line: d.line,
                }),
            })
            .unwrap_or_default()
    };
    let mut settings = HostSettings {
        config: config.to_path_buf(),
        method: Method::SshdT,
        trusted_user_ca_keys: from_files(KEYWORDS[0]),
        revoked_keys: from_files(KEYWORDS[1]),
        authorized_principals_file: from_files(KEYWORDS[2]),
        in_match: directives
            .iter()
            .filter(|d| d.in_match && KEYWORDS.contains(&d.keyword.as_str()))
            .filter(|d| d.file != drop_in.path)
            .cloned()
            .collect(),
        notes: Vec::new(),
    };
    match sshd_t(config) {
        Ok(values) => {
            for (i, kw) in KEYWORDS.iter().enumerate() {
                let from_sshd = values
                    .iter()
                    .find(|(k, _)| k == kw)
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.eq_ignore_ascii_case("none"));
                // sshd reads the drop-in a previous run installed; a value of ours is not the
                // host's own, so the files (read without our drop-in) tell what lies beneath.
                if from_sshd
                    .as_ref()
                    .is_some_and(|v| drop_in.own_values.contains(v))
                {
                    continue;
                }
                let s = match i {
                    0 => &mut settings.trusted_user_ca_keys,
                    1 => &mut settings.revoked_keys,
                    _ => &mut settings.authorized_principals_file,
                };
                if s.value != from_sshd {
                    settings.notes.push(format!(
                        "sshd -T gives {} {} where the files give {}; using sshd's value",
                        display_keyword(kw),
                        from_sshd.as_deref().unwrap_or("none"),
                        s.value.as_deref().unwrap_or("none")
                    ));
                    s.value = from_sshd;
                    s.source = None;
                }
            }
        }
        Err(why) => settings.method = Method::Files(why),
    }
    Ok(settings)
}

/// The keyword as sshd_config(5) spells it.
pub fn display_keyword(kw: &str) -> &'static str {
    match kw {
        "trustedusercakeys" => "TrustedUserCAKeys",
        "revokedkeys" => "RevokedKeys",
        "authorizedprincipalsfile" => "AuthorizedPrincipalsFile",
        _ => "?",
    }
}

/// Runs `sshd -T -f config` and returns `(keyword, value)` for our keywords, or why it could not.
fn sshd_t(config: &Path) -> Result<Vec<(String, String)>, String> {
    let Some(sshd) = crate::ops::sshd::sshd_path() else {
        return Err("sshd is not installed here".into());
    };
    let out = Command::new(&sshd)
        .arg("-T")
        .arg("-f")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", sshd.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("it failed").trim().to_string();
        return Err(format!("sshd -T failed: {first}"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| KEYWORDS.contains(k))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect())
}

/// Fails unless the drop-in is included and is the first to set each keyword it sets.
fn check_order(
    config: &Path,
    directives: &[Directive],
    drop_in: &DropIn,
) -> Result<(), HostConfigError> {
    let ours: Vec<&Directive> = directives
        .iter()
        .filter(|d| d.file == drop_in.path && !d.in_match)
        .collect();
    if ours.is_empty() {
        return Err(HostConfigError::NotIncluded {
            config: config.to_path_buf(),
            drop_in: drop_in.path.to_path_buf(),
        });
    }
    for d in ours {
        let first = directives
            .iter()
            .find(|x| x.keyword == d.keyword && !x.in_match)
            .expect("ours is in the list");
        if first.file != drop_in.path {
            return Err(HostConfigError::Shadowed {
                keyword: display_keyword(&d.keyword),
                file: first.file.clone(),
                line: first.line,
                drop_in: drop_in.path.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Every directive of `config` and what it includes, in sshd's reading order. `virtual_file`
/// stands in for a file (present or not) wherever an `Include` glob matches its path.
pub fn parse_tree(
    config: &Path,
    virtual_file: Option<(&Path, &str)>,
) -> Result<Vec<Directive>, HostConfigError> {
    let text = crate::input::read_host_file(config).map_err(|e| HostConfigError::SshdConfig {
        path: config.to_path_buf(),
        reason: io_reason(&e),
    })?;
    let base = config.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut out = Vec::new();
    parse_file(
        config,
        &String::from_utf8_lossy(&text),
        &base,
        virtual_file,
        false,
        0,
        &mut out,
    )?;
    Ok(out)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

// sshd's limit (servconf.c: SERVCONF_MAX_DEPTH).
const MAX_DEPTH: usize = 16;

fn parse_file(
    path: &Path,
    text: &str,
    base: &Path,
    virtual_file: Option<(&Path, &str)>,
    inherited_match: bool,
    depth: usize,
    out: &mut Vec<Directive>,
) -> Result<(), HostConfigError> {
    if depth > MAX_DEPTH {
        return Err(HostConfigError::SshdConfig {
            path: path.to_path_buf(),
            reason: "Include nested too deeply".into(),
        });
    }
    let mut in_match = inherited_match;
    for (i, raw) in text.lines().enumerate() {
        let Some((keyword, args)) = split_line(raw) else {
            continue;
        };
        let keyword = keyword.to_ascii_lowercase();
        match keyword.as_str() {
            "match" => {
                // `Match all` puts what follows back in force for every connection.
                in_match =
                    inherited_match || !(args.len() == 1 && args[0].eq_ignore_ascii_case("all"));
            }
            "include" => {
                for pattern in &args {
                    let full = if Path::new(pattern).is_absolute() {
                        PathBuf::from(pattern)
                    } else {
                        base.join(pattern)
                    };
                    for file in expand(&full, virtual_file) {
                        match virtual_file {
                            Some((vp, vt)) if vp == file => {
                                parse_file(&file, vt, base, virtual_file, in_match, depth + 1, out)?
                            }
                            _ => {
                                let bytes = crate::input::read_host_file(&file).map_err(|e| {
                                    HostConfigError::SshdConfig {
                                        path: file.clone(),
                                        reason: io_reason(&e),
                                    }
                                })?;
                                parse_file(
                                    &file,
                                    &String::from_utf8_lossy(&bytes),
                                    base,
                                    virtual_file,
                                    in_match,
                                    depth + 1,
                                    out,
                                )?
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        out.push(Directive {
            keyword,
            args,
            file: path.to_path_buf(),
            line: i + 1,
            in_match,
        });
    }
    Ok(())
}

/// The files an `Include` argument names, in name order (glob(3) sorts), with the virtual file
/// added where the pattern matches it.
fn expand(pattern: &Path, virtual_file: Option<(&Path, &str)>) -> Vec<PathBuf> {
    let text = pattern.to_string_lossy();
    let mut files: Vec<PathBuf> = match glob::glob(&text) {
        Ok(paths) => paths
            .filter_map(|p| p.ok())
            .filter(|p| !p.is_dir())
            .collect(),
        Err(_) => Vec::new(),
    };
    if let Some((vp, _)) = virtual_file {
        let matches = glob::Pattern::new(&text).is_ok_and(|p| {
            p.matches_path_with(
                vp,
                glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    require_literal_leading_dot: true,
                },
            )
        });
        if matches && !files.iter().any(|f| f == vp) {
            files.push(vp.to_path_buf());
        }
    }
    files.sort();
    files
}

/// Splits one sshd_config line into keyword and arguments the way `servconf.c` does
/// (`Keyword value`, `Keyword=value`, double-quoted arguments, `#` comments), or `None` for a
/// blank or comment line.
pub fn split_line(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_string();
    let mut rest = line[end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some('#') => break,
            _ => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match quote {
                Some(q) if c == q => {
                    quote = None;
                    chars.next();
                }
                Some(_) => {
                    arg.push(c);
                    chars.next();
                }
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    chars.next();
                }
                None if c == '\\' => {
                    chars.next();
                    if let Some(n) = chars.next() {
                        arg.push(n);
                    }
                }
                None if c.is_whitespace() => break,
                None => {
                    arg.push(c);
                    chars.next();
                }
            }
        }
        args.push(arg);
    }
    Some((keyword, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_sshd() {
        assert_eq!(split_line("  # c"), None);
        assert_eq!(split_line(""), None);
        assert_eq!(
            split_line("TrustedUserCAKeys /etc/ssh/ca.pub # trailing"),
            Some(("TrustedUserCAKeys".into(), vec!["/etc/ssh/ca.pub".into()]))
        );
        assert_eq!(
            split_line("RevokedKeys=\"/etc/ssh/my krl\""),
            Some(("RevokedKeys".into(), vec!["/etc/ssh/my krl".into()]))
        );
        assert_eq!(
            split_line("Include a.conf  b/*.conf"),
            Some(("Include".into(), vec!["a.conf".into(), "b/*.conf".into()]))
        );
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn drop_ins_are_read_in_name_order_where_the_include_stands_and_match_ends_with_its_file() {
        let d = tempfile::tempdir().unwrap();
        let main = write(
            d.path(),
            "sshd_config",
            &format!(
                "Include {}/sshd_config.d/*.conf\nTrustedUserCAKeys /main.pub\n",
                d.path().display()
            ),
        );
        write(
            d.path(),
            "sshd_config.d/50-x.conf",
            "TrustedUserCAKeys /fifty.pub\nMatch User x\nRevokedKeys /m.krl\n",
        );
        write(
            d.path(),
            "sshd_config.d/10-y.conf",
            "RevokedKeys /ten.krl\n",
        );
        let virt = d.path().join("sshd_config.d/00-breakglass.conf");
        let all = parse_tree(&main, Some((&virt, "TrustedUserCAKeys /ours.pub\n"))).unwrap();
        let firsts: Vec<(String, String, bool)> = all
            .iter()
            .filter(|x| KEYWORDS.contains(&x.keyword.as_str()))
            .map(|x| {
                (
                    x.file.file_name().unwrap().to_string_lossy().into_owned(),
                    x.args[0].clone(),
                    x.in_match,
                )
            })
            .collect();
        assert_eq!(
            firsts,
            [
                ("00-breakglass.conf".into(), "/ours.pub".into(), false),
                ("10-y.conf".into(), "/ten.krl".into(), false),
                ("50-x.conf".into(), "/fifty.pub".into(), false),
                ("50-x.conf".into(), "/m.krl".into(), true),
                ("sshd_config".into(), "/main.pub".into(), false),
            ]
        );
    }

    #[test]
    fn a_drop_in_that_sorts_late_or_is_not_included_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let main = write(
            d.path(),
            "sshd_config",
            &format!(
                "TrustedUserCAKeys /main.pub\nInclude {}/sshd_config.d/*.conf\n",
                d.path().display()
            ),
        );
        let virt = d.path().join("sshd_config.d/00-breakglass.conf");
        let own = vec!["/ours.pub".to_string()];
        let drop_in = DropIn {
            path: &virt,
            text: "TrustedUserCAKeys /ours.pub\n",
            own_values: &own,
        };
        let e = read(&main, true, &drop_in).unwrap_err();
        assert!(
            matches!(e, HostConfigError::Shadowed { line: 1, .. }),
            "{e:?}"
        );
        let main2 = write(d.path(), "other_config", "TrustedUserCAKeys /main.pub\n");
        let e = read(&main2, true, &drop_in).unwrap_err();
        assert!(matches!(e, HostConfigError::NotIncluded { .. }), "{e:?}");
    }
}
