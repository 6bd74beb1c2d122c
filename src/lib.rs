//! breakglass: a hardware security key as an offline SSH user certificate authority.
//!
//! The library does all the work; the binary (`src/bin/breakglass/`) only parses and prints.
//! Data flows one way (ARCHITECTURE.md): a [`token`] signs the to-be-signed
//! certificate that [`ssh`] builds, and [`delivery`] writes, hands over and records the result.
//! [`ops`] holds the library half of each command.

pub mod attest;
pub mod delivery;
pub mod diagnostic;
mod error;
pub mod json_u64;
pub mod ops;
pub mod runbooks;
pub mod sanitize;
pub mod shell;
pub mod ssh;
pub mod token;
pub mod ui;
pub mod zone;

mod clock;
mod hex;
pub mod input;
mod paths;

pub use clock::now;
pub use diagnostic::Diagnostic;
pub use error::Error;
pub use paths::{audit_log, hostname, operator, sim_dir};

pub use ops::drill::{run as drill, DrillReport, Step, StepStatus};
pub use ops::init_ca::{init_ca, InitCaOutcome, InitCaRequest, DEFAULT_CA_FILE};
pub use ops::list::{list, Listing};
pub use ops::mint::{mint, MintOutcome, MintRequest};

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
