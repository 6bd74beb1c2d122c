//! CA attestation: proof that a breakglass CA key was born inside a genuine hardware key and
//! cannot be copied (issue #24). The reference is `ATTESTATION.md`: formats byte by byte,
//! Yubico's roots and OIDs, real vectors, EUCLEAK.
//!
//! Three files are understood ([`Attestation::decode`]):
//! - `CA.attest`, breakglass's container ([`container`]), written at enrolment beside `CA.pub`;
//! - OpenSSH's `ssh-keygen -O write-attestation` file ([`ssh_sk`], `PROTOCOL.u2f`), which needs
//!   the challenge file it was made with;
//! - a PIV slot attestation certificate with the device's f9 certificate (PEM or DER).
//!
//! [`verify`] = [`examine`] (the file is genuine and about the expected key: signatures,
//! challenge, application, flags, certificate requirements, the chain to a [`TrustStore`]) then
//! [`Policy::apply`] (firmware floor, PIV touch policy, P-256), and returns a [`Report`] that
//! the binary prints as text or JSON. Every refusal is one [`AttestError`] variant with a hint.
//!
//! A leaf of the crate: it uses `ssh_key`, the RustCrypto crates and the pure format helpers of
//! `ssh::sk` (authData CBOR), nothing that does I/O on a key or prints. `testing` holds the
//! test PKI (its private keys included) and is never trusted by default; it is compiled only for
//! tests and with the `test-support` feature, so a release binary carries no test keys.

mod aaguid;
pub mod capture;
mod chain;
pub mod container;
mod error;
mod firmware;
pub mod issue;
mod packed;
mod piv;
mod policy;
mod roots;
pub mod ssh_sk;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod verdict;
mod verify;
mod wire;
mod x509;

pub use aaguid::{format_aaguid, lookup as lookup_aaguid, AaguidInfo};
pub use container::{Container, FidoEvidence, PivEvidence};
pub use error::AttestError;
pub use packed::flags;
pub use policy::{Firmware, FirmwareSource, FirmwareVersion, Policy, EUCLEAK_FLOOR};
pub use roots::TrustStore;
pub use ssh_sk::SshSkAttestation;
pub use verdict::{AttestedKey, FidoDetails, Format, Kind, PivDetails, Report};
pub use verify::{examine, verify, Attestation, Expect, MAX_ATTESTATION_LEN};

/// The trust store and the policy of `--roots DIR` and `--min-firmware X.Y.Z|none` as given
/// (the floor first): Yubico's built-in roots and the EUCLEAK floor where not given. `ca verify`
/// and host-config's gate set up the verifier this one way.
pub fn trust_and_policy(
    roots: Option<&std::path::Path>,
    min_firmware: Option<&str>,
) -> Result<(TrustStore, Policy), AttestError> {
    let policy = match min_firmware {
        Some(f) => Policy::with_floor(f)?,
        None => Policy::default(),
    };
    let trust = match roots {
        Some(dir) => TrustStore::load(dir)?,
        None => TrustStore::yubico(),
    };
    Ok((trust, policy))
}

#[cfg(test)]
mod tests;
