//! PIN/UV auth protocols 1 and 2 (CTAP 2.1 §6.5.6, §6.5.7): the authenticator's P-256 key
//! agreement key, the shared secret derived from the platform's key, encryption of PINs and
//! tokens (AES-256-CBC) and pinUvAuthParam (HMAC-SHA-256).
//!
//! Protocol 1: shared secret = SHA-256(Z), IV all zero, pinUvAuthParam = the first 16 bytes of
//! the HMAC. Protocol 2: shared secret = HKDF-SHA-256(salt 32 zero bytes, Z, "CTAP2 HMAC key")
//! ‖ HKDF(…, "CTAP2 AES key"), a random IV in front of each ciphertext, the full 32-byte HMAC.

use aes::cipher::{block_padding::NoPadding, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cbor::{self, as_bytes, bytes, int, CtapStatus, Params, Value};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// A PIN/UV auth protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// PIN/UV auth protocol one.
    One,
    /// PIN/UV auth protocol two.
    Two,
}

impl Protocol {
    /// The protocol a request names (`pinUvAuthProtocol`).
    pub fn from_value(v: &Value) -> Result<Self, CtapStatus> {
        match cbor::as_int(v)? {
            1 => Ok(Protocol::One),
            2 => Ok(Protocol::Two),
            _ => Err(CtapStatus::InvalidParameter),
        }
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // getrandom only fails on a broken OS; a zero IV or key then still works, only weaker.
    let _ = getrandom::fill(&mut b);
    b
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut m =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// pinUvAuthParam over `msg` with key `key` (a pinUvAuthToken or an HMAC key).
pub fn authenticate(p: Protocol, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mac = hmac(key, msg);
    match p {
        Protocol::One => mac[..16].to_vec(),
        Protocol::Two => mac.to_vec(),
    }
}

/// Checks a pinUvAuthParam (constant time).
pub fn verify(p: Protocol, key: &[u8], msg: &[u8], param: &[u8]) -> bool {
    ct_eq(&authenticate(p, key, msg), param)
}

/// The secret both sides derive from the ECDH result.
pub struct SharedSecret {
    protocol: Protocol,
    /// Protocol 1: 32 bytes (HMAC and AES key). Protocol 2: HMAC key ‖ AES key.
    key: Zeroizing<Vec<u8>>,
}

impl SharedSecret {
    /// KDF of the protocol over the ECDH x-coordinate `z`.
    pub fn derive(protocol: Protocol, z: &[u8]) -> Self {
        let key = match protocol {
            Protocol::One => Sha256::digest(z).to_vec(),
            Protocol::Two => {
                let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
                let mut k = vec![0u8; 64];
                // 32-byte outputs are always within HKDF-SHA-256's limit.
                let _ = hk.expand(b"CTAP2 HMAC key", &mut k[..32]);
                let _ = hk.expand(b"CTAP2 AES key", &mut k[32..]);
                k
            }
        };
        SharedSecret {
            protocol,
            key: Zeroizing::new(key),
        }
    }

    fn hmac_key(&self) -> &[u8] {
        &self.key[..32]
    }

    fn aes_key(&self) -> &[u8] {
        match self.protocol {
            Protocol::One => &self.key[..32],
            Protocol::Two => &self.key[32..],
        }
    }

    /// encrypt(): `plaintext` must be a multiple of 16 bytes.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let iv: [u8; 16] = match self.protocol {
            Protocol::One => [0; 16],
            Protocol::Two => random(),
        };
        let mut buf = plaintext.to_vec();
        let n = buf.len();
        let ct = Aes256CbcEnc::new_from_slices(self.aes_key(), &iv)
            .expect("AES-256 key and IV have fixed sizes")
            .encrypt_padded::<NoPadding>(&mut buf, n)
            .map(|c| c.to_vec())
            .unwrap_or_default();
        match self.protocol {
            Protocol::One => ct,
            Protocol::Two => [&iv[..], &ct].concat(),
        }
    }

    /// decrypt(): `None` when the length is not whole blocks (plus the IV for protocol 2).
    pub fn decrypt(&self, ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (iv, ct): ([u8; 16], &[u8]) = match self.protocol {
            Protocol::One => ([0; 16], ciphertext),
            Protocol::Two => {
                if ciphertext.len() < 16 {
                    return None;
                }
                (ciphertext[..16].try_into().ok()?, &ciphertext[16..])
            }
        };
        if ct.is_empty() || ct.len() % 16 != 0 {
            return None;
        }
        let mut buf = Zeroizing::new(ct.to_vec());
        let n = Aes256CbcDec::new_from_slices(self.aes_key(), &iv)
            .ok()?
            .decrypt_padded::<NoPadding>(&mut buf)
            .ok()?
            .len();
        buf.truncate(n);
        Some(buf)
    }

    /// authenticate() with the shared secret's HMAC key.
    pub fn authenticate(&self, msg: &[u8]) -> Vec<u8> {
        authenticate(self.protocol, self.hmac_key(), msg)
    }

    /// verify() with the shared secret's HMAC key.
    pub fn verify(&self, msg: &[u8], param: &[u8]) -> bool {
        verify(self.protocol, self.hmac_key(), msg, param)
    }
}

/// The authenticator's (or, in tests, a platform's) P-256 key agreement key.
pub struct KeyAgreement {
    secret: p256::SecretKey,
}

impl Default for KeyAgreement {
    fn default() -> Self {
        Self::generate()
    }
}

impl KeyAgreement {
    /// A fresh key (a real key makes one at power-up and after each wrong PIN).
    pub fn generate() -> Self {
        loop {
            let b = Zeroizing::new(random::<32>());
            if let Ok(secret) = p256::SecretKey::from_slice(&b[..]) {
                return KeyAgreement { secret };
            }
        }
    }

    fn point(&self) -> Vec<u8> {
        self.secret.public_key().to_sec1_bytes().to_vec()
    }

    /// The public key as a COSE_Key (kty EC2, alg ECDH-ES+HKDF-256, crv P-256).
    pub fn cose(&self) -> Value {
        let p = self.point();
        Value::Map(vec![
            (int(1), int(2)),
            (int(3), int(-25)),
            (int(-1), int(1)),
            (int(-2), bytes(&p[1..33])),
            (int(-3), bytes(&p[33..65])),
        ])
    }

    /// ECDH with the peer's COSE_Key, then the protocol's KDF.
    pub fn shared_secret(
        &self,
        protocol: Protocol,
        peer: &Value,
    ) -> Result<SharedSecret, CtapStatus> {
        let m = Params::from_map(peer)?;
        let x = as_bytes(m.need(-2)?)?;
        let y = as_bytes(m.need(-3)?)?;
        if cbor::as_int(m.need(1)?)? != 2 || x.len() != 32 || y.len() != 32 {
            return Err(CtapStatus::InvalidParameter);
        }
        let mut sec1 = vec![4u8];
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let peer =
            p256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| CtapStatus::InvalidParameter)?;
        let z = self.secret.diffie_hellman(&peer);
        Ok(SharedSecret::derive(
            protocol,
            z.raw_secret_bytes().as_slice(),
        ))
    }
}

/// A fresh 32-byte pinUvAuthToken.
pub fn new_token() -> Zeroizing<[u8; 32]> {
    Zeroizing::new(random())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_derive_the_same_secret_for_both_protocols() {
        let authenticator = KeyAgreement::generate();
        let platform = KeyAgreement::generate();
        for p in [Protocol::One, Protocol::Two] {
            let a = authenticator.shared_secret(p, &platform.cose()).unwrap();
            let b = platform.shared_secret(p, &authenticator.cose()).unwrap();
            assert_eq!(*a.key, *b.key);
            let pin_hash = &Sha256::digest(b"123456")[..16];
            let enc = b.encrypt(pin_hash);
            assert_eq!(enc.len(), if p == Protocol::One { 16 } else { 32 });
            assert_eq!(&a.decrypt(&enc).unwrap()[..], pin_hash);
            let param = b.authenticate(&enc);
            assert_eq!(param.len(), if p == Protocol::One { 16 } else { 32 });
            assert!(a.verify(&enc, &param));
            assert!(!a.verify(&enc[1..], &param));
        }
    }

    #[test]
    fn protocol_one_is_sha256_of_z_with_a_zero_iv_and_protocol_two_uses_a_random_iv() {
        let z = [7u8; 32];
        let one = SharedSecret::derive(Protocol::One, &z);
        assert_eq!(&one.key[..], &Sha256::digest(z)[..]);
        assert_eq!(one.encrypt(&[0; 16]), one.encrypt(&[0; 16]));
        let two = SharedSecret::derive(Protocol::Two, &z);
        assert_eq!(two.key.len(), 64);
        assert_ne!(&two.key[..32], &two.key[32..]);
        assert_ne!(two.encrypt(&[0; 16]), two.encrypt(&[0; 16]));
        assert!(two.decrypt(&[0; 15]).is_none());
        assert!(
            two.decrypt(&[0; 16]).is_none(),
            "an IV alone is no ciphertext"
        );
        assert!(one.decrypt(&[0; 17]).is_none());
    }

    #[test]
    fn hmac_matches_rfc4231_case_2_and_protocol_one_truncates() {
        let mac = authenticate(Protocol::Two, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let short = authenticate(Protocol::One, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(short, mac[..16].to_vec());
    }

    #[test]
    fn a_bad_peer_key_is_an_invalid_parameter() {
        let k = KeyAgreement::generate();
        let bad = Value::Map(vec![
            (int(1), int(2)),
            (int(-2), bytes(&[1; 32])),
            (int(-3), bytes(&[2; 32])),
        ]);
        assert_eq!(
            k.shared_secret(Protocol::Two, &bad).err(),
            Some(CtapStatus::InvalidParameter)
        );
        assert_eq!(
            k.shared_secret(Protocol::Two, &int(1)).err(),
            Some(CtapStatus::CborUnexpectedType)
        );
    }
}
