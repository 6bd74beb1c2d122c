//! What sshd decides about a key or certificate under a KRL (`ssh_krl_check_key`,
//! REFERENCE.md §8.2).

use sha2::{Digest, Sha256};
use ssh_key::encoding::Encode;
use ssh_key::public::KeyData;
use ssh_key::Certificate;

use super::{sha1, Krl};

/// What `ssh_krl_check_key` says about a key or certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not revoked.
    Ok,
    /// Revoked, and why.
    Revoked(Reason),
}

/// Why a key is revoked (§8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its plain key's SHA-1 is listed.
    Sha1,
    /// Its plain key's SHA-256 is listed.
    Sha256,
    /// Its plain key is listed.
    ExplicitKey,
    /// Its key id is listed under its CA (or any CA).
    KeyId,
    /// Its non-zero serial is listed under its CA (or any CA).
    Serial,
    /// The CA that signed it is itself revoked as a key.
    CaRevoked,
}

impl Krl {
    /// `is_key_revoked` for a plain key blob (no certificate checks).
    fn plain_revoked(&self, blob: &[u8]) -> Option<Reason> {
        if self.sha1.contains(&sha1(blob)) {
            return Some(Reason::Sha1);
        }
        let h: [u8; 32] = Sha256::digest(blob).into();
        if self.sha256.contains(&h) {
            return Some(Reason::Sha256);
        }
        if self.keys.contains(blob) {
            return Some(Reason::ExplicitKey);
        }
        None
    }

    /// Is this plain public key revoked (`ssh_krl_check_key` for a plain key)?
    pub fn check_key(&self, key: &KeyData) -> Verdict {
        match key.encode_vec().ok().and_then(|b| self.plain_revoked(&b)) {
            Some(r) => Verdict::Revoked(r),
            None => Verdict::Ok,
        }
    }

    /// Is this certificate revoked (`ssh_krl_check_key`, REFERENCE.md §8.2): its key by hash or
    /// blob; under its CA's section or the any-CA section by key id, or by serial unless the
    /// serial is 0; or its CA key revoked as a plain key.
    pub fn check_certificate(&self, cert: &Certificate) -> Verdict {
        let Ok(subject) = cert.public_key().encode_vec() else {
            return Verdict::Ok;
        };
        if let Some(r) = self.plain_revoked(&subject) {
            return Verdict::Revoked(r);
        }
        let ca = cert.signature_key().encode_vec().ok();
        for rc in &self.certs {
            if rc.ca.is_some() && rc.ca != ca {
                continue;
            }
            if rc.key_ids.contains(cert.key_id().as_bytes()) {
                return Verdict::Revoked(Reason::KeyId);
            }
            if cert.serial() != 0 && rc.serials.contains(cert.serial()) {
                return Verdict::Revoked(Reason::Serial);
            }
        }
        if ca.as_deref().and_then(|b| self.plain_revoked(b)).is_some() {
            return Verdict::Revoked(Reason::CaRevoked);
        }
        Verdict::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::rand_core_rng;
    use super::super::Revocation;
    use super::*;

    #[test]
    fn certificates_match_by_serial_id_key_and_ca_per_section_8_2() {
        use ssh_key::certificate::{Builder, CertType};
        let mut rng = rand_core_rng();
        let ca = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
        let other_ca = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
        let user = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
        let cert = |serial: u64, id: &str, signer: &ssh_key::PrivateKey| {
            let mut b = Builder::new_with_random_nonce(
                &mut rand_core_rng(),
                user.public_key(),
                0,
                u64::MAX,
            )
            .unwrap();
            b.serial(serial)
                .unwrap()
                .key_id(id)
                .unwrap()
                .cert_type(CertType::User)
                .unwrap();
            b.all_principals_valid().unwrap();
            b.sign(signer).unwrap()
        };
        let ca_blob = ca.public_key().key_data().encode_vec().unwrap();
        let mut k = Krl::new();
        k.revoke(Revocation::Serials {
            ca: Some(ca_blob.as_slice().into()),
            lo: 10,
            hi: 20,
        })
        .unwrap();
        k.revoke(Revocation::KeyId {
            ca: Some(ca_blob.as_slice().into()),
            id: b"gone".to_vec(),
        })
        .unwrap();
        assert_eq!(
            k.check_certificate(&cert(15, "x", &ca)),
            Verdict::Revoked(Reason::Serial)
        );
        assert_eq!(k.check_certificate(&cert(21, "x", &ca)), Verdict::Ok);
        assert_eq!(k.check_certificate(&cert(15, "x", &other_ca)), Verdict::Ok);
        assert_eq!(
            k.check_certificate(&cert(0, "gone", &ca)),
            Verdict::Revoked(Reason::KeyId)
        );
        assert_eq!(k.check_certificate(&cert(0, "x", &ca)), Verdict::Ok);
        // Any-CA section.
        k.revoke(Revocation::Serials {
            ca: None,
            lo: 99,
            hi: 99,
        })
        .unwrap();
        assert_eq!(
            k.check_certificate(&cert(99, "x", &other_ca)),
            Verdict::Revoked(Reason::Serial)
        );
        // The subject key by fingerprint, and the CA itself as a key.
        let mut k2 = Krl::new();
        let ub = user.public_key().key_data().encode_vec().unwrap();
        k2.revoke(Revocation::Sha1(sha1(&ub))).unwrap();
        assert_eq!(
            k2.check_certificate(&cert(1, "x", &ca)),
            Verdict::Revoked(Reason::Sha1)
        );
        assert_eq!(
            k2.check_key(user.public_key().key_data()),
            Verdict::Revoked(Reason::Sha1)
        );
        let mut k3 = Krl::new();
        k3.revoke(Revocation::Key(ca_blob)).unwrap();
        assert_eq!(
            k3.check_certificate(&cert(1, "x", &ca)),
            Verdict::Revoked(Reason::CaRevoked)
        );
        assert_eq!(k3.check_certificate(&cert(1, "x", &other_ca)), Verdict::Ok);
    }
}
