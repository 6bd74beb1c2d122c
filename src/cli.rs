//! The command line (clap derive). Definitions only; `cmd/` turns them into library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::keyfile::KeyType;
use crate::token::Backend;

/// Emergency SSH access: a security key as an offline SSH user certificate authority.
#[derive(Debug, Parser)]
#[command(name = "breakglass", version, about, long_about = None, after_help = "\
Start here:  breakglass drill            (practice run on the simulated key, nothing to plug in)
Incident:    breakglass mint -n ubuntu   (one touch; then ssh -i emergency ubuntu@host)
Runbook:     runbooks/incident.md")]
pub struct Cli {
    /// Which token: fido2, piv or sim (the simulated key, for practice and tests).
    #[arg(long, global = true, env = "BREAKGLASS_BACKEND", value_parser = parse_backend)]
    pub backend: Option<Backend>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

fn parse_key_type(s: &str) -> Result<KeyType, String> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<u64, String> {
    crate::validity::convtime(s)
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
    /// Revoke certificates or keys in an OpenSSH KRL (sshd's RevokedKeys), or list what a KRL revokes.
    Revoke(RevokeArgs),
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
    /// Which key, when several are connected (YubiKey serial, as `breakglass list` shows).
    #[arg(long)]
    pub device: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
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
    /// Which key, when several are connected (as `breakglass list` shows it: HID path, product or serial).
    #[arg(long)]
    pub device: Option<String>,
    /// Put the key and certificate into ssh-agent (lifetime = the time the certificate has left) instead of writing files.
    #[arg(long)]
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
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
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
    pub fn config(&self) -> crate::transfer::WormholeConfig {
        crate::transfer::WormholeConfig {
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
    /// Print the result as one JSON object (the code goes to stderr).
    #[arg(long)]
    pub json: bool,
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
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
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
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
}

/// `drill`.
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Keep the temporary directory for a look afterwards.
    #[arg(long)]
    pub keep: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Application (rp id) to look for on FIDO2 keys.
    #[arg(long, default_value = "ssh:")]
    pub application: String,
}

/// `log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Print the entries as JSON lines, as stored.
    #[arg(long)]
    pub json: bool,
    /// Check the hash chain.
    #[arg(long)]
    pub verify: bool,
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
    /// Which key signs, when several are connected.
    #[arg(long)]
    pub device: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `sim ...`.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Show the simulated key: serial, counter, PIN tries, resident credentials.
    Status {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
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
