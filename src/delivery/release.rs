//! The one release step shared by `mint`, `receive` and `request`: a checked key and
//! certificate go either into ssh-agent or into three files, and the audit entry is durable
//! *before* either happens. Everything that can fail without the key material (agent missing,
//! file in the way, audit log not writable) is checked in [`Release::prepare`], before the touch.

use crate::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};

use ssh_key::{Certificate, LineEnding, PrivateKey};

use crate::delivery::agent::{self, AgentClient};
use crate::delivery::atomic::{self, PlannedFile};
use crate::delivery::audit::{self, AuditEntry};
use crate::ssh::keyfile::{self, KeyFiles};
use crate::{Error, Result};

/// Where a checked key and certificate go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// `OUT`, `OUT.pub`, `OUT-cert.pub`, all 0600; existing files replaced only with `force`.
    Files {
        /// `-f OUT`.
        out: PathBuf,
        /// `--force`.
        force: bool,
    },
    /// Into the agent at `SSH_AUTH_SOCK`, for the time the certificate has left.
    Agent {
        /// The agent asks before every use.
        confirm: bool,
    },
    /// Only the certificate, for a key that already exists (`--pubkey`): `KEY-cert.pub`, 0644.
    Certificate {
        /// Where the certificate goes.
        path: PathBuf,
        /// Replace an existing file.
        force: bool,
    },
}

/// A delivery whose preconditions were checked: the agent is connected, or the files can be
/// written; the audit log can be appended to.
#[derive(Debug)]
pub struct Release {
    target: Target,
    audit_path: PathBuf,
    /// What recovery from an earlier crash did in the output directory (shown as warnings).
    pub recovered: Vec<String>,
}

#[derive(Debug)]
enum Target {
    Files { files: KeyFiles, force: bool },
    Agent { client: AgentClient, confirm: bool },
    Certificate { path: PathBuf, force: bool },
}

/// What was released.
#[derive(Debug, Clone, Default)]
pub struct Released {
    /// Files written (none for the agent).
    pub files: Vec<PathBuf>,
    /// The lifetime the agent got, seconds.
    pub agent_lifetime: Option<u32>,
}

impl Release {
    /// Checks everything that does not need the key: call before the touch.
    pub fn prepare(delivery: &Delivery) -> Result<Release> {
        let mut recovered = Vec::new();
        let target = match delivery {
            Delivery::Certificate { path, force } => {
                recovered = atomic::recover(match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                });
                atomic::preflight(&[path], *force)?;
                Target::Certificate {
                    path: path.clone(),
                    force: *force,
                }
            }
            Delivery::Agent { confirm } => Target::Agent {
                client: AgentClient::from_env()?,
                confirm: *confirm,
            },
            Delivery::Files { out, force } => {
                let files = KeyFiles::new(out);
                recovered = atomic::recover(match out.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                });
                atomic::preflight(&[&files.key, &files.public, &files.cert], *force)?;
                Target::Files {
                    files,
                    force: *force,
                }
            }
        };
        let audit_path = audit::default_path();
        audit::preflight(&audit_path)?;
        Ok(Release {
            target,
            audit_path,
            recovered,
        })
    }

    /// The audit log this release writes to.
    pub fn audit_path(&self) -> &Path {
        &self.audit_path
    }

    /// The files this release would write (none for the agent).
    pub fn key_files(&self) -> Option<KeyFiles> {
        match &self.target {
            Target::Files { files, .. } => Some(files.clone()),
            Target::Agent { .. } | Target::Certificate { .. } => None,
        }
    }

    /// The certificate file this release writes (`Delivery::Certificate` only).
    pub fn certificate_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Certificate { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Records `entry`, then writes only the certificate (`Delivery::Certificate`).
    pub fn deliver_certificate(
        self,
        cert_line: &str,
        entry: &mut AuditEntry,
        detail: Option<&str>,
    ) -> Result<Released> {
        let Target::Certificate { path, force } = self.target else {
            return Err(Error::Ssh(ssh_key::Error::Crypto)); // a caller bug: no key to deliver
        };
        let prefix = detail.map(|d| format!("{d}, ")).unwrap_or_default();
        entry.detail = Some(format!("{prefix}{}", path.display()));
        audit::append(&self.audit_path, entry)?;
        let written = atomic::write_all(
            &[PlannedFile::public(
                &path,
                format!("{cert_line}\n").into_bytes(),
            )],
            force,
        )
        .map_err(Error::from);
        record_failure(&self.audit_path, entry, written)?;
        Ok(Released {
            files: vec![path],
            agent_lifetime: None,
        })
    }

    /// Records `entry` (with `detail` and where the key went), then releases `key` and `cert`.
    /// `cert_line` is the `-cert.pub` line to write. Nothing is released unless the entry is on
    /// disk; a failure after that is recorded as a second, failed entry.
    pub fn deliver(
        self,
        key: &PrivateKey,
        cert: &Certificate,
        cert_line: &str,
        entry: &mut AuditEntry,
        detail: Option<&str>,
        now: u64,
    ) -> Result<Released> {
        let prefix = detail.map(|d| format!("{d}, ")).unwrap_or_default();
        let audit_path = self.audit_path;
        match self.target {
            Target::Agent {
                mut client,
                confirm,
            } => {
                let lifetime = agent::remaining_lifetime(cert, now).ok_or_else(|| {
                    Error::unless_valid(cert.valid_after(), cert.valid_before(), now).unwrap_or(
                        Error::CertExpired {
                            valid_before: cert.valid_before(),
                        },
                    )
                })?;
                entry.detail = Some(format!("{prefix}into ssh-agent for {lifetime} s"));
                audit::append(&audit_path, entry)?;
                let added = client.add_certificate(key, cert, cert.key_id(), lifetime, confirm);
                record_failure(&audit_path, entry, added.map_err(Error::from))?;
                Ok(Released {
                    files: Vec::new(),
                    agent_lifetime: Some(lifetime),
                })
            }
            Target::Certificate { .. } => Err(Error::Ssh(ssh_key::Error::Crypto)),
            Target::Files { files: f, force } => {
                let private = key.to_openssh(LineEnding::LF)?;
                let public = keyfile::public_line(key.public_key())?;
                let planned = [
                    PlannedFile::private(&f.key, private.as_bytes().to_vec()),
                    PlannedFile::private(&f.public, public.into_bytes()),
                    PlannedFile::private(&f.cert, format!("{cert_line}\n").into_bytes()),
                ];
                entry.detail = Some(format!(
                    "{prefix}{}, {}, {}",
                    f.key.display(),
                    f.public.display(),
                    f.cert.display()
                ));
                // The entry is durable before the first byte of key or certificate is written.
                audit::append(&audit_path, entry)?;
                let written = atomic::write_all(&planned, force).map_err(Error::from);
                record_failure(&audit_path, entry, written)?;
                Ok(Released {
                    files: vec![f.key, f.public, f.cert],
                    agent_lifetime: None,
                })
            }
        }
    }
}

/// Records a failure that happened after the entry was written (the original error wins).
fn record_failure(audit_path: &Path, entry: &AuditEntry, outcome: Result<()>) -> Result<()> {
    if let Err(e) = &outcome {
        let mut failed = entry.clone();
        failed.result = format!("failed: {}", e.kind());
        let _ = audit::append(audit_path, &failed);
    }
    outcome
}
