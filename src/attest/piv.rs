//! YubiKey PIV attestation (ATTESTATION.md §3): the slot attestation certificate that
//! `ATTEST` (INS F9) returns, signed by the device's f9 key, whose certificate (object 5FFF01)
//! chains to Yubico's PIV root. Attestation is refused by the card for imported keys, which is
//! what makes it a proof of non-exportability.
//!
//! Yubico's extensions (`docs.yubico.com/hardware/oid/oid-piv-arc.html`), with extnValue
//! encodings that differ per OID (✔ on real certificates):
//!
//! | OID | meaning | content |
//! |---|---|---|
//! | 1.3.6.1.4.1.41482.3.3 | firmware | raw 3 bytes M m p |
//! | 1.3.6.1.4.1.41482.3.7 | serial | DER INTEGER |
//! | 1.3.6.1.4.1.41482.3.8 | PIN policy, touch policy | raw 2 bytes |
//! | 1.3.6.1.4.1.41482.3.9 | form factor | raw 1 byte |
//! | 1.3.6.1.4.1.41482.3.10 / .3.11 | FIPS / CSPN series | present or not |

use super::error::AttestError;
use super::policy::FirmwareVersion;
use super::x509::{Attribute, Cert};

/// Firmware version.
pub const OID_FIRMWARE: &str = "1.3.6.1.4.1.41482.3.3";
/// Device serial number.
pub const OID_SERIAL: &str = "1.3.6.1.4.1.41482.3.7";
/// PIN and touch policy.
pub const OID_POLICY: &str = "1.3.6.1.4.1.41482.3.8";
/// Form factor.
pub const OID_FORM_FACTOR: &str = "1.3.6.1.4.1.41482.3.9";
/// FIPS-certified series.
pub const OID_FIPS: &str = "1.3.6.1.4.1.41482.3.10";
/// CSPN-certified series.
pub const OID_CSPN: &str = "1.3.6.1.4.1.41482.3.11";

/// The common name prefix of a slot attestation certificate; the slot follows in hex.
pub const SLOT_CN_PREFIX: &str = "YubiKey PIV Attestation ";

/// PIN policy byte values (`yubikit/piv.py` PIN_POLICY).
pub fn pin_policy_name(v: u8) -> String {
    match v {
        0 => "default".into(),
        1 => "never".into(),
        2 => "once".into(),
        3 => "always".into(),
        4 => "match-once".into(),
        5 => "match-always".into(),
        n => format!("unknown ({n})"),
    }
}

/// Touch policy byte values (`yubikit/piv.py` TOUCH_POLICY).
pub fn touch_policy_name(v: u8) -> String {
    match v {
        0 => "default".into(),
        1 => "never".into(),
        2 => "always".into(),
        3 => "cached".into(),
        n => format!("unknown ({n})"),
    }
}

/// Form factor values (`yubikit/management.py` FORM_FACTOR).
pub fn form_factor_name(v: u8) -> &'static str {
    match v & 0x0f {
        1 => "USB-A keychain",
        2 => "USB-A nano",
        3 => "USB-C keychain",
        4 => "USB-C nano",
        5 => "USB-C and Lightning",
        6 => "USB-A Bio",
        7 => "USB-C Bio",
        _ => "unknown form factor",
    }
}

/// What a slot attestation certificate states.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SlotFacts {
    pub(crate) firmware: Option<FirmwareVersion>,
    pub(crate) serial: Option<u32>,
    pub(crate) pin_policy: Option<u8>,
    pub(crate) touch_policy: Option<u8>,
    pub(crate) form_factor: Option<u8>,
    pub(crate) fips: bool,
    pub(crate) cspn: bool,
}

fn bad(what: String) -> AttestError {
    AttestError::malformed(format!("the slot attestation certificate: {what}"))
}

/// The slot a slot attestation certificate names in its CN ("YubiKey PIV Attestation 9c").
pub(crate) fn slot_of(cert: &Cert) -> Result<u8, AttestError> {
    let cn = cert
        .subject_attribute(Attribute::CommonName)
        .unwrap_or_default();
    let hex = cn
        .strip_prefix(SLOT_CN_PREFIX)
        .filter(|h| h.len() == 2 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| bad(format!("its CN {cn:?} does not name a PIV slot")))?;
    u8::from_str_radix(hex, 16).map_err(|_| bad(format!("its CN {cn:?} does not name a PIV slot")))
}

/// Reads Yubico's extensions from a slot attestation certificate.
pub(crate) fn slot_facts(cert: &Cert) -> Result<SlotFacts, AttestError> {
    let ext = |oid: &str| cert.extension(oid).map_err(bad);
    let firmware = match ext(OID_FIRMWARE)? {
        None => None,
        Some(&[a, b, c]) => Some(FirmwareVersion::new(a, b, c)),
        Some(_) => {
            return Err(bad(format!(
                "its firmware extension {OID_FIRMWARE} is not 3 bytes"
            )))
        }
    };
    let serial = match ext(OID_SERIAL)? {
        None => None,
        Some(v) => Some(der_u32(v).ok_or_else(|| {
            bad(format!(
                "its serial extension {OID_SERIAL} is not a small positive INTEGER"
            ))
        })?),
    };
    let (pin_policy, touch_policy) = match ext(OID_POLICY)? {
        None => (None, None),
        Some(&[p, t]) => (Some(p), Some(t)),
        Some(_) => {
            return Err(bad(format!(
                "its policy extension {OID_POLICY} is not 2 bytes"
            )))
        }
    };
    let form_factor = match ext(OID_FORM_FACTOR)? {
        None => None,
        Some(&[f]) => Some(f),
        Some(_) => {
            return Err(bad(format!(
                "its form factor extension {OID_FORM_FACTOR} is not 1 byte"
            )))
        }
    };
    Ok(SlotFacts {
        firmware,
        serial,
        pin_policy,
        touch_policy,
        form_factor,
        fips: ext(OID_FIPS)?.is_some(),
        cspn: ext(OID_CSPN)?.is_some(),
    })
}

/// A DER INTEGER that fits a u32 and is not negative.
fn der_u32(v: &[u8]) -> Option<u32> {
    let [0x02, len, body @ ..] = v else {
        return None;
    };
    if *len as usize != body.len() || body.is_empty() || body.len() > 5 || body[0] & 0x80 != 0 {
        return None;
    }
    let body = if body.len() > 1 && body[0] == 0 {
        &body[1..]
    } else {
        body
    };
    if body.len() > 4 {
        return None;
    }
    Some(body.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
}

/// The model a PIV attestation implies: series from the firmware, name from the form factor.
pub(crate) fn model(f: &SlotFacts) -> Option<String> {
    let fw = f.firmware?;
    let ff = f.form_factor.map(|v| v & 0x0f);
    let mut name = match (fw.major, ff) {
        (_, Some(6 | 7)) => "YubiKey Bio".to_string(),
        (5, Some(1)) => "YubiKey 5 or 5 NFC".into(),
        (5, Some(2)) => "YubiKey 5 Nano".into(),
        (5, Some(3)) => "YubiKey 5C or 5C NFC".into(),
        (5, Some(4)) => "YubiKey 5C Nano".into(),
        (5, Some(5)) => "YubiKey 5Ci".into(),
        (5, _) => "YubiKey 5".into(),
        (4, _) => "YubiKey 4".into(),
        _ => "YubiKey".into(),
    };
    if f.fips {
        name.push_str(" FIPS");
    }
    if f.cspn {
        name.push_str(" CSPN");
    }
    if let Some(v) = f.form_factor {
        name.push_str(&format!(" ({})", form_factor_name(v)));
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_der_integers() {
        assert_eq!(
            der_u32(&[0x02, 0x04, 0x00, 0xb3, 0xb7, 0xff]),
            Some(11778047)
        );
        assert_eq!(
            der_u32(&[0x02, 0x04, 0x01, 0xfa, 0x05, 0x3a]),
            Some(33162554)
        );
        assert_eq!(
            der_u32(&[0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]),
            Some(u32::MAX)
        );
        assert_eq!(der_u32(&[0x02, 0x01, 0x80]), None); // negative
        assert_eq!(der_u32(&[0x02, 0x05, 0x01, 0, 0, 0, 0]), None); // too big
        assert_eq!(der_u32(&[0x02, 0x02, 0x01]), None); // cut
        assert_eq!(der_u32(&[0x04, 0x01, 0x01]), None);
    }

    #[test]
    fn models_name_series_and_form_factor() {
        let f = SlotFacts {
            firmware: Some(FirmwareVersion::new(5, 2, 4)),
            form_factor: Some(5),
            ..Default::default()
        };
        assert_eq!(model(&f).unwrap(), "YubiKey 5Ci (USB-C and Lightning)");
        assert_eq!(model(&SlotFacts::default()), None);
        assert_eq!(pin_policy_name(1), "never");
        assert_eq!(touch_policy_name(3), "cached");
    }
}
