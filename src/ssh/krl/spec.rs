//! ssh-keygen's KRL spec files, read with the rules of OpenSSH 9.2's `update_krl_from_file`
//! (`ssh-keygen.c`; REFERENCE.md §8.3):
//!
//! - leading blanks (space, tab) are skipped; `#` ends the line; trailing blanks are dropped;
//!   a line left empty is skipped. Nothing else is trimmed (a `\r` stays and makes a serial
//!   invalid, as it does for ssh-keygen).
//! - keywords are case-insensitive: `serial: N` or `serial: A-B` (`strtoull` base 0, so `0x2a`
//!   is hex and `010` is octal 8; B above A; 0 refused), `id: KEY_ID` (the rest of the line),
//!   `hash: SHA256:<base64>`, `key:`, `sha1:` or `sha256:` followed by a public key line, or a
//!   bare public key or certificate line (a plain key is revoked explicitly; a certificate by its
//!   serial under its CA, or by its key id when the serial is 0).
//! - `serial:` and `id:` need a CA (`--ca`); certificates carry their own.
//!
//! Errors name the line, as ssh-keygen's do.

use std::io::BufRead;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use ssh_key::encoding::{Decode, Encode};
use ssh_key::public::KeyData;
use ssh_key::Certificate;

use super::{sha1, KrlError, Revocation};

/// The longest spec line read (a certificate with a 16384-bit RSA key is under 8 KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// Which CA `serial:` and `id:` lines revoke under.
#[derive(Debug, Clone, Copy)]
pub enum SpecCa<'a> {
    /// None given: such lines are an error.
    Missing,
    /// Any CA (`ssh-keygen -s none`).
    Any,
    /// This CA public key blob.
    Key(&'a [u8]),
}

impl SpecCa<'_> {
    fn blob(&self) -> Option<Option<Arc<[u8]>>> {
        match self {
            SpecCa::Missing => None,
            SpecCa::Any => Some(None),
            SpecCa::Key(k) => Some(Some(Arc::from(*k))),
        }
    }
}

/// Why one line failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// `serial:`/`id:` without a CA; the field names which.
    NeedsCa(&'static str),
    /// The line does not parse; the text says why.
    Invalid(String),
}

/// Reads a spec from `reader` line by line (each at most [`MAX_LINE`] bytes), handing every
/// revocation to `sink`. `source` names the input in errors (a path or `(standard input)`).
pub fn parse<R: BufRead>(
    mut reader: R,
    source: &str,
    ca: SpecCa<'_>,
    mut sink: impl FnMut(Revocation) -> Result<(), KrlError>,
) -> Result<u64, KrlError> {
    let mut line = Vec::new();
    let mut lnum = 0u64;
    // One copy of the CA blob for every `serial:` and `id:` line.
    let shared = ca.blob();
    loop {
        // A whole line in the reader's buffer is parsed where it lies (no copy); one that runs
        // past the buffer's end is gathered into `line` first.
        let buf = reader.fill_buf().map_err(|e| KrlError::SpecRead {
            source: source.to_string(),
            error: e.to_string(),
        })?;
        if buf.is_empty() {
            return Ok(lnum);
        }
        let in_buffer = buf
            .iter()
            .position(|&b| b == b'\n')
            .filter(|&i| i < MAX_LINE);
        let used = if let Some(i) = in_buffer {
            lnum += 1;
            one_line(&buf[..=i], lnum, source, &shared, &mut sink)?;
            i + 1
        } else {
            line.clear();
            let n = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| KrlError::SpecRead {
                    source: source.to_string(),
                    error: e.to_string(),
                })?;
            if n == 0 {
                return Ok(lnum);
            }
            lnum += 1;
            if line.len() > MAX_LINE {
                return Err(KrlError::Spec {
                    source: source.to_string(),
                    line: lnum,
                    reason: format!("the line is longer than {} KiB", MAX_LINE / 1024),
                });
            }
            one_line(&line, lnum, source, &shared, &mut sink)?;
            0
        };
        reader.consume(used);
    }
}

/// Line `lnum` of `source`, parsed and handed to `sink`.
fn one_line(
    line: &[u8],
    lnum: u64,
    source: &str,
    shared: &Option<Option<Arc<[u8]>>>,
    sink: &mut impl FnMut(Revocation) -> Result<(), KrlError>,
) -> Result<(), KrlError> {
    match parse_line_sharing(line, shared) {
        Ok(None) => Ok(()),
        Ok(Some(r)) => sink(r).map_err(|e| match e {
            KrlError::TooManyEntries => e,
            other => KrlError::Spec {
                source: source.to_string(),
                line: lnum,
                reason: other.to_string(),
            },
        }),
        Err(LineError::NeedsCa(what)) => Err(KrlError::SpecNeedsCa {
            source: source.to_string(),
            line: lnum,
            what,
        }),
        Err(LineError::Invalid(reason)) => Err(KrlError::Spec {
            source: source.to_string(),
            line: lnum,
            reason,
        }),
    }
}

/// The text of a line once ssh-keygen has trimmed it: from the first non-blank to before `#`,
/// newline or NUL, without trailing blanks.
pub fn trim_line(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(line.len());
    let cp = &line[start..];
    let end = cp
        .iter()
        .position(|&b| b == b'#' || b == b'\n' || b == 0)
        .unwrap_or(cp.len());
    let cp = &cp[..end];
    let keep = cp
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &cp[..keep]
}

fn skip_blanks(s: &[u8]) -> &[u8] {
    let i = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    &s[i..]
}

fn strip_keyword<'a>(s: &'a [u8], kw: &str) -> Option<&'a [u8]> {
    let kw = kw.as_bytes();
    (s.len() >= kw.len() && s[..kw.len()].eq_ignore_ascii_case(kw))
        .then(|| skip_blanks(&s[kw.len()..]))
}

/// One line of a spec: `Ok(None)` for blank and comment lines.
pub fn parse_line(line: &[u8], ca: SpecCa<'_>) -> Result<Option<Revocation>, LineError> {
    parse_line_sharing(line, &ca.blob())
}

/// [`parse_line`] with the CA blob `ca.blob()` made once for the whole spec.
fn parse_line_sharing(
    line: &[u8],
    shared: &Option<Option<Arc<[u8]>>>,
) -> Result<Option<Revocation>, LineError> {
    let cp = trim_line(line);
    if cp.is_empty() {
        return Ok(None);
    }
    if let Some(rest) = strip_keyword(cp, "serial:") {
        let ca = shared.clone().ok_or(LineError::NeedsCa("serial"))?;
        let (lo, hi) = parse_serials(rest)?;
        if lo == 0 {
            return Err(LineError::Invalid(
                "serial 0 cannot be revoked: OpenSSH never matches serial 0; revoke that certificate by key id instead".into(),
            ));
        }
        return Ok(Some(Revocation::Serials { ca, lo, hi }));
    }
    if let Some(rest) = strip_keyword(cp, "id:") {
        let ca = shared.clone().ok_or(LineError::NeedsCa("key id"))?;
        return Ok(Some(Revocation::KeyId {
            ca,
            id: rest.to_vec(),
        }));
    }
    if let Some(rest) = strip_keyword(cp, "hash:") {
        let Some(b64) = rest.strip_prefix(b"SHA256:") else {
            return Err(LineError::Invalid(
                "hash: takes only SHA256:<base64> fingerprints, as ssh-keygen -l prints them"
                    .into(),
            ));
        };
        let mut padded: Vec<u8> = b64.to_vec();
        while !padded.len().is_multiple_of(4) {
            padded.push(b'=');
        }
        let h = decode_base64(&padded).ok_or_else(|| {
            LineError::Invalid(format!("\"{}\" is not a base64 fingerprint", show(b64)))
        })?;
        let h: [u8; 32] = h.try_into().map_err(|h: Vec<u8>| {
            LineError::Invalid(format!(
                "the fingerprint is {} bytes; a SHA-256 fingerprint is 32",
                h.len()
            ))
        })?;
        return Ok(Some(Revocation::Sha256(h)));
    }
    let (kind, rest) = if let Some(r) = strip_keyword(cp, "key:") {
        (Kind::Explicit, r)
    } else if let Some(r) = strip_keyword(cp, "sha1:") {
        (Kind::Sha1, r)
    } else if let Some(r) = strip_keyword(cp, "sha256:") {
        (Kind::Sha256, r)
    } else {
        (Kind::Bare, cp)
    };
    let key = read_key(rest).map_err(LineError::Invalid)?;
    let plain = match &key {
        SpecKey::Plain(k) => k.encode_vec(),
        SpecKey::Cert(c) => c.public_key().encode_vec(),
    }
    .map_err(|e| LineError::Invalid(format!("the key does not encode: {e}")))?;
    Ok(Some(match (kind, key) {
        (Kind::Explicit, _) | (Kind::Bare, SpecKey::Plain(_)) => Revocation::Key(plain),
        (Kind::Sha1, _) => Revocation::Sha1(sha1(&plain)),
        (Kind::Sha256, _) => Revocation::Sha256(Sha256::digest(&plain).into()),
        (Kind::Bare, SpecKey::Cert(c)) => {
            let ca = c.signature_key().encode_vec().map_err(|e| {
                LineError::Invalid(format!("the certificate's CA key does not encode: {e}"))
            })?;
            if c.serial() == 0 {
                Revocation::KeyId {
                    ca: Some(ca.into()),
                    id: c.key_id().as_bytes().to_vec(),
                }
            } else {
                Revocation::Serials {
                    ca: Some(ca.into()),
                    lo: c.serial(),
                    hi: c.serial(),
                }
            }
        }
    }))
}

#[derive(Clone, Copy)]
enum Kind {
    Bare,
    Explicit,
    Sha1,
    Sha256,
}

/// A public key or certificate read from a line.
#[derive(Debug, Clone)]
pub enum SpecKey {
    /// A plain public key.
    Plain(KeyData),
    /// A certificate (its CA signature checked).
    Cert(Box<Certificate>),
}

/// The key type names OpenSSH 9.2 reads (`keyimpls` in `sshkey.c`; XMSS is not built by Debian).
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ssh-rsa",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss",
    "ssh-dss-cert-v01@openssh.com",
];

/// `sshkey_read`: `TYPE BASE64 [comment]`, the type named before the blob must be the blob's.
pub fn read_key(s: &[u8]) -> Result<SpecKey, String> {
    let Some(sp) = s.iter().position(|&b| b == b' ' || b == b'\t') else {
        return Err("not a public key or certificate line (expected TYPE BASE64 [COMMENT])".into());
    };
    let type_name = &s[..sp];
    if !KEY_TYPES.iter().any(|t| t.as_bytes() == type_name) {
        return Err(format!(
            "not a public key or certificate line (\"{}\" is not an OpenSSH key type)",
            show(type_name)
        ));
    }
    let rest = skip_blanks(&s[sp..]);
    if rest.is_empty() {
        return Err("not a public key or certificate line (expected TYPE BASE64 [COMMENT])".into());
    }
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(rest.len());
    let type_str = String::from_utf8_lossy(type_name);
    let blob = decode_base64(&rest[..end])
        .ok_or_else(|| format!("the {} key's base64 does not decode", show(type_name)))?;
    if type_str.ends_with("-cert-v01@openssh.com") {
        let cert = Certificate::from_bytes(&blob)
            .map_err(|_| format!("the {} certificate does not parse", show(type_name)))?;
        if cert.algorithm().to_certificate_type() != type_str {
            return Err(format!(
                "the line says {} but holds a {} certificate",
                show(type_name),
                cert.algorithm().to_certificate_type()
            ));
        }
        cert.verify_signature()
            .map_err(|_| "the certificate's CA signature does not verify".to_string())?;
        Ok(SpecKey::Cert(Box::new(cert)))
    } else {
        let mut r = blob.as_slice();
        let key = KeyData::decode(&mut r)
            .ok()
            .filter(|_| r.is_empty())
            .ok_or_else(|| format!("the {} key does not parse", show(type_name)))?;
        if key.algorithm().as_str() != type_str {
            return Err(format!(
                "the line says {} but holds a {} key",
                show(type_name),
                key.algorithm().as_str()
            ));
        }
        Ok(SpecKey::Plain(key))
    }
}

/// Base64 as `b64_pton` reads it: white space anywhere ignored, padding required, no stray bits.
pub fn decode_base64(s: &[u8]) -> Option<Vec<u8>> {
    use ssh_key::encoding::base64::{Base64, Encoding};
    let compact: Vec<u8> = s
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace() && *b != 0x0b)
        .collect();
    Base64::decode_vec(std::str::from_utf8(&compact).ok()?).ok()
}

/// `serial: N` or `serial: A-B` as ssh-keygen 9.2 parses it (two `strtoull(…, 0)` calls).
fn parse_serials(cp: &[u8]) -> Result<(u64, u64), LineError> {
    let invalid = |s: &[u8]| {
        LineError::Invalid(format!(
            "\"{}\" is not a serial number or range (N or A-B; decimal, 0x… hex, or 0… octal)",
            show(s)
        ))
    };
    if cp.is_empty() {
        return Err(invalid(cp));
    }
    let (lo, used, overflow) = strtoull(cp);
    let ep = &cp[used..];
    if !ep.is_empty() && ep[0] != b'-' {
        return Err(invalid(cp));
    }
    if overflow {
        return Err(LineError::Invalid(format!(
            "serial \"{}\" is larger than {}",
            show(cp),
            u64::MAX
        )));
    }
    if ep.is_empty() {
        return Ok((lo, lo));
    }
    let cp2 = &ep[1..];
    let (hi, used2, overflow2) = strtoull(cp2);
    if cp2.is_empty() || used2 != cp2.len() {
        return Err(invalid(cp2));
    }
    if overflow2 {
        return Err(LineError::Invalid(format!(
            "serial \"{}\" is larger than {}",
            show(cp2),
            u64::MAX
        )));
    }
    if hi <= lo {
        return Err(LineError::Invalid(format!(
            "the serial range {lo}-{hi} is empty: its end must be above its start"
        )));
    }
    Ok((lo, hi))
}

/// C `strtoull(s, &end, 0)` (glibc): leading white space, an optional sign (a minus negates
/// modulo 2^64), `0x` hex / `0` octal / decimal. Returns the value, how many bytes were used
/// (0 when no digits: `end` = `s`), and whether it overflowed (`ERANGE`, value `ULLONG_MAX`).
pub fn strtoull(s: &[u8]) -> (u64, usize, bool) {
    // Fast path, the common case: plain decimal digits from a non-zero first one. 19 digits
    // cannot overflow a u64; longer runs take the general path below.
    if s.first().is_some_and(|c| (b'1'..=b'9').contains(c)) {
        let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n <= 19 {
            let v = s[..n]
                .iter()
                .fold(0u64, |v, &c| v * 10 + u64::from(c - b'0'));
            return (v, n, false);
        }
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut base = 10u64;
    if i < s.len() && s[i] == b'0' {
        if s.get(i + 1).is_some_and(|c| (c | 0x20) == b'x')
            && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            base = 16;
            i += 2;
        } else {
            base = 8;
        }
    }
    let digits_start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => (c - b'0') as u64,
            c @ b'a'..=b'z' => (c - b'a' + 10) as u64,
            c @ b'A'..=b'Z' => (c - b'A' + 10) as u64,
            _ => break,
        };
        if d >= base {
            break;
        }
        match v.checked_mul(base).and_then(|x| x.checked_add(d)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return (0, 0, false);
    }
    if overflow {
        return (u64::MAX, i, true);
    }
    (if neg { v.wrapping_neg() } else { v }, i, false)
}

/// Text from a spec line, made safe to print.
fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out = String::new();
    for c in s.chars().take(80) {
        if c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_in_place_or_across_the_buffer_end_are_the_same() {
        // A line wholly in the reader's buffer is parsed where it lies; one that runs past the
        // buffer's end is gathered first. A 4-byte buffer forces the second way on every line.
        let spec = b"serial: 5\n# c\nid: a b\n\nserial: 0x10-0x20\nserial: 7";
        let run = |cap: usize| {
            let mut got = Vec::new();
            let lines = parse(
                std::io::BufReader::with_capacity(cap, &spec[..]),
                "t",
                SpecCa::Key(b"CA"),
                |r| {
                    got.push(r);
                    Ok(())
                },
            )
            .unwrap();
            (lines, got)
        };
        let (lines, got) = run(8192);
        assert_eq!(lines, 6);
        assert_eq!(got.len(), 4);
        assert_eq!(run(4), (lines, got));
        let bad = b"serial: 1\nserial: x\n";
        for cap in [4, 8192] {
            let e = parse(
                std::io::BufReader::with_capacity(cap, &bad[..]),
                "t",
                SpecCa::Key(b"CA"),
                |_| Ok(()),
            )
            .unwrap_err();
            assert!(matches!(e, KrlError::Spec { line: 2, .. }), "{e:?}");
        }
    }

    #[test]
    fn strtoull_follows_glibc() {
        assert_eq!(strtoull(b"42"), (42, 2, false));
        assert_eq!(strtoull(b"010"), (8, 3, false));
        assert_eq!(strtoull(b"0x2a"), (42, 4, false));
        assert_eq!(strtoull(b"0X2A-"), (42, 4, false));
        assert_eq!(strtoull(b"0x"), (0, 1, false)); // "0", end at the x
        assert_eq!(strtoull(b"08"), (0, 1, false));
        assert_eq!(strtoull(b"0"), (0, 1, false));
        assert_eq!(strtoull(b"abc"), (0, 0, false));
        assert_eq!(strtoull(b"-"), (0, 0, false));
        assert_eq!(strtoull(b"-5"), (u64::MAX - 4, 2, false));
        assert_eq!(strtoull(b" +7"), (7, 3, false));
        assert_eq!(strtoull(b"18446744073709551615"), (u64::MAX, 20, false));
        // 19 digits take the decimal fast path, 20 the general one; both stop at a non-digit.
        assert_eq!(
            strtoull(b"9999999999999999999-"),
            (9_999_999_999_999_999_999, 19, false)
        );
        assert_eq!(strtoull(b"12a"), (12, 2, false));
        assert_eq!(strtoull(b"18446744073709551616"), (u64::MAX, 20, true));
        assert_eq!(strtoull(b"0xffffffffffffffff"), (u64::MAX, 18, false));
    }

    fn ca() -> SpecCa<'static> {
        SpecCa::Key(b"CA")
    }

    fn serials(line: &str) -> Result<(u64, u64), LineError> {
        match parse_line(line.as_bytes(), ca())? {
            Some(Revocation::Serials { lo, hi, .. }) => Ok((lo, hi)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serial_lines_parse_as_ssh_keygen_does() {
        assert_eq!(serials("serial: 42"), Ok((42, 42)));
        assert_eq!(serials("  SERIAL:\t010   # octal"), Ok((8, 8)));
        assert_eq!(serials("serial:0x10-0x20"), Ok((16, 32)));
        assert_eq!(serials("serial: 5-  6"), Ok((5, 6)));
        assert_eq!(serials("serial: -5"), Ok((u64::MAX - 4, u64::MAX - 4)));
        assert!(matches!(
            serials("serial: 5 - 6"),
            Err(LineError::Invalid(_))
        ));
        assert!(
            matches!(serials("serial: 6-5"), Err(LineError::Invalid(m)) if m.contains("6-5 is empty"))
        );
        assert!(matches!(serials("serial: 5-5"), Err(LineError::Invalid(_))));
        assert!(matches!(serials("serial: 08"), Err(LineError::Invalid(_))));
        assert!(matches!(serials("serial: 5-"), Err(LineError::Invalid(_))));
        assert!(matches!(serials("serial:"), Err(LineError::Invalid(_))));
        assert!(matches!(serials("serial: 5\r"), Err(LineError::Invalid(_))));
        assert!(
            matches!(serials("serial: 0"), Err(LineError::Invalid(m)) if m.contains("serial 0"))
        );
        assert!(
            matches!(serials("serial: 0-5"), Err(LineError::Invalid(m)) if m.contains("serial 0"))
        );
        assert!(
            matches!(serials("serial: 99999999999999999999"), Err(LineError::Invalid(m)) if m.contains("larger"))
        );
    }

    #[test]
    fn ids_comments_and_blank_lines() {
        assert_eq!(parse_line(b"   # only a comment\n", ca()), Ok(None));
        assert_eq!(parse_line(b" \t \n", ca()), Ok(None));
        assert_eq!(
            parse_line(b"id:  bad key  # why\n", ca()),
            Ok(Some(Revocation::KeyId {
                ca: Some(b"CA"[..].into()),
                id: b"bad key".to_vec()
            }))
        );
        assert_eq!(
            parse_line(b"ID:", ca()),
            Ok(Some(Revocation::KeyId {
                ca: Some(b"CA"[..].into()),
                id: Vec::new()
            }))
        );
        assert_eq!(
            parse_line(b"id: x", SpecCa::Missing),
            Err(LineError::NeedsCa("key id"))
        );
        assert_eq!(
            parse_line(b"serial: 1", SpecCa::Missing),
            Err(LineError::NeedsCa("serial"))
        );
        assert_eq!(
            parse_line(b"serial: 1", SpecCa::Any),
            Ok(Some(Revocation::Serials {
                ca: None,
                lo: 1,
                hi: 1
            }))
        );
    }

    #[test]
    fn hash_lines_take_unpadded_sha256_fingerprints() {
        let h = [7u8; 32];
        let line = format!("hash: SHA256:{}", crate::ssh::krl::base64_unpadded(&h));
        assert_eq!(
            parse_line(line.as_bytes(), SpecCa::Missing),
            Ok(Some(Revocation::Sha256(h)))
        );
        assert!(matches!(
            parse_line(b"hash: MD5:abc", SpecCa::Missing),
            Err(LineError::Invalid(_))
        ));
        assert!(
            matches!(parse_line(b"hash: SHA256:AAAA", SpecCa::Missing), Err(LineError::Invalid(m)) if m.contains("3 bytes"))
        );
    }

    #[test]
    fn garbage_lines_are_errors_with_their_number() {
        let spec = b"serial: 1\n\n# c\nnot a key\n";
        let mut got = Vec::new();
        let e = parse(&spec[..], "spec.txt", ca(), |r| {
            got.push(r);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(got.len(), 1);
        assert_eq!(
            e.to_string(),
            "spec.txt line 4: not a public key or certificate line (\"not\" is not an OpenSSH key type)"
        );
    }

    #[test]
    fn an_overlong_line_is_refused() {
        let mut spec = b"serial: 1\n".to_vec();
        spec.extend(std::iter::repeat_n(b' ', MAX_LINE + 10));
        let e = parse(&spec[..], "-", ca(), |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("- line 2: the line is longer than 64 KiB"),
            "{e}"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_line_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_line(&line, SpecCa::Any);
            let _ = parse_line(&line, SpecCa::Missing);
        }

        #[test]
        fn decimal_serials_round_trip(n in 1u64.., m in 1u64..) {
            let (lo, hi) = (n.min(m), n.max(m));
            let line = if lo == hi { format!("serial: {lo}") } else { format!("serial:{lo}-{hi}") };
            proptest::prop_assert_eq!(serials(&line), Ok((lo, hi)));
            let hex = format!("serial: {lo:#x}");
            proptest::prop_assert_eq!(serials(&hex), Ok((lo, lo)));
        }
    }
}
