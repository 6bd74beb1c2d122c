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

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::error::AttestError;
use super::verdict::Report;

/// A YubiKey firmware version, major.minor.patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FirmwareVersion {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Patch.
    pub patch: u8,
}

impl FirmwareVersion {
    /// A version from its parts.
    pub const fn new(major: u8, minor: u8, patch: u8) -> Self {
        FirmwareVersion {
            major,
            minor,
            patch,
        }
    }

    /// From the three bytes Yubico's extensions carry.
    pub fn from_bytes(b: [u8; 3]) -> Self {
        FirmwareVersion::new(b[0], b[1], b[2])
    }

    /// The three bytes Yubico's extensions carry.
    pub fn to_bytes(self) -> [u8; 3] {
        [self.major, self.minor, self.patch]
    }
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for FirmwareVersion {
    type Err = AttestError;

    fn from_str(s: &str) -> Result<Self, AttestError> {
        let bad = || AttestError::BadFloor(s.to_string());
        let parts: Vec<u8> = s
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse().ok()
                }
            })
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        match parts[..] {
            [a, b, c] => Ok(FirmwareVersion::new(a, b, c)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for FirmwareVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The default floor: the first firmware not affected by EUCLEAK (YSA-2024-03).
pub const EUCLEAK_FLOOR: FirmwareVersion = FirmwareVersion::new(5, 7, 0);

/// Where a firmware figure came from (ATTESTATION.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirmwareSource {
    /// The PIV slot certificate, OID 1.3.6.1.4.1.41482.3.3.
    PivCertificate,
    /// The FIDO attestation certificate, OID 1.3.6.1.4.1.41482.13.1.
    FidoCertificate,
    /// The AAGUID, through Yubico's AAGUID list.
    Aaguid,
}

impl FirmwareSource {
    /// Where the figure came from, for people.
    pub fn describe(self) -> &'static str {
        match self {
            FirmwareSource::PivCertificate => {
                "the slot attestation certificate, OID 1.3.6.1.4.1.41482.3.3"
            }
            FirmwareSource::FidoCertificate => {
                "the attestation certificate, OID 1.3.6.1.4.1.41482.13.1"
            }
            FirmwareSource::Aaguid => "the AAGUID, through Yubico's list of FIDO2 AAGUIDs",
        }
    }
}

/// The attested firmware: one version, or the range an AAGUID stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Firmware {
    /// As shown: "5.4.3", "5.1.x", "5.2.0 to 5.4.x".
    pub version: String,
    /// Lowest version it can be.
    pub lowest: FirmwareVersion,
    /// First version it cannot be (exclusive upper bound).
    pub below: FirmwareVersion,
    /// Where the figure came from.
    pub source: FirmwareSource,
}

impl Firmware {
    /// Exactly one version.
    pub fn exact(v: FirmwareVersion, source: FirmwareSource) -> Self {
        let below = match v.patch.checked_add(1) {
            Some(p) => FirmwareVersion::new(v.major, v.minor, p),
            None => FirmwareVersion::new(v.major, v.minor.saturating_add(1), 0),
        };
        Firmware {
            version: v.to_string(),
            lowest: v,
            below,
            source,
        }
    }

    /// Any version in `[lowest, below)` (an AAGUID's range; `below` has patch 0).
    pub fn range(lowest: FirmwareVersion, below: FirmwareVersion, source: FirmwareSource) -> Self {
        let last_minor = if below.minor > 0 && below.patch == 0 {
            below.minor - 1
        } else {
            below.minor
        };
        let version = if lowest.minor == last_minor && lowest.major == below.major {
            format!("{}.{}.x", lowest.major, lowest.minor)
        } else {
            format!(
                "{}.{}.0 to {}.{}.x",
                lowest.major, lowest.minor, below.major, last_minor
            )
        };
        Firmware {
            version,
            lowest,
            below,
            source,
        }
    }
}

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
        report.floor = Some(self.floor_text());
        report.warnings.extend(warnings);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
