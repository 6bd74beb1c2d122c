//! What breakglass accepts once an attestation is genuine (ATTESTATION.md §3.2, §5).
//!
//! In this order, so the refusal a user sees first is the one that matters most for old keys:
//! 1. Firmware at or above the floor, 5.7.0 by default: YubiKey 5 firmware before 5.7.0 uses
//!    Infineon's library that EUCLEAK (NinjaLab 2024-09-03, Yubico YSA-2024-03) breaks,
//!    recovering ECDSA keys with the key in hand and EM probes; both FIDO2 and PIV P-256 CAs
//!    are ECDSA. `--min-firmware none` lifts the floor (with a warning when the firmware is
//!    old or unknown). Firmware that cannot be shown to clear the floor is refused.
//! 2. PIV touch policy never is refused (the CA would sign without a touch); PIN policy never
//!    is only a warning (the touch still guards it).
//! 3. The attested key is P-256 (`ecdsa-sk` or a P-256 PIV key): the only CA breakglass makes.

use super::error::AttestError;
pub use super::firmware::{Firmware, FirmwareSource, FirmwareVersion, EUCLEAK_FLOOR};
use super::verdict::Report;

/// What is accepted beyond a genuine chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The firmware floor; `None` = `--min-firmware none`.
    pub min_firmware: Option<FirmwareVersion>,
}

impl Default for Policy {
    /// The EUCLEAK floor.
    fn default() -> Self {
        Policy {
            min_firmware: Some(EUCLEAK_FLOOR),
        }
    }
}

impl Policy {
    /// Parses `--min-firmware`: `X.Y.Z` or `none`.
    pub fn with_floor(floor: &str) -> Result<Policy, AttestError> {
        if floor == "none" {
            return Ok(Policy { min_firmware: None });
        }
        Ok(Policy {
            min_firmware: Some(floor.parse()?),
        })
    }

    /// The floor as shown: "5.7.0" or "none".
    pub fn floor_text(&self) -> String {
        self.min_firmware
            .map_or_else(|| "none".into(), |v| v.to_string())
    }

    /// Applies the policy to a report of a genuine attestation: refuses, or records the floor
    /// and adds its warnings.
    pub fn apply(&self, report: &mut Report) -> Result<(), AttestError> {
        let mut warnings = Vec::new();
        match (self.min_firmware, &report.firmware) {
            (Some(floor), None) => {
                return Err(AttestError::FirmwareUnknown {
                    detail: "the attestation states no firmware and the AAGUID is not in Yubico's list".into(),
                    floor: floor.to_string(),
                })
            }
            (Some(floor), Some(fw)) => {
                if fw.below <= floor {
                    return Err(AttestError::FirmwareBelowFloor {
                        firmware: fw.version.clone(),
                        source_of: fw.source.describe().into(),
                        floor: floor.to_string(),
                    });
                }
                if fw.lowest < floor {
                    return Err(AttestError::FirmwareUnknown {
                        detail: format!(
                            "{} says only {}",
                            fw.source.describe(),
                            fw.version
                        ),
                        floor: floor.to_string(),
                    });
                }
            }
            (None, None) => warnings.push(
                "firmware unknown and --min-firmware none: whether the key is open to EUCLEAK (YSA-2024-03) was not checked".to_string(),
            ),
            (None, Some(fw)) => {
                if fw.lowest < EUCLEAK_FLOOR {
                    warnings.push(format!(
                        "firmware {} may be open to EUCLEAK (YSA-2024-03: before 5.7.0, ECDSA keys can be recovered with the key in hand); accepted because of --min-firmware none",
                        fw.version
                    ));
                }
            }
        }
        if let Some(piv) = &report.piv {
            if piv.touch_policy_code == Some(1) {
                return Err(AttestError::TouchPolicyNever);
            }
            if piv.pin_policy_code == Some(1) {
                warnings.push(
                    "PIN policy never: whoever holds the key can sign with a touch, without its PIN"
                        .into(),
                );
            }
        }
        if !report.key.p256 {
            return Err(AttestError::NotP256 {
                found: report.key.algorithm.clone(),
            });
        }
        // breakglass's own simulators (the sim backend, vfido-hid) attest with software keys:
        // their attestation is accepted only under a root the user named, and still says so.
        if report.simulated() {
            warnings.push(
                "SIMULATED: made by breakglass's simulated key (software), not by a hardware key: it proves nothing about where the CA's key lives; for practice only".into(),
            );
        }
        report.floor = Some(self.floor_text());
        report.warnings.extend(warnings);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::TrustStore;
    use super::*;

    #[test]
    fn versions_parse_strictly_and_order_numerically() {
        let v: FirmwareVersion = "5.10.0".parse().unwrap();
        assert!(v > "5.7.0".parse().unwrap());
        for bad in [
            "5.7", "5.7.0.1", "5..0", "5.7.x", "256.0.0", "+5.7.0", " 5.7.0", "",
        ] {
            assert!(bad.parse::<FirmwareVersion>().is_err(), "{bad}");
        }
        assert_eq!(Policy::with_floor("none").unwrap().min_firmware, None);
        assert_eq!(Policy::with_floor("5.7.2").unwrap().floor_text(), "5.7.2");
        assert!(
            matches!(Policy::with_floor("latest"), Err(AttestError::BadFloor(s)) if s == "latest")
        );
        assert_eq!(Policy::default().floor_text(), "5.7.0");
    }

    #[test]
    fn the_command_lines_verifier_is_set_up_one_way() {
        use crate::attest::trust_and_policy;
        use std::path::Path;
        let (trust, policy) = trust_and_policy(None, None).unwrap();
        assert_eq!(trust.origin(), TrustStore::yubico().origin());
        assert_eq!(policy, Policy::default());
        let roots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attest/roots");
        let (trust, policy) = trust_and_policy(Some(&roots), Some("none")).unwrap();
        assert_eq!(trust.origin(), TrustStore::load(&roots).unwrap().origin());
        assert_eq!(policy.min_firmware, None);
        // The floor as typed is checked before any root is read.
        let missing = Path::new("/nonexistent/roots");
        assert!(matches!(
            trust_and_policy(Some(missing), Some("latest")),
            Err(AttestError::BadFloor(_))
        ));
        assert!(matches!(
            trust_and_policy(Some(missing), None),
            Err(AttestError::Roots { .. } | AttestError::NoRoots { .. })
        ));
    }

    #[test]
    fn ranges_read_as_people_write_them() {
        let v = FirmwareVersion::new;
        let s = FirmwareSource::Aaguid;
        assert_eq!(Firmware::range(v(5, 1, 0), v(5, 2, 0), s).version, "5.1.x");
        assert_eq!(
            Firmware::range(v(5, 2, 0), v(5, 5, 0), s).version,
            "5.2.0 to 5.4.x"
        );
        assert_eq!(Firmware::exact(v(5, 4, 3), s).below, v(5, 4, 4));
        assert_eq!(Firmware::exact(v(5, 4, 255), s).below, v(5, 5, 0));
    }
}
