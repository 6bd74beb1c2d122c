//! `ssh-keygen -O` certificate options for user certificates.
//!
//! This module reproduces what OpenSSH 9.2's `ssh-keygen -s` does with its
//! `-O` arguments when it signs a *user* certificate (`ssh-keygen.c`:
//! `add_cert_option`, `finalise_cert_exts`, `prepare_options_buf`), and
//! encodes the two resulting sections (critical options and extensions)
//! byte for byte as ssh-keygen writes them.
//!
//! # How ssh-keygen 9.2 applies `-O` (and so do we)
//!
//! * Keywords are matched ASCII case-insensitively (`strcasecmp`), in order.
//! * The seven built-in flags (`permit-X11-forwarding`,
//!   `permit-agent-forwarding`, `permit-port-forwarding`, `permit-pty`,
//!   `permit-user-rc`, `no-touch-required`, `verify-required`) are bits that
//!   later options turn on or off; the first five are on by default.
//! * `clear` turns **only those bits** off. An earlier `force-command=`,
//!   `source-address=`, `extension:` or `critical:` survives a later `clear`.
//! * `force-command=CMD` and `source-address=LIST` may each be given once; an
//!   empty value is an error; the list is checked like OpenSSH's
//!   `addr_match_cidr_list` (see [`CertOptions::from_ssh_keygen_options`]).
//! * `extension:NAME[=VALUE]` / `critical:NAME[=VALUE]` add a custom entry;
//!   the name ends at the first `=`. Without `=` the entry is a flag (empty
//!   data); with `=VALUE` the data is the SSH string `VALUE`.
//! * Both sections are sorted by name with `strcmp` (byte order).
//!
//! # Deliberate deviations (refused here, accepted by ssh-keygen)
//!
//! ssh-keygen 9.2 happily writes certificates that a
//! `BTreeMap<String, String>` cannot describe, or that are nonsensical. We
//! refuse them with an [`OptionError`] instead of producing different bytes:
//!
//! * a name present twice in one section, e.g. `-O extension:permit-pty`
//!   while the default `permit-pty` is still on, `extension:foo` twice, or
//!   `critical:force-command=x` together with `force-command=y` (ssh-keygen
//!   writes both entries; `PROTOCOL.certkeys` forbids duplicates) →
//!   [`OptionError::DuplicateName`];
//! * an empty value after `=`, e.g. `extension:foo=`: ssh-keygen encodes the
//!   data as the SSH string `""` (`00000004 00000000`), which differs from
//!   the flag `extension:foo` (`00000000`); a `String` value of `""` already
//!   means "flag" here → [`OptionError::EmptyValue`];
//! * an empty name, e.g. `extension:` or `critical:=x` →
//!   [`OptionError::EmptyName`];
//! * a NUL byte anywhere (impossible on a real command line) →
//!   [`OptionError::NulByte`].

use std::collections::BTreeMap;

/// Built-in flag bit: `permit-X11-forwarding` extension.
const X_FWD: u8 = 1;
/// Built-in flag bit: `permit-agent-forwarding` extension.
const AGENT_FWD: u8 = 1 << 1;
/// Built-in flag bit: `permit-port-forwarding` extension.
const PORT_FWD: u8 = 1 << 2;
/// Built-in flag bit: `permit-pty` extension.
const PTY: u8 = 1 << 3;
/// Built-in flag bit: `permit-user-rc` extension.
const USER_RC: u8 = 1 << 4;
/// Built-in flag bit: `no-touch-required` extension.
const NO_TOUCH: u8 = 1 << 5;
/// Built-in flag bit: `verify-required` critical option.
const VERIFY: u8 = 1 << 6;
/// The flags a user certificate starts with (ssh-keygen's `CERTOPT_DEFAULT`).
const DEFAULT_FLAGS: u8 = X_FWD | AGENT_FWD | PORT_FWD | PTY | USER_RC;

/// Flag keywords accepted by `-O` (lower case), the bit and whether they set
/// (`true`) or clear (`false`) it, in ssh-keygen's order.
const FLAG_KEYWORDS: &[(&str, u8, bool)] = &[
    ("no-x11-forwarding", X_FWD, false),
    ("permit-x11-forwarding", X_FWD, true),
    ("no-agent-forwarding", AGENT_FWD, false),
    ("permit-agent-forwarding", AGENT_FWD, true),
    ("no-port-forwarding", PORT_FWD, false),
    ("permit-port-forwarding", PORT_FWD, true),
    ("no-pty", PTY, false),
    ("permit-pty", PTY, true),
    ("no-user-rc", USER_RC, false),
    ("permit-user-rc", USER_RC, true),
    ("touch-required", NO_TOUCH, false),
    ("no-touch-required", NO_TOUCH, true),
    ("no-verify-required", VERIFY, false),
    ("verify-required", VERIFY, true),
];

/// Built-in flags, their wire names and whether they are critical options,
/// as added by ssh-keygen's `finalise_cert_exts`.
const FLAG_NAMES: &[(u8, &str, bool)] = &[
    (VERIFY, "verify-required", true),
    (X_FWD, "permit-X11-forwarding", false),
    (AGENT_FWD, "permit-agent-forwarding", false),
    (PORT_FWD, "permit-port-forwarding", false),
    (PTY, "permit-pty", false),
    (USER_RC, "permit-user-rc", false),
    (NO_TOUCH, "no-touch-required", false),
];

/// Longest source-address list entry OpenSSH looks at
/// (`INET6_ADDRSTRLEN + 3`).
const MAX_CIDR_ENTRY_LEN: usize = 46 + 3;

/// The two option sections of a user certificate.
///
/// Values are the option's string data (`""` for a flag). A
/// `BTreeMap<String, _>` iterates in byte (`strcmp`) order, which is the
/// order ssh-keygen writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertOptions {
    /// Critical options (`force-command`, `source-address`,
    /// `verify-required`, custom `critical:` entries).
    pub critical: BTreeMap<String, String>,
    /// Extensions (`permit-*`, `no-touch-required`, custom `extension:`
    /// entries).
    pub extensions: BTreeMap<String, String>,
}

/// Why a list of `ssh-keygen -O` options was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The option is none of the keywords ssh-keygen 9.2 knows.
    #[error("unknown certificate option {option:?}")]
    Unknown {
        /// The option as given.
        option: String,
    },
    /// `force-command=` with nothing after the `=`.
    #[error("certificate option {option:?} has an empty command")]
    EmptyForceCommand {
        /// The option as given.
        option: String,
    },
    /// A second `force-command=`.
    #[error("force-command given twice (second time as {option:?})")]
    ForceCommandTwice {
        /// The second `force-command=` option as given.
        option: String,
    },
    /// `source-address=` with nothing after the `=`.
    #[error("certificate option {option:?} has an empty address list")]
    EmptySourceAddress {
        /// The option as given.
        option: String,
    },
    /// A second `source-address=`.
    #[error("source-address given twice (second time as {option:?})")]
    SourceAddressTwice {
        /// The second `source-address=` option as given.
        option: String,
    },
    /// The `source-address=` list is not a list of CIDR addresses.
    #[error("invalid source-address {list:?}: not a CIDR list (entry {entry:?}: {reason})")]
    InvalidSourceAddress {
        /// The whole list after `source-address=`.
        list: String,
        /// The first offending comma-separated entry (may be empty).
        entry: String,
        /// What is wrong with that entry.
        reason: &'static str,
    },
    /// `extension:` / `critical:` with an empty name (ssh-keygen accepts it;
    /// breakglass refuses).
    #[error("certificate option {option:?} has an empty name")]
    EmptyName {
        /// The option as given.
        option: String,
    },
    /// `extension:NAME=` / `critical:NAME=` with an empty value, which
    /// ssh-keygen encodes differently from a flag and a `String` value cannot
    /// express.
    #[error(
        "certificate option {option:?} has an empty value after \"=\", which breakglass cannot encode like ssh-keygen (drop the \"=\" for a flag)"
    )]
    EmptyValue {
        /// The option as given.
        option: String,
    },
    /// The option would put a name into a section a second time (ssh-keygen
    /// writes such duplicates; breakglass refuses them).
    #[error(
        "certificate option {option:?} would put {name:?} into the {section} a second time (ssh-keygen writes duplicates, breakglass refuses them)"
    )]
    DuplicateName {
        /// The custom `extension:` / `critical:` option that repeats the name.
        option: String,
        /// `"critical options"` or `"extensions"`.
        section: &'static str,
        /// The repeated name.
        name: String,
    },
    /// The option contains a NUL byte (impossible on a command line).
    #[error("certificate option {option:?} contains a NUL byte")]
    NulByte {
        /// The option as given.
        option: String,
    },
}

/// A custom `extension:` / `critical:` entry, kept in the order given.
struct CustomEntry {
    /// The option exactly as given, for error messages.
    option: String,
    /// The entry's name.
    name: String,
    /// The entry's value, `None` for a flag.
    value: Option<String>,
    /// Whether it goes into the critical section.
    critical: bool,
}

/// ssh-keygen's option state while `-O` arguments are applied.
struct State {
    /// Built-in flag bits (`certflags_flags`).
    flags: u8,
    /// `force-command=` value (`certflags_command`).
    command: Option<String>,
    /// `source-address=` value (`certflags_src_addr`).
    source_address: Option<String>,
    /// Custom entries (`cert_ext`).
    custom: Vec<CustomEntry>,
}

/// Strips `prefix` (ASCII, matched case-insensitively like `strncasecmp`).
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let bytes = s.as_bytes();
    let head = bytes.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix.as_bytes()) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

impl State {
    /// Applies one `-O` argument, as ssh-keygen's `add_cert_option`.
    fn apply(&mut self, opt: &str) -> Result<(), OptionError> {
        if opt.contains('\0') {
            return Err(OptionError::NulByte {
                option: opt.to_owned(),
            });
        }
        if opt.eq_ignore_ascii_case("clear") {
            self.flags = 0;
            return Ok(());
        }
        if let Some(&(_, bit, set)) = FLAG_KEYWORDS
            .iter()
            .find(|(kw, _, _)| opt.eq_ignore_ascii_case(kw))
        {
            if set {
                self.flags |= bit;
            } else {
                self.flags &= !bit;
            }
            return Ok(());
        }
        if let Some(val) = strip_prefix_ci(opt, "force-command=") {
            if val.is_empty() {
                return Err(OptionError::EmptyForceCommand {
                    option: opt.to_owned(),
                });
            }
            if self.command.is_some() {
                return Err(OptionError::ForceCommandTwice {
                    option: opt.to_owned(),
                });
            }
            self.command = Some(val.to_owned());
            return Ok(());
        }
        if let Some(val) = strip_prefix_ci(opt, "source-address=") {
            if val.is_empty() {
                return Err(OptionError::EmptySourceAddress {
                    option: opt.to_owned(),
                });
            }
            if self.source_address.is_some() {
                return Err(OptionError::SourceAddressTwice {
                    option: opt.to_owned(),
                });
            }
            check_cidr_list(val).map_err(|(entry, reason)| OptionError::InvalidSourceAddress {
                list: val.to_owned(),
                entry: entry.to_owned(),
                reason,
            })?;
            self.source_address = Some(val.to_owned());
            return Ok(());
        }
        let custom = strip_prefix_ci(opt, "extension:")
            .map(|rest| (rest, false))
            .or_else(|| strip_prefix_ci(opt, "critical:").map(|rest| (rest, true)));
        if let Some((rest, critical)) = custom {
            let (name, value) = match rest.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (rest, None),
            };
            if name.is_empty() {
                return Err(OptionError::EmptyName {
                    option: opt.to_owned(),
                });
            }
            if value == Some("") {
                return Err(OptionError::EmptyValue {
                    option: opt.to_owned(),
                });
            }
            self.custom.push(CustomEntry {
                option: opt.to_owned(),
                name: name.to_owned(),
                value: value.map(str::to_owned),
                critical,
            });
            return Ok(());
        }
        Err(OptionError::Unknown {
            option: opt.to_owned(),
        })
    }

    /// Builds the sections, as ssh-keygen's `finalise_cert_exts`, refusing
    /// names that would appear twice in a section.
    fn finalise(self) -> Result<CertOptions, OptionError> {
        let mut out = CertOptions::default();
        if let Some(command) = self.command {
            out.critical.insert("force-command".to_owned(), command);
        }
        if let Some(list) = self.source_address {
            out.critical.insert("source-address".to_owned(), list);
        }
        for &(bit, name, critical) in FLAG_NAMES {
            if self.flags & bit != 0 {
                let map = if critical {
                    &mut out.critical
                } else {
                    &mut out.extensions
                };
                map.insert(name.to_owned(), String::new());
            }
        }
        for entry in self.custom {
            let (map, section) = if entry.critical {
                (&mut out.critical, "critical options")
            } else {
                (&mut out.extensions, "extensions")
            };
            if map.contains_key(&entry.name) {
                return Err(OptionError::DuplicateName {
                    option: entry.option,
                    section,
                    name: entry.name,
                });
            }
            map.insert(entry.name, entry.value.unwrap_or_default());
        }
        Ok(out)
    }
}

impl CertOptions {
    /// Defaults for a user certificate: the five `permit-*` extensions
    /// (`permit-X11-forwarding`, `permit-agent-forwarding`,
    /// `permit-port-forwarding`, `permit-pty`, `permit-user-rc`), no critical
    /// options.
    pub fn user_default() -> Self {
        let mut out = Self::default();
        for &(bit, name, critical) in FLAG_NAMES {
            if DEFAULT_FLAGS & bit != 0 && !critical {
                out.extensions.insert(name.to_owned(), String::new());
            }
        }
        out
    }

    /// Applies `ssh-keygen -O` options in order, starting from
    /// [`CertOptions::user_default`], exactly as ssh-keygen 9.2 does for a
    /// user certificate.
    ///
    /// Keywords (case-insensitive): `clear` (turns off the seven built-in
    /// flags only), `permit-x11-forwarding`/`no-x11-forwarding`,
    /// `permit-agent-forwarding`/`no-agent-forwarding`,
    /// `permit-port-forwarding`/`no-port-forwarding`, `permit-pty`/`no-pty`,
    /// `permit-user-rc`/`no-user-rc`, `no-touch-required`/`touch-required`,
    /// `verify-required`/`no-verify-required`, `force-command=CMD` (once),
    /// `source-address=LIST` (once), `extension:NAME[=VALUE]` and
    /// `critical:NAME[=VALUE]` (name case is kept).
    ///
    /// `source-address` is checked like OpenSSH's `addr_match_cidr_list`
    /// with glibc's numeric address parsing: comma-separated entries, none
    /// empty, each at most 49 characters of `0-9a-fA-F.:/`, an IPv4 address
    /// in any `inet_aton` form (`10`, `10.1`, octal `010.0.0.1`, ...) or an
    /// IPv6 address (`inet_pton`), an optional decimal `/prefix` no longer
    /// than the address, and no address bits set after the prefix.
    ///
    /// # Errors
    ///
    /// The first invalid option in order, or, once all are applied, a name
    /// that would appear twice in one section; see [`OptionError`] and the
    /// module documentation for the cases ssh-keygen accepts but we refuse.
    pub fn from_ssh_keygen_options<S: AsRef<str>>(opts: &[S]) -> Result<Self, OptionError> {
        let mut state = State {
            flags: DEFAULT_FLAGS,
            command: None,
            source_address: None,
            custom: Vec::new(),
        };
        for opt in opts {
            state.apply(opt.as_ref())?;
        }
        state.finalise()
    }

    /// Encodes one section body as it appears inside a certificate: for each
    /// entry in byte order, `string name` then `string data`, where `data` is
    /// empty for a flag (value `""`) and `string value` otherwise.
    ///
    /// # Panics
    ///
    /// If a name or value is longer than `u32::MAX - 4` bytes, which cannot
    /// be encoded as an SSH string.
    pub fn encode_section(map: &BTreeMap<String, String>) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, value) in map {
            put_string(&mut out, name.as_bytes());
            if value.is_empty() {
                put_string(&mut out, &[]);
            } else {
                let mut data = Vec::with_capacity(value.len() + 4);
                put_string(&mut data, value.as_bytes());
                put_string(&mut out, &data);
            }
        }
        out
    }

    /// True when the critical section contains `verify-required` (the
    /// certificate then demands a user-verified FIDO signature).
    pub fn verify_required(&self) -> bool {
        self.critical.contains_key("verify-required")
    }
}

/// Appends an SSH `string` (`uint32` length, then the bytes).
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("SSH string longer than u32::MAX bytes");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Checks a `source-address` list (e.g. `fleet-drill --from`) as `-O source-address=` does:
/// on failure, the first bad entry and why.
pub fn check_source_address(list: &str) -> Result<(), (&str, &'static str)> {
    check_cidr_list(list)
}

/// Checks a `source-address` list like OpenSSH's
/// `addr_match_cidr_list(NULL, list)`; on failure returns the first bad entry
/// and why.
fn check_cidr_list(list: &str) -> Result<(), (&str, &'static str)> {
    for entry in list.split(',') {
        check_cidr_entry(entry).map_err(|reason| (entry, reason))?;
    }
    Ok(())
}

/// A parsed address.
enum Addr {
    /// IPv4, host byte order.
    V4(u32),
    /// IPv6, host byte order.
    V6(u128),
}

/// Checks one list entry (`addr_match_cidr_list` loop body and
/// `addr_pton_cidr`).
fn check_cidr_entry(entry: &str) -> Result<(), &'static str> {
    if entry.is_empty() {
        return Err("empty entry");
    }
    if entry.len() > MAX_CIDR_ENTRY_LEN {
        return Err("entry longer than 49 characters");
    }
    if !entry
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':' || b == b'/')
    {
        return Err("invalid character (only hex digits, '.', ':' and '/' are allowed)");
    }
    let (addr, mask) = match entry.split_once('/') {
        Some((addr, mask)) => (addr, Some(mask)),
        None => (entry, None),
    };
    let masklen = match mask {
        None => None,
        Some(mask) => {
            if mask.is_empty() || !mask.bytes().all(|b| b.is_ascii_digit()) {
                return Err("prefix length is not a decimal number");
            }
            let value = mask.bytes().fold(0u64, |acc, b| {
                acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
            });
            if value > 128 {
                return Err("prefix length above 128");
            }
            Some(value as u32)
        }
    };
    let parsed = parse_ipv4_aton(addr)
        .map(Addr::V4)
        .or_else(|| parse_ipv6(addr).map(Addr::V6))
        .ok_or("not an IPv4 or IPv6 address")?;
    match parsed {
        Addr::V4(v) => {
            let len = masklen.unwrap_or(32);
            if len > 32 {
                return Err("prefix length above 32 for an IPv4 address");
            }
            let host_mask = u32::MAX.checked_shr(len).unwrap_or(0);
            if v & host_mask != 0 {
                return Err("address has bits set after the prefix length");
            }
        }
        Addr::V6(v) => {
            let len = masklen.unwrap_or(128);
            let host_mask = u128::MAX.checked_shr(len).unwrap_or(0);
            if v & host_mask != 0 {
                return Err("address has bits set after the prefix length");
            }
        }
    }
    Ok(())
}

/// Parses like glibc's `strtoul(s, &end, 0)` from `start` (which must be a
/// digit): returns the value (`None` when above `u32::MAX`, where
/// `inet_aton` gives up) and the index after the number.
fn strtoul0(b: &[u8], start: usize) -> (Option<u64>, usize) {
    let mut i = start;
    let mut base = 10u64;
    if b.get(i) == Some(&b'0') {
        match (b.get(i + 1), b.get(i + 2)) {
            (Some(b'x' | b'X'), Some(c)) if c.is_ascii_hexdigit() => {
                base = 16;
                i += 2;
            }
            _ => base = 8,
        }
    }
    let mut value: u64 = 0;
    while let Some(&c) = b.get(i) {
        let digit = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'f' => u64::from(c - b'a' + 10),
            b'A'..=b'F' => u64::from(c - b'A' + 10),
            _ => break,
        };
        if digit >= base {
            break;
        }
        value = value.saturating_mul(base).saturating_add(digit);
        i += 1;
    }
    let value = if value > u64::from(u32::MAX) {
        None
    } else {
        Some(value)
    };
    (value, i)
}

/// Parses an IPv4 address like glibc's `__inet_aton_exact` (used by
/// `getaddrinfo` with `AI_NUMERICHOST`): one to four parts in C notation,
/// the last filling the remaining bytes.
fn parse_ipv4_aton(s: &str) -> Option<u32> {
    const MAX_LAST: [u64; 4] = [0xffff_ffff, 0x00ff_ffff, 0xffff, 0xff];
    let b = s.as_bytes();
    let mut parts: Vec<u64> = Vec::with_capacity(3);
    let mut i = 0;
    let last = loop {
        if !b.get(i)?.is_ascii_digit() {
            return None;
        }
        let (value, next) = strtoul0(b, i);
        let value = value?;
        i = next;
        if b.get(i) == Some(&b'.') {
            if parts.len() > 2 || value > 0xff {
                return None;
            }
            parts.push(value);
            i += 1;
        } else {
            break value;
        }
    };
    if i != b.len() || last > MAX_LAST[parts.len()] {
        return None;
    }
    let mut addr = last;
    for (k, part) in parts.iter().enumerate() {
        addr |= part << (24 - 8 * k);
    }
    u32::try_from(addr).ok()
}

/// Parses a dotted quad like glibc's `inet_pton4`: exactly four decimal
/// octets, no leading zeros.
fn parse_ipv4_pton(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut octets = 0usize;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for &c in s {
        if c.is_ascii_digit() {
            if saw_digit && cur == 0 {
                return None;
            }
            cur = cur * 10 + u32::from(c - b'0');
            if cur > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            *out.get_mut(octets - 1)? = cur as u8;
        } else if c == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    (octets == 4).then_some(out)
}

/// Parses an IPv6 address like glibc's `inet_pton6`.
fn parse_ipv6(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    let mut tmp = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    let mut i = 0usize;
    if b.is_empty() {
        return None;
    }
    if b[0] == b':' {
        i = 1;
        if b.get(1) != Some(&b':') {
            return None;
        }
    }
    let mut curtok = i;
    let mut xdigits = 0usize;
    let mut val: u32 = 0;
    while let Some(&ch) = b.get(i) {
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            if xdigits == 4 {
                return None;
            }
            val = (val << 4) | d;
            xdigits += 1;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if xdigits == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == b.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            tmp[tp] = (val >> 8) as u8;
            tmp[tp + 1] = val as u8;
            tp += 2;
            xdigits = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            if let Some(quad) = b.get(curtok..).and_then(parse_ipv4_pton) {
                tmp[tp..tp + 4].copy_from_slice(&quad);
                tp += 4;
                xdigits = 0;
                break;
            }
        }
        return None;
    }
    if xdigits > 0 {
        if tp + 2 > 16 {
            return None;
        }
        tmp[tp] = (val >> 8) as u8;
        tmp[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(cp) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - cp;
        tmp.copy_within(cp..tp, 16 - n);
        tmp[cp..16 - n].fill(0);
        tp = 16;
    }
    (tp == 16).then(|| u128::from_be_bytes(tmp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Result<CertOptions, OptionError> {
        CertOptions::from_ssh_keygen_options(list)
    }

    fn names(map: &BTreeMap<String, String>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    const DEFAULTS: [&str; 5] = [
        "permit-X11-forwarding",
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
        "permit-user-rc",
    ];

    #[test]
    fn user_default_is_five_permits_in_strcmp_order() {
        let d = CertOptions::user_default();
        assert_eq!(names(&d.extensions), DEFAULTS);
        assert!(d.extensions.values().all(String::is_empty));
        assert!(d.critical.is_empty());
        assert!(!d.verify_required());
        assert_eq!(opts(&[]).unwrap(), d);
    }

    #[test]
    fn default_section_is_130_bytes() {
        let enc = CertOptions::encode_section(&CertOptions::user_default().extensions);
        assert_eq!(enc.len(), 130);
        assert_eq!(&enc[..4], &[0, 0, 0, 0x15]);
        assert_eq!(&enc[4..25], b"permit-X11-forwarding");
        assert_eq!(&enc[25..29], &[0, 0, 0, 0]);
    }

    #[test]
    fn every_flag_keyword() {
        let cases: &[(&str, &str)] = &[
            ("x11-forwarding", "permit-X11-forwarding"),
            ("agent-forwarding", "permit-agent-forwarding"),
            ("port-forwarding", "permit-port-forwarding"),
            ("pty", "permit-pty"),
            ("user-rc", "permit-user-rc"),
        ];
        for (kw, name) in cases {
            let off = opts(&[&format!("no-{kw}")]).unwrap();
            assert!(!off.extensions.contains_key(*name), "no-{kw}");
            assert_eq!(off.extensions.len(), 4);
            let on = opts(&["clear", &format!("permit-{kw}")]).unwrap();
            assert_eq!(names(&on.extensions), [*name], "permit-{kw}");
            let back = opts(&[&format!("no-{kw}"), &format!("permit-{kw}")]).unwrap();
            assert_eq!(back, CertOptions::user_default());
        }
        let t = opts(&["no-touch-required"]).unwrap();
        assert_eq!(names(&t.extensions)[0], "no-touch-required");
        assert_eq!(
            opts(&["no-touch-required", "touch-required"]).unwrap(),
            CertOptions::user_default()
        );
        assert_eq!(
            opts(&["touch-required"]).unwrap(),
            CertOptions::user_default()
        );
        let v = opts(&["verify-required"]).unwrap();
        assert_eq!(names(&v.critical), ["verify-required"]);
        assert_eq!(v.critical["verify-required"], "");
        assert!(v.verify_required());
        let nv = opts(&["verify-required", "no-verify-required"]).unwrap();
        assert!(!nv.verify_required());
        assert!(nv.critical.is_empty());
    }

    #[test]
    fn keywords_are_case_insensitive_names_are_not() {
        let a = opts(&[
            "CLEAR",
            "Permit-PTY",
            "VERIFY-required",
            "Force-Command=/bin/True",
            "SOURCE-ADDRESS=10.0.0.0/8",
            "EXTENSION:Foo@Example=Bar",
            "Critical:Zed=Q",
        ])
        .unwrap();
        assert_eq!(names(&a.extensions), ["Foo@Example", "permit-pty"]);
        assert_eq!(a.extensions["Foo@Example"], "Bar");
        assert_eq!(
            names(&a.critical),
            ["Zed", "force-command", "source-address", "verify-required"]
        );
        assert_eq!(a.critical["force-command"], "/bin/True");
        let x = opts(&["permit-X11-FORWARDING", "NO-x11-Forwarding"]).unwrap();
        assert!(!x.extensions.contains_key("permit-X11-forwarding"));
    }

    #[test]
    fn clear_drops_flags_only() {
        assert_eq!(opts(&["clear"]).unwrap(), CertOptions::default());
        let c = opts(&[
            "verify-required",
            "no-touch-required",
            "force-command=x",
            "source-address=::1",
            "extension:a",
            "critical:b=1",
            "clear",
        ])
        .unwrap();
        assert_eq!(names(&c.critical), ["b", "force-command", "source-address"]);
        assert_eq!(names(&c.extensions), ["a"]);
        assert!(!c.verify_required());
        // options after clear apply again
        let d = opts(&["clear", "permit-user-rc", "clear", "permit-pty"]).unwrap();
        assert_eq!(names(&d.extensions), ["permit-pty"]);
    }

    #[test]
    fn ordering_is_strcmp() {
        let o = opts(&[
            "extension:zz@x",
            "extension:aa@x",
            "no-touch-required",
            "extension:Zed",
            "extension:permit-\u{e9}",
        ])
        .unwrap();
        assert_eq!(
            names(&o.extensions),
            [
                "Zed",
                "aa@x",
                "no-touch-required",
                "permit-X11-forwarding",
                "permit-agent-forwarding",
                "permit-port-forwarding",
                "permit-pty",
                "permit-user-rc",
                "permit-\u{e9}",
                "zz@x",
            ]
        );
        let c = opts(&[
            "verify-required",
            "source-address=1.2.3.4",
            "force-command=a",
        ])
        .unwrap();
        assert_eq!(
            names(&c.critical),
            ["force-command", "source-address", "verify-required"]
        );
    }

    #[test]
    fn custom_entries_and_encoding() {
        let o = opts(&[
            "clear",
            "extension:flag@x",
            "extension:kv@x=v=w",
            "extension:a:b=c",
            "critical:crit@x=1",
        ])
        .unwrap();
        assert_eq!(o.extensions["flag@x"], "");
        assert_eq!(o.extensions["kv@x"], "v=w");
        assert_eq!(o.extensions["a:b"], "c");
        assert_eq!(o.critical["crit@x"], "1");
        let enc = CertOptions::encode_section(&o.critical);
        let mut want = vec![0, 0, 0, 6];
        want.extend_from_slice(b"crit@x");
        want.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 1, b'1']);
        assert_eq!(enc, want);
        assert!(CertOptions::encode_section(&BTreeMap::new()).is_empty());
    }

    #[test]
    fn force_command_encoding_matches_reference() {
        let o = opts(&["force-command=/bin/true"]).unwrap();
        let enc = CertOptions::encode_section(&o.critical);
        let mut want = vec![0, 0, 0, 0x0d];
        want.extend_from_slice(b"force-command");
        want.extend_from_slice(&[0, 0, 0, 0x0d, 0, 0, 0, 9]);
        want.extend_from_slice(b"/bin/true");
        assert_eq!(enc, want);
    }

    #[test]
    fn errors() {
        use OptionError::*;
        let err = |l: &[&str]| opts(l).unwrap_err();
        assert!(matches!(err(&["foo"]), Unknown { option } if option == "foo"));
        assert!(matches!(err(&["force-command"]), Unknown { .. }));
        assert!(matches!(err(&["permit-pty=1"]), Unknown { .. }));
        assert!(matches!(err(&[""]), Unknown { .. }));
        assert!(matches!(err(&[" clear"]), Unknown { .. }));
        assert!(matches!(err(&["extension"]), Unknown { .. }));
        assert!(matches!(err(&["force-command="]), EmptyForceCommand { .. }));
        assert!(matches!(
            err(&["force-command=a", "FORCE-COMMAND=b"]),
            ForceCommandTwice { option } if option == "FORCE-COMMAND=b"
        ));
        assert!(matches!(
            err(&["source-address="]),
            EmptySourceAddress { .. }
        ));
        assert!(matches!(
            err(&["source-address=1.2.3.4", "source-address=5.6.7.8"]),
            SourceAddressTwice { .. }
        ));
        // duplicate is reported before the second list is validated
        assert!(matches!(
            err(&["source-address=1.2.3.4", "source-address=bogus"]),
            SourceAddressTwice { .. }
        ));
        assert!(matches!(
            err(&["source-address=10.0.0.0/33"]),
            InvalidSourceAddress { .. }
        ));
        assert!(matches!(err(&["extension:"]), EmptyName { .. }));
        assert!(matches!(err(&["critical:=x"]), EmptyName { .. }));
        assert!(matches!(err(&["extension:foo="]), EmptyValue { .. }));
        assert!(matches!(
            err(&["extension:permit-pty"]),
            DuplicateName { section: "extensions", name, .. } if name == "permit-pty"
        ));
        assert!(matches!(
            err(&["extension:foo", "extension:foo=1"]),
            DuplicateName { option, .. } if option == "extension:foo=1"
        ));
        assert!(matches!(
            err(&["critical:force-command=x", "force-command=y"]),
            DuplicateName {
                section: "critical options",
                ..
            }
        ));
        assert!(matches!(
            err(&["critical:verify-required", "verify-required"]),
            DuplicateName { .. }
        ));
        assert!(matches!(err(&["extension:a\0b"]), NulByte { .. }));
        // first error in order wins
        assert!(matches!(err(&["bogus", "force-command="]), Unknown { .. }));
        // a duplicate resolved by later options is fine
        assert!(opts(&["extension:permit-pty", "no-pty"]).is_ok());
        assert!(opts(&["clear", "extension:permit-pty"]).is_ok());
        // extension and critical with the same name are different sections
        assert!(opts(&["extension:x", "critical:x"]).is_ok());
    }

    #[test]
    fn error_messages() {
        let msg = |l: &[&str]| opts(l).unwrap_err().to_string();
        assert_eq!(msg(&["foo"]), "unknown certificate option \"foo\"");
        assert_eq!(
            msg(&["source-address=10.0.0.0/33"]),
            "invalid source-address \"10.0.0.0/33\": not a CIDR list \
             (entry \"10.0.0.0/33\": prefix length above 32 for an IPv4 address)"
        );
        assert!(
            msg(&["force-command=a", "force-command=b"]).starts_with("force-command given twice")
        );
        assert!(msg(&["source-address=::", "source-address=::"])
            .starts_with("source-address given twice"));
        assert!(msg(&["extension:permit-pty"]).contains("\"extension:permit-pty\""));
        assert!(msg(&["extension:foo="]).contains("\"extension:foo=\""));
        assert!(msg(&["x\u{1b}[2J"]).contains("\\u{1b}"));
    }

    #[test]
    fn cidr_lists() {
        let good = [
            "10.0.0.0/8",
            "10",
            "10.1",
            "1.2.65535",
            "1.16777215",
            "4294967295",
            "010.0.0.0/8",
            "0377.1.1.1",
            "017777777777",
            "00000000000000000000001",
            "0.0.0.0/0",
            "1.2.3.4",
            "1.2.3.4/32",
            "1.2.3.0/024",
            "128.0.0.0/1",
            "1.2.3.4,5.6.7.8",
            "::",
            "::/0",
            "::1",
            "::1/128",
            "fe80::/10",
            "FE80::/10",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:8",
            "0000:0000::1",
            "0::",
            "::0:0:0:0:0:0:0",
            "0:0:0:0:0:0:0::",
            "1::/16",
            "1111:2222:3333:4444:5555:6666:7777:8888/128",
        ];
        for g in good {
            assert_eq!(check_cidr_list(g), Ok(()), "{g}");
        }
        let bad = [
            "",
            ",",
            "1.2.3.4,",
            ",1.2.3.4",
            "1.2.3.4,,5.6.7.8",
            "10.0.0.1/8",
            "10/8",
            "08.0.0.0",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/08",
            "1.2.3.4/32/1",
            "256.0.0.0",
            "1.2.3.256",
            "1.2.65536",
            "4294967296",
            "0400.1.1.1",
            "1.",
            ".1",
            "1..2",
            "1.2.3.4.5",
            "::1/129",
            "::1/127",
            "fe80::1/10",
            "::ffff:1.2.3.04",
            "::ffff:1.2.3",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            ":1::2",
            "1::2:",
            "12345::1",
            "00000::1",
            "1:2:3:4:5:6:7:1.2.3.4",
            ":::",
            "::0:0:0:0:0:0:0:0",
            "0:0:0:0::0:0:0:0",
            "a",
            "abc",
            "ab.cd",
            "1.2.3.4 ",
            "x",
            "0x1",
            "1.2.3.4%1",
            "1.2.3.4/99999999999999999999999",
            "1.2.3.4/4294967328",
            "1111:2222:3333:4444:5555:6666:7777:8888/1280",
            "1.0.0.0/1",
            "1::/15",
            "0.0.0.0/33",
            "1.2.3.4/0",
            "/8",
            "00000000000000000000000000000000000000000000000001",
        ];
        for b in bad {
            assert!(check_cidr_list(b).is_err(), "{b}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_options(list in proptest::collection::vec(".{0,40}", 0..6)) {
            let result = CertOptions::from_ssh_keygen_options(&list);
            if let Ok(o) = result {
                let _ = CertOptions::encode_section(&o.critical);
                let _ = CertOptions::encode_section(&o.extensions);
            } else if let Err(e) = result {
                proptest::prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn never_panics_on_option_like_strings(
            list in proptest::collection::vec(
                "(?i)(clear|no-|permit-|force-command=|source-address=|extension:|critical:)[-a-zA-Z0-9.:/,=@ \\x00\\u{e9}]{0,24}",
                0..6,
            )
        ) {
            let _ = CertOptions::from_ssh_keygen_options(&list);
        }

        #[test]
        fn never_panics_on_cidr_like_lists(list in "[0-9a-fA-F.:/,xX%]{0,60}") {
            let _ = check_cidr_list(&list);
            let _ = CertOptions::from_ssh_keygen_options(&[format!("source-address={list}")]);
        }
    }

    #[test]
    fn ipv4_values() {
        assert_eq!(parse_ipv4_aton("10"), Some(10));
        assert_eq!(parse_ipv4_aton("10.1"), Some(0x0a00_0001));
        assert_eq!(parse_ipv4_aton("1.2.3"), Some(0x0102_0003));
        assert_eq!(parse_ipv4_aton("010.0.0.1"), Some(0x0800_0001));
        assert_eq!(parse_ipv4_aton("0x7f.1"), Some(0x7f00_0001));
        assert_eq!(parse_ipv4_aton("0x"), None);
        assert_eq!(parse_ipv6("::1"), Some(1));
        assert_eq!(parse_ipv6("1::"), Some(1u128 << 112));
        assert_eq!(parse_ipv6("::ffff:1.2.3.4"), Some(0xffff_0102_0304));
    }
}
