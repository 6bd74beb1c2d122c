//! `status`: the break-glass certificates a person holds right now — `*-cert.pub` files in a
//! directory and certificates in ssh-agent — with the time each has left, and what expired.

use std::path::Path;

use serde::Serialize;
use ssh_key::Certificate;

use crate::delivery::agent::AgentClient;
use crate::ssh::summary::{self, TimeStatus};

/// One certificate found.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    /// Where: a file name, or "ssh-agent".
    pub source: String,
    /// Key id.
    pub key_id: String,
    /// Serial (a JSON string, like every u64 breakglass prints).
    #[serde(with = "crate::json_u64")]
    pub serial: u64,
    /// Principals.
    pub principals: Vec<String>,
    /// End of validity, seconds since the epoch.
    #[serde(with = "crate::json_u64")]
    pub valid_before: u64,
    /// Valid, expired or not yet valid, now.
    pub status: TimeStatus,
    /// Seconds left when valid (none for "forever").
    #[serde(with = "crate::json_u64::option")]
    pub seconds_left: Option<u64>,
    /// The signing CA's fingerprint.
    pub ca_fingerprint: String,
    /// The certified key's fingerprint.
    pub key_fingerprint: String,
}

/// Two valid certificates, for two different keys, from two different CAs, sharing a principal:
/// what a two-person host (`host-config --two-person`) needs for one login.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    /// The shared principal (the two-person account).
    pub principal: String,
    /// Where the first certificate is.
    pub first: String,
    /// Where the second is.
    pub second: String,
    /// Seconds the pair has left: the shorter of the two (none when both are "forever").
    #[serde(with = "crate::json_u64::option")]
    pub seconds_left: Option<u64>,
}

/// What `status` found, and where it could not look.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// Certificates, files first (by name), then the agent's.
    pub certificates: Vec<Held>,
    /// Why the agent could not be asked (none running, refused), if so.
    pub agent_problem: Option<String>,
    /// Two-person pairs among the valid certificates.
    pub pairs: Vec<Pair>,
}

/// The two-person pairs among `certs`: each pair of valid certificates for different keys from
/// different CAs that share a principal, once, with the first shared principal.
fn pairs(certs: &[Held]) -> Vec<Pair> {
    let valid: Vec<&Held> = certs
        .iter()
        .filter(|c| c.status == TimeStatus::Valid)
        .collect();
    let mut out = Vec::new();
    for (i, a) in valid.iter().enumerate() {
        for b in &valid[i + 1..] {
            if a.ca_fingerprint == b.ca_fingerprint || a.key_fingerprint == b.key_fingerprint {
                continue;
            }
            if let Some(p) = a.principals.iter().find(|p| b.principals.contains(p)) {
                let seconds_left = match (a.seconds_left, b.seconds_left) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
                out.push(Pair {
                    principal: p.clone(),
                    first: a.source.clone(),
                    second: b.source.clone(),
                    seconds_left,
                });
            }
        }
    }
    out
}

fn held(source: String, cert: &Certificate, now: u64) -> Held {
    let s = summary::summarize(&source, cert, None, now, None);
    Held {
        source,
        key_id: s.key_id,
        serial: s.serial,
        principals: s.principals,
        valid_before: s.valid_before,
        status: s.status,
        seconds_left: s.seconds_left.filter(|_| s.valid_before != u64::MAX),
        ca_fingerprint: s.ca_fingerprint,
        key_fingerprint: s.key_fingerprint,
    }
}

/// Looks in `dir` (its `*-cert.pub` files) and in the agent at `SSH_AUTH_SOCK`, at `now`.
pub fn status(dir: &Path, now: u64) -> Status {
    let mut st = Status::default();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-cert.pub"))
        })
        .collect();
    names.sort();
    for p in names {
        if let Ok((cert, _)) = summary::read_cert_line(&p) {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            st.certificates
                .push(held(name.unwrap_or_default(), &cert, now));
        }
    }
    match AgentClient::from_env().and_then(|mut a| a.identities()) {
        Ok(ids) => {
            for (blob, _) in ids {
                if let Ok(cert) = Certificate::from_bytes(&blob) {
                    st.certificates.push(held("ssh-agent".into(), &cert, now));
                }
            }
        }
        Err(e) => st.agent_problem = Some(e.to_string()),
    }
    st.pairs = pairs(&st.certificates);
    st
}
