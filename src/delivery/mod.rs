//! How a signed certificate leaves the process: files written atomically, the audit entry that
//! is durable before anything is released, ssh-agent, and the magic-wormhole hand-off.

pub mod agent;
pub mod atomic;
pub mod audit;
#[cfg(feature = "wormhole")]
pub mod exchange;
pub mod messages;
pub mod release;
#[cfg(feature = "wormhole")]
pub mod transfer;
pub mod writable;
