//! The FIDO2 conversion layer: authenticator answers (CTAP2 authenticatorData, COSE_Key, DER
//! ECDSA) to OpenSSH's `sk-ecdsa-sha2-nistp256@openssh.com` public key and signature
//! (`PROTOCOL.u2f`, `ssh-ecdsa-sk.c`). The simulated key and the hardware backend both call this
//! code, so every byte above the authenticator is the same whichever answered.

use sha2::{Digest, Sha256};
use ssh_key::encoding::{Encode, Mpint};
use ssh_key::public::{EcdsaPublicKey, KeyData, SkEcdsaSha2NistP256};
use ssh_key::{Algorithm, Signature};

/// authenticatorData flag: user present (touched).
pub const FLAG_UP: u8 = 0x01;
/// authenticatorData flag: user verified (PIN or built-in UV).
pub const FLAG_UV: u8 = 0x04;
/// authenticatorData flag: attested credential data present.
pub const FLAG_AT: u8 = 0x40;
/// authenticatorData flag: extension data present.
pub const FLAG_ED: u8 = 0x80;

/// Why an authenticator answer could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FidoError {
    /// authenticatorData is shorter than its fixed part or its declared contents.
    #[error("authenticator data is truncated")]
    Truncated,
    /// Bytes follow where nothing may.
    #[error("authenticator data has trailing bytes")]
    TrailingData,
    /// The rp id hash does not match the application.
    #[error("authenticator data is for another application")]
    WrongRp,
    /// getAssertion answers must carry no extensions (the sk signature has no room for them).
    #[error("authenticator data carries extensions, which an ssh signature cannot hold")]
    UnexpectedExtensions,
    /// The COSE key is not an ES256 P-256 key or is malformed.
    #[error("credential public key is not a valid ES256 (P-256) COSE key: {0}")]
    BadCoseKey(&'static str),
    /// The point is not on P-256.
    #[error("credential public key is not a point on P-256")]
    NotOnCurve,
    /// The DER signature does not parse.
    #[error("authenticator signature is not a valid DER ECDSA signature")]
    BadDer,
    /// The signature does not verify.
    #[error("authenticator signature does not verify")]
    BadSignature,
    /// CBOR is malformed.
    #[error("malformed CBOR in authenticator answer")]
    BadCbor,
}

/// Attested credential data from a makeCredential answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedCredential {
    /// Authenticator model id.
    pub aaguid: [u8; 16],
    /// Credential id = the OpenSSH key handle.
    pub credential_id: Vec<u8>,
    /// SEC1 uncompressed point `04‖x‖y`.
    pub public_point: [u8; 65],
}

/// Parsed authenticatorData (WebAuthn §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthData {
    /// SHA-256 of the rp id.
    pub rp_id_hash: [u8; 32],
    /// Flags byte.
    pub flags: u8,
    /// Signature counter.
    pub counter: u32,
    /// Present when AT is set.
    pub attested: Option<AttestedCredential>,
    /// Raw CBOR extension map when ED is set.
    pub extensions: Option<Vec<u8>>,
}

/// Parses authenticatorData, including attested credential data and extensions.
pub fn parse_auth_data(data: &[u8]) -> Result<AuthData, FidoError> {
    if data.len() < 37 {
        return Err(FidoError::Truncated);
    }
    let mut rp_id_hash = [0u8; 32];
    rp_id_hash.copy_from_slice(&data[..32]);
    let flags = data[32];
    let counter = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    let mut pos = 37;
    let mut attested = None;
    if flags & FLAG_AT != 0 {
        let fixed = data.get(pos..pos + 18).ok_or(FidoError::Truncated)?;
        let mut aaguid = [0u8; 16];
        aaguid.copy_from_slice(&fixed[..16]);
        let id_len = u16::from_be_bytes([fixed[16], fixed[17]]) as usize;
        pos += 18;
        let credential_id = data
            .get(pos..pos + id_len)
            .ok_or(FidoError::Truncated)?
            .to_vec();
        pos += id_len;
        let (public_point, used) = cose_es256_to_point(data.get(pos..).unwrap_or(&[]))?;
        pos += used;
        attested = Some(AttestedCredential {
            aaguid,
            credential_id,
            public_point,
        });
    }
    let mut extensions = None;
    if flags & FLAG_ED != 0 {
        let rest = data.get(pos..).unwrap_or(&[]);
        let end = cbor::skip(rest, 0)?;
        extensions = Some(rest[..end].to_vec());
        pos += end;
    }
    if pos != data.len() {
        return Err(FidoError::TrailingData);
    }
    Ok(AuthData {
        rp_id_hash,
        flags,
        counter,
        attested,
        extensions,
    })
}

/// Reads an ES256 COSE_Key (RFC 9053) and returns the SEC1 point and the bytes consumed.
pub fn cose_es256_to_point(cose: &[u8]) -> Result<([u8; 65], usize), FidoError> {
    let (major, count, mut pos) = cbor::head(cose, 0)?;
    if major != 5 {
        return Err(FidoError::BadCoseKey("not a map"));
    }
    let (mut kty, mut alg, mut crv, mut x, mut y) = (None, None, None, None, None);
    for _ in 0..count {
        let (key, next) = cbor::int(cose, pos)?;
        pos = next;
        match key {
            1 | 3 | -1 => {
                let (v, next) = cbor::int(cose, pos)?;
                pos = next;
                match key {
                    1 => kty = Some(v),
                    3 => alg = Some(v),
                    _ => crv = Some(v),
                }
            }
            -2 | -3 => {
                let (b, next) = cbor::bytes(cose, pos)?;
                pos = next;
                if key == -2 {
                    x = Some(b)
                } else {
                    y = Some(b)
                }
            }
            _ => pos = cbor::skip(cose, pos)?,
        }
    }
    if kty != Some(2) {
        return Err(FidoError::BadCoseKey("kty is not EC2"));
    }
    if alg != Some(-7) {
        return Err(FidoError::BadCoseKey("alg is not ES256"));
    }
    if crv != Some(1) {
        return Err(FidoError::BadCoseKey("curve is not P-256"));
    }
    let (x, y) = match (x, y) {
        (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => (x, y),
        _ => return Err(FidoError::BadCoseKey("x or y is not 32 bytes")),
    };
    let mut point = [0u8; 65];
    point[0] = 4;
    point[1..33].copy_from_slice(x);
    point[33..].copy_from_slice(y);
    p256::PublicKey::from_sec1_bytes(&point).map_err(|_| FidoError::NotOnCurve)?;
    Ok((point, pos))
}

/// Encodes a SEC1 point as the 77-byte canonical ES256 COSE_Key (what authenticators send).
pub fn point_to_cose(point: &[u8; 65]) -> Vec<u8> {
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    out.extend_from_slice(&point[1..33]);
    out.extend_from_slice(&[0x22, 0x58, 0x20]);
    out.extend_from_slice(&point[33..]);
    out
}

/// The OpenSSH public key for a resident P-256 credential: `sk-ecdsa-sha2-nistp256@openssh.com`.
pub fn sk_public_key(point: &[u8; 65], application: &str) -> Result<KeyData, FidoError> {
    p256::PublicKey::from_sec1_bytes(point).map_err(|_| FidoError::NotOnCurve)?;
    match EcdsaPublicKey::from_sec1_bytes(point) {
        Ok(EcdsaPublicKey::NistP256(p)) => Ok(KeyData::SkEcdsaSha2NistP256(
            SkEcdsaSha2NistP256::new(p, application),
        )),
        _ => Err(FidoError::NotOnCurve),
    }
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` to SSH's `mpint r ‖ mpint s` (minimal mpints).
pub fn der_to_mpints(der: &[u8]) -> Result<Vec<u8>, FidoError> {
    let sig = p256::ecdsa::Signature::from_der(der).map_err(|_| FidoError::BadDer)?;
    let (r, s) = sig.split_bytes();
    let mut out = Vec::with_capacity(74);
    for part in [r.as_slice(), s.as_slice()] {
        Mpint::from_positive_bytes(part)
            .encode(&mut out)
            .map_err(|_| FidoError::BadDer)?;
    }
    Ok(out)
}

/// A converted assertion: the OpenSSH signature plus the flags and counter it carries.
#[derive(Debug, Clone)]
pub struct SkSignature {
    /// `sk-ecdsa-sha2-nistp256@openssh.com` signature.
    pub signature: Signature,
    /// authenticatorData flags.
    pub flags: u8,
    /// signature counter.
    pub counter: u32,
}

/// Turns a getAssertion answer (authenticatorData, DER signature) into OpenSSH's sk-ecdsa
/// signature, after checking the answer belongs to `application` and carries no extensions.
pub fn assertion_to_ssh(
    auth_data: &[u8],
    der: &[u8],
    application: &str,
) -> Result<SkSignature, FidoError> {
    let ad = parse_auth_data(auth_data)?;
    if ad.rp_id_hash.as_slice() != Sha256::digest(application.as_bytes()).as_slice() {
        return Err(FidoError::WrongRp);
    }
    if ad.extensions.is_some() || ad.attested.is_some() || auth_data.len() != 37 {
        return Err(FidoError::UnexpectedExtensions);
    }
    let mut data = der_to_mpints(der)?;
    data.push(ad.flags);
    data.extend_from_slice(&ad.counter.to_be_bytes());
    let signature =
        Signature::new(Algorithm::SkEcdsaSha2NistP256, data).map_err(|_| FidoError::BadDer)?;
    Ok(SkSignature {
        signature,
        flags: ad.flags,
        counter: ad.counter,
    })
}

/// The flags and counter carried by an sk signature (`None` for other algorithms).
pub fn sk_flags_counter(sig: &Signature) -> Option<(u8, u32)> {
    if !matches!(
        sig.algorithm(),
        Algorithm::SkEcdsaSha2NistP256 | Algorithm::SkEd25519
    ) {
        return None;
    }
    let b = sig.as_bytes();
    let t = b.get(b.len().checked_sub(5)?..)?;
    Some((t[0], u32::from_be_bytes([t[1], t[2], t[3], t[4]])))
}

/// The 69 bytes an authenticator signs for an sk signature over `message` (§4):
/// `SHA256(application) ‖ flags ‖ counter ‖ SHA256(message)`.
pub fn sk_signed_message(application: &str, flags: u8, counter: u32, message: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(69);
    m.extend_from_slice(&Sha256::digest(application.as_bytes()));
    m.push(flags);
    m.extend_from_slice(&counter.to_be_bytes());
    m.extend_from_slice(&Sha256::digest(message));
    m
}

/// Checks a packed self-attestation (`sig` over authData ‖ clientDataHash by the new credential).
pub fn verify_self_attestation(
    auth_data: &[u8],
    client_data_hash: &[u8; 32],
    der: &[u8],
    point: &[u8; 65],
) -> Result<(), FidoError> {
    use p256::ecdsa::signature::Verifier;
    let key =
        p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| FidoError::NotOnCurve)?;
    let sig = p256::ecdsa::Signature::from_der(der).map_err(|_| FidoError::BadDer)?;
    let mut msg = auth_data.to_vec();
    msg.extend_from_slice(client_data_hash);
    key.verify(&msg, &sig).map_err(|_| FidoError::BadSignature)
}

/// The smallest CBOR reader that COSE keys and extension maps need (RFC 8949, definite lengths).
pub mod cbor {
    use super::FidoError;

    const MAX_DEPTH: usize = 8;

    /// Reads an item head at `pos`: (major type, argument, position after the head).
    pub fn head(d: &[u8], pos: usize) -> Result<(u8, u64, usize), FidoError> {
        let b = *d.get(pos).ok_or(FidoError::BadCbor)?;
        let major = b >> 5;
        let info = b & 0x1f;
        let (arg, len) = match info {
            0..=23 => (u64::from(info), 0),
            24 => (u64::from(*d.get(pos + 1).ok_or(FidoError::BadCbor)?), 1),
            25..=27 => {
                let n = 1usize << (info - 24);
                let bytes = d.get(pos + 1..pos + 1 + n).ok_or(FidoError::BadCbor)?;
                (bytes.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)), n)
            }
            _ => return Err(FidoError::BadCbor), // indefinite lengths are not canonical CTAP2
        };
        Ok((major, arg, pos + 1 + len))
    }

    /// Reads an integer (major 0 or 1).
    pub fn int(d: &[u8], pos: usize) -> Result<(i64, usize), FidoError> {
        let (major, arg, next) = head(d, pos)?;
        let arg = i64::try_from(arg).map_err(|_| FidoError::BadCbor)?;
        match major {
            0 => Ok((arg, next)),
            1 => Ok((-1 - arg, next)),
            _ => Err(FidoError::BadCbor),
        }
    }

    /// Reads a byte string (major 2).
    pub fn bytes(d: &[u8], pos: usize) -> Result<(&[u8], usize), FidoError> {
        let (major, arg, next) = head(d, pos)?;
        if major != 2 {
            return Err(FidoError::BadCbor);
        }
        let end = usize::try_from(arg)
            .ok()
            .and_then(|n| next.checked_add(n))
            .ok_or(FidoError::BadCbor)?;
        Ok((d.get(next..end).ok_or(FidoError::BadCbor)?, end))
    }

    /// Skips one complete item at `pos`, returning the position after it.
    pub fn skip(d: &[u8], pos: usize) -> Result<usize, FidoError> {
        skip_depth(d, pos, 0)
    }

    fn skip_depth(d: &[u8], pos: usize, depth: usize) -> Result<usize, FidoError> {
        if depth > MAX_DEPTH {
            return Err(FidoError::BadCbor);
        }
        let (major, arg, next) = head(d, pos)?;
        match major {
            0 | 1 | 7 => Ok(next),
            2 | 3 => {
                let end = usize::try_from(arg)
                    .ok()
                    .and_then(|n| next.checked_add(n))
                    .ok_or(FidoError::BadCbor)?;
                if end > d.len() {
                    return Err(FidoError::BadCbor);
                }
                Ok(end)
            }
            4 | 5 => {
                let items = if major == 5 {
                    arg.checked_mul(2).ok_or(FidoError::BadCbor)?
                } else {
                    arg
                };
                if items > d.len() as u64 {
                    return Err(FidoError::BadCbor);
                }
                let mut p = next;
                for _ in 0..items {
                    p = skip_depth(d, p, depth + 1)?;
                }
                Ok(p)
            }
            6 => skip_depth(d, next, depth + 1),
            _ => Err(FidoError::BadCbor),
        }
    }
}
