//! `fleet-drill`'s arguments (in their own file to keep cli.rs short; part of the `cli` module).

use std::path::PathBuf;

use clap::Args;

use super::TokenArgs;
use breakglass::ops::fleet_drill;

/// `fleet-drill`.
#[derive(Debug, Args)]
#[command(after_help = "\
One touch mints a drill certificate (10 minutes, key id `drill YYYY-MM-DD …`, forced command =
the read-only probe with a nonce); OpenSSH's ssh then logs in to every host with it alone.
Exit 0 only if every host is ready. `breakglass runbook drill` has the procedure.")]
pub struct FleetDrillArgs {
    /// The hosts, one a line: host, user@host, user@host:port, user@[v6]:port, ssh://user@host:port; # comments; - for stdin.
    #[arg(value_name = "HOSTS", required_unless_present_any = ["report", "mint_only", "judge"])]
    pub hosts: Option<PathBuf>,
    /// Login names: for hosts named without one (the first), and more principals for the certificate.
    #[arg(short = 'n', value_delimiter = ',')]
    pub principals: Vec<String>,
    /// A break-glass CA public key every host must trust (repeatable); the first signs the drill certificate.
    #[arg(long, value_name = "CA.pub")]
    pub ca: Vec<PathBuf>,
    /// The newest KRL: every host must have exactly it installed.
    #[arg(long, value_name = "FILE")]
    pub krl: Option<PathBuf>,
    /// Every host must have host-config's --alert rule for the CAs installed.
    #[arg(long)]
    pub alert: bool,
    /// Every host must have this two-person account (host-config --two-person).
    #[arg(long, value_name = "ACCOUNT")]
    pub two_person: Option<String>,
    /// The certificate works only from these addresses (source-address, e.g. 203.0.113.5/32).
    #[arg(long, value_name = "CIDR,...")]
    pub from: Option<String>,
    /// Hosts logged in to at the same time.
    #[arg(long, default_value_t = fleet_drill::DEFAULT_PARALLEL, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=1024), usize::from))]
    pub parallel: usize,
    /// Seconds a host may take to connect and answer (ssh's ConnectTimeout; one that stalls after that is stopped 5 seconds later).
    #[arg(long, default_value_t = fleet_drill::DEFAULT_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Check host keys against this known_hosts file only (host keys or @cert-authority lines).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Use this ssh_config (bastions, jump hosts) instead of -F none.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Why (recorded in the audit log with the drill certificate).
    #[arg(long)]
    pub reason: Option<String>,
    /// Print the table of a report written with --json or by deploy/ansible/drill.yml; nothing is minted.
    #[arg(long, value_name = "FILE.json", conflicts_with_all = ["hosts", "mint_only", "judge"])]
    pub report: Option<PathBuf>,
    /// For deploy/ansible/drill.yml: mint the drill certificate into DIR (drill, drill-cert.pub, drill.json) and stop.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["hosts", "judge"])]
    pub mint_only: Option<PathBuf>,
    /// For deploy/ansible/drill.yml: judge the raw results (JSON) against DIR/drill.json beside them.
    #[arg(long, value_name = "RESULTS.json", conflicts_with = "hosts")]
    pub judge: Option<PathBuf>,
    /// FIDO2 application to look for when there is no CA file.
    #[arg(long, default_value = "ssh:")]
    pub application: String,
    #[command(flatten)]
    pub token: TokenArgs,
}
