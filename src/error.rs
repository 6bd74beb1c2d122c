//! The one error type. Every variant is one sentence of what happened; [`Error::hint`] is the
//! sentence of what to do next. Nothing here ever contains a PIN or key material.

use std::path::{Path, PathBuf};

use crate::cert_options::OptionError;
use crate::sanitize::Sanitized;
use crate::token::TokenError;
use crate::validity::ValidityError;

/// Everything that can go wrong, phrased for the person at the keyboard.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value that is well-formed for clap but wrong for us (exit 2).
    #[error("{0}")]
    Usage(String),

    /// `-V` did not parse; the message is ssh-keygen 9.2's own.
    #[error("invalid -V: {0}")]
    Validity(#[from] ValidityError),

    /// `-O` did not parse.
    #[error("invalid -O: {0}")]
    CertOption(#[from] OptionError),

    /// The requested lifetime exceeds the policy.
    #[error("{0}")]
    Policy(String),

    /// An output file is already there.
    #[error("{} already exists", .0.display())]
    FileExists(PathBuf),

    /// The output directory does not exist.
    #[error("directory {} does not exist", .0.display())]
    DirMissing(PathBuf),

    /// A filesystem operation failed.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A CA public key file is missing, unreadable or not a usable CA key.
    #[error("{}: {reason}", .path.display())]
    CaFile { path: PathBuf, reason: String },

    /// An input file is not what the command needs (inspect, keys).
    #[error("{}: {reason}", .path.display())]
    BadFile { path: PathBuf, reason: String },

    /// The token answered with an error.
    #[error(transparent)]
    Token(#[from] TokenError),

    /// No resident CA on the token for this application.
    #[error("the {backend} key holds no SSH CA for application {application}")]
    NoCa {
        backend: String,
        application: Sanitized,
    },

    /// Several resident CAs on the token and no `--ca` to choose.
    #[error("the key holds {} SSH CAs for application {application}: {}", .fingerprints.len(), .fingerprints.join(", "))]
    SeveralCas {
        application: Sanitized,
        fingerprints: Vec<String>,
    },

    /// The token's credential does not match the CA public key we were told to use.
    #[error("the CA in {} ({expected}) is not on this key", .path.display())]
    CaNotOnToken { path: PathBuf, expected: String },

    /// init-ca would replace an existing resident CA.
    #[error("the key already holds an SSH CA for application {application} ({fingerprint}); creating a new one would destroy it")]
    CaExists {
        application: Sanitized,
        fingerprint: String,
    },

    /// The CA signature lacks the user-presence flag.
    #[error(
        "the key signed without user presence (flags {flags:#04x}); the certificate was not issued"
    )]
    NoUserPresence { flags: u8 },

    /// The CA signature lacks user verification although the CA requires it.
    #[error("the key signed without user verification (flags {flags:#04x}) but this CA requires it; the certificate was not issued")]
    NoUserVerification { flags: u8 },

    /// Writing the audit log failed; nothing was released.
    #[error("could not write the audit log {}: {source}", .path.display())]
    Audit {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The audit log's hash chain or a line is broken.
    #[error("audit log {} is damaged at line {line}: {reason}", .path.display())]
    AuditDamaged {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    /// Encoding or decoding an SSH structure failed (should not happen with our own data).
    #[error("SSH encoding failed: {0}")]
    Ssh(#[from] ssh_key::Error),

    /// An external program (sshd, ssh) could not be run or misbehaved.
    #[error("{0}")]
    External(String),

    /// `inspect` found files that are not valid certificates (the details were printed).
    #[error("{0}")]
    Inspect(String),

    /// The wormhole transfer failed.
    #[error("{message}")]
    Transfer {
        kind: &'static str,
        message: String,
        hint: String,
    },

    /// A KRL (or a spec feeding one) could not be read or changed.
    #[error("{}", krl_message(.path, .error))]
    Krl {
        path: PathBuf,
        #[source]
        error: crate::krl::KrlError,
    },

    /// ssh-agent refused or is missing.
    #[error(transparent)]
    Agent(#[from] crate::agent::AgentError),
}

/// A KRL error with its file: spec errors name their own source and line.
fn krl_message(path: &Path, e: &crate::krl::KrlError) -> String {
    use crate::krl::KrlError as K;
    match e {
        K::Spec { .. } | K::SpecNeedsCa { .. } | K::SpecRead { .. } => e.to_string(),
        _ => format!("{} {e}", path.display()),
    }
}

impl Error {
    /// The next step for the user, when there is one to suggest.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::Usage(_) => "Run with --help to see the accepted forms.".into(),
            Error::Validity(_) => {
                "-V takes ssh-keygen's forms, e.g. -5m:+60m, +1h, 20261122:20261123, always:+1h."
                    .into()
            }
            Error::CertOption(_) => "-O takes ssh-keygen's certificate options: clear, force-command=CMD, source-address=CIDR[,CIDR…], no-pty, permit-pty, no-port-forwarding, verify-required, extension:NAME[=VALUE], critical:NAME[=VALUE], …".into(),
            Error::Policy(_) => "Shorten -V, or pass --allow-long (and say why with --reason).".into(),
            Error::FileExists(_) => "Use -f to pick another name, or --force to replace it.".into(),
            Error::DirMissing(_) => "Create the directory first, or pick another path with -f.".into(),
            Error::Io { .. } => "Check the path and its permissions, then run the command again.".into(),
            Error::CaFile { .. } => "Pass the CA's public key (the .pub file init-ca wrote) with --ca, or run init-ca first.".into(),
            Error::BadFile { .. } => return None,
            Error::Token(t) => return t.hint(),
            Error::NoCa { .. } => "Insert the key that holds the CA, or create one with `breakglass init-ca`.".into(),
            Error::SeveralCas { .. } => "Choose one with --ca CA.pub.".into(),
            Error::CaNotOnToken { expected, .. } => format!("Insert the key that holds the CA ({expected}) and run again, or pass the right --ca."),
            Error::CaExists { .. } => "Keep it (mint with it), or pass --force if you really mean to destroy it; hosts trusting the old CA will then refuse new certificates.".into(),
            Error::NoUserPresence { .. } | Error::NoUserVerification { .. } => "Check that the key is genuine and touch it when it blinks; do not trust certificates from this key until you know why.".into(),
            Error::Audit { .. } => "Make the audit log writable (or set BREAKGLASS_AUDIT_LOG to a writable file) and run again.".into(),
            Error::AuditDamaged { .. } => "Keep a copy of the log as evidence and investigate; do not edit it.".into(),
            Error::Ssh(_) => "This is a bug in breakglass; please report it with the command you ran.".into(),
            Error::External(_) | Error::Inspect(_) => return None,
            Error::Transfer { hint, .. } => hint.clone(),
            Error::Agent(a) => return a.hint(),
            Error::Krl { error, .. } => error.hint().into(),
        })
    }

    /// Exit status: 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Validity(_) | Error::CertOption(_) => 2,
            Error::Krl { error, .. } if error.is_usage() => 2,
            _ => 1,
        }
    }

    /// Short machine-readable kind for `--json` errors and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Validity(_) => "validity",
            Error::CertOption(_) => "cert-option",
            Error::Policy(_) => "policy",
            Error::FileExists(_) => "file-exists",
            Error::DirMissing(_) => "dir-missing",
            Error::Io { .. } => "io",
            Error::CaFile { .. } => "ca-file",
            Error::BadFile { .. } => "bad-file",
            Error::Token(t) => t.kind(),
            Error::NoCa { .. } => "no-ca",
            Error::SeveralCas { .. } => "several-cas",
            Error::CaNotOnToken { .. } => "ca-not-on-token",
            Error::CaExists { .. } => "ca-exists",
            Error::NoUserPresence { .. } => "no-user-presence",
            Error::NoUserVerification { .. } => "no-user-verification",
            Error::Audit { .. } => "audit",
            Error::AuditDamaged { .. } => "audit-damaged",
            Error::Ssh(_) => "ssh-encoding",
            Error::External(_) => "external",
            Error::Inspect(_) => "inspect",
            Error::Transfer { kind, .. } => kind,
            Error::Agent(_) => "agent",
            Error::Krl { .. } => "krl",
        }
    }

    /// Builds an [`Error::Io`].
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
