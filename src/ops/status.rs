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
}

/// What `status` found, and where it could not look.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// Certificates, files first (by name), then the agent's.
    pub certificates: Vec<Held>,
    /// Why the agent could not be asked (none running, refused), if so.
    pub agent_problem: Option<String>,
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
    st
}
