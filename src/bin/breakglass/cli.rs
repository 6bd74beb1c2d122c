//! The command line (clap derive). Definitions only; `cmd/` turns them into library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use breakglass::ssh::keyfile::KeyType;
use breakglass::token::{Backend, BackendChoice};

/// Emergency SSH access: a security key as an offline SSH user certificate authority.
#[derive(Debug, Parser)]
#[command(name = "breakglass", version, about, long_about = None, after_help = "\
Start here:  breakglass drill            (practice run on the simulated key, nothing to plug in)
Incident:    breakglass mint -n ubuntu   (one touch; then ssh -i emergency ubuntu@host)
Runbook:     runbooks/incident.md")]
pub struct Cli {
    /// Which token: fido2, piv or sim (the simulated key, for practice and tests).
    #[arg(long, env = "BREAKGLASS_BACKEND", value_parser = parse_backend)]
    pub backend: Option<Backend>,

    /// Print the result (or the error) as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

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
    /// Make a fresh key pair and a short-lived user certificate signed by one touch of the key.
    Mint(MintArgs),
    /// Show certificates like `ssh-keygen -L`, verify their CA signature and time left.
    Inspect(InspectArgs),
    /// Practise the whole flow on the simulated key: init-ca, mint, inspect, log in to a throwaway sshd.
    Drill(DrillArgs),
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
    /// Ask a colleague who holds the CA for a certificate: make a key here, send only its public half, get the certificate back over one wormhole code.
    #[cfg(feature = "wormhole")]
    Request(RequestArgs),
    /// Sign a colleague's `breakglass request` (or a public key sent with `wormhole send --text`) after checking it; one touch.
    #[cfg(feature = "wormhole")]
    Approve(ApproveArgs),
    /// The simulated key: show its state, set a PIN, re-plug it, reset it.
    #[command(subcommand)]
    Sim(SimCommand),
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
    #[arg(long, default_value = "82", value_parser = parse_slot)]
    pub slot: u8,
    #[command(flatten)]
    pub token: TokenArgs,
}

fn parse_slot(s: &str) -> Result<u8, String> {
    match u8::from_str_radix(s.trim_start_matches("0x"), 16) {
        Ok(n @ 0x82..=0x95) => Ok(n),
        Ok(n @ (0x9a | 0x9c | 0x9d | 0x9e)) => Ok(n),
        _ => Err(format!(
            "{s:?} is not a PIV key slot (82..95 retired, or 9a, 9c, 9d, 9e)"
        )),
    }
}

/// `mint`.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// CA public key (default: sk-user-ca.pub when present, else the key's one resident CA).
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Principals (login names), comma separated.
    #[arg(short = 'n', long = "principals")]
    pub principals: String,
    /// Validity, in ssh-keygen's -V grammar (e.g. -5m:+60m, +1h, 20261122:20261123).
    #[arg(
        short = 'V',
        long = "validity",
        default_value = "-5m:+60m",
        allow_hyphen_values = true
    )]
    pub validity: String,
    /// Key id (default: operator, host, time and --reason).
    #[arg(short = 'I', long = "key-id")]
    pub key_id: Option<String>,
    /// Serial number (default: random, non-zero).
    #[arg(short = 'z', long = "serial")]
    pub serial: Option<u64>,
    /// Certificate option, as ssh-keygen -O (repeatable): clear, force-command=CMD, source-address=CIDRS, no-pty, ...
    #[arg(short = 'O', long = "option")]
    pub options: Vec<String>,
    /// Emergency key type: ecdsa or ed25519.
    #[arg(short = 't', long = "type", default_value = "ecdsa", value_parser = parse_key_type)]
    pub key_type: KeyType,
    /// Output name: writes OUT, OUT.pub and OUT-cert.pub.
    #[arg(short = 'f', long = "file", default_value = "emergency")]
    pub out: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// Why (recorded in the audit log and the key id).
    #[arg(long)]
    pub reason: Option<String>,
    /// Longest lifetime allowed without --allow-long.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub max_lifetime: u64,
    /// Allow a lifetime above --max-lifetime, or always/forever.
    #[arg(long)]
    pub allow_long: bool,
    /// FIDO2 application to look for when there is no CA file.
    #[arg(long, default_value = "ssh:")]
    pub application: String,
    #[command(flatten)]
    pub token: TokenArgs,
    /// Put the key and certificate into ssh-agent (lifetime = the time the certificate has left) instead of writing files.
    #[arg(long)]
    #[cfg_attr(feature = "wormhole", arg(conflicts_with = "send"))]
    pub agent: bool,
    /// With --agent: the agent asks for confirmation on every use.
    #[arg(long, requires = "agent")]
    pub confirm: bool,
    /// After minting, send the files to a colleague over magic-wormhole.
    #[cfg(feature = "wormhole")]
    #[arg(long)]
    pub send: bool,
    #[cfg(feature = "wormhole")]
    #[command(flatten)]
    pub wormhole: WormholeArgs,
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
    /// Transit relay.
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
    /// Key id (default: requester, approver, time and reason).
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
pub struct DrillArgs {
    /// Keep the temporary directory for a look afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub backend: BackendArg,
    /// Application (rp id) to look for on FIDO2 keys.
    #[arg(long, default_value = "ssh:")]
    pub application: String,
}

/// `log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Check the hash chain.
    #[arg(long)]
    pub verify: bool,
}

/// `sim ...`.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Show the simulated key: serial, counter, PIN tries, resident credentials.
    Status,
    /// Set (or change) the simulated key's PIN; the new PIN comes from BREAKGLASS_NEW_PIN or a prompt.
    SetPin,
    /// "Unplug and re-insert" the simulated key (clears the three-wrong-PINs block).
    Replug,
    /// Erase every credential and the PIN (like a FIDO2 reset; the CA is gone).
    Reset,
    /// Print the path of the SecurityKeyProvider library that lets OpenSSH use the simulated key.
    ProviderPath,
    /// Run a virtual YubiKey PIV card that plugs into pcscd's vpcd reader (for tests and practice).
    PivCard(PivCardArgs),
}

/// `sim piv-card`.
#[derive(Debug, Args)]
pub struct PivCardArgs {
    /// Card state file (default: piv-card.json in the simulated key's directory).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// vpcd address to connect to (Debian's vpcd listens on 35963).
    #[arg(long, default_value = "127.0.0.1:35963")]
    pub vpcd: String,
    /// Serial number the card reports.
    #[arg(long, default_value_t = 1234567)]
    pub serial: u32,
    /// Firmware version the card reports (5.7.0 and later use an AES-192 management key).
    #[arg(long, default_value = "5.4.3")]
    pub firmware: String,
}
