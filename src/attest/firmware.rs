//! YubiKey firmware versions as an attestation states them (ATTESTATION.md §3.2): one exact
//! version from a certificate extension, or the range an AAGUID stands for, and where the figure
//! came from. Shared by the parsers that find it, the policy that judges it and the report that
//! prints it.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::error::AttestError;

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
