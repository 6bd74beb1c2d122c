//! Reading a KRL into a [`Krl`]: `ssh_krl_from_blob` of OpenSSH 9.2, refusing what it refuses
//! (and embedded signatures). The bytes are read by [`KrlFile::parse`] (`view.rs`), which never
//! panics and bounds what it allocates ([`MAX_KRL_BYTES`], [`super::MAX_ENTRIES`]).

use ssh_key::encoding::{Decode, Encode};
use ssh_key::public::KeyData;

use super::{Krl, KrlError, KrlFile, MAX_KRL_BYTES};

impl Krl {
    /// Reads a KRL as `ssh_krl_from_blob` (OpenSSH 9.2) does, refusing what it refuses, and
    /// embedded signatures. An empty input is an empty KRL (sshd accepts an empty
    /// `RevokedKeys` file). The parse is [`KrlFile::parse`]'s, made into sets.
    pub fn decode(data: &[u8]) -> Result<Krl, KrlError> {
        if data.len() > MAX_KRL_BYTES {
            return Err(KrlError::TooLarge(data.len()));
        }
        KrlFile::parse(data.to_vec())?.to_krl()
    }
}

/// The blob OpenSSH would write for a key it read from `blob` (`sshkey_from_blob` then
/// `sshkey_puts`): parsed fully, no trailing bytes, re-encoded. `None` if it does not parse.
pub fn canonical_key_blob(blob: &[u8]) -> Option<Vec<u8>> {
    let mut r = blob;
    let key = KeyData::decode(&mut r).ok()?;
    // OpenSSH refuses key types it does not know; ssh-key would keep them as opaque keys.
    if !r.is_empty() || matches!(key.algorithm(), ssh_key::Algorithm::Other(_)) {
        return None;
    }
    key.encode_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::super::tests::ca_blob;
    use super::super::{Revocation, MAGIC};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decode_refuses_what_openssh_refuses() {
        let ca = ca_blob();
        let mut k = Krl::new();
        k.revoke(Revocation::Serials {
            ca: Some(ca.into()),
            lo: 7,
            hi: 7,
        })
        .unwrap();
        let good = k.encode();
        assert_eq!(Krl::decode(b"hello world"), Err(KrlError::NotAKrl));
        assert_eq!(
            Krl::decode(b"SSHKRL\n\0\0\0\0\x02"),
            Err(KrlError::FormatVersion(2))
        );
        assert!(matches!(
            Krl::decode(&good[..good.len() - 1]),
            Err(KrlError::Truncated(_))
        ));
        let mut unknown = good.clone();
        unknown.extend_from_slice(&[0x06, 0, 0, 0, 0]);
        assert_eq!(Krl::decode(&unknown), Err(KrlError::UnknownSection(6)));
        let mut signed = good.clone();
        signed.extend_from_slice(&[0x04, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Krl::decode(&signed), Err(KrlError::EmbeddedSignature));
        // Serial 0 in a list: ssh-keygen and sshd refuse the whole KRL.
        let pos = good.len() - 8;
        let mut zero = good.clone();
        zero[pos..].copy_from_slice(&[0; 8]);
        assert!(
            matches!(Krl::decode(&zero), Err(KrlError::Malformed(m)) if m.contains("serial 0"))
        );
        assert_eq!(Krl::decode(b""), Ok(Krl::new()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Krl::decode(&data);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&[0, 0, 0, 1]);
            with_magic.extend_from_slice(&data);
            let _ = Krl::decode(&with_magic);
        }
    }
}
