//! The PIV management key's block ciphers: 3DES (the default before firmware 5.7) and AES-128,
//! -192 (the default from 5.7 on) and -256. GENERAL AUTHENTICATE with key reference `9B` encrypts
//! or decrypts one block in ECB mode (yubikey.rs `src/mgm.rs`; Yubico's "PIV management key"
//! page); the algorithm codes are PIV's (SP 800-78-4 table 5).

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

/// A management-key algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MgmAlgorithm {
    /// `03` three-key 3DES (EDE), 24-byte key, 8-byte blocks.
    Tdes,
    /// `08` AES-128.
    Aes128,
    /// `0A` AES-192.
    Aes192,
    /// `0C` AES-256.
    Aes256,
}

impl MgmAlgorithm {
    /// The algorithm for a PIV code, if it is a management-key algorithm.
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0x03 => Some(MgmAlgorithm::Tdes),
            0x08 => Some(MgmAlgorithm::Aes128),
            0x0A => Some(MgmAlgorithm::Aes192),
            0x0C => Some(MgmAlgorithm::Aes256),
            _ => None,
        }
    }

    /// The PIV code (GET METADATA, the card's state file, P1 of GENERAL AUTHENTICATE).
    pub(crate) fn code(self) -> u8 {
        match self {
            MgmAlgorithm::Tdes => 0x03,
            MgmAlgorithm::Aes128 => 0x08,
            MgmAlgorithm::Aes192 => 0x0A,
            MgmAlgorithm::Aes256 => 0x0C,
        }
    }

    /// Bytes per block: the size of the witness and of the challenge.
    pub(crate) fn block_size(self) -> usize {
        match self {
            MgmAlgorithm::Tdes => 8,
            _ => 16,
        }
    }

    /// One block in ECB mode with `key`; `None` when the key or block has the wrong length.
    pub(crate) fn crypt(self, key: &[u8], block: &[u8], encrypt: bool) -> Option<Vec<u8>> {
        fn run<C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt>(
            key: &[u8],
            block: &[u8],
            encrypt: bool,
        ) -> Option<Vec<u8>> {
            let c = C::new_from_slice(key).ok()?;
            let mut b = aes::cipher::Block::<C>::try_from(block).ok()?;
            if encrypt {
                c.encrypt_block(&mut b);
            } else {
                c.decrypt_block(&mut b);
            }
            Some(b.to_vec())
        }
        match self {
            MgmAlgorithm::Tdes => run::<des::TdesEde3>(key, block, encrypt),
            MgmAlgorithm::Aes128 => run::<aes::Aes128>(key, block, encrypt),
            MgmAlgorithm::Aes192 => run::<aes::Aes192>(key, block, encrypt),
            MgmAlgorithm::Aes256 => run::<aes::Aes256>(key, block, encrypt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MgmAlgorithm::{self, *};

    #[test]
    fn block_ciphers_round_trip() {
        for alg in [Tdes, Aes128, Aes192, Aes256] {
            assert_eq!(MgmAlgorithm::from_code(alg.code()), Some(alg));
            let klen = match alg {
                Aes128 => 16,
                Aes256 => 32,
                _ => 24,
            };
            let bs = alg.block_size();
            let key = vec![7u8; klen];
            let blk: Vec<u8> = (0..bs as u8).collect();
            let e = alg.crypt(&key, &blk, true).unwrap();
            assert_ne!(e, blk);
            assert_eq!(alg.crypt(&key, &e, false).unwrap(), blk);
            assert_eq!(alg.crypt(&key[1..], &blk, true), None, "short key");
            assert_eq!(alg.crypt(&key, &blk[1..], true), None, "short block");
        }
    }

    /// NIST SP 800-67 / FIPS 197 appendix C.2 vectors, so the cipher is the real one.
    #[test]
    fn known_answers() {
        // FIPS 197 C.2: AES-192.
        let key: Vec<u8> = (0u8..24).collect();
        let pt: Vec<u8> = (0u8..16).map(|i| i * 0x11).collect();
        let ct = Aes192.crypt(&key, &pt, true).unwrap();
        assert_eq!(
            ct,
            [
                0xdd, 0xa9, 0x7c, 0xa4, 0x86, 0x4c, 0xdf, 0xe0, 0x6e, 0xaf, 0x70, 0xa0, 0xec, 0x0d,
                0x71, 0x91
            ]
        );
        // 3DES with three equal keys is single DES: the classic 0123456789ABCDEF vector.
        let k1 = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF];
        let key: Vec<u8> = k1.iter().cycle().take(24).copied().collect();
        let ct = Tdes.crypt(&key, b"Now is t", true).unwrap();
        assert_eq!(ct, [0x3f, 0xa4, 0x0e, 0x8a, 0x98, 0x4d, 0x48, 0x15]);
    }
}
