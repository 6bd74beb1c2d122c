//! `vpiv-card`: plugs one virtual YubiKey PIV card into vpcd and serves it until killed.
//! `breakglass sim piv-card` runs this program with the same flags.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use vpiv_card::{run_card, CardConfig};

/// A virtual YubiKey PIV card (SIMULATED) for vsmartcard's vpcd reader driver.
#[derive(Debug, Parser)]
#[command(name = "vpiv-card", version)]
struct Args {
    /// Card state file (created with factory defaults when missing).
    #[arg(long)]
    state: PathBuf,
    /// vpcd address to connect to (Debian's vpcd listens on 35963).
    #[arg(long, default_value = "127.0.0.1:35963")]
    vpcd: String,
    /// Serial number the card reports.
    #[arg(long, default_value_t = 1234567)]
    serial: u32,
    /// Firmware version the card reports (5.7.0 and later use an AES-192 management key).
    #[arg(long, default_value = "5.4.3", value_parser = parse_version)]
    firmware: (u8, u8, u8),
}

fn parse_version(s: &str) -> Result<(u8, u8, u8), String> {
    let v: Vec<u8> = s.split('.').filter_map(|p| p.parse().ok()).collect();
    match v[..] {
        [major, minor, patch] => Ok((major, minor, patch)),
        _ => Err(format!("{s:?} is not MAJOR.MINOR.PATCH")),
    }
}

fn main() -> ExitCode {
    let a = Args::parse(); // clap exits 2 on usage errors by itself
    let (major, minor, patch) = a.firmware;
    let mut cfg = CardConfig::new(&a.state);
    cfg.vpcd_addr = a.vpcd.clone();
    cfg.serial = a.serial;
    cfg.version = a.firmware;
    eprintln!(
        "virtual YubiKey PIV card (SIMULATED) serial {} firmware {major}.{minor}.{patch} -> vpcd {}; state {}",
        a.serial,
        a.vpcd,
        a.state.display()
    );
    let stop = AtomicBool::new(false);
    match run_card(&cfg, &stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vpiv-card: the virtual card stopped: {e}.");
            eprintln!("Check that the state file {} is readable JSON, or remove it for a factory card, then start the card again.", a.state.display());
            ExitCode::from(1)
        }
    }
}
