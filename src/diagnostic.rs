//! What every error of this crate tells the person at the keyboard, beside its message.
//!
//! Each module's error type (the token's, host-config's, the KRL's, a file set's, a transfer's,
//! an attestation's, …) implements [`Diagnostic`], and the crate's [`crate::Error`] composes
//! them. This module imports nothing from the crate, so any module may use it without pulling
//! the others in. Every `exit_code` and `kind` is an exhaustive `match` without a wildcard arm:
//! a new variant does not compile until someone decides its exit status and its kind.

/// An error phrased for the person at the keyboard.
///
/// The message is the type's `Display`: one sentence of what happened, without its final full
/// stop (the printer adds it). Nothing here ever holds a PIN or key material; text from outside
/// is kept raw, and the binary sanitises it once, where it is printed.
pub trait Diagnostic: std::error::Error {
    /// The next step for the user: one sentence, ending in a full stop.
    fn hint(&self) -> String;

    /// The process's exit status: [`USAGE`] for a command line the user mistyped, [`FAILURE`]
    /// for everything else.
    fn exit_code(&self) -> u8;

    /// A short machine-readable kind, for `--json` errors and the audit log.
    fn kind(&self) -> &'static str;
}

/// Exit status for a command line the user mistyped (as clap's own usage errors).
pub const USAGE: u8 = 2;

/// Exit status for anything else that went wrong.
pub const FAILURE: u8 = 1;
