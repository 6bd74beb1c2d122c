//! The hosts file: one destination per line in ssh's own syntax — `[user@]host`,
//! `[user@]host:port` (an IPv6 address in brackets: `[2001:db8::1]:2222`), or
//! `ssh://[user@]host[:port]` — with `#` comments and blank lines; `-` reads stdin.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most lines a hosts file may have (a fleet, not a scan).
pub const MAX_HOSTS: usize = 100_000;
/// Longest line read.
const MAX_LINE: usize = 1024;

/// One destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// The login name, when the line names one.
    pub user: Option<String>,
    /// Host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// The port, when the line names one.
    pub port: Option<u16>,
    /// The line number (1-based) it came from.
    pub line: usize,
}

impl fmt::Display for Destination {
    /// `user@host:port` as the line meant it (`[v6]:port` in brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (_, None) => write!(f, "{}", self.host),
        }
    }
}

/// A line that is not a destination: its number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFault {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

/// Parses the whole file; the first bad line is the error.
pub fn parse(text: &str) -> Result<Vec<Destination>, LineFault> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let fault = |why: &str| LineFault {
            line,
            why: why.to_string(),
        };
        if raw.len() > MAX_LINE {
            return Err(fault("the line is longer than 1024 bytes"));
        }
        let l = raw.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        if l.contains(char::is_whitespace) {
            return Err(fault("one destination per line, without spaces"));
        }
        if out.len() == MAX_HOSTS {
            return Err(fault("more than 100000 hosts"));
        }
        out.push(destination(l, line).map_err(|w| fault(&w))?);
    }
    Ok(out)
}

fn destination(l: &str, line: usize) -> Result<Destination, String> {
    let (url, rest) = match l.strip_prefix("ssh://") {
        Some(r) => (true, r.strip_suffix('/').unwrap_or(r)),
        None => (false, l),
    };
    if l.contains("://") && !url {
        return Err("only ssh:// URLs are destinations".into());
    }
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    if let Some(u) = user {
        check_user(u)?;
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or("an IPv6 address in [ has no closing ]")?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{h:?} in brackets is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(port(
                p.strip_prefix(':')
                    .ok_or("after ] comes :PORT or nothing")?,
            )?),
        };
        (h, port)
    } else {
        match hostport.matches(':').count() {
            0 => (hostport, None),
            1 => {
                let (h, p) = hostport.split_once(':').unwrap_or((hostport, ""));
                (h, Some(port(p)?))
            }
            _ => return Err("an IPv6 address goes in brackets: [2001:db8::1]:22".into()),
        }
    };
    check_host(host)?;
    Ok(Destination {
        user: user.map(str::to_string),
        host: host.to_string(),
        port,
        line,
    })
}

fn port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("{p:?} is not a port (1 to 65535)")),
    }
}

/// A login name: host-config's rule for account names (what useradd and sshd take, and nothing
/// a shell or ssh's option parser would read).
fn check_user(u: &str) -> Result<(), String> {
    if u.is_empty() {
        return Err("the user name before @ is empty".into());
    }
    crate::ops::host_config::two_person::check_user(u)
        .map_err(|_| format!("{u:?} is not a login name"))
}

/// A host name or address: letters, digits, `.`, `-`, `_`, `:` (IPv6); never an option.
fn check_host(h: &str) -> Result<(), String> {
    if h.is_empty() {
        return Err("the host is empty".into());
    }
    if h.len() > 253
        || h.starts_with('-')
        || !h
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
    {
        return Err(format!("{h:?} is not a host name or address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(l: &str) -> Destination {
        let v = parse(l).unwrap();
        assert_eq!(v.len(), 1);
        v.into_iter().next().unwrap()
    }

    #[test]
    fn every_form_ssh_takes() {
        let d = one("web1");
        assert_eq!((d.user, d.host.as_str(), d.port), (None, "web1", None));
        let d = one("ubuntu@10.0.0.5:2222");
        assert_eq!(
            (d.user.as_deref(), d.host.as_str(), d.port),
            (Some("ubuntu"), "10.0.0.5", Some(2222))
        );
        let d = one("root@[2001:db8::1]:22");
        assert_eq!((d.host.as_str(), d.port), ("2001:db8::1", Some(22)));
        assert_eq!(d.to_string(), "root@[2001:db8::1]:22");
        let d = one("[::1]");
        assert_eq!((d.host.as_str(), d.port), ("::1", None));
        let d = one("ssh://ops@db.example.com:2200");
        assert_eq!(
            (d.user.as_deref(), d.host.as_str(), d.port),
            (Some("ops"), "db.example.com", Some(2200))
        );
        assert_eq!(d.to_string(), "ops@db.example.com:2200");
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_line_numbers_kept() {
        let v = parse("# fleet\n\n  a  # first\nb:22\n").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].line, v[1].line), (3, 4));
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        for (text, line, why) in [
            ("a\n2001:db8::1\n", 2, "an IPv6 address goes in brackets"),
            ("a:0", 1, "is not a port"),
            ("a:99999", 1, "is not a port"),
            ("x\ny\nhttp://z", 3, "only ssh:// URLs"),
            ("-oProxyCommand=x", 1, "is not a host name"),
            ("-x@h", 1, "is not a login name"),
            ("@h", 1, "is empty"),
            ("a b", 1, "without spaces"),
            ("[::1", 1, "no closing ]"),
            ("[nothost]:22", 1, "is not an IPv6 address"),
            ("u@", 1, "the host is empty"),
            ("a;b", 1, "is not a host name"),
        ] {
            let f = parse(text).unwrap_err();
            assert_eq!(f.line, line, "{text}");
            assert!(f.why.contains(why), "{text}: {}", f.why);
        }
    }
}
