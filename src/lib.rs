//! breakglass: a hardware security key as an offline SSH user certificate authority.
//!
//! The library does all the work; the binary (`main.rs` + `cmd/`) only parses and prints.
//! Data flows one way (DESIGN.md): a [`token::CaSigner`] signs the to-be-signed certificate that
//! [`cert`] builds, [`atomic`] writes the results, [`audit`] records them.

pub mod agent;
pub mod atomic;
pub mod audit;
pub mod ca;
pub mod cert;
pub mod cert_options;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod drill;
pub mod error;
pub mod fido;
#[cfg(feature = "wormhole")]
pub mod handoff;
pub mod hex;
pub mod inspect;
pub mod keyfile;
pub mod krl;
pub mod list;
pub mod mint;
pub mod paths;
pub mod revoke;
pub mod sanitize;
pub mod sshd;
pub mod token;
#[cfg(feature = "wormhole")]
pub mod transfer;
pub mod ui;
pub mod validity;

pub use error::Error;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
