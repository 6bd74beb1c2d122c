//! The slots' P-256 keys: generation, the public point GET METADATA and GENERATE answer with,
//! and the ECDSA signature GENERAL AUTHENTICATE returns (DER, as a YubiKey does).

use zeroize::Zeroizing;

use crate::state::{unhex, SlotKey};

/// PIV algorithm code of ECC P-256 (SP 800-78-4 table 6-1).
pub(crate) const ALG_P256: u8 = 0x11;

/// A fresh private scalar; `None` only when the system has no randomness.
pub(crate) fn random_scalar() -> Option<Zeroizing<Vec<u8>>> {
    for _ in 0..16 {
        let mut b = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut b).ok()?;
        if p256::SecretKey::from_slice(&b).is_ok() {
            return Some(b);
        }
    }
    None
}

/// The uncompressed SEC1 point (`04 ‖ X ‖ Y`) of a P-256 slot key.
pub(crate) fn public_point(key: &SlotKey) -> Option<[u8; 65]> {
    if key.alg != ALG_P256 {
        return None;
    }
    let sk = Zeroizing::new(unhex(&key.secret)?);
    let sk = p256::SecretKey::from_slice(&sk).ok()?;
    use p256::elliptic_curve::sec1::ToSec1Point;
    let ep = sk.public_key().to_sec1_point(false);
    ep.as_bytes().try_into().ok()
}

/// ECDSA P-256 over a digest of at most 32 bytes (left-padded, as the integer conversion of a
/// shorter hash does anyway); deterministic nonce (RFC 6979); DER output.
pub(crate) fn ecdsa_sign(secret: &[u8], digest: &[u8]) -> Option<Vec<u8>> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    if digest.len() > 32 {
        return None;
    }
    let sk = p256::ecdsa::SigningKey::from_slice(secret).ok()?;
    let mut z = [0u8; 32];
    z[32 - digest.len()..].copy_from_slice(digest);
    let sig: p256::ecdsa::Signature = sk.sign_prehash(&z).ok()?;
    Some(sig.to_der().as_bytes().to_vec())
}
