//! `breakglass ca …`: what a CA's attestation proves (issue #24). [`verify`] checks one against
//! the CA public key, the trust store and the policy; [`attest`] makes a PIV CA's `CA.attest`
//! again.

pub mod attest;
pub mod verify;
