//! What can go wrong in `host-config`, one variant per situation, each with its next step.

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, FAILURE, USAGE};

/// A `host-config` failure. Nothing has been written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum HostConfigError {
    /// A CA file given on the command line is missing or holds something other than public keys.
    #[error("{}: {reason}", .path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The host's sshd configuration (or a file it includes) cannot be read.
    #[error("cannot read the sshd configuration {}: {reason}", .path.display())]
    SshdConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The main configuration never includes the drop-in.
    #[error("{} does not Include {}, so sshd would never read it", .config.display(), .drop_in.display())]
    NotIncluded {
        /// The main configuration.
        config: PathBuf,
        /// The drop-in's path on the host.
        drop_in: PathBuf,
    },
    /// Another file sets a keyword before the drop-in does, so sshd would ignore ours.
    #[error("{} line {line} sets {keyword} before {} is read, so sshd would ignore the drop-in's value", .file.display(), .drop_in.display())]
    Shadowed {
        /// The keyword.
        keyword: &'static str,
        /// Where it is set first.
        file: PathBuf,
        /// Line.
        line: usize,
        /// The drop-in's path on the host.
        drop_in: PathBuf,
    },
    /// `--etc` cannot be written into sshd_config as a plain path.
    #[error("--etc {} must be an absolute path without spaces, quotes, '#', '%' or wildcards", .0.display())]
    BadEtc(PathBuf),
    /// A user named in `--principals` is unknown, so the host's principals file cannot be found.
    #[error(
        "cannot merge AuthorizedPrincipalsFile {pattern} for {user}: no such user on this machine"
    )]
    UnknownUser {
        /// The login name.
        user: String,
        /// The host's setting.
        pattern: String,
    },
    /// `--known-hosts PATTERN` cannot go into a known_hosts line.
    #[error("--known-hosts '{}' is not a host pattern", .0)]
    Pattern(String),
    /// `--alert PROGRAM` is not usable.
    #[error("--alert: {0}")]
    Alert(String),
    /// `--two-person` cannot be set up as asked.
    #[error("--two-person: {0}")]
    TwoPerson(String),
    /// `--two-person-user` is not a plain login name.
    #[error("--two-person: {0}")]
    TwoPersonUser(String),
    /// A CA has no valid attestation and `--allow-unattested` was not given.
    #[error("{}: the {role} CA {fingerprint} is not attested: {reason}", .ca.display())]
    Unattested {
        /// The CA file.
        ca: PathBuf,
        /// "break-glass" or "custodian".
        role: &'static str,
        /// The CA key's fingerprint.
        fingerprint: String,
        /// The verifier's message, or what is missing.
        reason: String,
        /// The verifier's next step, when it gave one.
        hint: Option<String>,
    },
    /// `--attestation CA.pub=FILE` does not pair with a CA given.
    #[error("{0}")]
    AttestationArg(String),
    /// `--roots` or `--min-firmware` cannot be used.
    #[error(transparent)]
    Attestation(crate::attest::AttestError),
    /// Something host-config cannot express safely.
    #[error("{0}")]
    Unsupported(String),
    /// `--out` does not exist.
    #[error("--out {} does not exist", .0.display())]
    OutMissing(PathBuf),
    /// `--out` is a file.
    #[error("--out {} is not a directory", .0.display())]
    OutNotDir(PathBuf),
    /// An output file is already there.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// A filesystem operation failed.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What we tried.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The system's answer.
        #[source]
        source: std::io::Error,
    },
}

impl HostConfigError {
    /// Builds an [`HostConfigError::Io`].
    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        HostConfigError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl Diagnostic for HostConfigError {
    /// The next step.
    fn hint(&self) -> String {
        match self {
            HostConfigError::CaFile { .. } => "Pass the CAs' public keys (the .pub files init-ca wrote), one key per line.".into(),
            HostConfigError::SshdConfig { .. } => "Point --sshd-config at the host's sshd_config (run as a user who can read it).".into(),
            HostConfigError::NotIncluded { .. } => "Add `Include /etc/ssh/sshd_config.d/*.conf` (with your --etc) at the top of sshd_config, as Debian does, or pass the right --sshd-config / --etc.".into(),
            HostConfigError::Shadowed { .. } => "Move the Include of sshd_config.d/*.conf above that line, or delete the line: host-config carries its CAs and KRL over into the drop-in.".into(),
            HostConfigError::BadEtc(_) => "Pick a plain directory such as /etc/ssh.".into(),
            HostConfigError::UnknownUser { .. } => "Run host-config on the host itself (or where that user exists), or leave that user out of --principals.".into(),
            HostConfigError::Pattern(_) => "Use a known_hosts host pattern such as *.example.com or 10.0.0.*,!10.0.0.1.".into(),
            HostConfigError::Alert(_) => "Pass the absolute path of the program to run, e.g. --alert /usr/local/bin/page-oncall.".into(),
            HostConfigError::TwoPerson(_) | HostConfigError::TwoPersonUser(_) => "Pass at least two custodians' CA public keys to --two-person and a plain account name to --two-person-user.".into(),
            HostConfigError::Unattested { hint: Some(h), .. } => format!("{h} To trust it all the same (for practice only), pass --allow-unattested."),
            HostConfigError::Unattested { hint: None, .. } => "Put the CA.attest that init-ca wrote beside CA.pub, or pass --attestation CA.pub=FILE; to trust it all the same (for practice only), pass --allow-unattested.".into(),
            HostConfigError::AttestationArg(_) => "Write --attestation CA.pub=FILE, with CA.pub exactly as given among the CA files or to --two-person.".into(),
            HostConfigError::Attestation(e) => e.hint(),
            HostConfigError::Unsupported(_) => "Set that part up by hand; host-config writes only what it can express safely.".into(),
            HostConfigError::OutMissing(_) => "Create the directory first, or pick another --out.".into(),
            HostConfigError::OutNotDir(_) => "Pick a directory for --out.".into(),
            HostConfigError::Exists(_) => "Pass --force to replace it, or pick another --out.".into(),
            HostConfigError::Io { .. } => "Check the path and its permissions, then run the command again.".into(),
        }
    }

    /// Short machine-readable kind.
    fn kind(&self) -> &'static str {
        match self {
            HostConfigError::CaFile { .. } => "ca-file",
            HostConfigError::SshdConfig { .. } => "sshd-config",
            HostConfigError::NotIncluded { .. } => "drop-in-not-included",
            HostConfigError::Shadowed { .. } => "drop-in-shadowed",
            HostConfigError::BadEtc(_) => "bad-etc",
            HostConfigError::UnknownUser { .. } => "unknown-user",
            HostConfigError::Pattern(_) => "known-hosts-pattern",
            HostConfigError::Alert(_) => "alert",
            HostConfigError::TwoPerson(_) | HostConfigError::TwoPersonUser(_) => "two-person",
            HostConfigError::Unattested { .. } => "unattested-ca",
            HostConfigError::AttestationArg(_) => "attestation-argument",
            HostConfigError::Attestation(e) => e.kind(),
            HostConfigError::Unsupported(_) => "unsupported",
            HostConfigError::OutMissing(_) => "dir-missing",
            HostConfigError::OutNotDir(_) => "not-a-directory",
            HostConfigError::Exists(_) => "file-exists",
            HostConfigError::Io { .. } => "io",
        }
    }

    /// [`USAGE`] for a value typed on the command line that cannot be used as typed.
    fn exit_code(&self) -> u8 {
        match self {
            HostConfigError::BadEtc(_)
            | HostConfigError::Pattern(_)
            | HostConfigError::TwoPersonUser(_)
            | HostConfigError::AttestationArg(_) => USAGE,
            HostConfigError::Attestation(e) => e.exit_code(),
            HostConfigError::CaFile { .. }
            | HostConfigError::SshdConfig { .. }
            | HostConfigError::NotIncluded { .. }
            | HostConfigError::Shadowed { .. }
            | HostConfigError::UnknownUser { .. }
            | HostConfigError::Alert(_)
            | HostConfigError::TwoPerson(_)
            | HostConfigError::Unattested { .. }
            | HostConfigError::Unsupported(_)
            | HostConfigError::OutMissing(_)
            | HostConfigError::OutNotDir(_)
            | HostConfigError::Exists(_)
            | HostConfigError::Io { .. } => FAILURE,
        }
    }
}
