//! Why an attestation was refused: one variant per situation, each a sentence of what happened
//! (no final full stop; the printer adds it) with [`AttestError::hint`] saying what to do and
//! [`AttestError::kind`] a stable name for JSON and the audit log. A leaf: it knows nothing of
//! the command line or of the crate's own `Error`, which wraps it.

use crate::diagnostic::{Diagnostic, FAILURE, USAGE};
use std::path::PathBuf;

/// Everything that makes an attestation unusable as proof, phrased for the person reading it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestError {
    // --- The file itself ---
    /// Larger than any attestation can be.
    #[error("the attestation file is {len} bytes, more than the {max} an attestation needs")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },

    /// A field runs past the end of the file.
    #[error("the attestation file is truncated: {what} is cut short")]
    Truncated {
        /// The field being read.
        what: &'static str,
    },

    /// Bytes follow the last field.
    #[error("the attestation file has {extra} stray byte{} after {what}", if *.extra == 1 { "" } else { "s" })]
    TrailingBytes {
        /// The last field read.
        what: &'static str,
        /// How many bytes follow it.
        extra: usize,
    },

    /// None of the formats breakglass reads.
    #[error("the file is not an attestation breakglass knows (a CA.attest, an ssh-keygen -O write-attestation file, or PIV attestation certificates)")]
    UnknownFormat,

    /// OpenSSH before 8.4 wrote `ssh-sk-attest-v00`, without authenticator data.
    #[error("the file is an ssh-sk-attest-v00 attestation (OpenSSH before 8.4), which carries no authenticator data and cannot be verified")]
    SshSkV00,

    /// A version of the container or of OpenSSH's format that this build does not know.
    #[error("the attestation file has version {found}, which this breakglass does not know")]
    UnsupportedVersion {
        /// The version found.
        found: String,
    },

    /// A field is present but wrong.
    #[error("the attestation file is malformed: {what}")]
    Malformed {
        /// What is wrong.
        what: String,
    },

    /// A certificate in the attestation is not X.509 DER.
    #[error("the {which} certificate does not parse as X.509: {reason}")]
    BadCertificate {
        /// Which certificate ("attestation", "f9", "slot", …).
        which: String,
        /// The parser's reason.
        reason: String,
    },

    // --- The challenge and the signature ---
    /// An ssh-keygen attestation without its challenge.
    #[error("an ssh-keygen attestation can be checked only with the challenge it was made with")]
    MissingChallenge,

    /// The attestation signature does not cover this challenge.
    #[error("the attestation signature does not verify with this challenge: it is not the challenge used at enrolment, or the file was altered")]
    WrongChallenge,

    /// The attestation signature does not verify even with the challenge stored beside it.
    #[error("the attestation signature does not verify: the file was altered")]
    BadSignature,

    // --- Which key, which application, which slot ---
    /// The attested key is not the CA's key.
    #[error("the attestation is for another key ({attested}), not the CA {expected}")]
    KeyMismatch {
        /// Fingerprint of the attested key.
        attested: String,
        /// Fingerprint of the CA key.
        expected: String,
    },

    /// A FIDO2 attestation for a PIV CA, or the other way round.
    #[error("the attestation is a {attested} attestation but the CA is a {ca} key")]
    KindMismatch {
        /// "FIDO2" or "PIV".
        attested: &'static str,
        /// What the CA key is.
        ca: &'static str,
    },

    /// The credential was made for another application (rpId).
    #[error("the attestation is for the application {attested}, not the CA's {expected}")]
    WrongApplication {
        /// The application the attestation names (or its hash, if unknown).
        attested: String,
        /// The CA's application.
        expected: String,
    },

    /// The slot certificate attests another PIV slot.
    #[error("the PIV attestation is for slot {attested}, not slot {expected}")]
    WrongSlot {
        /// Slot named by the slot certificate.
        attested: String,
        /// Slot the CA lives in.
        expected: String,
    },

    // --- What the authenticator says about the credential ---
    /// No attestation certificate: the new key signed for itself.
    #[error("the attestation is a self attestation, signed by the new key itself: it proves nothing about hardware")]
    SelfAttestation,

    /// UP clear in the enrolment's authenticator data.
    #[error("the authenticator data lacks the user-present flag, which every enrolment sets")]
    UserNotPresent,

    /// BE or BS set: a credential that can be copied off the device.
    #[error("the credential is backup eligible or backed up (authenticator flags BE={eligible}, BS={backed_up}): it can leave the device")]
    Backup {
        /// BE flag.
        eligible: bool,
        /// BS flag.
        backed_up: bool,
    },

    // --- The attestation certificate (WebAuthn §8.2.1) ---
    /// basicConstraints CA:TRUE on a batch attestation certificate.
    #[error("the attestation certificate is a CA certificate (basicConstraints CA:TRUE), which an authenticator's attestation certificate must not be")]
    LeafIsCa,

    /// OU is not "Authenticator Attestation".
    #[error("the attestation certificate's OU is {found:?}, not \"Authenticator Attestation\"")]
    LeafWrongOu {
        /// The OU found ("" when absent).
        found: String,
    },

    /// Another requirement of WebAuthn §8.2.1 is not met.
    #[error("the attestation certificate does not meet FIDO's requirements: {what}")]
    LeafProfile {
        /// What is missing.
        what: String,
    },

    /// The certificate's AAGUID extension names another model.
    #[error("the attestation certificate is for AAGUID {certificate}, but the authenticator data says {authenticator}")]
    AaguidMismatch {
        /// AAGUID in the certificate.
        certificate: String,
        /// AAGUID in the authenticator data.
        authenticator: String,
    },

    // --- The chain ---
    /// The chain ends at an issuer the trust store does not hold.
    #[error("the attestation chains to {issuer:?}, which is not a trusted root")]
    UnknownRoot {
        /// Issuer name of the last certificate of the chain.
        issuer: String,
    },

    /// An issuer of that name is trusted, but it did not sign this certificate.
    #[error("the certificate {subject:?} names {issuer:?} as its issuer, but that issuer's signature does not verify: it was forged or replaced")]
    ChainSignature {
        /// The certificate whose signature failed.
        subject: String,
        /// Its claimed issuer.
        issuer: String,
    },

    /// The PIV slot certificate was not signed by the f9 certificate given with it.
    #[error("the slot certificate was not signed by the f9 (attestation) certificate beside it: the f9 certificate was replaced or belongs to another key")]
    F9Replaced,

    /// More certificates than any vendor chain has.
    #[error("the certificate chain is longer than {max} certificates")]
    ChainTooLong {
        /// The bound.
        max: usize,
    },

    /// A key or signature algorithm the verifier does not implement.
    #[error("the certificate {subject:?} uses {what}, which breakglass cannot verify")]
    UnsupportedAlgorithm {
        /// Which certificate.
        subject: String,
        /// The algorithm.
        what: String,
    },

    // --- Policy ---
    /// The attested key is not P-256.
    #[error("the attested key is {found}, not a P-256 CA")]
    NotP256 {
        /// What it is.
        found: String,
    },

    /// Firmware below the floor.
    #[error("firmware {firmware} (from {source_of}) is below {floor}: YubiKeys before 5.7.0 are open to EUCLEAK (YSA-2024-03), which recovers ECDSA keys")]
    FirmwareBelowFloor {
        /// The firmware, e.g. "5.4.3" or "5.1.x".
        firmware: String,
        /// Where the figure came from.
        source_of: String,
        /// The floor.
        floor: String,
    },

    /// No attested firmware figure, or one that straddles the floor, while a floor is set.
    #[error("the key's firmware cannot be shown to be {floor} or later ({detail}), which the EUCLEAK floor (YSA-2024-03) requires")]
    FirmwareUnknown {
        /// Why not.
        detail: String,
        /// The floor.
        floor: String,
    },

    /// PIV touch policy "never".
    #[error("the PIV key's touch policy is never: it signs without a touch")]
    TouchPolicyNever,

    // --- Inputs other than the attestation ---
    /// `--roots DIR` could not be read.
    #[error("{}: cannot read the trusted roots: {reason}", path.display())]
    Roots {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// `--roots DIR` holds no certificate.
    #[error("{} holds no certificates to trust", path.display())]
    NoRoots {
        /// The directory.
        path: PathBuf,
    },

    /// `--min-firmware` is neither X.Y.Z nor none.
    #[error("the firmware floor {0:?} is not X.Y.Z or none")]
    BadFloor(String),
}

impl AttestError {
    /// The next step for the user.
    pub fn hint(&self) -> String {
        use AttestError as E;
        match self {
            E::TooLarge { .. } | E::Truncated { .. } | E::TrailingBytes { .. } | E::UnknownFormat | E::Malformed { .. } | E::BadCertificate { .. } => {
                "Check that this is the attestation written at enrolment (CA.attest beside CA.pub, or ssh-keygen's -O write-attestation file); copy it again if it was cut or changed.".into()
            }
            E::SshSkV00 => "Enrol with OpenSSH 8.4 or later (ssh-keygen -O write-attestation then writes v01), or with breakglass init-ca, which keeps CA.attest.".into(),
            E::UnsupportedVersion { .. } => "Verify it with the breakglass that wrote it, or a newer one.".into(),
            E::MissingChallenge => "Pass the file given to ssh-keygen -O challenge=FILE with --challenge FILE.".into(),
            E::WrongChallenge => "Pass the exact file given to ssh-keygen -O challenge=FILE; if it is the right one, the attestation was altered: do not trust this CA.".into(),
            E::BadSignature => "Do not trust this CA until you know who changed the file; make a new attestation (breakglass ca attest CA.pub, PIV) or a new CA.".into(),
            E::KeyMismatch { .. } | E::KindMismatch { .. } | E::WrongApplication { .. } => {
                "Pass the attestation that was written with this CA (CA.attest beside CA.pub), or the CA it belongs to.".into()
            }
            E::WrongSlot { .. } => "Pass the attestation of the CA's own slot; breakglass ca attest CA.pub makes it again for a PIV CA.".into(),
            E::SelfAttestation => "Make the CA on a hardware key that attests with a vendor certificate, such as a YubiKey 5; a self-attested key cannot be told from software.".into(),
            E::UserNotPresent | E::Backup { .. } => "Make the CA on a hardware security key whose credentials cannot leave it; a synced passkey is not one.".into(),
            E::LeafIsCa | E::LeafWrongOu { .. } | E::LeafProfile { .. } | E::AaguidMismatch { .. } => {
                "Do not trust this CA: its attestation certificate is not a genuine authenticator's. Make the CA again on a genuine hardware key.".into()
            }
            E::UnknownRoot { .. } => "If you trust that vendor, pass its root and intermediate certificates with --roots DIR; otherwise make the CA on a YubiKey.".into(),
            E::ChainSignature { .. } | E::F9Replaced => {
                "Do not trust this CA: its certificates were not issued by the vendor (a YubiKey's f9 certificate can be overwritten, and then it proves nothing).".into()
            }
            E::ChainTooLong { .. } | E::UnsupportedAlgorithm { .. } => {
                "Check that this is a genuine vendor attestation; breakglass verifies RSA PKCS#1 v1.5 and ECDSA P-256/P-384 chains of up to 8 certificates.".into()
            }
            E::NotP256 { .. } => "Make the CA on a P-256 key: breakglass init-ca makes an ecdsa-sk (FIDO2) key or a P-256 PIV key.".into(),
            E::FirmwareBelowFloor { floor, .. } => format!("Make the CA again on a key with firmware {floor} or later; to accept this one knowingly, pass --min-firmware none."),
            E::FirmwareUnknown { .. } => "Make the CA on a key whose attestation states its firmware, or pass --min-firmware none to accept it knowingly.".into(),
            E::TouchPolicyNever => "Make the CA again with touch policy always, as breakglass init-ca --backend piv does.".into(),
            E::Roots { .. } | E::NoRoots { .. } => "Give --roots a directory of PEM or DER certificates: the vendor's roots and intermediates.".into(),
            E::BadFloor(_) => "Give --min-firmware a version such as 5.7.0, or none.".into(),
        }
    }

    /// Short machine-readable kind for `--json` and the audit log.
    pub fn kind(&self) -> &'static str {
        use AttestError as E;
        match self {
            E::TooLarge { .. } => "attestation-too-large",
            E::Truncated { .. } => "attestation-truncated",
            E::TrailingBytes { .. } => "attestation-trailing-bytes",
            E::UnknownFormat => "attestation-unknown-format",
            E::SshSkV00 => "attestation-v00",
            E::UnsupportedVersion { .. } => "attestation-version",
            E::Malformed { .. } => "attestation-malformed",
            E::BadCertificate { .. } => "attestation-bad-certificate",
            E::MissingChallenge => "attestation-missing-challenge",
            E::WrongChallenge => "attestation-wrong-challenge",
            E::BadSignature => "attestation-bad-signature",
            E::KeyMismatch { .. } => "attestation-key-mismatch",
            E::KindMismatch { .. } => "attestation-kind-mismatch",
            E::WrongApplication { .. } => "attestation-wrong-application",
            E::WrongSlot { .. } => "attestation-wrong-slot",
            E::SelfAttestation => "attestation-self",
            E::UserNotPresent => "attestation-user-not-present",
            E::Backup { .. } => "attestation-backup-flags",
            E::LeafIsCa => "attestation-leaf-is-ca",
            E::LeafWrongOu { .. } => "attestation-leaf-ou",
            E::LeafProfile { .. } => "attestation-leaf-profile",
            E::AaguidMismatch { .. } => "attestation-aaguid-mismatch",
            E::UnknownRoot { .. } => "attestation-unknown-root",
            E::ChainSignature { .. } => "attestation-chain-signature",
            E::F9Replaced => "attestation-f9-replaced",
            E::ChainTooLong { .. } => "attestation-chain-too-long",
            E::UnsupportedAlgorithm { .. } => "attestation-unsupported-algorithm",
            E::NotP256 { .. } => "attestation-not-p256",
            E::FirmwareBelowFloor { .. } => "attestation-firmware-below-floor",
            E::FirmwareUnknown { .. } => "attestation-firmware-unknown",
            E::TouchPolicyNever => "attestation-touch-never",
            E::Roots { .. } => "attestation-roots",
            E::NoRoots { .. } => "attestation-no-roots",
            E::BadFloor(_) => "attestation-bad-floor",
        }
    }

    /// Whether the user mistyped something on the command line (the caller exits 2 for it).
    pub fn is_usage(&self) -> bool {
        matches!(self, AttestError::BadFloor(_))
    }

    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        AttestError::Malformed { what: what.into() }
    }
}

/// The trait over this module's own methods (kept inherent, so callers need no import).
impl Diagnostic for AttestError {
    fn hint(&self) -> String {
        AttestError::hint(self)
    }

    /// [`USAGE`] for a `--min-firmware` typed wrong; [`FAILURE`] for what the files hold.
    fn exit_code(&self) -> u8 {
        use AttestError as E;
        match self {
            E::BadFloor(_) => USAGE,
            E::TooLarge { .. }
            | E::Truncated { .. }
            | E::TrailingBytes { .. }
            | E::UnknownFormat
            | E::SshSkV00
            | E::UnsupportedVersion { .. }
            | E::Malformed { .. }
            | E::BadCertificate { .. }
            | E::MissingChallenge
            | E::WrongChallenge
            | E::BadSignature
            | E::KeyMismatch { .. }
            | E::KindMismatch { .. }
            | E::WrongApplication { .. }
            | E::WrongSlot { .. }
            | E::SelfAttestation
            | E::UserNotPresent
            | E::Backup { .. }
            | E::LeafIsCa
            | E::LeafWrongOu { .. }
            | E::LeafProfile { .. }
            | E::AaguidMismatch { .. }
            | E::UnknownRoot { .. }
            | E::ChainSignature { .. }
            | E::F9Replaced
            | E::ChainTooLong { .. }
            | E::UnsupportedAlgorithm { .. }
            | E::NotP256 { .. }
            | E::FirmwareBelowFloor { .. }
            | E::FirmwareUnknown { .. }
            | E::TouchPolicyNever
            | E::Roots { .. }
            | E::NoRoots { .. } => FAILURE,
        }
    }

    fn kind(&self) -> &'static str {
        AttestError::kind(self)
    }
}
