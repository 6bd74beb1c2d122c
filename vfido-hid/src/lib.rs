//! breakglass's simulated security key as a USB FIDO2 HID device on `/dev/uhid`: the kernel's
//! hidraw driver, libfido2 (OpenSSH) and ctap-hid-fido2 (breakglass's fido2 backend) talk to it
//! as to a YubiKey. The layers, each in its own module:
//!
//! * [`uhid`] — the kernel interface (create the device, read output reports, write input
//!   reports);
//! * [`ctaphid`] — CTAPHID framing: channels, reassembly, keep-alives, transport errors;
//! * [`cbor`] — CTAP2 CBOR decoding and canonical encoding (`ciborium`);
//! * [`pin_protocol`] — PIN/UV auth protocols 1 and 2 (ECDH P-256, AES-256-CBC, HMAC-SHA-256);
//! * [`ctap2`] — the CTAP2 commands over the simulator's persistent state.

pub mod cbor;
pub mod ctap2;
pub mod ctaphid;
pub mod pin_protocol;
pub mod uhid;

/// Lower-case hex (for logs and tests).
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
