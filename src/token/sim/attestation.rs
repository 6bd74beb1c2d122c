//! The simulated key's attestation: `packed` basic attestation as a YubiKey makes it, by a batch
//! key of its own whose certificate chains to a root made for this simulated key alone.
//!
//! Honest by construction (ATTESTATION.md §6, issue #24):
//! - The root is `CN=breakglass SIMULATED key SIM-… attestation root - NOT HARDWARE,
//!   O=breakglass SIMULATED`, self-signed by a key that signs the root and the batch
//!   certificate once, when the simulated key first attests, and is then dropped: nothing can
//!   issue under that root again. Its certificate is written beside the state as
//!   [`ROOT_FILE`] (public), so `breakglass ca verify --roots SIM_DIR/attestation-root.pem`
//!   can check the chain; the default trust store (Yubico's roots) never holds it, so a
//!   simulated CA is refused there as signed by an unknown root.
//! - The batch certificate states the simulated key's AAGUID (which `ca verify` names
//!   "breakglass simulated key (SIMULATED)") and no firmware: under the default EUCLEAK floor a
//!   simulated CA is refused as of unknown firmware even with its root, unless the user lifts
//!   the floor (`--min-firmware none`) on purpose.
//! - The release binary carries no attestation key at all (`tests/bare_root.rs`): each simulated
//!   key makes its own. The batch key lives in `token.json` (0600) like the credentials' keys.
//!
//! Survives `sim reset` (a real key's attestation key is the factory's).

use der::Decode;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature as P256Signature, SigningKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use super::{new_signing_key, random_bytes, state_err, SIM_AAGUID};
use crate::attest::issue;
use crate::delivery::atomic;
use crate::hex;
use crate::token::TokenError;

/// The root certificate of the simulated key's attestation, beside `token.json`.
pub const ROOT_FILE: &str = "attestation-root.pem";

/// The attestation key and certificates, kept in the state.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct SimAttestation {
    /// The batch attestation key (hex scalar).
    key: Zeroizing<String>,
    /// The batch attestation certificate (hex DER).
    certificate: String,
    /// The root certificate (PEM).
    root: String,
}

/// Where the simulated key in `dir` keeps its attestation root.
pub fn root_path(dir: &Path) -> PathBuf {
    dir.join(ROOT_FILE)
}

fn serial_number() -> [u8; 8] {
    let mut s: [u8; 8] = random_bytes();
    s[0] = (s[0] & 0x7f) | 0x01;
    s
}

impl SimAttestation {
    /// A new root (its key dropped after signing) and batch key for the simulated key `serial`.
    pub(super) fn generate(dir: &Path, serial: &str) -> Result<Self, TokenError> {
        let fail = |e: String| state_err(dir, format!("cannot make its attestation root: {e}"));
        let (root_key, _) = new_signing_key();
        let (batch_key, batch_bytes) = new_signing_key();
        let root_name = issue::name(&format!(
            "CN=breakglass SIMULATED key {serial} attestation root - NOT HARDWARE,O=breakglass SIMULATED"
        ))
        .map_err(fail)?;
        let root = issue::issue(
            &root_key,
            root_name.clone(),
            root_name.clone(),
            &serial_number(),
            issue::validity().map_err(fail)?,
            issue::ec_spki(&issue::sec1(&root_key)).map_err(fail)?,
            issue::ca_extensions(0).map_err(fail)?,
        )
        .map_err(fail)?;
        let leaf = issue::issue(
            &root_key,
            root_name,
            issue::name(&format!(
                "CN=breakglass SIMULATED key {serial} batch attestation - NOT HARDWARE,OU=Authenticator Attestation,O=breakglass SIMULATED,C=ZZ"
            ))
            .map_err(fail)?,
            &serial_number(),
            issue::validity().map_err(fail)?,
            issue::ec_spki(&issue::sec1(&batch_key)).map_err(fail)?,
            issue::fido_leaf_extensions(&SIM_AAGUID, None, false).map_err(fail)?,
        )
        .map_err(fail)?;
        drop(root_key);
        Ok(SimAttestation {
            key: Zeroizing::new(hex::encode(&batch_bytes)),
            certificate: hex::encode(&leaf),
            root: issue::pem(&root).map_err(fail)?,
        })
    }

    /// attStmt for `auth_data` and `client_data_hash`: `sig` by the batch key over
    /// `authData ‖ clientDataHash`, and `x5c` = the batch certificate.
    pub(super) fn sign(
        &self,
        dir: &Path,
        auth_data: &[u8],
        client_data_hash: &[u8; 32],
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), TokenError> {
        let bytes = Zeroizing::new(
            hex::decode(&self.key)
                .ok_or_else(|| state_err(dir, "its attestation key is not hex"))?,
        );
        let key = SigningKey::from_slice(&bytes)
            .map_err(|_| state_err(dir, "its attestation key is not a P-256 key"))?;
        let cert = hex::decode(&self.certificate)
            .filter(|c| x509_cert::Certificate::from_der(c).is_ok())
            .ok_or_else(|| state_err(dir, "its attestation certificate is damaged"))?;
        let mut msg = auth_data.to_vec();
        msg.extend_from_slice(client_data_hash);
        let sig: P256Signature = key.sign(&msg);
        Ok((sig.to_der().as_bytes().to_vec(), vec![cert]))
    }

    /// Writes the root certificate to [`ROOT_FILE`] unless it is there already.
    pub(super) fn publish_root(&self, dir: &Path) -> Result<(), TokenError> {
        let path = root_path(dir);
        if std::fs::read(&path).is_ok_and(|b| b == self.root.as_bytes()) {
            return Ok(());
        }
        atomic::write_all(
            &[atomic::PlannedFile::public(
                &path,
                self.root.as_bytes().to_vec(),
            )],
            true,
        )
        .map_err(|e| state_err(dir, format!("cannot write {ROOT_FILE}: {e}")))
    }
}
