//! A real FIDO2 security key (YubiKey 5 and friends) over USB HID, through `ctap-hid-fido2`.
//!
//! The crate speaks CTAPHID and the PIN protocol; this module adapts it to
//! [`Authenticator`](super::ctap::Authenticator):
//!
//! * **No stdout.** The crate's keep-alive message ("- Touch the sensor…") is switched off (the
//!   caller prints its own touch prompt), and the few `println!`s the crate makes on unexpected
//!   answers ("- anything error", "Unknown member: …") are sent to stderr by pointing fd 1 at fd 2
//!   for the duration of each call ([`StdoutToStderr`]).
//! * **Errors are strings.** The crate reports a CTAP status as
//!   `response_status err = 0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid.`; [`classify`] turns such
//!   text back into a status byte and [`TokenError::from_ctap`].
//! * **No host timeout.** The crate waits for at most 500 keep-alive packets (≥ 50 s) and then
//!   reports the keep-alive *status* (1 processing / 2 up-needed) as if it were a CTAP status;
//!   [`classify_after`] recognises that by the time it took and answers
//!   [`TokenError::UserActionTimeout`]. The pending request is then cancelled (CTAPHID_CANCEL).
//! * **Panics.** The crate indexes into answers without bounds checks and `expect`s hidapi to
//!   initialise; every call runs under `catch_unwind` so a hostile or broken key becomes
//!   [`TokenError::BadAnswer`] instead of a crash.
//! * **clientDataHash.** The crate always sends `SHA-256(challenge)`; it cannot send a hash it
//!   is given, so [`GetAssertion`](super::ctap::GetAssertion) and
//!   [`MakeCredential`](super::ctap::MakeCredential) carry the message / challenge itself.
//!
//! By concern: `hid` finds and picks the device (HID transport), `client` is the CTAP client
//! ([`Fido2Key`]: every call contained and classified, the PIN checked before a try is spent),
//! `classify` reads the crate's error text, `answers` checks what the key answered and turns it
//! into breakglass's CTAP types, `guard` keeps the crate's prints and panics inside.

mod answers;
mod classify;
mod client;
mod guard;
mod hid;

pub use answers::p256_point_in_cert;
pub use classify::{
    classify, classify_after, is_keepalive_exhaustion, status_for_name, status_in,
    KEEPALIVE_EXHAUSTION,
};
pub use client::Fido2Key;
pub use guard::StdoutToStderr;
pub use hid::{list_devices, quiet_cfg, select_device, serial_from_info, Fido2DeviceInfo};

use super::TokenError;

/// Backend name used in [`TokenError::NoDevice`].
pub const BACKEND: &str = "FIDO2";

/// Opens the FIDO2 key named by `device` (`--device`: HID path, product string or serial), or
/// the only one connected.
pub fn open(device: Option<&str>) -> Result<Fido2Key, TokenError> {
    let devs = list_devices()?;
    let info = select_device(&devs, device)?;
    Fido2Key::open_info(info)
}

#[cfg(test)]
mod tests;
