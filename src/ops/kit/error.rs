//! What can go wrong in `kit` and `kit --verify`, one variant per situation, each with its next
//! step. A kit that fails a check names the file or the signature that failed.

use crate::diagnostic::{Diagnostic, FAILURE, USAGE};
use std::path::PathBuf;

/// A `kit` or `kit --verify` failure. `kit` has written nothing when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// The kit directory is already there and `--force` was not given.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// Two files would get the same name in the kit (two `--ca` files with one base name, or a
    /// `--hosts` file named like a kit file).
    #[error("two files would be called {0} in the kit")]
    NameClash(String),
    /// `--ca-fingerprint` is not a SHA-256 fingerprint.
    #[error("--ca-fingerprint {0} is not a SHA-256 key fingerprint")]
    BadFingerprint(String),
    /// The directory holds no `SHA256SUMS`.
    #[error("{} is not a breakglass kit: it has no SHA256SUMS", .0.display())]
    NotAKit(PathBuf),
    /// `SHA256SUMS` has a line that is not `HASH  NAME` with a name the kit may hold.
    #[error("{}/SHA256SUMS line {line} {reason}", .dir.display())]
    Manifest {
        /// The kit.
        dir: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature over `SHA256SUMS` is missing, malformed or does not verify.
    #[error("the kit in {} is not validly signed: {reason}", .dir.display())]
    BadSignature {
        /// The kit.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The signing key is not one the kit's `allowed_signers` names.
    #[error("the kit in {} is signed by {signer}, which its allowed_signers does not name", .dir.display())]
    SignerNotAllowed {
        /// The kit.
        dir: PathBuf,
        /// The signer's fingerprint.
        signer: String,
    },
    /// The signing CA is not one the operator named.
    #[error("the kit in {} is signed by CA {signer}, not by {}", .dir.display(), .expected.join(" or "))]
    UntrustedSigner {
        /// The kit.
        dir: PathBuf,
        /// The signer's fingerprint.
        signer: String,
        /// The fingerprints given.
        expected: Vec<String>,
    },
    /// Without `--ca-fingerprint`, the signer is not even one of the kit's own CA files.
    #[error("the kit in {} is signed by {signer}, which is none of the kit's CA files", .dir.display())]
    SignerNotInKit {
        /// The kit.
        dir: PathBuf,
        /// The signer's fingerprint.
        signer: String,
    },
    /// Files differ from the signed `SHA256SUMS`: changed, missing or extra.
    #[error("the kit in {} does not match its signed SHA256SUMS: {}", .dir.display(), .problems.join("; "))]
    Tampered {
        /// The kit.
        dir: PathBuf,
        /// One phrase per file, e.g. `breakglass has changed`.
        problems: Vec<String>,
    },
}

impl Diagnostic for KitError {
    fn hint(&self) -> String {
        match self {
            KitError::Exists(_) => "Pick another directory, or pass --force to replace the kit that is there.".into(),
            KitError::NameClash(_) => "Rename one of the files (each --ca file's base name must differ) and run again.".into(),
            KitError::BadFingerprint(_) => "Give it as ssh-keygen -l prints it, e.g. --ca-fingerprint SHA256:HpBgmVXCR7wzDrh6e60UUtaD27qe/NGMVzw4828X7ls.".into(),
            KitError::NotAKit(_) => "Give the kit's directory (the one holding KIT.md, SHA256SUMS and SHA256SUMS.sig), made with `breakglass kit DIR`.".into(),
            KitError::Manifest { .. }
            | KitError::BadSignature { .. }
            | KitError::SignerNotAllowed { .. }
            | KitError::SignerNotInKit { .. }
            | KitError::Tampered { .. } => "Do not use this kit: take another copy (the backup key's kit, or the one in the safe), or make a new one with `breakglass kit` on a trusted machine, and find out who changed this one.".into(),
            KitError::UntrustedSigner { .. } => "Do not use this kit unless that CA is yours: compare with the fingerprint your hosts trust (ssh-keygen -lf on their TrustedUserCAKeys file), then use the right kit.".into(),
        }
    }

    /// [`USAGE`] for a fingerprint typed wrong on the command line, else [`FAILURE`].
    fn exit_code(&self) -> u8 {
        match self {
            KitError::BadFingerprint(_) => USAGE,
            KitError::Exists(_)
            | KitError::NameClash(_)
            | KitError::NotAKit(_)
            | KitError::Manifest { .. }
            | KitError::BadSignature { .. }
            | KitError::SignerNotAllowed { .. }
            | KitError::UntrustedSigner { .. }
            | KitError::SignerNotInKit { .. }
            | KitError::Tampered { .. } => FAILURE,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            KitError::Exists(_) => "kit-exists",
            KitError::NameClash(_) => "kit-name-clash",
            KitError::BadFingerprint(_) => "kit-bad-fingerprint",
            KitError::NotAKit(_) => "kit-not-a-kit",
            KitError::Manifest { .. } => "kit-manifest",
            KitError::BadSignature { .. } => "kit-bad-signature",
            KitError::SignerNotAllowed { .. } => "kit-signer-not-allowed",
            KitError::UntrustedSigner { .. } => "kit-untrusted-signer",
            KitError::SignerNotInKit { .. } => "kit-signer-not-in-kit",
            KitError::Tampered { .. } => "kit-tampered",
        }
    }
}
