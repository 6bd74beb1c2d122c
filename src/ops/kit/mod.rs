//! `kit`: the emergency kit — this binary, the CA files, the runbooks, an `allowed_signers` and a
//! `KIT.md`, with a `SHA256SUMS` over them signed by the CA (SSHSIG, one touch) — and
//! `kit --verify`, which checks a kit found in a drawer before anyone trusts it. Both halves are
//! plain formats: `sha256sum -c SHA256SUMS` and `ssh-keygen -Y verify` check a kit without
//! breakglass.

mod assemble;
mod error;
pub mod manifest;
mod verify;

pub use assemble::{assemble, KitFile, KitOutcome, KitRequest};
pub use error::KitError;
pub use verify::{is_kit, verify, KitVerified, Trust, VerifyRequest};

/// The SSHSIG namespace of kit signatures (`ssh-keygen -Y verify -n breakglass-kit`).
pub const NAMESPACE: &str = "breakglass-kit";
/// The manifest.
pub const SUMS: &str = "SHA256SUMS";
/// The detached signature over the manifest.
pub const SUMS_SIG: &str = "SHA256SUMS.sig";
/// The signers file for `ssh-keygen -Y verify -f`.
pub const ALLOWED_SIGNERS: &str = "allowed_signers";
/// What each file is for.
pub const KIT_MD: &str = "KIT.md";
/// The program's name in the kit.
pub const BINARY: &str = "breakglass";
/// The directory of the runbooks in the kit.
pub const RUNBOOK_DIR: &str = "runbooks";
