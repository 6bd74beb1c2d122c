//! The kit's two plain-text indexes, in the formats OpenSSH and coreutils read:
//! `SHA256SUMS` (`sha256sum -c`: `HEX  NAME` per line) and `allowed_signers`
//! (`ssh-keygen -Y verify -f`: `PRINCIPALS [OPTIONS] KEY`, sshd(8) "ALLOWED SIGNERS").

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use sha2::{Digest, Sha256};
use ssh_key::{HashAlg, PublicKey};

use super::NAMESPACE;

/// SHA-256 of a file's contents, as lowercase hex, read in pieces (the binary is megabytes).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(crate::hex::encode(&h.finalize()))
}

/// `SHA256SUMS` text for `(name, hex)` pairs, in the order given (GNU text mode: two spaces).
pub fn sums_text(entries: &[(String, String)]) -> String {
    entries
        .iter()
        .map(|(name, hex)| format!("{hex}  {name}\n"))
        .collect()
}

/// Whether `name` may stand in a kit manifest: a relative path of plain components, printable,
/// without the characters `sha256sum` would escape (backslash, newline).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| c.is_control() || c == '\\')
        && !name.starts_with('/')
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && !name.split('/').any(str::is_empty)
}

/// Parses `SHA256SUMS`: name → lowercase hex. `Err((line, reason))` for the first bad line.
pub fn parse_sums(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.is_empty() {
            continue;
        }
        let (hex, rest) = line
            .split_at_checked(64)
            .ok_or((n, "is too short to hold a SHA-256".to_string()))?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((n, "does not start with a SHA-256 in hex".into()));
        }
        let name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or((n, "is not `HASH  NAME`".to_string()))?;
        if !valid_name(name) || name == super::SUMS || name == super::SUMS_SIG {
            return Err((n, format!("names {name:?}, which a kit cannot hold")));
        }
        if out
            .insert(name.to_string(), hex.to_ascii_lowercase())
            .is_some()
        {
            return Err((n, format!("lists {name} a second time")));
        }
    }
    Ok(out)
}

/// The `allowed_signers` principal for the CA called `name` (its `.pub` file's base name).
pub fn principal(name: &str) -> String {
    format!("{NAMESPACE}@{name}")
}

/// One `allowed_signers` line: the CA may sign kits (namespace `breakglass-kit`) only.
pub fn allowed_signers_line(name: &str, key: &PublicKey) -> crate::Result<String> {
    let mut key = key.clone();
    key.set_comment("");
    Ok(format!(
        "{} namespaces=\"{NAMESPACE}\" {}\n",
        principal(name),
        key.to_openssh()?.trim_end()
    ))
}

/// The keys an `allowed_signers` file names (lines that hold none are skipped).
pub fn parse_allowed_signers(text: &str) -> Vec<PublicKey> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (1..words.len()).find_map(|i| PublicKey::from_openssh(&words[i..].join(" ")).ok())
        })
        .collect()
}

/// A key's SHA-256 fingerprint as ssh-keygen prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";

    #[test]
    fn sums_round_trip_and_bad_lines_name_their_line() {
        let e = vec![
            ("breakglass".to_string(), H.to_string()),
            ("runbooks/incident.md".to_string(), H.to_string()),
        ];
        let m = parse_sums(&sums_text(&e)).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["runbooks/incident.md"], H);
        assert_eq!(
            parse_sums(&format!("{H}  a\n{H}  a\n")).unwrap_err(),
            (2, "lists a a second time".into())
        );
        assert_eq!(parse_sums("zz  a\n").unwrap_err().0, 1);
        assert_eq!(
            parse_sums(&format!("{H}  ../etc/passwd\n")).unwrap_err().1,
            "names \"../etc/passwd\", which a kit cannot hold"
        );
        assert!(parse_sums(&format!("{H}  /abs\n")).is_err());
        assert!(parse_sums(&format!("{H}  SHA256SUMS\n")).is_err());
        assert!(parse_sums(&format!("{H} a\n")).is_err());
        assert!(parse_sums(&format!("{H}  a//b\n")).is_err());
    }

    #[test]
    fn names_refuse_escapes_and_control_characters() {
        assert!(valid_name("runbooks/setup.md"));
        for bad in ["", "..", "./a", "a/../b", "a\\b", "a\nb", "/a", "a/"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn allowed_signers_lines_parse_back() {
        let k = PublicKey::from_openssh("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBC7zkn4jADwlVE84vwJotsTN79AjX13PzhSo1tOm9LxKY3y1NR8XrAscm+4eqwEPLoYjYaHJUku2TAUHlT+9VCo= operator@vm").unwrap();
        let line = allowed_signers_line("sk-user-ca", &k).unwrap();
        assert!(line.starts_with(
            "breakglass-kit@sk-user-ca namespaces=\"breakglass-kit\" ecdsa-sha2-nistp256 "
        ));
        let keys = parse_allowed_signers(&format!("# c\n\n{line}garbage line\n"));
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key_data(), k.key_data());
    }
}
