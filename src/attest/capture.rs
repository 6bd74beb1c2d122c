//! An attestation captured at a CA's birth (`init-ca`, `ca attest`), checked and summarised
//! before it is written as `CA.attest`.
//!
//! [`inspect`] runs every check of [`super::examine`] against the new CA key (the signature over
//! the stored challenge, the key, the application, the flags, the certificate rules, for PIV
//! the slot certificate under its f9 certificate): a key whose attestation does not hold for the
//! key it just made is refused, as libfido2's `fido_cred_verify` refuses it at enrolment. The
//! chain is tried against the built-in vendor roots; one that ends elsewhere (a simulator's
//! root, an unknown vendor) is recorded as such, not refused: whether to trust it is
//! `ca verify`'s and the hosts' decision, with the roots they choose.

use serde::Serialize;

use super::container::Container;
use super::error::AttestError;
use super::policy::Policy;
use super::roots::TrustStore;
use super::verdict::Report;
use super::verify::{examine, Expect};

/// What a captured attestation says, for `init-ca`'s output and audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Captured {
    /// "FIDO2" or "PIV".
    pub kind: String,
    /// Who vouches for the hardware: the vendor of the built-in root it chains to, else the
    /// organisation in the device's own attestation certificate.
    pub vendor: String,
    /// Whether the chain ends at one of the built-in vendor roots (Yubico's).
    pub vendor_root: bool,
    /// The model, when the attestation says.
    pub model: Option<String>,
    /// The firmware and where the figure came from, when the attestation says.
    pub firmware: Option<String>,
    /// The device serial (PIV only).
    pub serial: Option<u32>,
    /// Why `ca verify`'s default policy (the EUCLEAK floor, PIV touch policy, P-256) refuses an
    /// attestation that does chain to a built-in vendor root; `None` when it accepts it, or when
    /// no built-in root vouches for the key (then the root is the refusal).
    pub policy_refusal: Option<String>,
}

impl Captured {
    fn from_report(r: &Report, vendor_root: bool) -> Self {
        let policy_refusal = vendor_root
            .then(|| Policy::default().apply(&mut r.clone()).err())
            .flatten()
            .map(|e| e.to_string());
        Captured {
            policy_refusal,
            kind: r.kind.name().to_string(),
            vendor: r.vendor.clone(),
            vendor_root,
            model: r.model.clone(),
            firmware: r
                .firmware
                .as_ref()
                .map(|f| format!("{} (from {})", f.version, f.source.describe())),
            serial: r.serial,
        }
    }

    /// One line: `FIDO2, Yubico: YubiKey 5 NFC, firmware 5.7.4 (from …)`, with a note when the
    /// chain ends at no built-in vendor root.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}, {}{}: {}, firmware {}",
            self.kind,
            self.vendor,
            if self.vendor_root {
                ""
            } else {
                " (not a built-in vendor root)"
            },
            self.model.as_deref().unwrap_or("model unknown"),
            self.firmware.as_deref().unwrap_or("unknown")
        );
        if let Some(serial) = self.serial {
            s.push_str(&format!(", serial {serial}"));
        }
        s
    }
}

/// The device's own first certificate: the attestation certificate (FIDO2) or the f9
/// certificate (PIV).
fn device_certificate(c: &Container) -> Option<&[u8]> {
    match c {
        Container::Fido(f) => f.x5c.first().map(Vec::as_slice),
        Container::Piv(p) => Some(&p.f9_certificate),
    }
}

/// Checks `container` against the new CA key `ca` and says what it attests.
pub fn inspect(ca: &ssh_key::PublicKey, container: &Container) -> Result<Captured, AttestError> {
    let bytes = container.encode();
    let expect = Expect {
        ca: Some(ca),
        challenge: None,
        piv_slot: None,
    };
    if let Ok(r) = examine(&expect, &bytes, &TrustStore::yubico()) {
        return Ok(Captured::from_report(&r, true));
    }
    // Everything but the chain: trust the device's own certificate for this one look.
    let own = device_certificate(container).ok_or(AttestError::SelfAttestation)?;
    let store = TrustStore::from_bytes(own, "the device's own certificate").map_err(|reason| {
        AttestError::BadCertificate {
            which: "attestation".into(),
            reason,
        }
    })?;
    let r = examine(&expect, &bytes, &store)?;
    Ok(Captured::from_report(&r, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::{FidoEvidence, SshSkAttestation};

    fn vector(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/vectors/attest/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn a_real_yubikey_enrolment_is_yubicos_and_the_floor_refusal_is_said_at_once() {
        let ssh = SshSkAttestation::decode(&vector("fido-yk5-fw5.1.attest")).unwrap();
        let ca = ssh_key::PublicKey::from_openssh(
            std::str::from_utf8(&vector("fido-yk5-fw5.1.pub")).unwrap(),
        )
        .unwrap();
        let container = Container::Fido(FidoEvidence {
            application: "ssh:".into(),
            challenge: vector("fido-yk5-fw5.1.challenge"),
            auth_data: ssh.auth_data.clone(),
            signature: ssh.signature.clone(),
            x5c: vec![ssh.certificate.clone()],
        });
        let c = inspect(&ca, &container).unwrap();
        assert_eq!(c.vendor, "Yubico");
        assert!(c.vendor_root);
        assert!(c.firmware.as_deref().unwrap().starts_with("5.1"), "{c:?}");
        let why = c.policy_refusal.unwrap();
        assert!(why.contains("EUCLEAK"), "{why}");
        // With another challenge, the same statement does not hold.
        let Container::Fido(mut f) = container else {
            unreachable!()
        };
        f.challenge.push(0);
        assert_eq!(
            inspect(&ca, &Container::Fido(f)).unwrap_err(),
            AttestError::BadSignature
        );
    }
}
