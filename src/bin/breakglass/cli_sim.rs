//! `sim`'s subcommands and arguments (in their own file to keep cli.rs short; part of the `cli` module).

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
    /// Plug the simulated key in as a USB FIDO2 key through /dev/uhid, for OpenSSH's own tools and --backend fido2 (Linux, usually root).
    Hid(SimHidArgs),
}

/// `sim hid`.
#[derive(Debug, Args)]
#[command(after_help = "\
Runs in the foreground, prints the /dev/hidrawN it created and serves until SIGTERM (unplugging;
starting it again is a re-plug). The key is the one in BREAKGLASS_SIM_DIR, the same as
--backend sim; BREAKGLASS_SIM_TOUCH=approve|deny|timeout scripts the touch. SIMULATED: never for
real access. It is the breakglass-sim-hid program installed beside breakglass:
  cargo install --path vfido-hid --locked      (from this repository; or cargo build --workspace)")]
pub struct SimHidArgs {
    /// The kernel's uhid device to create the HID device through.
    #[arg(long, value_name = "PATH", default_value = "/dev/uhid")]
    pub uhid: PathBuf,
    /// With BREAKGLASS_SIM_TOUCH=approve or deny: milliseconds until the touch is answered.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub touch_delay_ms: u64,
    /// With BREAKGLASS_SIM_TOUCH=timeout: milliseconds until the key gives up waiting (USER_ACTION_TIMEOUT).
    #[arg(long, value_name = "N", default_value_t = 30000)]
    pub touch_timeout_ms: u64,
    /// Firmware its attestation certificate states (chained to the breakglass TEST root), or none to leave it out.
    #[arg(long, value_name = "X.Y.Z|none", default_value = "5.7.4", value_parser = parse_firmware_or_none)]
    pub firmware: String,
}

fn parse_firmware_or_none(s: &str) -> Result<String, String> {
    if s == "none" || s.parse::<breakglass::attest::FirmwareVersion>().is_ok() {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not X.Y.Z or none"))
    }
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
