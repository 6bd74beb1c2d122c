//! 64-bit integers in JSON as strings. A JSON number above 2^53 loses digits in jq 1.6 (Debian
//! 12) and JavaScript: `jq .serial` turned serial 15729956150294075776 into
//! 15729956150294075000, so a revocation built from it would hit another certificate. Every u64
//! breakglass writes (`--json` output, the audit log) is therefore a decimal string; reading
//! accepts a string or a number, so audit logs written before this change still parse.
//!
//! Use with `#[serde(with = "crate::json_u64")]` (or `json_u64::option` for an `Option<u64>`).

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// Writes a u64 as a decimal string.
pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads a u64 from a decimal string or a JSON number.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(U64Visitor)
}

struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = u64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an unsigned 64-bit integer, as a decimal string or a number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        // Digits only: no sign, blanks or exponent, so one serial has one spelling.
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// The same for `Option<u64>` (`None` stays `null`; pair with `#[serde(default)]`).
pub mod option {
    use super::U64Visitor;
    use serde::{Deserializer, Serializer};

    /// Writes `Some(n)` as a decimal string, `None` as null.
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.collect_str(n),
            None => s.serialize_none(),
        }
    }

    /// Reads null, a decimal string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct OptVisitor;
        impl<'de> serde::de::Visitor<'de> for OptVisitor {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("null or an unsigned 64-bit integer")
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Option<u64>, E> {
                Ok(None)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Option<u64>, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<u64>, D2::Error> {
                d.deserialize_any(U64Visitor).map(Some)
            }
        }
        d.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        a: u64,
        #[serde(default, with = "super::option")]
        b: Option<u64>,
    }

    #[test]
    fn writes_strings_reads_both() {
        let t = T {
            a: 15729956150294075776,
            b: Some(u64::MAX),
        };
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(
            s,
            r#"{"a":"15729956150294075776","b":"18446744073709551615"}"#
        );
        assert_eq!(serde_json::from_str::<T>(&s).unwrap(), t);
        let old: T = serde_json::from_str(r#"{"a":15729956150294075776,"b":7}"#).unwrap();
        assert_eq!((old.a, old.b), (15729956150294075776, Some(7)));
        let none: T = serde_json::from_str(r#"{"a":"1","b":null}"#).unwrap();
        assert_eq!(none.b, None);
        let missing: T = serde_json::from_str(r#"{"a":"1"}"#).unwrap();
        assert_eq!(missing.b, None);
        for bad in [
            r#"{"a":"-1"}"#,
            r#"{"a":"1e3"}"#,
            r#"{"a":" 1"}"#,
            r#"{"a":-1}"#,
            r#"{"a":""}"#,
        ] {
            assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
        }
    }
}
