//! The USB HID side: which FIDO2 keys are connected, which one `--device` names, and the
//! crate's configuration (quiet: no log, no keep-alive message).

use std::panic::catch_unwind;

use ctap_hid_fido2::{HidInfo, HidParam, LibCfg};

use super::guard::{panic_text, StdoutToStderr};
use super::BACKEND;
use crate::token::TokenError;

/// One connected FIDO2 HID device, as enumeration reports it (for `--device`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fido2DeviceInfo {
    /// Platform HID path (`/dev/hidraw3` on Linux, `IOService:…` on macOS).
    pub path: String,
    /// USB product string (`YubiKey OTP+FIDO+CCID`), possibly empty.
    pub product: String,
    /// USB serial number string, when the device reports one (YubiKeys usually do not).
    pub serial: Option<String>,
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
}

impl Fido2DeviceInfo {
    /// One line naming the device (what `describe()` and error lists print).
    pub fn label(&self) -> String {
        let product = if self.product.trim().is_empty() {
            "FIDO2 key"
        } else {
            self.product.trim()
        };
        match &self.serial {
            Some(s) => format!("{product} (FIDO2, serial {s})"),
            None => format!("{product} (FIDO2, {})", self.path),
        }
    }

    /// True when `sel` (a `--device` value) names this device: exact HID path, exact serial,
    /// or product string (case-insensitive).
    pub fn matches(&self, sel: &str) -> bool {
        let sel = sel.trim();
        !sel.is_empty()
            && (self.path == sel
                || self.serial.as_deref() == Some(sel)
                || self.product.trim().eq_ignore_ascii_case(sel))
    }
}

/// What to do when no FIDO2 key can be found.
fn no_device_hint() -> String {
    "Insert the security key (YubiKey 5 or another FIDO2 key) and run again. On Linux, your \
     user must be able to open /dev/hidraw* (udev rules from libfido2 or yubikey-manager). To \
     practise without a key, use --backend sim (simulated; never for real access)."
        .to_string()
}

/// Reads the serial number out of the crate's `HidInfo::info` line
/// (`product=… usage_page=… usage=… serial_number=… path="…"`); `HidInfo` has no field for it.
pub fn serial_from_info(info: &str) -> Option<String> {
    let start = info.find(" serial_number=")? + " serial_number=".len();
    let rest = &info[start..];
    let end = rest.find(" path=").unwrap_or(rest.len());
    let s = rest[..end].trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The device as enumeration reports it.
fn device_info(h: &HidInfo) -> Fido2DeviceInfo {
    let path = match &h.param {
        HidParam::Path(p) => p.clone(),
        HidParam::VidPid { vid, pid } => format!("{vid:04x}:{pid:04x}"),
    };
    Fido2DeviceInfo {
        path,
        product: h.product_string.clone(),
        serial: serial_from_info(&h.info),
        vid: h.vid,
        pid: h.pid,
    }
}

/// The FIDO2 HID devices connected now (usage page 0xF1D0), one per path. Empty when none.
pub fn list_devices() -> Result<Vec<Fido2DeviceInfo>, TokenError> {
    let found = {
        let _quiet = StdoutToStderr::new();
        catch_unwind(ctap_hid_fido2::get_fidokey_devices)
    };
    let found = found.map_err(|p| TokenError::NoDevice {
        backend: BACKEND.into(),
        hint: format!(
            "The USB HID subsystem could not be opened ({}). {}",
            panic_text(p.as_ref()),
            no_device_hint()
        ),
    })?;
    let mut out: Vec<Fido2DeviceInfo> = Vec::new();
    for h in &found {
        let d = device_info(h);
        if !out.iter().any(|o| o.path == d.path) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Picks the device for `device` (`--device`) among `devs`.
pub fn select_device(
    devs: &[Fido2DeviceInfo],
    device: Option<&str>,
) -> Result<Fido2DeviceInfo, TokenError> {
    let listing = |ds: &[&Fido2DeviceInfo]| {
        ds.iter()
            .map(|d| format!("{} [path {}]", d.label(), d.path))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if devs.is_empty() {
        return Err(TokenError::NoDevice {
            backend: BACKEND.into(),
            hint: no_device_hint(),
        });
    }
    let all: Vec<&Fido2DeviceInfo> = devs.iter().collect();
    let candidates: Vec<&Fido2DeviceInfo> = match device {
        Some(sel) => devs.iter().filter(|d| d.matches(sel)).collect(),
        None => all.clone(),
    };
    match (candidates.len(), device) {
        (1, _) => Ok(candidates[0].clone()),
        (0, Some(sel)) => Err(TokenError::NoDevice {
            backend: BACKEND.into(),
            hint: format!(
                "No connected FIDO2 key matches --device {sel:?}. Connected: {}. Give the path, \
                 the product name or the serial shown.",
                listing(&all)
            ),
        }),
        // `backend` reads into "no single FIDO2 key found"; see the report on a dedicated variant.
        (n, Some(sel)) => Err(TokenError::NoDevice {
            backend: format!("single {BACKEND}"),
            hint: format!(
                "{n} connected FIDO2 keys match --device {sel:?}: {}. Pass the HID path instead.",
                listing(&candidates)
            ),
        }),
        (n, None) => Err(TokenError::NoDevice {
            backend: format!("single {BACKEND}"),
            hint: format!(
                "{n} FIDO2 keys are connected: {}. Choose one with --device PATH (or product name \
                 or serial), or unplug the others.",
                listing(&candidates)
            ),
        }),
    }
}

/// The crate's configuration: no logging, no keep-alive message (and stderr if it ever prints).
pub fn quiet_cfg() -> LibCfg {
    let mut cfg = LibCfg::init()
        .with_enable_log(false)
        .with_keep_alive_msg_to_stderr(true);
    cfg.enable_keep_alive_msg = false;
    cfg.keep_alive_msg = String::new();
    cfg
}
