//! Which PIV slots may hold a breakglass CA, said once: the twenty retired key slots 82–95 and
//! the four named key slots 9a, 9c, 9d, 9e (NIST SP 800-73-4). A slot is a `u8` everywhere else
//! (the CA reference file, `--slot`, the PIV backend); `--slot` parses with [`parse`], the PIV
//! backend refuses any other byte with [`is_key_slot`], and `list` searches [`RETIRED`].

use std::ops::RangeInclusive;

/// The retired key slots, where breakglass puts a CA (and where `list` looks for one).
pub const RETIRED: RangeInclusive<u8> = 0x82..=0x95;

/// The slot a new PIV CA goes in unless `--slot` says otherwise: the first retired one.
pub const DEFAULT: u8 = 0x82;

/// The named key slots: authentication, signature, key management, card authentication.
pub const NAMED: [u8; 4] = [0x9a, 0x9c, 0x9d, 0x9e];

/// True when `slot` is a PIV key slot (retired or named).
pub fn is_key_slot(slot: u8) -> bool {
    RETIRED.contains(&slot) || NAMED.contains(&slot)
}

/// Parses a `--slot` value: two hex digits, with or without `0x`; the error is the sentence
/// the command line shows.
pub fn parse(s: &str) -> Result<u8, String> {
    match u8::from_str_radix(s.trim_start_matches("0x"), 16) {
        Ok(n) if is_key_slot(n) => Ok(n),
        _ => Err(format!(
            "{s:?} is not a PIV key slot (82..95 retired, or 9a, 9c, 9d, 9e)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_parse_as_hex_and_only_key_slots_pass() {
        assert_eq!(parse("82"), Ok(0x82));
        assert_eq!(parse("0x95"), Ok(0x95));
        assert_eq!(parse("9c"), Ok(0x9c));
        assert_eq!(parse("9E"), Ok(0x9e));
        for bad in ["81", "96", "9b", "9f", "f9", "", "0x", "182", "zz"] {
            assert_eq!(
                parse(bad),
                Err(format!(
                    "{bad:?} is not a PIV key slot (82..95 retired, or 9a, 9c, 9d, 9e)"
                )),
                "{bad}"
            );
        }
        assert_eq!((0u8..=0xff).filter(|&s| is_key_slot(s)).count(), 24);
        assert!(is_key_slot(DEFAULT) && RETIRED.contains(&DEFAULT));
    }

    /// The rule agrees with the yubikey crate's key slots (its `SlotId` also has the
    /// attestation and management slots, which hold no CA).
    #[cfg(feature = "piv")]
    #[test]
    fn the_rule_is_the_yubikey_crates_key_slots() {
        use yubikey::piv::SlotId;
        for s in 0u8..=0xff {
            let crate_says = matches!(
                SlotId::try_from(s),
                Ok(SlotId::Authentication
                    | SlotId::Signature
                    | SlotId::KeyManagement
                    | SlotId::CardAuthentication
                    | SlotId::Retired(_))
            );
            assert_eq!(is_key_slot(s), crate_says, "{s:02x}");
        }
    }
}
