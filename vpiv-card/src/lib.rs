//! A virtual YubiKey PIV card for tests: it speaks the vsmartcard `vpcd` socket protocol, so the
//! real chain `yubikey` → PC/SC → pcscd → `libifdvpcd.so` → this card runs without hardware.
//!
//! Byte layouts follow REFERENCE.md §13 (what `yubikey` 0.9.0-rc.0 sends and expects) and Yubico's
//! PIV APDU pages. The modules split the way yubikey.rs splits the host side: [`apdu`] (typed
//! instructions and status words), [`tlv`] (BER-TLV), `state` (the JSON state file), `mgm`
//! (the management key's ciphers), `ecc` (the slots' P-256 keys), `card` (the instruction
//! handlers) and `vpcd` (the socket server). It is a device, not a client: breakglass does not
//! link it; `breakglass sim piv-card` runs this crate's `vpiv-card` binary. It links breakglass
//! for one thing: the test attestation PKI (`breakglass::attest::testing`), whose f9 key signs
//! what ATTEST returns.

#![deny(missing_docs)]

pub mod apdu;
mod card;
mod ecc;
mod mgm;
mod state;
pub mod tlv;
mod vpcd;

pub use apdu::{Command, Ins, Response, StatusWord};
pub use card::{Card, CardConfig};
pub use state::{set_touch_mode, CardState, SlotKey, TouchMode, DEFAULT_MGM_KEY};
pub use vpcd::{run_card, ATR};
