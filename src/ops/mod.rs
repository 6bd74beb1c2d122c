//! The library half of each command: what it does, without a terminal. The binary's `cmd/`
//! turns command-line arguments into these calls and prints what they return.

#[cfg(feature = "wormhole")]
pub mod approve;
pub mod ca;
pub mod doctor;
pub mod drill;
pub mod fleet_drill;
#[cfg(feature = "wormhole")]
pub mod handoff;
pub mod host_config;
pub mod init_ca;
pub mod inspect;
pub mod kit;
pub mod lifetime;
pub mod list;
pub mod log;
pub mod mint;
#[cfg(feature = "wormhole")]
pub mod request;
pub mod revoke;
pub mod sign_spec;
pub mod sim;
pub mod sim_hid;
pub mod sshd;
pub mod status;

/// A program of this workspace installed beside the running breakglass binary (`name`), or
/// the error `missing` makes of the path where it should be.
pub fn beside_breakglass(
    name: &str,
    missing: fn(std::path::PathBuf) -> crate::Error,
) -> crate::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| crate::Error::io("find", std::path::Path::new("the breakglass program"), e))?;
    let p = exe.with_file_name(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(missing(p))
    }
}
