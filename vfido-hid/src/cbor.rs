//! The CBOR side of CTAP2 (CTAP 2.1 §8): requests are decoded with `ciborium` into
//! [`Value`]s; responses are put into CTAP2 canonical form (map keys sorted by the length of
//! their encoding, then bytewise — RFC 7049 §3.9) before encoding, as real keys send them.

pub use ciborium::value::{Integer, Value};

/// CTAP2 status codes this authenticator returns (CTAP 2.1 §8.2).
pub mod status {
    /// Success.
    pub const OK: u8 = 0x00;
    /// Unknown CTAP2 command.
    pub const INVALID_COMMAND: u8 = 0x01;
    /// A parameter has the wrong value.
    pub const INVALID_PARAMETER: u8 = 0x02;
    /// A value of the wrong CBOR type.
    pub const CBOR_UNEXPECTED_TYPE: u8 = 0x11;
    /// The request is not CBOR.
    pub const INVALID_CBOR: u8 = 0x12;
    /// A required parameter is missing.
    pub const MISSING_PARAMETER: u8 = 0x14;
    /// No supported algorithm in pubKeyCredParams.
    pub const UNSUPPORTED_ALGORITHM: u8 = 0x26;
    /// The user declined.
    pub const OPERATION_DENIED: u8 = 0x27;
    /// An option is not supported.
    pub const UNSUPPORTED_OPTION: u8 = 0x2b;
    /// An option is not valid for this command.
    pub const INVALID_OPTION: u8 = 0x2c;
    /// The request was cancelled (CTAPHID_CANCEL).
    pub const KEEPALIVE_CANCEL: u8 = 0x2d;
    /// No matching credential.
    pub const NO_CREDENTIALS: u8 = 0x2e;
    /// Nobody touched the key in time.
    pub const USER_ACTION_TIMEOUT: u8 = 0x2f;
    /// Not allowed now (PIN already set, no enumeration in progress, …).
    pub const NOT_ALLOWED: u8 = 0x30;
    /// Wrong PIN.
    pub const PIN_INVALID: u8 = 0x31;
    /// The pinUvAuthParam does not verify.
    pub const PIN_AUTH_INVALID: u8 = 0x33;
    /// No PIN is set.
    pub const PIN_NOT_SET: u8 = 0x35;
    /// A PIN (pinUvAuthParam) is required.
    pub const PIN_REQUIRED: u8 = 0x36;
    /// The new PIN breaks the PIN policy.
    pub const PIN_POLICY_VIOLATION: u8 = 0x37;
    /// Unknown subcommand.
    pub const INVALID_SUBCOMMAND: u8 = 0x3e;
    /// A permission the authenticator does not grant.
    pub const UNAUTHORIZED_PERMISSION: u8 = 0x40;
    /// Anything else (a state file that cannot be read, …).
    pub const OTHER: u8 = 0x7f;
}

/// A CTAP2 status other than OK.
pub type Status = u8;

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
    let mut out = vec![status::OK];
    out.extend_from_slice(&encode(v));
    out
}

/// Decodes a request's CBOR parameters; the whole input must be one item.
pub fn decode(b: &[u8]) -> Result<Value, Status> {
    let mut rd = b;
    let v: Value = ciborium::de::from_reader(&mut rd).map_err(|_| status::INVALID_CBOR)?;
    if !rd.is_empty() {
        return Err(status::INVALID_CBOR);
    }
    Ok(v)
}

/// A decoded request map (`{}` when the request had no parameters).
pub struct Params(Vec<(Value, Value)>);

impl Params {
    /// The parameters of a request (`b` is the CBOR after the command byte).
    pub fn parse(b: &[u8]) -> Result<Self, Status> {
        if b.is_empty() {
            return Ok(Params(Vec::new()));
        }
        match decode(b)? {
            Value::Map(m) => Ok(Params(m)),
            _ => Err(status::CBOR_UNEXPECTED_TYPE),
        }
    }

    /// Wraps an already decoded map.
    pub fn from_map(v: &Value) -> Result<Self, Status> {
        match v {
            Value::Map(m) => Ok(Params(m.clone())),
            _ => Err(status::CBOR_UNEXPECTED_TYPE),
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
    pub fn need(&self, k: i64) -> Result<&Value, Status> {
        self.get(k).ok_or(status::MISSING_PARAMETER)
    }
}

/// The bytes of a byte string.
pub fn as_bytes(v: &Value) -> Result<&[u8], Status> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(status::CBOR_UNEXPECTED_TYPE),
    }
}

/// The text of a text string.
pub fn as_text(v: &Value) -> Result<&str, Status> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(status::CBOR_UNEXPECTED_TYPE),
    }
}

/// An integer.
pub fn as_int(v: &Value) -> Result<i128, Status> {
    match v {
        Value::Integer(i) => Ok(i128::from(*i)),
        _ => Err(status::CBOR_UNEXPECTED_TYPE),
    }
}

/// A boolean.
pub fn as_bool(v: &Value) -> Result<bool, Status> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(status::CBOR_UNEXPECTED_TYPE),
    }
}

/// The items of an array.
pub fn as_array(v: &Value) -> Result<&[Value], Status> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(status::CBOR_UNEXPECTED_TYPE),
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
        assert_eq!(decode(&[0xff]).unwrap_err(), status::INVALID_CBOR);
        assert_eq!(decode(&[0x01, 0x02]).unwrap_err(), status::INVALID_CBOR);
        assert_eq!(decode(&[0x5f]).unwrap_err(), status::INVALID_CBOR);
        assert_eq!(
            Params::parse(&[0x01]).err(),
            Some(status::CBOR_UNEXPECTED_TYPE)
        );
        let p = Params::parse(&encode(Value::Map(vec![
            (int(1), bytes(b"x")),
            (int(-2), text("y")),
        ])))
        .unwrap();
        assert_eq!(as_bytes(p.get(1).unwrap()).unwrap(), b"x");
        assert_eq!(as_text(p.get(-2).unwrap()).unwrap(), "y");
        assert_eq!(p.need(3).unwrap_err(), status::MISSING_PARAMETER);
        assert_eq!(
            as_int(p.get(1).unwrap()).unwrap_err(),
            status::CBOR_UNEXPECTED_TYPE
        );
    }
}
