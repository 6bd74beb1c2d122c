//! `host-config`: everything a host needs to trust one or more break-glass CAs, merged with what
//! its sshd already trusts so that normal access keeps working (REFERENCE.md §10).
//!
//! sshd takes the first value of `TrustedUserCAKeys`, `RevokedKeys` and
//! `AuthorizedPrincipalsFile`, and Debian includes `sshd_config.d/*.conf` before the main file.
//! So the drop-in is named `00-breakglass.conf`, carries every CA the host already trusts, keeps
//! an existing KRL as the `RevokedKeys` file, and sets `AuthorizedPrincipalsFile` only for the
//! users named with `--principals` (in a `Match User` block), carrying over what their existing
//! principals files hold.
//!
//! In three parts: [`plan()`] reads the CA files and the host's sshd settings ([`HostFacts`]) and
//! works out what the host needs, a [`HostPlan`] that writes nothing; the binary renders it (text
//! or `--json`, sanitised once where it is printed); [`write()`] writes its files under `--out`,
//! all or none. `--known-hosts` is [`known_hosts()`], which needs only the CA files.

pub mod alert;
pub mod attestation;
mod ca_key;
pub mod cloud_init;
mod drop_in;
mod error;
mod files;
mod host_facts;
mod known_hosts;
mod plan;
mod principals;
pub mod sshd_settings;
mod trusted_file;
pub mod two_person;
mod write;

use std::path::PathBuf;

pub use ca_key::{read_ca_file, CaKey};
pub use error::HostConfigError;
pub use files::{empty_krl, FileKind, HostFile};
pub use host_facts::HostFacts;
pub use known_hosts::{known_hosts, KnownHosts};
pub use plan::{plan, plan_from, HostPlan};
pub use principals::{ExistingPrincipals, MappingError, PrincipalMapping, PrincipalsPlan};
pub use trusted_file::TrustedFile;
pub use write::{write, Written};

/// The CA file's name in `--out` and under `--etc`.
pub const CA_FILE: &str = "breakglass_user_ca.pub";
/// The KRL's name in `--out` and under `--etc`.
pub const KRL_FILE: &str = "breakglass_revoked.krl";
/// The drop-in's path in `--out` (and under `--etc`).
pub const DROP_IN: &str = "sshd_config.d/00-breakglass.conf";
/// The directory of per-user principals files in `--out` and under `--etc`.
pub const PRINCIPALS_DIR: &str = "breakglass_principals";
/// The default main sshd configuration.
pub const DEFAULT_SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// What `host-config` is asked to do.
#[derive(Debug, Clone)]
pub struct HostConfigRequest {
    /// The break-glass CA public key files.
    pub ca_files: Vec<PathBuf>,
    /// Where the host keeps these files (`--etc`, default `/etc/ssh`).
    pub etc: PathBuf,
    /// The host's main sshd configuration; `None` for the default (a missing default is fine).
    pub sshd_config: Option<PathBuf>,
    /// `--principals`.
    pub principals: Vec<PrincipalMapping>,
    /// `--alert PROGRAM`.
    pub alert: Option<String>,
    /// `--two-person CUSTODIAN_CA.pub…`: the custodians' CA files (empty: no two-person account).
    pub two_person: Vec<PathBuf>,
    /// `--two-person-user NAME` (default [`two_person::DEFAULT_USER`]).
    pub two_person_user: String,
    /// Tests only: the gate logs to this syslog socket instead of `/dev/log`.
    pub two_person_log_socket: Option<PathBuf>,
    /// The attestation gate: `--attestation`, `--roots`, `--min-firmware`, `--allow-unattested`.
    pub attestation: attestation::AttestationOptions,
}

/// Where each file goes on the host, under `--etc`.
#[derive(Debug, Clone)]
struct InstallPaths {
    /// `ETC/breakglass_user_ca.pub`.
    ca: PathBuf,
    /// `ETC/breakglass_revoked.krl`.
    krl: PathBuf,
    /// `ETC/breakglass_principals` (one file per user).
    principals_dir: PathBuf,
    /// `ETC/sshd_config.d/00-breakglass.conf`.
    drop_in: PathBuf,
    /// `ETC/breakglass_custodian_ca.pub` (`--two-person`).
    custodian_ca: PathBuf,
    /// `ETC/breakglass_two_person_gate.sh` (`--two-person`).
    gate: PathBuf,
    /// `ETC/breakglass_alert.sh` (`--alert`).
    alert_script: PathBuf,
    /// `ETC/breakglass_attestation` (the verdict and the attestations).
    attestation_dir: PathBuf,
}

impl InstallPaths {
    fn new(etc: &std::path::Path) -> InstallPaths {
        InstallPaths {
            ca: etc.join(CA_FILE),
            krl: etc.join(KRL_FILE),
            principals_dir: etc.join(PRINCIPALS_DIR),
            drop_in: etc.join(DROP_IN),
            custodian_ca: etc.join(two_person::CUSTODIAN_CA_FILE),
            gate: etc.join(two_person::GATE_NAME),
            alert_script: etc.join(alert::SCRIPT_NAME),
            attestation_dir: etc.join(attestation::ATTESTATION_DIR),
        }
    }
}
