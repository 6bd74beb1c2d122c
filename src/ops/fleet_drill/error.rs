//! What `fleet-drill` can fail with before it logs in anywhere (a host that is not ready is not
//! an error here: it is a row of the report).

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, FAILURE, USAGE};

/// A fleet drill that could not start, or a report that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FleetDrillError {
    /// The hosts file cannot be read.
    #[error("cannot read the hosts file {path}: {source}")]
    HostsRead {
        /// The file (`-`: stdin).
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the hosts file is not a destination.
    #[error("{path} line {line}: {why}")]
    HostsLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// The hosts file names no host.
    #[error("the hosts file {0} names no host")]
    NoHosts(PathBuf),
    /// A destination without a login name, and no `-n`.
    #[error("{path} line {line} names no login name and no -n was given")]
    NoUser {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// A `--ca` file is not one CA public key.
    #[error("--ca: {why}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// `--krl` names no file.
    #[error("--krl {0} does not exist")]
    KrlMissing(PathBuf),
    /// `--two-person` is not an account name.
    #[error("--two-person {0:?} is not an account name")]
    TwoPersonName(String),
    /// `--from` is not a source-address list.
    #[error("--from {list:?} is not a list of addresses (entry {entry:?}: {reason})")]
    From {
        /// The list as given.
        list: String,
        /// The first bad entry.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `ssh` is not installed.
    #[error("OpenSSH's ssh client is not installed")]
    SshMissing,
    /// A `--report` file is not a fleet-drill report.
    #[error("{path} is not a fleet-drill report: {why}")]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

impl Diagnostic for FleetDrillError {
    fn hint(&self) -> String {
        match self {
            FleetDrillError::HostsRead { .. } => "Check the path (or pass - to read the hosts from stdin), then run the drill again.".into(),
            FleetDrillError::HostsLine { .. } => "Write one destination a line as ssh takes it: host, user@host, user@host:port, user@[2001:db8::1]:port or ssh://user@host:port; # starts a comment.".into(),
            FleetDrillError::NoHosts(_) => "Put one destination a line into the file.".into(),
            FleetDrillError::NoUser { .. } => "Give the login name on that line (user@host) or for every host with -n.".into(),
            FleetDrillError::Ca { .. } => "Pass the CA public key file init-ca wrote (e.g. --ca sk-user-ca.pub).".into(),
            FleetDrillError::KrlMissing(_) => "Pass the newest KRL you roll out (the file breakglass revoke writes).".into(),
            FleetDrillError::TwoPersonName(_) => "Give the two-person account's name as host-config --two-person-user has it (letters, digits, . _ -), e.g. --two-person breakglass.".into(),
            FleetDrillError::From { .. } => "Give the addresses the drill runs from as CIDR, comma-separated, e.g. --from 192.0.2.10/32,2001:db8::/64.".into(),
            FleetDrillError::SshMissing => "Install it (apt install openssh-client), then run the drill again.".into(),
            FleetDrillError::Report { .. } => "Pass the JSON file written by `breakglass fleet-drill --json` or by deploy/ansible/drill.yml.".into(),
        }
    }

    fn exit_code(&self) -> u8 {
        match self {
            FleetDrillError::HostsRead { .. }
            | FleetDrillError::HostsLine { .. }
            | FleetDrillError::NoHosts(_)
            | FleetDrillError::NoUser { .. }
            | FleetDrillError::Ca { .. }
            | FleetDrillError::KrlMissing(_)
            | FleetDrillError::SshMissing
            | FleetDrillError::Report { .. } => FAILURE,
            // A value typed on the command line.
            FleetDrillError::TwoPersonName(_) | FleetDrillError::From { .. } => USAGE,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            FleetDrillError::HostsRead { .. } => "hosts-file",
            FleetDrillError::HostsLine { .. } => "hosts-line",
            FleetDrillError::NoHosts(_) => "no-hosts",
            FleetDrillError::NoUser { .. } => "no-user",
            FleetDrillError::Ca { .. } => "ca-file",
            FleetDrillError::KrlMissing(_) => "krl-missing",
            FleetDrillError::TwoPersonName(_) => "two-person",
            FleetDrillError::From { .. } => "from",
            FleetDrillError::SshMissing => "ssh-missing",
            FleetDrillError::Report { .. } => "report",
        }
    }
}
