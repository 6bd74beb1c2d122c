//! The CBOR side of CTAP2 (CTAP 2.1 §8): requests are decoded with `ciborium` into
//! [`Value`]s; responses are put into CTAP2 canonical form (map keys sorted by the length of
//! their encoding, then bytewise — RFC 7049 §3.9) before encoding, as real keys send them.

pub use ciborium::value::{Integer, Value};

/// The CTAP2 status an answer starts with (CTAP 2.1 §8.2): breakglass's own type, which its
/// FIDO2 client reads the same answers with.
pub use breakglass::token::CtapStatus;

/// An integer key or value.
pub fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

/// A text value.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A byte-string value.
pub fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

fn encode_raw(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every Value built here is encodable.
    let _ = ciborium::ser::into_writer(v, &mut out);
    out
}

/// `v` with every map's entries in CTAP2 canonical order.
pub fn canonical(v: Value) -> Value {
    match v {
        Value::Map(entries) => {
            let mut e: Vec<(Vec<u8>, Value, Value)> = entries
                .into_iter()
                .map(|(k, v)| {
                    let k = canonical(k);
                    (encode_raw(&k), k, canonical(v))
                })
                .collect();
            e.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
            Value::Map(e.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The canonical encoding of `v`.
pub fn encode(v: Value) -> Vec<u8> {
    encode_raw(&canonical(v))
}

/// A successful response: status 0 then the canonical encoding of `v`.
pub fn ok(v: Value) -> Vec<u8> {
    let mut out = vec![CtapStatus::Ok.code()];
    out.extend_from_slice(&encode(v));
    out
}

/// Decodes a request's CBOR parameters; the whole input must be one item.
pub fn decode(b: &[u8]) -> Result<Value, CtapStatus> {
    let mut rd = b;
    let v: Value = ciborium::de::from_reader(&mut rd).map_err(|_| CtapStatus::InvalidCbor)?;
    if !rd.is_empty() {
        return Err(CtapStatus::InvalidCbor);
    }
    Ok(v)
}

/// A decoded request map (`{}` when the request had no parameters).
pub struct Params(Vec<(Value, Value)>);

impl Params {
    /// The parameters of a request (`b` is the CBOR after the command byte).
    pub fn parse(b: &[u8]) -> Result<Self, CtapStatus> {
        if b.is_empty() {
            return Ok(Params(Vec::new()));
        }
        match decode(b)? {
            Value::Map(m) => Ok(Params(m)),
            _ => Err(CtapStatus::CborUnexpectedType),
        }
    }

    /// Wraps an already decoded map.
    pub fn from_map(v: &Value) -> Result<Self, CtapStatus> {
        match v {
            Value::Map(m) => Ok(Params(m.clone())),
            _ => Err(CtapStatus::CborUnexpectedType),
        }
    }

    /// The value under integer key `k`.
    pub fn get(&self, k: i64) -> Option<&Value> {
        self.0
            .iter()
            .find(|(key, _)| matches!(key, Value::Integer(i) if i128::from(*i) == k as i128))
            .map(|(_, v)| v)
    }

    /// The value under text key `k`.
    pub fn get_text(&self, k: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(key, _)| matches!(key, Value::Text(t) if t == k))
            .map(|(_, v)| v)
    }

    /// A required value under integer key `k`.
    pub fn need(&self, k: i64) -> Result<&Value, CtapStatus> {
        self.get(k).ok_or(CtapStatus::MissingParameter)
    }
}

/// The bytes of a byte string.
pub fn as_bytes(v: &Value) -> Result<&[u8], CtapStatus> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(CtapStatus::CborUnexpectedType),
    }
}

/// The text of a text string.
pub fn as_text(v: &Value) -> Result<&str, CtapStatus> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(CtapStatus::CborUnexpectedType),
    }
}

/// An integer.
pub fn as_int(v: &Value) -> Result<i128, CtapStatus> {
    match v {
        Value::Integer(i) => Ok(i128::from(*i)),
        _ => Err(CtapStatus::CborUnexpectedType),
    }
}

/// A boolean.
pub fn as_bool(v: &Value) -> Result<bool, CtapStatus> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(CtapStatus::CborUnexpectedType),
    }
}

/// The items of an array.
pub fn as_array(v: &Value) -> Result<&[Value], CtapStatus> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(CtapStatus::CborUnexpectedType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_encoded_in_ctap2_canonical_order() {
        // A COSE key: 1, 3, -1, -2, -3 is the canonical order.
        let v = Value::Map(vec![
            (int(-3), bytes(&[2])),
            (int(-1), int(1)),
            (int(3), int(-7)),
            (int(-2), bytes(&[1])),
            (int(1), int(2)),
        ]);
        assert_eq!(
            encode(v),
            vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x41, 0x01, 0x22, 0x41, 0x02]
        );
        // Text keys: shorter first, then bytewise; nested maps too.
        let v = Value::Map(vec![(
            int(1),
            Value::Map(vec![
                (text("type"), text("public-key")),
                (text("id"), bytes(&[9])),
            ]),
        )]);
        let e = encode(v);
        assert_eq!(&e[..6], &[0xa1, 0x01, 0xa2, 0x62, b'i', b'd']);
    }

    #[test]
    fn decode_refuses_garbage_and_trailing_bytes_and_params_find_keys() {
        assert_eq!(decode(&[0xff]).unwrap_err(), CtapStatus::InvalidCbor);
        assert_eq!(decode(&[0x01, 0x02]).unwrap_err(), CtapStatus::InvalidCbor);
        assert_eq!(decode(&[0x5f]).unwrap_err(), CtapStatus::InvalidCbor);
        assert_eq!(
            Params::parse(&[0x01]).err(),
            Some(CtapStatus::CborUnexpectedType)
        );
        let p = Params::parse(&encode(Value::Map(vec![
            (int(1), bytes(b"x")),
            (int(-2), text("y")),
        ])))
        .unwrap();
        assert_eq!(as_bytes(p.get(1).unwrap()).unwrap(), b"x");
        assert_eq!(as_text(p.get(-2).unwrap()).unwrap(), "y");
        assert_eq!(p.need(3).unwrap_err(), CtapStatus::MissingParameter);
        assert_eq!(
            as_int(p.get(1).unwrap()).unwrap_err(),
            CtapStatus::CborUnexpectedType
        );
    }
}
