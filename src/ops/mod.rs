//! The library half of each command: what it does, without a terminal. The binary's `cmd/`
//! turns command-line arguments into these calls and prints what they return.

#[cfg(feature = "wormhole")]
pub mod approve;
pub mod doctor;
pub mod drill;
#[cfg(feature = "wormhole")]
pub mod handoff;
pub mod host_config;
pub mod init_ca;
pub mod lifetime;
pub mod list;
pub mod log;
pub mod mint;
#[cfg(feature = "wormhole")]
pub mod request;
pub mod revoke;
pub mod sim_hid;
pub mod sshd;
pub mod status;
