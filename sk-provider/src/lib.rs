//! An OpenSSH SecurityKeyProvider (`sk-api.h`, API 0x000a0000) served by breakglass's simulated
//! security key, so `ssh-keygen -w`, `ssh-add -S`, `SSH_SK_PROVIDER` and `ssh -o
//! SecurityKeyProvider=` drive the same token (`BREAKGLASS_SIM_DIR`) as the `breakglass` binary.
//!
//! Rules kept here: every buffer handed to OpenSSH comes from libc `malloc`/`calloc` (OpenSSH
//! frees them); `sk_sign` gets the raw message and hashes it; -3 asks OpenSSH for a PIN, -5 says a
//! credential exists; no panic crosses the FFI boundary; nothing is printed on stdout.

#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use breakglass::attest::ssh_sk::cbor_wrap;
use breakglass::ssh::sk;
use breakglass::token::ctap::{Authenticator, GetAssertion, MakeCredential, Pin};
use breakglass::token::sim::SimToken;
use breakglass::token::TokenError;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// `SSH_SK_VERSION_MAJOR`.
pub const SSH_SK_VERSION_MAJOR: u32 = 0x000a_0000;
/// `SSH_SK_ECDSA`.
pub const SSH_SK_ECDSA: u32 = 0x00;
/// Flag: user presence required.
pub const SSH_SK_USER_PRESENCE_REQD: u8 = 0x01;
/// Flag: user verification required.
pub const SSH_SK_USER_VERIFICATION_REQD: u8 = 0x04;
/// Flag: force (overwrite a resident credential).
pub const SSH_SK_FORCE_OPERATION: u8 = 0x10;
/// Flag: resident key.
pub const SSH_SK_RESIDENT_KEY: u8 = 0x20;

/// Error codes of `sk-api.h`.
pub const SSH_SK_ERR_GENERAL: c_int = -1;
/// Unsupported algorithm or option.
pub const SSH_SK_ERR_UNSUPPORTED: c_int = -2;
/// PIN required (OpenSSH then prompts).
pub const SSH_SK_ERR_PIN_REQUIRED: c_int = -3;
/// No device.
pub const SSH_SK_ERR_DEVICE_NOT_FOUND: c_int = -4;
/// A resident credential exists (OpenSSH then asks to overwrite).
pub const SSH_SK_ERR_CREDENTIAL_EXISTS: c_int = -5;

/// `struct sk_enroll_response`.
#[repr(C)]
pub struct SkEnrollResponse {
    pub flags: u8,
    pub public_key: *mut u8,
    pub public_key_len: usize,
    pub key_handle: *mut u8,
    pub key_handle_len: usize,
    pub signature: *mut u8,
    pub signature_len: usize,
    pub attestation_cert: *mut u8,
    pub attestation_cert_len: usize,
    pub authdata: *mut u8,
    pub authdata_len: usize,
}

/// `struct sk_sign_response`.
#[repr(C)]
pub struct SkSignResponse {
    pub flags: u8,
    pub counter: u32,
    pub sig_r: *mut u8,
    pub sig_r_len: usize,
    pub sig_s: *mut u8,
    pub sig_s_len: usize,
}

/// `struct sk_resident_key`.
#[repr(C)]
pub struct SkResidentKey {
    pub alg: u32,
    pub slot: usize,
    pub application: *mut c_char,
    pub key: SkEnrollResponse,
    pub flags: u8,
    pub user_id: *mut u8,
    pub user_id_len: usize,
}

/// `struct sk_option`.
#[repr(C)]
pub struct SkOption {
    pub name: *mut c_char,
    pub value: *mut c_char,
    pub required: u8,
}

/// Copies bytes into a `malloc`ed buffer (OpenSSH frees it). Never returns NULL for len 0.
unsafe fn c_bytes(b: &[u8]) -> Option<*mut u8> {
    let p = libc::malloc(b.len().max(1)) as *mut u8;
    if p.is_null() {
        return None;
    }
    ptr::copy_nonoverlapping(b.as_ptr(), p, b.len());
    Some(p)
}

unsafe fn c_string(s: &str) -> Option<*mut c_char> {
    let p = libc::calloc(s.len() + 1, 1) as *mut c_char;
    if p.is_null() {
        return None;
    }
    ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, p, s.len());
    Some(p)
}

unsafe fn opt_str<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        None
    } else {
        CStr::from_ptr(p).to_str().ok()
    }
}

unsafe fn pin_of(p: *const c_char) -> Option<Pin> {
    match opt_str(p) {
        Some(s) if !s.is_empty() => Some(Zeroizing::new(s.to_string())),
        _ => None,
    }
}

/// Reads the NULL-terminated option array: `user` (the user id) is understood, `device` is
/// accepted and ignored (there is one simulated key); any other *required* option fails.
unsafe fn read_options(options: *mut *mut SkOption) -> Result<Option<Vec<u8>>, c_int> {
    let mut user = None;
    if options.is_null() {
        return Ok(None);
    }
    let mut i = 0;
    loop {
        let o = *options.add(i);
        if o.is_null() {
            break;
        }
        let name = opt_str((*o).name).unwrap_or("");
        let value = opt_str((*o).value).unwrap_or("");
        match name {
            "user" => {
                let mut id = value.as_bytes().to_vec();
                if id.len() > 32 {
                    return Err(SSH_SK_ERR_GENERAL);
                }
                id.resize(32, 0);
                user = Some(id);
            }
            "device" => {}
            _ if (*o).required != 0 => return Err(SSH_SK_ERR_UNSUPPORTED),
            _ => {}
        }
        i += 1;
    }
    Ok(user)
}

fn map_err(e: &TokenError) -> c_int {
    match e {
        TokenError::PinRequired | TokenError::PinInvalid { .. } => SSH_SK_ERR_PIN_REQUIRED,
        TokenError::NoDevice { .. } => SSH_SK_ERR_DEVICE_NOT_FOUND,
        _ => SSH_SK_ERR_GENERAL,
    }
}

fn open_token() -> Result<SimToken, c_int> {
    SimToken::open(&breakglass::sim_dir()).map_err(|_| SSH_SK_ERR_DEVICE_NOT_FOUND)
}

fn guard(f: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(SSH_SK_ERR_GENERAL)
}

/// The API version this provider implements.
#[no_mangle]
pub extern "C" fn sk_api_version() -> u32 {
    SSH_SK_VERSION_MAJOR
}

/// Enrols a new credential on the simulated key.
#[no_mangle]
pub unsafe extern "C" fn sk_enroll(
    alg: u32,
    challenge: *const u8,
    challenge_len: usize,
    application: *const c_char,
    flags: u8,
    pin: *const c_char,
    options: *mut *mut SkOption,
    enroll_response: *mut *mut SkEnrollResponse,
) -> c_int {
    guard(|| {
        if enroll_response.is_null()
            || application.is_null()
            || (challenge.is_null() && challenge_len > 0)
        {
            return SSH_SK_ERR_GENERAL;
        }
        *enroll_response = ptr::null_mut();
        if alg != SSH_SK_ECDSA {
            return SSH_SK_ERR_UNSUPPORTED;
        }
        let Some(app) = opt_str(application) else {
            return SSH_SK_ERR_GENERAL;
        };
        let user_id = match read_options(options) {
            Ok(u) => u.unwrap_or_else(|| vec![0; 32]),
            Err(e) => return e,
        };
        let challenge = if challenge_len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(challenge, challenge_len)
        };
        let mut token = match open_token() {
            Ok(t) => t,
            Err(e) => return e,
        };
        let pin = pin_of(pin);
        let resident = flags & SSH_SK_RESIDENT_KEY != 0;
        if resident && flags & SSH_SK_FORCE_OPERATION == 0 {
            // An existing resident credential for (application, user id): let OpenSSH ask.
            match token.credentials(app, pin.as_ref()) {
                Ok(list) if list.iter().any(|c| c.user_id == user_id) => {
                    return SSH_SK_ERR_CREDENTIAL_EXISTS
                }
                Ok(_) | Err(TokenError::NoCredentials) => {}
                Err(e) => return map_err(&e),
            }
        }
        let req = MakeCredential {
            challenge: challenge.to_vec(),
            client_data_hash: Sha256::digest(challenge).into(),
            rp_id: app.to_string(),
            user_id,
            user_name: "openssh".into(),
            resident,
            cred_protect: if flags & SSH_SK_USER_VERIFICATION_REQD != 0 {
                3
            } else {
                2
            },
        };
        let made = match token.make_credential(&req, pin.as_ref()) {
            Ok(m) => m,
            Err(e) => return map_err(&e),
        };
        let Ok(ad) = sk::parse_auth_data(&made.auth_data) else {
            return SSH_SK_ERR_GENERAL;
        };
        let Some(att) = ad.attested else {
            return SSH_SK_ERR_GENERAL;
        };
        let resp =
            libc::calloc(1, std::mem::size_of::<SkEnrollResponse>()) as *mut SkEnrollResponse;
        if resp.is_null() {
            return SSH_SK_ERR_GENERAL;
        }
        let filled = (|| {
            (*resp).flags = flags;
            (*resp).public_key = c_bytes(&att.public_point)?;
            (*resp).public_key_len = 65;
            (*resp).key_handle = c_bytes(&att.credential_id)?;
            (*resp).key_handle_len = att.credential_id.len();
            // As sk-usbhid hands libfido2's answer on (ATTESTATION.md §2): the attestation
            // certificate (x5c[0]; none for self attestation), the signature, and the
            // authenticator data as a CBOR byte string, which ssh-keygen -O write-attestation
            // copies into its ssh-sk-attest-v01 file.
            if let Some(cert) = made.x5c.first() {
                (*resp).attestation_cert = c_bytes(cert)?;
                (*resp).attestation_cert_len = cert.len();
            }
            (*resp).signature = c_bytes(&made.att_sig)?;
            (*resp).signature_len = made.att_sig.len();
            let authdata = cbor_wrap(&made.auth_data);
            (*resp).authdata = c_bytes(&authdata)?;
            (*resp).authdata_len = authdata.len();
            Some(())
        })();
        if filled.is_none() {
            free_enroll(resp);
            return SSH_SK_ERR_GENERAL;
        }
        *enroll_response = resp;
        0
    })
}

unsafe fn free_enroll(r: *mut SkEnrollResponse) {
    if r.is_null() {
        return;
    }
    for p in [
        (*r).public_key,
        (*r).key_handle,
        (*r).signature,
        (*r).attestation_cert,
        (*r).authdata,
    ] {
        libc::free(p as *mut libc::c_void);
    }
    libc::free(r as *mut libc::c_void);
}

/// Signs `data` (the raw message; hashed here) with the credential `key_handle`.
#[no_mangle]
pub unsafe extern "C" fn sk_sign(
    alg: u32,
    data: *const u8,
    data_len: usize,
    application: *const c_char,
    key_handle: *const u8,
    key_handle_len: usize,
    flags: u8,
    pin: *const c_char,
    options: *mut *mut SkOption,
    sign_response: *mut *mut SkSignResponse,
) -> c_int {
    guard(|| {
        if sign_response.is_null()
            || application.is_null()
            || key_handle.is_null()
            || (data.is_null() && data_len > 0)
        {
            return SSH_SK_ERR_GENERAL;
        }
        *sign_response = ptr::null_mut();
        if alg != SSH_SK_ECDSA {
            return SSH_SK_ERR_UNSUPPORTED;
        }
        if let Err(e) = read_options(options) {
            return e;
        }
        let Some(app) = opt_str(application) else {
            return SSH_SK_ERR_GENERAL;
        };
        let data = if data_len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(data, data_len)
        };
        let handle = std::slice::from_raw_parts(key_handle, key_handle_len).to_vec();
        let pin = pin_of(pin);
        if flags & SSH_SK_USER_VERIFICATION_REQD != 0 && pin.is_none() {
            return SSH_SK_ERR_PIN_REQUIRED;
        }
        let mut token = match open_token() {
            Ok(t) => t,
            Err(e) => return e,
        };
        let req = GetAssertion {
            rp_id: app.to_string(),
            message: data.to_vec(),
            client_data_hash: Sha256::digest(data).into(),
            allow_list: vec![handle],
            up: flags & SSH_SK_USER_PRESENCE_REQD != 0,
        };
        let pin_for_uv = if flags & SSH_SK_USER_VERIFICATION_REQD != 0 {
            pin.as_ref()
        } else {
            None
        };
        let a = match token.get_assertion(&req, pin_for_uv) {
            Ok(a) => a,
            Err(e) => return map_err(&e),
        };
        let Ok(ad) = sk::parse_auth_data(&a.auth_data) else {
            return SSH_SK_ERR_GENERAL;
        };
        let Ok(sig) = p256_sig(&a.signature) else {
            return SSH_SK_ERR_GENERAL;
        };
        let resp = libc::calloc(1, std::mem::size_of::<SkSignResponse>()) as *mut SkSignResponse;
        if resp.is_null() {
            return SSH_SK_ERR_GENERAL;
        }
        (*resp).flags = ad.flags;
        (*resp).counter = ad.counter;
        match (c_bytes(&sig.0), c_bytes(&sig.1)) {
            (Some(r), Some(s)) => {
                (*resp).sig_r = r;
                (*resp).sig_r_len = 32;
                (*resp).sig_s = s;
                (*resp).sig_s_len = 32;
            }
            (r, s) => {
                libc::free(r.unwrap_or(ptr::null_mut()) as *mut libc::c_void);
                libc::free(s.unwrap_or(ptr::null_mut()) as *mut libc::c_void);
                libc::free(resp as *mut libc::c_void);
                return SSH_SK_ERR_GENERAL;
            }
        }
        *sign_response = resp;
        0
    })
}

/// DER ECDSA to (r, s) as 32-byte big-endian.
fn p256_sig(der: &[u8]) -> Result<([u8; 32], [u8; 32]), ()> {
    let mpints = sk::der_to_mpints(der).map_err(|_| ())?;
    // mpint r ‖ mpint s, each `uint32 len ‖ bytes` (maybe with a 00 sign byte).
    let mut out = [[0u8; 32]; 2];
    let mut pos = 0;
    for part in out.iter_mut() {
        let len = u32::from_be_bytes(
            mpints
                .get(pos..pos + 4)
                .ok_or(())?
                .try_into()
                .map_err(|_| ())?,
        ) as usize;
        pos += 4;
        let bytes = mpints.get(pos..pos + len).ok_or(())?;
        pos += len;
        let bytes = if bytes.len() == 33 && bytes[0] == 0 {
            &bytes[1..]
        } else {
            bytes
        };
        if bytes.len() > 32 {
            return Err(());
        }
        part[32 - bytes.len()..].copy_from_slice(bytes);
    }
    Ok((out[0], out[1]))
}

/// Lists the resident `ssh:` credentials (OpenSSH keeps those whose application starts `ssh:`).
#[no_mangle]
pub unsafe extern "C" fn sk_load_resident_keys(
    pin: *const c_char,
    options: *mut *mut SkOption,
    rks: *mut *mut *mut SkResidentKey,
    nrks: *mut usize,
) -> c_int {
    guard(|| {
        if rks.is_null() || nrks.is_null() {
            return SSH_SK_ERR_GENERAL;
        }
        *rks = ptr::null_mut();
        *nrks = 0;
        if let Err(e) = read_options(options) {
            return e;
        }
        let pin = pin_of(pin);
        let mut token = match open_token() {
            Ok(t) => t,
            Err(e) => return e,
        };
        let rp_ids = match token.resident_rp_ids(pin.as_ref()) {
            Ok(r) => r,
            Err(e) => return map_err(&e),
        };
        let mut all = Vec::new();
        for rp in rp_ids.iter().filter(|r| r.starts_with("ssh:")) {
            match token.credentials(rp, pin.as_ref()) {
                Ok(list) => all.extend(list),
                Err(TokenError::NoCredentials) => {}
                Err(e) => return map_err(&e),
            }
        }
        let array = libc::calloc(all.len().max(1), std::mem::size_of::<*mut SkResidentKey>())
            as *mut *mut SkResidentKey;
        if array.is_null() {
            return SSH_SK_ERR_GENERAL;
        }
        let mut n = 0;
        for (slot, c) in all.iter().enumerate() {
            let Ok((point, _)) = sk::cose_es256_to_point(&c.cose_public_key) else {
                continue;
            };
            let rk = libc::calloc(1, std::mem::size_of::<SkResidentKey>()) as *mut SkResidentKey;
            if rk.is_null() {
                break;
            }
            let ok = (|| {
                (*rk).alg = SSH_SK_ECDSA;
                (*rk).slot = slot;
                (*rk).application = c_string(&c.rp_id)?;
                (*rk).key.public_key = c_bytes(&point)?;
                (*rk).key.public_key_len = 65;
                (*rk).key.key_handle = c_bytes(&c.credential_id)?;
                (*rk).key.key_handle_len = c.credential_id.len();
                (*rk).flags = SSH_SK_USER_PRESENCE_REQD
                    | if c.cred_protect >= 3 {
                        SSH_SK_USER_VERIFICATION_REQD
                    } else {
                        0
                    };
                (*rk).user_id = c_bytes(&c.user_id)?;
                (*rk).user_id_len = c.user_id.len();
                Some(())
            })();
            if ok.is_none() {
                libc::free((*rk).application as *mut libc::c_void);
                libc::free((*rk).key.public_key as *mut libc::c_void);
                libc::free((*rk).key.key_handle as *mut libc::c_void);
                libc::free((*rk).user_id as *mut libc::c_void);
                libc::free(rk as *mut libc::c_void);
                continue;
            }
            *array.add(n) = rk;
            n += 1;
        }
        *rks = array;
        *nrks = n;
        0
    })
}
