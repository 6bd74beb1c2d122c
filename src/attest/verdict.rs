//! What a verified attestation says, as one serializable [`Report`]: the binary prints it as
//! text ([`Report::lines`]) or JSON (`serde`). Text in it that came from certificates (subjects,
//! vendor names) is raw; the printer sanitises it once, where it reaches a terminal.

use serde::Serialize;

use super::firmware::Firmware;

/// FIDO2 or PIV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A FIDO2 resident credential (`sk-ecdsa-sha2-nistp256@openssh.com`).
    Fido2,
    /// A YubiKey PIV slot (`ecdsa-sha2-nistp256`).
    Piv,
}

impl Kind {
    /// "FIDO2" or "PIV".
    pub fn name(self) -> &'static str {
        match self {
            Kind::Fido2 => "FIDO2",
            Kind::Piv => "PIV",
        }
    }
}

/// The file the attestation came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// breakglass's `CA.attest`.
    Breakglass,
    /// `ssh-keygen -O write-attestation` (`ssh-sk-attest-v01`).
    SshSkAttestV01,
    /// A PIV slot certificate and f9 certificate, PEM or DER.
    PivCertificates,
}

impl Format {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Breakglass => "breakglass CA.attest",
            Format::SshSkAttestV01 => "ssh-keygen attestation (ssh-sk-attest-v01)",
            Format::PivCertificates => "PIV attestation certificates",
        }
    }
}

/// The key the attestation is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttestedKey {
    /// "ECDSA P-256", "ECDSA P-384", "Ed25519", …
    pub algorithm: String,
    /// Whether it is a P-256 key (the only kind of CA breakglass makes).
    pub p256: bool,
    /// The OpenSSH public key line, when the key and (FIDO2) its application are known.
    pub openssh: Option<String>,
    /// Its OpenSSH SHA-256 fingerprint, likewise.
    pub fingerprint: Option<String>,
    /// Whether it was compared with a CA public key (and matched).
    pub matches_ca: bool,
}

/// FIDO2 details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FidoDetails {
    /// The application (rpId), when known; else the hex SHA-256 the authenticator signed.
    pub application: String,
    /// The authenticator model id.
    pub aaguid: String,
    /// UV flag at enrolment.
    pub user_verified: bool,
    /// credProtect level from the authenticator data's extensions (1, 2, 3), if any.
    pub cred_protect: Option<u8>,
    /// The signature counter at enrolment.
    pub counter: u32,
    /// How the challenge was checked.
    pub challenge: String,
}

/// PIV details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PivDetails {
    /// The slot, two hex digits ("9c", "82").
    pub slot: String,
    /// PIN policy as named by Yubico ("never", "once", "always", …).
    pub pin_policy: String,
    /// Touch policy ("never", "always", "cached").
    pub touch_policy: String,
    /// Raw PIN policy byte (OID 1.3.6.1.4.1.41482.3.8), if present.
    #[serde(skip)]
    pub pin_policy_code: Option<u8>,
    /// Raw touch policy byte, if present.
    #[serde(skip)]
    pub touch_policy_code: Option<u8>,
    /// Form factor (OID 1.3.6.1.4.1.41482.3.9), named.
    pub form_factor: Option<String>,
}

/// Everything a genuine attestation proves, and what the policy said about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// FIDO2 or PIV.
    pub kind: Kind,
    /// The file format.
    pub format: Format,
    /// Who issued the chain (the trust anchor's vendor: "Yubico", or a `--roots` O=).
    pub vendor: String,
    /// The model, when the attestation or the AAGUID says.
    pub model: Option<String>,
    /// The firmware and where the figure came from.
    pub firmware: Option<Firmware>,
    /// Device serial (PIV only: FIDO2 batch attestation never identifies a device).
    pub serial: Option<u32>,
    /// The attested key.
    pub key: AttestedKey,
    /// FIDO2 details.
    pub fido: Option<FidoDetails>,
    /// PIV details.
    pub piv: Option<PivDetails>,
    /// Subjects from the device's certificate to the trust anchor.
    pub chain: Vec<String>,
    /// SHA-256 of the trust anchor (colon hex, as `openssl x509 -fingerprint -sha256`).
    pub root_fingerprint: String,
    /// Which trust store was used.
    pub trust_store: String,
    /// The firmware floor applied ("5.7.0", "none"); `None` until a policy was applied.
    pub floor: Option<String>,
    /// What the user should know although the attestation was accepted.
    pub warnings: Vec<String>,
}

/// What breakglass's own simulators (the sim backend, vfido-hid) put in the names they attest
/// with: their roots' organisation (the report's vendor) and their AAGUID's model.
pub const SIMULATED_MARKER: &str = "SIMULATED";

impl Report {
    /// Whether breakglass's own simulators made this attestation (with a software key): under a
    /// root the user named it is genuine, yet it proves nothing about hardware.
    pub fn simulated(&self) -> bool {
        let marked = |t: &str| t.contains(SIMULATED_MARKER);
        marked(&self.vendor) || self.model.as_deref().is_some_and(marked)
    }

    /// The report as label/value lines, in the order a person reads them.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let mut l = vec![
            (
                "attestation",
                format!("{}, {}", self.kind.name(), self.format.describe()),
            ),
            ("vendor", self.vendor.clone()),
            (
                "model",
                self.model.clone().unwrap_or_else(|| "unknown".into()),
            ),
            (
                "firmware",
                match &self.firmware {
                    Some(f) => format!("{} (from {})", f.version, f.source.describe()),
                    None => "unknown".into(),
                },
            ),
        ];
        if let Some(serial) = self.serial {
            l.push(("serial", serial.to_string()));
        }
        l.push(("key", self.key.algorithm.clone()));
        if let Some(fp) = &self.key.fingerprint {
            let note = if self.key.matches_ca {
                " (the CA's key)"
            } else {
                ""
            };
            l.push(("fingerprint", format!("{fp}{note}")));
        }
        if let Some(f) = &self.fido {
            l.push(("application", f.application.clone()));
            l.push(("aaguid", f.aaguid.clone()));
            l.push((
                "user verified",
                if f.user_verified { "yes" } else { "no" }.into(),
            ));
            l.push((
                "credProtect",
                f.cred_protect
                    .map_or_else(|| "none".into(), |c| c.to_string()),
            ));
            l.push(("challenge", f.challenge.clone()));
        }
        if let Some(p) = &self.piv {
            l.push(("slot", p.slot.clone()));
            l.push(("PIN policy", p.pin_policy.clone()));
            l.push(("touch policy", p.touch_policy.clone()));
            if let Some(ff) = &p.form_factor {
                l.push(("form factor", ff.clone()));
            }
        }
        for (i, s) in self.chain.iter().enumerate() {
            l.push((if i == 0 { "chain" } else { "" }, s.clone()));
        }
        l.push(("root SHA-256", self.root_fingerprint.clone()));
        l.push(("trusted roots", self.trust_store.clone()));
        if let Some(floor) = &self.floor {
            l.push(("firmware floor", floor.clone()));
        }
        for w in &self.warnings {
            l.push(("warning", w.clone()));
        }
        l
    }
}
