//! `breakglass ca …`: what a CA's attestation proves (issue #24). [`verify`] checks one against
//! the CA public key, the trust store and the policy.

pub mod verify;
