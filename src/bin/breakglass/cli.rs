//! The command line (clap derive). Definitions only; `cmd/` turns them into library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use breakglass::ssh::keyfile::KeyType;
use breakglass::token::{Backend, BackendChoice};

#[path = "cli_fleet.rs"]
mod fleet;
pub use fleet::FleetDrillArgs;
#[path = "cli_sim.rs"]
pub mod sim;
pub use sim::SimCommand;

/// Emergency SSH access: a security key as an offline SSH user certificate authority.
#[derive(Debug, Parser)]
#[command(name = "breakglass", version, about, long_about = None, after_help = "\
Start here:  breakglass drill              (practice run on the simulated key, nothing to plug in)
Incident:    breakglass mint -n ubuntu     (one touch; then ssh -i emergency ubuntu@host)
Runbook:     breakglass runbook incident   (the one-page procedure; `breakglass runbook` lists all)")]
pub struct Cli {
    /// Which token: fido2, piv or sim (the simulated key, for practice and tests).
    #[arg(long, env = "BREAKGLASS_BACKEND", value_parser = parse_backend)]
    pub backend: Option<Backend>,

    /// Print the result (or the error) as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// With --version: also print this program's path and SHA-256 (to compare with a kit's SHA256SUMS).
    #[arg(long, requires = "version")]
    pub verbose: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// `--backend`, for the commands that use a token (`breakglass --backend X CMD` and
/// `BREAKGLASS_BACKEND` work for every command).
#[derive(Debug, Args, Default)]
pub struct BackendArg {
    /// Which token: fido2, piv or sim (the simulated key, for practice and tests).
    #[arg(long, value_parser = parse_backend)]
    pub backend: Option<Backend>,
}

impl BackendArg {
    /// The choice: this command's `--backend`, else the one before the command (or the env).
    pub fn or(&self, outer: Option<Backend>) -> BackendChoice {
        BackendChoice(self.backend.or(outer))
    }
}

/// How to reach the token: `--backend` and `--device`.
#[derive(Debug, Args, Default)]
pub struct TokenArgs {
    #[command(flatten)]
    pub backend: BackendArg,
    /// Which key, when several are connected: the HID path, product or serial `breakglass list` shows (a YubiKey serial for PIV).
    #[arg(long)]
    pub device: Option<String>,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

fn parse_key_type(s: &str) -> Result<KeyType, String> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<u64, String> {
    breakglass::ssh::validity::convtime(s)
        .ok_or_else(|| format!("{s:?} is not a duration like 24h, 90m or 1d12h"))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the SSH user CA on the key (once per key) and write its key-handle and .pub files.
    InitCa(InitCaArgs),
    /// Prove a CA key was born inside a genuine hardware key: check its attestation.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Make a fresh key pair and a short-lived user certificate signed by one touch of the key.
    Mint(MintArgs),
    /// Show certificates like `ssh-keygen -L`, verify their CA signature and time left.
    Inspect(InspectArgs),
    /// Practise the whole flow on the simulated key: init-ca, mint, inspect, log in to a throwaway sshd.
    Drill(DrillArgs),
    /// Prove with one touch that every host will open: log in to each with a 10-minute drill certificate and check its CAs, KRL, alert rule.
    FleetDrill(FleetDrillArgs),
    /// Show the audit log of every init-ca and mint.
    Log(LogArgs),
    /// List the connected security keys and the SSH CAs they hold.
    List(ListArgs),
    /// Send OUT, OUT.pub and OUT-cert.pub to a colleague over magic-wormhole (end-to-end encrypted).
    #[cfg(feature = "wormhole")]
    Send(SendArgs),
    /// Receive a key and certificate sent with `breakglass send` (or Python `wormhole send`).
    #[cfg(feature = "wormhole")]
    Receive(ReceiveArgs),
    /// Revoke certificates or keys in an OpenSSH KRL (sshd's RevokedKeys), or list what a KRL revokes.
    Revoke(RevokeArgs),
    /// Ask a colleague who holds the CA for a certificate: make a key here, send only its public half, get the certificate back over one wormhole code.
    #[cfg(feature = "wormhole")]
    Request(RequestArgs),
    /// Sign a colleague's `breakglass request` (or a public key sent with `wormhole send --text`) after checking it; one touch.
    #[cfg(feature = "wormhole")]
    Approve(ApproveArgs),
    /// The simulated key: show its state, set a PIN, re-plug it, reset it.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Everything a host needs to trust the CAs, merged with what its sshd already trusts.
    HostConfig(HostConfigArgs),
    /// The break-glass certificates here (*-cert.pub) and in ssh-agent, with the time they have left.
    Status(StatusArgs),
    /// Check what a drill or an incident would trip on: the key and its CA, PIN tries, the clock, OpenSSH, the audit log.
    Doctor(DoctorArgs),
    /// Print a shell completion script: breakglass completions bash > /etc/bash_completion.d/breakglass
    Completions(CompletionsArgs),
    /// Print the man page (roff): breakglass man | man -l -
    Man,
    /// Print a runbook that ships inside breakglass (incident, handoff, ...); without a name, list them.
    Runbook(RunbookArgs),
    /// Make the emergency kit (this program, the CA files, the runbooks) signed by the CA with one touch; or check one with --verify.
    Kit(KitArgs),
}

/// Whether the command line is `--version --verbose` (either order): clap's own --version stops
/// parsing where it stands, so this one is answered before clap sees it.
pub fn verbose_version(args: &[std::ffi::OsString]) -> bool {
    let mut a: Vec<&str> = args.iter().skip(1).filter_map(|s| s.to_str()).collect();
    a.sort_unstable();
    args.len() == 3 && (a == ["--verbose", "--version"] || a == ["--verbose", "-V"])
}

/// `kit`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  breakglass kit /media/usb/breakglass-kit --ca sk-user-ca.pub --ca backup-ca.pub --hosts inventory.ini
  breakglass kit --verify /media/usb/breakglass-kit --ca-fingerprint SHA256:…   (the CA your hosts trust)
Without breakglass, in the kit: sha256sum -c SHA256SUMS, then
  ssh-keygen -Y verify -f allowed_signers -I breakglass-kit@sk-user-ca -n breakglass-kit -s SHA256SUMS.sig < SHA256SUMS")]
pub struct KitArgs {
    /// The kit directory: made (it must not exist, unless --force), or checked with --verify.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Check the kit in DIR instead: every file against SHA256SUMS, and the CA's signature over it.
    #[arg(long)]
    pub verify: bool,
    /// With --verify: the kit must be signed by this CA (as `ssh-keygen -l` prints the key your hosts trust; repeatable).
    #[arg(long, value_name = "SHA256:…", requires = "verify")]
    pub ca_fingerprint: Vec<String>,
    /// A CA public key to put in the kit with its key-handle (or PIV reference) and attestation files; repeatable (the primary and the backup key). The first signs the kit.
    #[arg(
        long,
        value_name = "CA.pub",
        required_unless_present = "verify",
        conflicts_with = "verify"
    )]
    pub ca: Vec<PathBuf>,
    /// The hosts for the fleet drill (an Ansible inventory), copied into the kit.
    #[arg(long, value_name = "FILE", conflicts_with = "verify")]
    pub hosts: Option<PathBuf>,
    /// Replace an existing kit directory.
    #[arg(long, conflicts_with = "verify")]
    pub force: bool,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Keep showing it, updated every second, until Ctrl-C (not with --json: one document).
    #[arg(long, conflicts_with = "json")]
    pub watch: bool,
}

/// `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The CA public key to expect on the key.
    #[arg(long, default_value = "sk-user-ca.pub")]
    pub ca: PathBuf,
    #[command(flatten)]
    pub backend: BackendArg,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

/// `runbook`.
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// incident, handoff, setup, drill, rotation-and-revocation or practice-with-openssh.
    pub name: Option<String>,
}

/// `init-ca`.
#[derive(Debug, Args)]
pub struct InitCaArgs {
    /// Key-handle file to write; FILE.pub is written beside it.
    #[arg(short = 'f', long = "file", default_value = "sk-user-ca")]
    pub file: PathBuf,
    /// Comment for the CA key (e.g. the key's serial and your team).
    #[arg(short = 'C', long = "comment")]
    pub comment: Option<String>,
    /// FIDO2 application (rp id); must start with "ssh:".
    #[arg(long, default_value = "ssh:")]
    pub application: String,
    /// Require the key's PIN for every signature (OpenSSH -O verify-required).
    #[arg(long)]
    pub verify_required: bool,
    /// Replace an existing CA on the key (destroys it) and existing files.
    #[arg(long)]
    pub force: bool,
    /// PIV slot for --backend piv, in hex (default 82, a retired slot).
    #[arg(long, default_value = "82", value_parser = breakglass::token::piv_slot::parse)]
    pub slot: u8,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// `ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Check a CA's attestation: the vendor's chain, that it attests this key, the firmware floor and policy.
    Verify(CaVerifyArgs),
    /// Make CA.attest again for a PIV CA (its YubiKey attests the slot); FIDO2 attests only at init-ca.
    Attest(CaAttestArgs),
}

/// `ca attest`.
#[derive(Debug, Args)]
#[command(after_help = "\
Writes CA.attest beside CA.pub (the slot attestation certificate and the YubiKey's f9 certificate),
then: breakglass ca verify CA.pub. A FIDO2 CA's attestation exists only from its enrolment
(init-ca wrote it); this refuses one.")]
pub struct CaAttestArgs {
    /// The PIV CA's public key (the .pub file init-ca wrote; the reference file beside it names the YubiKey and slot).
    #[arg(value_name = "CA.pub")]
    pub ca: PathBuf,
    /// Replace an existing CA.attest.
    #[arg(long)]
    pub force: bool,
    /// The YubiKey's serial, when several are connected.
    #[arg(long, value_name = "SERIAL")]
    pub device: Option<String>,
}

/// `ca verify`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 when the attestation is genuine, about this CA and accepted by the policy; 1 when
it is not (the reason on stderr, what it says on stdout); 2 for a mistyped command line.
Examples:
  breakglass ca verify sk-user-ca.pub                     (reads sk-user-ca.attest beside it)
  breakglass ca verify ca.pub --attestation attest.bin --challenge challenge.bin
                                                          (ssh-keygen -O write-attestation)
  breakglass ca verify --attestation sk-user-ca.attest    (what it attests, and which key)")]
pub struct CaVerifyArgs {
    /// The CA public key (the .pub file init-ca wrote); without it, say what --attestation attests.
    #[arg(value_name = "CA.pub", required_unless_present = "attestation")]
    pub ca: Option<PathBuf>,
    /// The attestation: CA.attest (default: beside CA.pub), ssh-keygen's -O write-attestation file, or PIV certificates (slot and f9: one file, or --attestation twice).
    #[arg(long, value_name = "FILE")]
    pub attestation: Vec<PathBuf>,
    /// The challenge file given to ssh-keygen -O challenge=FILE (needed for its attestation).
    #[arg(long, value_name = "FILE")]
    pub challenge: Option<PathBuf>,
    /// Trust the certificates in DIR (vendor roots and intermediates, PEM or DER) instead of Yubico's built-in roots.
    #[arg(long, value_name = "DIR")]
    pub roots: Option<PathBuf>,
    /// Lowest firmware accepted, or none [default: 5.7.0: YubiKeys before it are open to EUCLEAK, YSA-2024-03].
    #[arg(long, value_name = "X.Y.Z|none")]
    pub min_firmware: Option<String>,
}

/// `mint`.
#[derive(Debug, Args)]
#[command(
    override_usage = "breakglass mint -n PRINCIPALS [OPTIONS]",
    after_help = "\
Examples:
  breakglass mint -n ubuntu --reason \"INC-1234: SSO down\"    one hour, files emergency*
  breakglass mint -n ubuntu,root -V -5m:+30m --agent          into ssh-agent, nothing on disk
  breakglass mint -n ubuntu --send                            mint, then hand to a colleague
Then: ssh -i emergency ubuntu@HOST. The whole procedure: breakglass runbook incident"
)]
pub struct MintArgs {
    /// Principals: the login names on the host, comma separated (e.g. -n ubuntu or -n ubuntu,root).
    #[arg(
        short = 'n',
        long = "principals",
        value_name = "PRINCIPALS",
        help_heading = "What to sign"
    )]
    pub principals: Option<String>,
    /// A login name typed without -n (refused with a suggestion).
    #[arg(hide = true)]
    pub stray: Vec<String>,
    /// Validity, in ssh-keygen's -V grammar (e.g. -5m:+60m, +1h, 20261122:20261123; a bare number is seconds).
    #[arg(
        short = 'V',
        long = "validity",
        default_value = "-5m:+60m",
        allow_hyphen_values = true,
        help_heading = "What to sign"
    )]
    pub validity: String,
    /// Why (recorded in the audit log and the key id).
    #[arg(long, help_heading = "What to sign")]
    pub reason: Option<String>,
    /// Key id (default: operator, host, time and --reason, the reason collapsed and cut to 64
    /// characters). At most 160 characters as sshd logs it (a non-ASCII byte counts 4, a
    /// backslash 2), no control characters, and not starting with "drill " (fleet-drill's own
    /// certificates: the login alert pages them as DRILL).
    #[arg(short = 'I', long = "key-id", help_heading = "What to sign")]
    pub key_id: Option<String>,
    /// Serial number (default: random, non-zero).
    #[arg(short = 'z', long = "serial", help_heading = "What to sign")]
    pub serial: Option<u64>,
    /// Certificate option, as ssh-keygen -O (repeatable): clear, force-command=CMD, source-address=CIDRS, no-pty, ...
    #[arg(short = 'O', long = "option", help_heading = "What to sign")]
    pub options: Vec<String>,
    /// Emergency key type: ecdsa or ed25519.
    #[arg(short = 't', long = "type", default_value = "ecdsa", value_parser = parse_key_type, help_heading = "What to sign")]
    pub key_type: KeyType,
    /// Output name: writes OUT, OUT.pub and OUT-cert.pub.
    #[arg(
        short = 'f',
        long = "file",
        default_value = "emergency",
        help_heading = "Output"
    )]
    pub out: PathBuf,
    /// Sign this existing public key instead of making a key pair; writes KEY-cert.pub (as ssh-keygen -s).
    #[arg(long, value_name = "KEY.pub", conflicts_with_all = ["agent", "out", "key_type"])]
    #[cfg_attr(feature = "wormhole", arg(conflicts_with = "send"))]
    pub pubkey: Option<PathBuf>,
    /// Make a host certificate (with --pubkey, e.g. /etc/ssh/ssh_host_ed25519_key.pub): -n names the host.
    #[arg(long, requires = "pubkey")]
    pub host: bool,
    /// Replace existing output files.
    #[arg(long, help_heading = "Output")]
    pub force: bool,
    /// Put the key and certificate into ssh-agent (lifetime = the time the certificate has left) instead of writing files.
    #[arg(long, help_heading = "Output")]
    #[cfg_attr(feature = "wormhole", arg(conflicts_with = "send"))]
    pub agent: bool,
    /// With --agent: the agent asks for confirmation on every use.
    #[arg(long, requires = "agent", help_heading = "Output")]
    pub confirm: bool,
    /// Longest lifetime allowed without --allow-long.
    #[arg(long, default_value = "24h", value_parser = parse_duration, help_heading = "Policy")]
    pub max_lifetime: u64,
    /// Allow a lifetime above --max-lifetime, or always/forever.
    #[arg(long, help_heading = "Policy")]
    pub allow_long: bool,
    /// After minting, send the files to a colleague over magic-wormhole.
    #[cfg(feature = "wormhole")]
    #[arg(long, help_heading = "Hand-off")]
    pub send: bool,
    #[cfg(feature = "wormhole")]
    #[command(flatten, next_help_heading = "Hand-off")]
    pub wormhole: WormholeArgs,
    /// CA public key (default: sk-user-ca.pub when present, else the key's one resident CA).
    #[arg(long, help_heading = "Token")]
    pub ca: Option<PathBuf>,
    /// FIDO2 application to look for when there is no CA file.
    #[arg(long, default_value = "ssh:", help_heading = "Token")]
    pub application: String,
    #[command(flatten, next_help_heading = "Token")]
    pub token: TokenArgs,
}

/// Where and how to reach the other side over magic-wormhole.
#[cfg(feature = "wormhole")]
#[derive(Debug, Args)]
pub struct WormholeArgs {
    /// Mailbox (rendezvous) server; both sides must use the same one.
    #[arg(
        long,
        env = "BREAKGLASS_MAILBOX_URL",
        default_value = "ws://relay.magic-wormhole.io:4000/v1"
    )]
    pub mailbox_url: String,
    /// Transit relay: tcp:HOST:PORT (as Python's wormhole writes it) or tcp://HOST:PORT.
    #[arg(
        long,
        env = "BREAKGLASS_RELAY_URL",
        default_value = "tcp://transit.magic-wormhole.io:4001"
    )]
    pub relay_url: String,
    /// Give up waiting for the other side after this long (e.g. 10m).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: u64,
    /// Also allow direct connections: listens on every interface and asks a public STUN server for our address (default: relay only).
    #[arg(long)]
    pub direct: bool,
}

#[cfg(feature = "wormhole")]
impl WormholeArgs {
    /// The transfer configuration.
    pub fn config(&self) -> breakglass::delivery::transfer::WormholeConfig {
        breakglass::delivery::transfer::WormholeConfig {
            mailbox_url: self.mailbox_url.clone(),
            relay_url: self.relay_url.clone(),
            timeout: std::time::Duration::from_secs(self.timeout.max(1)),
            direct: self.direct,
        }
    }
}

/// `send`.
#[cfg(feature = "wormhole")]
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The key to send: OUT, OUT.pub and OUT-cert.pub.
    #[arg(default_value = "emergency")]
    pub out: PathBuf,
    #[command(flatten)]
    pub wormhole: WormholeArgs,
}

/// `receive`.
#[cfg(feature = "wormhole")]
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// The code the sender read out, e.g. 7-guitarist-revenge.
    pub code: String,
    /// Write OUT, OUT.pub and OUT-cert.pub.
    #[arg(short = 'f', long = "file", default_value = "emergency")]
    pub out: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
    /// Refuse a certificate signed by any other CA than this one.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Put the key and certificate into ssh-agent (for the time the certificate has left); write nothing.
    #[arg(long, conflicts_with = "force")]
    pub agent: bool,
    /// With --agent: the agent asks for confirmation on every use.
    #[arg(long, requires = "agent")]
    pub confirm: bool,
    /// Longest certificate lifetime accepted without --allow-long.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub max_lifetime: u64,
    /// Accept a certificate longer than --max-lifetime, or without an end.
    #[arg(long)]
    pub allow_long: bool,
    #[command(flatten)]
    pub wormhole: WormholeArgs,
}

/// `request`.
#[cfg(feature = "wormhole")]
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Principals (login names) to ask for, comma separated.
    #[arg(short = 'n', long = "principals")]
    pub principals: String,
    /// Validity to ask for, in ssh-keygen's -V grammar; the approver may shorten it.
    #[arg(
        short = 'V',
        long = "validity",
        default_value = "-5m:+60m",
        allow_hyphen_values = true
    )]
    pub validity: String,
    /// Why (shown to the approver, recorded on both sides).
    #[arg(long)]
    pub reason: Option<String>,
    /// Type of the key made here: ecdsa or ed25519.
    #[arg(short = 't', long = "type", default_value = "ecdsa", value_parser = parse_key_type, conflicts_with = "pubkey")]
    pub key_type: KeyType,
    /// Output name: writes OUT, OUT.pub and OUT-cert.pub.
    #[arg(
        short = 'f',
        long = "file",
        default_value = "emergency",
        conflicts_with = "pubkey"
    )]
    pub out: PathBuf,
    /// Ask for a certificate for this existing public key (e.g. a security key's id_ecdsa_sk.pub); writes only KEY-cert.pub.
    #[arg(long, value_name = "KEY.pub")]
    pub pubkey: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// Put the key and certificate into ssh-agent (for the time the certificate has left); write nothing.
    #[arg(long, conflicts_with_all = ["force", "pubkey"])]
    pub agent: bool,
    /// With --agent: the agent asks for confirmation on every use.
    #[arg(long, requires = "agent")]
    pub confirm: bool,
    /// Refuse a certificate signed by any other CA than this one.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    #[command(flatten)]
    pub wormhole: WormholeArgs,
}

/// `approve`.
#[cfg(feature = "wormhole")]
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The code the requester read out, e.g. 7-guitarist-revenge.
    pub code: String,
    /// CA public key (default: sk-user-ca.pub when present, else the key's one resident CA).
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Sign only these principals (a subset of those asked for); required with --text.
    #[arg(short = 'n', long = "principals")]
    pub principals: Option<String>,
    /// Sign only this validity (cut to the one asked for); with --text the default is -5m:+60m.
    #[arg(short = 'V', long = "validity", allow_hyphen_values = true)]
    pub validity: Option<String>,
    /// Key id (default: requester, approver, time and reason, the reason collapsed and cut to 64
    /// characters). At most 160 characters as sshd logs it (a non-ASCII byte counts 4, a
    /// backslash 2), no control characters, and not starting with "drill " (fleet-drill's own
    /// certificates: the login alert pages them as DRILL).
    #[arg(short = 'I', long = "key-id")]
    pub key_id: Option<String>,
    /// Serial number (default: random, non-zero).
    #[arg(short = 'z', long = "serial")]
    pub serial: Option<u64>,
    /// Certificate option, as ssh-keygen -O (repeatable), e.g. source-address=10.0.0.0/8, no-port-forwarding.
    #[arg(short = 'O', long = "option")]
    pub options: Vec<String>,
    /// Longest lifetime allowed without --allow-long.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub max_lifetime: u64,
    /// Allow a lifetime above --max-lifetime, or always/forever.
    #[arg(long)]
    pub allow_long: bool,
    /// Sign without asking (the request is still shown and checked).
    #[arg(long)]
    pub yes: bool,
    /// The colleague has no breakglass: the code brings a public key sent with `wormhole send --text`, and the certificate goes back as a file offer with a new code for `wormhole receive`.
    #[arg(long)]
    pub text: bool,
    /// FIDO2 application to look for when there is no CA file.
    #[arg(long, default_value = "ssh:")]
    pub application: String,
    #[command(flatten)]
    pub token: TokenArgs,
    #[command(flatten)]
    pub wormhole: WormholeArgs,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Certificate files (-cert.pub).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Check the certificates were signed by this CA.
    #[arg(long)]
    pub ca: Option<PathBuf>,
}

/// `drill`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 (PASS) only when every step ran and passed, down to a real login to the throwaway
sshd; 1 when a step failed (FAIL) or could not run here (INCOMPLETE: e.g. no sshd installed, so
nothing logged in; that is not a pass).")]
pub struct DrillArgs {
    /// Keep the temporary directory for a look afterwards.
    #[arg(long)]
    pub keep: bool,
    /// sim (in-process, nothing to plug in) or fido2-virtual (the simulated key plugged in through /dev/uhid as a USB FIDO2 key, driven by --backend fido2; Linux, usually root).
    #[arg(long, value_enum, default_value_t = DrillBackend::Sim, hide_possible_values = true)]
    pub backend: DrillBackend,
    /// With --backend fido2-virtual: the kernel's uhid device to plug the virtual key into.
    #[arg(long, value_name = "PATH", default_value = "/dev/uhid")]
    pub uhid: PathBuf,
}

/// `drill --backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DrillBackend {
    /// The simulated key, in-process (nothing to plug in).
    Sim,
    /// The simulated key plugged in as a USB FIDO2 key (breakglass sim hid on /dev/uhid), driven by --backend fido2 through the kernel's hidraw (Linux, usually root).
    Fido2Virtual,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub backend: BackendArg,
    /// Only this application (rp id) on FIDO2 keys [default: every ssh: application, as ssh-keygen -K finds them].
    #[arg(long)]
    pub application: Option<String>,
    /// Where to look for each CA's attestation (NAME.attest beside a NAME.pub holding its key).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: std::path::PathBuf,
}

/// `log`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  breakglass log --ok --last 1        the last certificate actually minted (for the incident record)
  breakglass log --since 2h           what happened in the last two hours
  breakglass log --since 20261118 --json | jq -r .serial")]
pub struct LogArgs {
    /// Check the hash chain, and that the key's signature counter agrees with the last entry.
    #[arg(long)]
    pub verify: bool,
    /// With --verify: the CA whose key's counter to compare (default ./sk-user-ca.pub).
    #[arg(long, requires = "verify")]
    pub ca: Option<PathBuf>,
    /// With --verify: the key also signs for other services, so a counter ahead of the log is a warning.
    #[arg(long, requires = "verify")]
    pub shared_key: bool,
    #[command(flatten)]
    pub token: TokenArgs,
    /// Only the last N entries (after the other filters).
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    /// Only entries from this time on: a duration ago (2h, 1d) or a date as -V takes it (20261118, 202611181200, ...Z for UTC).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only entries whose result is ok (not failed attempts).
    #[arg(long)]
    pub ok: bool,
}

/// `revoke`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  breakglass revoke --krl revoked.krl --ca sk-user-ca.pub --serial 42 --serial 100-199
  breakglass revoke --krl revoked.krl emergency-cert.pub --sign
  breakglass revoke --krl revoked.krl --ca sk-user-ca.pub --spec revocations.txt
  breakglass revoke --list revoked.krl")]
pub struct RevokeArgs {
    /// The KRL to create or extend (written atomically, mode 0644; version bumped).
    #[arg(long, value_name = "FILE", required_unless_present = "list")]
    pub krl: Option<PathBuf>,
    /// Print what the KRL FILE revokes, and change nothing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["krl", "ca", "serial", "key_id", "spec", "files", "sign"])]
    pub list: Option<PathBuf>,
    /// The CA whose certificates --serial and --key-id revoke (and the signer for --sign).
    #[arg(long, value_name = "CA.pub")]
    pub ca: Option<PathBuf>,
    /// Revoke this serial, or the range A-B (decimal, 0x hex, 0 octal; not 0). Repeatable.
    #[arg(long, value_name = "N|A-B")]
    pub serial: Vec<String>,
    /// Revoke certificates with this key id. Repeatable.
    #[arg(long, value_name = "ID")]
    pub key_id: Vec<String>,
    /// An ssh-keygen KRL spec file (serial:, id:, key:, sha1:, sha256:, hash:, key lines); - for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub spec: Vec<PathBuf>,
    /// Certificates (revoked by serial, or key id when the serial is 0) or public keys to revoke.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also write FILE.sig, a detached SSHSIG by the CA (one touch; namespace breakglass-krl).
    #[arg(long)]
    pub sign: bool,
    /// FIDO2 application to look for when --sign has no CA file.
    #[arg(long, default_value = "ssh:")]
    pub application: String,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// `host-config`.
#[derive(Debug, Args)]
pub struct HostConfigArgs {
    /// The break-glass CA public keys (a primary and a backup key, each its own CA), each proven by its attestation (CA.attest beside it).
    #[arg(required_unless_present = "two_person", value_name = "CA.pub")]
    pub cas: Vec<PathBuf>,
    /// Write the files into DIR (default: print the plan).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["known_hosts", "cloud_init"])]
    pub out: Option<PathBuf>,
    /// Where the files live on the host; the drop-in names them there.
    #[arg(long, value_name = "DIR", default_value = "/etc/ssh")]
    pub etc: PathBuf,
    /// The host's sshd configuration, whose CAs, KRL and principals files are merged.
    #[arg(long, value_name = "FILE")]
    pub sshd_config: Option<PathBuf>,
    /// USER=NAME[,NAME…]: certificates naming NAME may log in as USER (repeatable).
    #[arg(long, value_name = "USER=NAME[,NAME…]", value_parser = parse_principals)]
    pub principals: Vec<breakglass::ops::host_config::PrincipalMapping>,
    /// Print the `@cert-authority PATTERN …` line(s) for clients' known_hosts instead.
    #[arg(long, value_name = "PATTERN", conflicts_with = "cloud_init")]
    pub known_hosts: Option<String>,
    /// Print the files as a #cloud-config document for new VMs instead.
    #[arg(long)]
    pub cloud_init: bool,
    /// Run PROGRAM (absolute path) with USER ADDRESS PORT KEY_ID SERIAL CA_FINGERPRINT for every break-glass login (an rsyslog rule).
    #[arg(long, value_name = "PROGRAM")]
    pub alert: Option<String>,
    /// Replace files that exist in --out (an existing KRL is always kept).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Two-person break-glass: the custodians' CA public keys; the account of --two-person-user then opens only to two certificates from two different custodians.
    #[arg(long, value_name = "CUSTODIAN_CA.pub", num_args = 1.., conflicts_with = "known_hosts")]
    pub two_person: Vec<PathBuf>,
    /// The two-person account (a dedicated one, so root's normal logins are untouched).
    #[arg(long, value_name = "NAME", default_value = breakglass::ops::host_config::two_person::DEFAULT_USER, requires = "two_person")]
    pub two_person_user: String,
    /// Tests only: the gate logs to this syslog socket instead of /dev/log.
    #[arg(long, value_name = "SOCKET", hide = true, requires = "two_person")]
    pub two_person_log_socket: Option<PathBuf>,
    /// The attestation of one CA file, CA.pub exactly as given (an argument or to --two-person), '=', the file (repeatable; default: CA.attest beside CA.pub).
    #[arg(long, value_name = "CA.pub=FILE", value_parser = parse_attestation, conflicts_with = "known_hosts", help_heading = ATTESTATION_HEADING)]
    pub attestation: Vec<breakglass::ops::host_config::attestation::AttestationArg>,
    /// Trust the certificates in DIR (vendor roots and intermediates) instead of Yubico's built-in roots.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "known_hosts",
        help_heading = ATTESTATION_HEADING
    )]
    pub roots: Option<PathBuf>,
    /// Lowest firmware accepted, or none [default: 5.7.0: YubiKeys before it are open to EUCLEAK, YSA-2024-03].
    #[arg(
        long,
        value_name = "X.Y.Z|none",
        conflicts_with = "known_hosts",
        help_heading = ATTESTATION_HEADING
    )]
    pub min_firmware: Option<String>,
    /// Trust CAs without a valid attestation (simulated CAs, practice), with a warning in the plan and the verdict.
    #[arg(
        long,
        conflicts_with = "known_hosts",
        help_heading = ATTESTATION_HEADING
    )]
    pub allow_unattested: bool,
}

/// host-config's help heading of the attestation gate's options.
const ATTESTATION_HEADING: &str = "Attestation: every CA must prove it lives in a hardware key";

// clap prints this error itself, so the value is sanitised here.
fn parse_attestation(
    s: &str,
) -> Result<breakglass::ops::host_config::attestation::AttestationArg, String> {
    s.parse()
        .map_err(|e: String| breakglass::sanitize::sanitize(&e))
}

// clap prints this error itself, so the value is sanitised here.
fn parse_principals(s: &str) -> Result<breakglass::ops::host_config::PrincipalMapping, String> {
    s.parse()
        .map_err(|e: breakglass::ops::host_config::MappingError| {
            breakglass::sanitize::sanitize(&e.to_string())
        })
}
