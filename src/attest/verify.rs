//! From bytes to a [`Report`]: which format the file is, then the checks of ATTESTATION.md
//! §2.1 (FIDO2) or §3 (PIV), in the order whose first failure tells the user most.
//!
//! FIDO2: parse → the CA's application → the CA's key → self attestation → the signature over
//! `authData ‖ SHA-256(challenge)` → flags (UP set, BE/BS clear) → the attestation
//! certificate's requirements → the chain.
//! PIV: parse → the slot → the CA's key → slot certificate signed by the f9 certificate → the
//! f9 certificate's chain.

use sha2::{Digest, Sha256};
use ssh_key::public::{EcdsaPublicKey, KeyData, SkEcdsaSha2NistP256, SkEd25519};
use ssh_key::HashAlg;

use super::aaguid;
use super::chain;
use super::container::{Container, FidoEvidence, PivEvidence};
use super::error::AttestError;
use super::packed::{self, flags, CoseKey, EnrolmentData};
use super::piv;
use super::policy::{Firmware, FirmwareSource, Policy};
use super::roots::{pem_certificates, TrustStore};
use super::ssh_sk::SshSkAttestation;
use super::verdict::{AttestedKey, FidoDetails, Format, Kind, PivDetails, Report};
use super::x509::{split_der, Cert, PublicKey, StepError};

/// Bound on an attestation file: the largest real one is about 1 KiB, a PIV pair about 1.5 KiB.
pub const MAX_ATTESTATION_LEN: usize = 64 * 1024;

/// What the attestation must be about.
#[derive(Clone, Copy, Debug, Default)]
pub struct Expect<'a> {
    /// The CA public key (`CA.pub`); `None` only describes what the file attests.
    pub ca: Option<&'a ssh_key::PublicKey>,
    /// The challenge file (`--challenge`): needed for an ssh-keygen attestation, and, for a
    /// `CA.attest`, compared with the challenge stored in it.
    pub challenge: Option<&'a [u8]>,
    /// The PIV slot the CA lives in (from its reference file), when known.
    pub piv_slot: Option<u8>,
}

/// An attestation file, by format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attestation {
    /// breakglass's `CA.attest`.
    Container(Container),
    /// `ssh-keygen -O write-attestation`.
    SshSk(SshSkAttestation),
    /// PIV certificates (slot certificate and f9 certificate, PEM or DER, either order).
    PivCertificates(PivEvidence),
}

impl Attestation {
    /// Tells the formats apart and parses the file.
    pub fn decode(bytes: &[u8]) -> Result<Attestation, AttestError> {
        if bytes.len() > MAX_ATTESTATION_LEN {
            return Err(AttestError::TooLarge {
                len: bytes.len(),
                max: MAX_ATTESTATION_LEN,
            });
        }
        if Container::is_container(bytes) {
            return Ok(Attestation::Container(Container::decode(bytes)?));
        }
        if bytes.get(4..18) == Some(b"ssh-sk-attest-".as_slice()) {
            return Ok(Attestation::SshSk(SshSkAttestation::decode(bytes)?));
        }
        let text_start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let ders = if bytes[text_start..].starts_with(b"-----BEGIN ") {
            pem_certificates(bytes).map_err(AttestError::malformed)?
        } else if bytes.first() == Some(&0x30) {
            split_der(bytes)
                .map_err(|e| AttestError::malformed(format!("certificates: {e}")))?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect()
        } else {
            return Err(AttestError::UnknownFormat);
        };
        Ok(Attestation::PivCertificates(piv_pair(ders)?))
    }
}

/// Sorts a PIV pair: the certificate whose CN names a slot is the slot certificate.
fn piv_pair(ders: Vec<Vec<u8>>) -> Result<PivEvidence, AttestError> {
    if ders.len() != 2 {
        return Err(AttestError::malformed(format!(
            "{} certificates where a PIV attestation has two: the slot certificate and the f9 certificate",
            ders.len()
        )));
    }
    let certs = ders
        .iter()
        .map(|d| Cert::from_der(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| AttestError::BadCertificate {
            which: "PIV".into(),
            reason,
        })?;
    let slots: Vec<_> = certs.iter().map(|c| piv::slot_of(c).ok()).collect();
    let (slot_index, slot) = match slots[..] {
        [Some(s), None] => (0, s),
        [None, Some(s)] => (1, s),
        _ => {
            return Err(AttestError::malformed(
                "exactly one of the two certificates must be a slot attestation certificate (CN \"YubiKey PIV Attestation XX\")",
            ))
        }
    };
    let mut ders = ders;
    let slot_certificate = ders.remove(slot_index);
    Ok(PivEvidence {
        slot,
        slot_certificate,
        f9_certificate: ders.remove(0),
    })
}

/// Checks everything a genuine attestation must prove, then the policy (firmware floor, PIV
/// touch policy, P-256): the whole of `breakglass ca verify`.
pub fn verify(
    expect: &Expect<'_>,
    attestation: &[u8],
    trust: &TrustStore,
    policy: &Policy,
) -> Result<Report, AttestError> {
    let mut report = examine(expect, attestation, trust)?;
    policy.apply(&mut report)?;
    Ok(report)
}

/// Checks that the attestation is genuine and about the expected key, without the policy: a
/// caller that wants to show what a refused attestation says calls this, then
/// [`Policy::apply`].
pub fn examine(
    expect: &Expect<'_>,
    attestation: &[u8],
    trust: &TrustStore,
) -> Result<Report, AttestError> {
    match Attestation::decode(attestation)? {
        Attestation::Container(Container::Fido(f)) => {
            examine_fido(expect, &f, Some(&f.challenge), Format::Breakglass, trust)
        }
        Attestation::Container(Container::Piv(p)) => {
            examine_piv(expect, &p, true, Format::Breakglass, trust)
        }
        Attestation::SshSk(s) => {
            let f = FidoEvidence {
                application: String::new(),
                challenge: Vec::new(),
                auth_data: s.auth_data,
                signature: s.signature,
                x5c: if s.certificate.is_empty() {
                    Vec::new()
                } else {
                    vec![s.certificate]
                },
            };
            examine_fido(expect, &f, None, Format::SshSkAttestV01, trust)
        }
        Attestation::PivCertificates(p) => {
            examine_piv(expect, &p, false, Format::PivCertificates, trust)
        }
    }
}

fn fingerprint(k: &KeyData) -> String {
    ssh_key::PublicKey::from(k.clone())
        .fingerprint(HashAlg::Sha256)
        .to_string()
}

fn openssh(k: &KeyData) -> Option<String> {
    ssh_key::PublicKey::from(k.clone()).to_openssh().ok()
}

fn ca_application(ca: &KeyData) -> Option<&str> {
    match ca {
        KeyData::SkEcdsaSha2NistP256(k) => Some(k.application()),
        KeyData::SkEd25519(k) => Some(k.application()),
        _ => None,
    }
}

/// Whether the attested key is the CA's: `Ok(false)` when there is no CA to compare with.
fn matches_ca(
    ca: Option<&KeyData>,
    attested: Option<&KeyData>,
    algorithm: &str,
) -> Result<bool, AttestError> {
    let Some(ca) = ca else {
        return Ok(false);
    };
    if attested != Some(ca) {
        return Err(AttestError::KeyMismatch {
            attested: attested.map_or_else(|| algorithm.to_string(), fingerprint),
            expected: fingerprint(ca),
        });
    }
    Ok(true)
}

/// `stored_challenge`: the container's (then `expect.challenge` must equal it); `None` for an
/// ssh-keygen file (then `expect.challenge` is required).
fn examine_fido(
    expect: &Expect<'_>,
    f: &FidoEvidence,
    stored_challenge: Option<&[u8]>,
    format: Format,
    trust: &TrustStore,
) -> Result<Report, AttestError> {
    let ad = EnrolmentData::parse(&f.auth_data)?;
    let hash = |app: &str| -> [u8; 32] { Sha256::digest(app.as_bytes()).into() };

    // The application: the CA's, else the container's, else OpenSSH's default if it fits.
    let stored_app = (!f.application.is_empty()).then_some(f.application.as_str());
    if let Some(app) = stored_app {
        if hash(app) != ad.rp_id_hash {
            return Err(AttestError::malformed(format!(
                "the application {app:?} stored beside the authenticator data is not the one it was made for"
            )));
        }
    }
    let attested_app = stored_app
        .map(str::to_string)
        .or_else(|| (hash("ssh:") == ad.rp_id_hash).then(|| "ssh:".to_string()));
    let ca = expect.ca.map(|k| k.key_data());
    if let Some(ca) = ca {
        let Some(expected) = ca_application(ca) else {
            return Err(AttestError::KindMismatch {
                attested: "FIDO2",
                ca: "plain (PIV or software)",
            });
        };
        if hash(expected) != ad.rp_id_hash {
            return Err(AttestError::WrongApplication {
                attested: attested_app.unwrap_or_else(|| {
                    format!("with SHA-256 {}", crate::hex::encode(&ad.rp_id_hash))
                }),
                expected: expected.to_string(),
            });
        }
    }
    let application = match ca.and_then(ca_application) {
        Some(a) => Some(a.to_string()),
        None => attested_app,
    };

    // The key.
    let (algorithm, p256, key_data) = match &ad.key {
        CoseKey::P256(point) => {
            let kd = application.as_ref().and_then(|app| {
                match EcdsaPublicKey::from_sec1_bytes(point).ok()? {
                    EcdsaPublicKey::NistP256(p) => Some(KeyData::SkEcdsaSha2NistP256(
                        SkEcdsaSha2NistP256::new(p, app.clone()),
                    )),
                    _ => None,
                }
            });
            (
                "ECDSA P-256 (sk-ecdsa-sha2-nistp256@openssh.com)".to_string(),
                true,
                kd,
            )
        }
        CoseKey::Ed25519(k) => {
            let kd = application.as_ref().map(|app| {
                KeyData::SkEd25519(SkEd25519::new(
                    ssh_key::public::Ed25519PublicKey(*k),
                    app.clone(),
                ))
            });
            (
                "Ed25519 (sk-ssh-ed25519@openssh.com)".to_string(),
                false,
                kd,
            )
        }
        CoseKey::Other(s) => (s.clone(), false, None),
    };
    let matches_ca = matches_ca(ca, key_data.as_ref(), &algorithm)?;

    // Self attestation proves nothing, whatever its signature.
    let Some(leaf_der) = f.x5c.first() else {
        return Err(AttestError::SelfAttestation);
    };
    let leaf = Cert::from_der(leaf_der).map_err(|reason| AttestError::BadCertificate {
        which: "attestation".into(),
        reason,
    })?;

    // The challenge and the signature.
    let challenge_note = match stored_challenge {
        Some(stored) => {
            if let Some(given) = expect.challenge {
                if given != stored {
                    return Err(AttestError::WrongChallenge);
                }
            }
            if !packed::statement_verifies(&leaf, &f.auth_data, stored, &f.signature)? {
                return Err(AttestError::BadSignature);
            }
            if expect.challenge.is_some() {
                "the given challenge, also stored in CA.attest"
            } else {
                "the challenge stored in CA.attest"
            }
        }
        None => {
            let given = expect.challenge.ok_or(AttestError::MissingChallenge)?;
            if !packed::statement_verifies(&leaf, &f.auth_data, given, &f.signature)? {
                return Err(AttestError::WrongChallenge);
            }
            "the given challenge"
        }
    };

    // Flags: an enrolment is touched; a hardware-bound credential is neither backup eligible
    // nor backed up.
    if ad.flags & flags::UP == 0 {
        return Err(AttestError::UserNotPresent);
    }
    if ad.flags & (flags::BE | flags::BS) != 0 {
        return Err(AttestError::Backup {
            eligible: ad.flags & flags::BE != 0,
            backed_up: ad.flags & flags::BS != 0,
        });
    }

    packed::check_attestation_certificate(&leaf, &ad.aaguid)?;
    let path = chain::walk(&leaf, trust)?;

    let info = aaguid::lookup(&ad.aaguid);
    let firmware = match packed::certificate_firmware(&leaf)? {
        Some(v) => Some(Firmware::exact(v, FirmwareSource::FidoCertificate)),
        None => info
            .and_then(|i| i.firmware)
            .map(|(lo, below)| Firmware::range(lo, below, FirmwareSource::Aaguid)),
    };
    Ok(Report {
        kind: Kind::Fido2,
        format,
        vendor: path.vendor,
        model: info.map(|i| i.model.to_string()),
        firmware,
        serial: None,
        key: AttestedKey {
            algorithm,
            p256,
            openssh: key_data.as_ref().and_then(openssh),
            fingerprint: key_data.as_ref().map(fingerprint),
            matches_ca,
        },
        fido: Some(FidoDetails {
            application: application.unwrap_or_else(|| {
                format!("unknown (SHA-256 {})", crate::hex::encode(&ad.rp_id_hash))
            }),
            aaguid: aaguid::format_aaguid(&ad.aaguid),
            user_verified: ad.flags & flags::UV != 0,
            cred_protect: ad.cred_protect,
            counter: ad.counter,
            challenge: format!("signature verified over {challenge_note}"),
        }),
        piv: None,
        chain: path.subjects,
        root_fingerprint: path.anchor_fingerprint,
        trust_store: trust.origin().to_string(),
        floor: None,
        warnings: Vec::new(),
    })
}

/// `from_container`: the slot in `p` is what breakglass recorded, so it is an expectation too.
fn examine_piv(
    expect: &Expect<'_>,
    p: &PivEvidence,
    from_container: bool,
    format: Format,
    trust: &TrustStore,
) -> Result<Report, AttestError> {
    let cert = |which: &str, der: &[u8]| {
        Cert::from_der(der).map_err(|reason| AttestError::BadCertificate {
            which: which.into(),
            reason,
        })
    };
    let slot_cert = cert("slot attestation", &p.slot_certificate)?;
    let f9 = cert("f9", &p.f9_certificate)?;

    let attested_slot = piv::slot_of(&slot_cert)?;
    // Both the slot the container recorded and the one the CA's reference file names must be
    // the attested slot.
    let recorded = from_container.then_some(p.slot);
    for expected in [recorded, expect.piv_slot].into_iter().flatten() {
        if expected != attested_slot {
            return Err(AttestError::WrongSlot {
                attested: format!("{attested_slot:02x}"),
                expected: format!("{expected:02x}"),
            });
        }
    }

    let public = slot_cert.public_key();
    let key_data = match &public {
        PublicKey::P256(point, _) => EcdsaPublicKey::from_sec1_bytes(point)
            .ok()
            .map(KeyData::Ecdsa),
        PublicKey::P384(point, _) => EcdsaPublicKey::from_sec1_bytes(point)
            .ok()
            .map(KeyData::Ecdsa),
        PublicKey::Ed25519(k) => Some(KeyData::Ed25519(ssh_key::public::Ed25519PublicKey(*k))),
        _ => None,
    };
    let algorithm = public.describe();
    let p256 = matches!(public, PublicKey::P256(..));
    let ca = expect.ca.map(|k| k.key_data());
    if ca.and_then(ca_application).is_some() {
        return Err(AttestError::KindMismatch {
            attested: "PIV",
            ca: "FIDO2 (sk)",
        });
    }
    let matches_ca = matches_ca(ca, key_data.as_ref(), &algorithm)?;

    // The slot certificate is the f9 key's work, or the f9 certificate beside it is not the
    // device's.
    if slot_cert.issuer_key() != f9.subject_key() {
        return Err(AttestError::F9Replaced);
    }
    match slot_cert.verify_signed_by(&f9.public_key()) {
        Ok(()) => {}
        Err(StepError::Invalid) => return Err(AttestError::F9Replaced),
        Err(StepError::Unsupported(what)) => {
            return Err(AttestError::UnsupportedAlgorithm {
                subject: slot_cert.subject(),
                what,
            })
        }
    }
    let path = chain::walk(&f9, trust)?;

    let facts = piv::slot_facts(&slot_cert)?;
    let mut subjects = vec![slot_cert.subject()];
    subjects.extend(path.subjects);
    Ok(Report {
        kind: Kind::Piv,
        format,
        vendor: path.vendor,
        model: piv::model(&facts),
        firmware: facts
            .firmware
            .map(|v| Firmware::exact(v, FirmwareSource::PivCertificate)),
        serial: facts.serial,
        key: AttestedKey {
            algorithm,
            p256,
            openssh: key_data.as_ref().and_then(openssh),
            fingerprint: key_data.as_ref().map(fingerprint),
            matches_ca,
        },
        fido: None,
        piv: Some(PivDetails {
            slot: format!("{attested_slot:02x}"),
            pin_policy: facts
                .pin_policy
                .map_or_else(|| "not stated".into(), piv::pin_policy_name),
            touch_policy: facts
                .touch_policy
                .map_or_else(|| "not stated".into(), piv::touch_policy_name),
            pin_policy_code: facts.pin_policy,
            touch_policy_code: facts.touch_policy,
            form_factor: facts
                .form_factor
                .map(|f| piv::form_factor_name(f).to_string()),
        }),
        chain: subjects,
        root_fingerprint: path.anchor_fingerprint,
        trust_store: trust.origin().to_string(),
        floor: None,
        warnings: Vec::new(),
    })
}
