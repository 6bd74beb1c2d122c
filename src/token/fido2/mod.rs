//! A real FIDO2 security key (YubiKey 5 and friends) over USB HID, through `ctap-hid-fido2`.
//!
//! The crate speaks CTAPHID and the PIN protocol; this module adapts it to [`Authenticator`]:
//!
//! * **No stdout.** The crate's keep-alive message ("- Touch the sensor…") is switched off (the
//!   caller prints its own touch prompt), and the few `println!`s the crate makes on unexpected
//!   answers ("- anything error", "Unknown member: …") are sent to stderr by pointing fd 1 at fd 2
//!   for the duration of each call ([`StdoutToStderr`]).
//! * **Errors are strings.** The crate reports a CTAP status as
//!   `response_status err = 0x31 CTAP2_ERR_PIN_INVALID   PIN Invalid.`; [`classify`] turns such
//!   text back into a status byte and [`TokenError::from_ctap`].
//! * **No host timeout.** The crate waits for at most 500 keep-alive packets (≥ 50 s) and then
//!   reports the keep-alive *status* (1 processing / 2 up-needed) as if it were a CTAP status;
//!   [`classify_after`] recognises that by the time it took and answers
//!   [`TokenError::UserActionTimeout`]. The pending request is then cancelled (CTAPHID_CANCEL).
//! * **Panics.** The crate indexes into answers without bounds checks and `expect`s hidapi to
//!   initialise; every call runs under `catch_unwind` so a hostile or broken key becomes
//!   [`TokenError::BadAnswer`] instead of a crash.
//! * **clientDataHash.** The crate always sends `SHA-256(challenge)`; it cannot send a hash it
//!   is given, so [`GetAssertion`] and [`MakeCredential`] carry the message / challenge itself.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use ctap_hid_fido2::fidokey::credential_management::credential_management_params::{
    Credential, CredentialProtectionPolicy,
};
use ctap_hid_fido2::fidokey::get_assertion::get_assertion_params::Assertion as CrateAssertion;
use ctap_hid_fido2::fidokey::make_credential::make_credential_params::Attestation;
use ctap_hid_fido2::fidokey::{
    CredentialExtension, GetAssertionArgsBuilder, MakeCredentialArgsBuilder,
};
use ctap_hid_fido2::public_key::PublicKeyType;
use ctap_hid_fido2::public_key_credential_user_entity::PublicKeyCredentialUserEntity;
use ctap_hid_fido2::{FidoKeyHid, HidInfo, HidParam, LibCfg};
use sha2::{Digest, Sha256};

use super::ctap::{
    Assertion, Authenticator, GetAssertion, MadeCredential, MakeCredential, Pin, ResidentCredential,
};
use super::{CtapStatus, TokenError};
use crate::ssh::sk;

/// Backend name used in [`TokenError::NoDevice`].
pub const BACKEND: &str = "FIDO2";

/// The crate gives up after 500 keep-alive packets with a 100 ms sleep after each, so a
/// keep-alive exhaustion takes at least 50 s; a genuine CTAP1 error 0x01/0x02 comes back at once.
pub const KEEPALIVE_EXHAUSTION: Duration = Duration::from_secs(45);

/// The prefix the crate puts before a CTAP status (`ctaphid.rs`).
const STATUS_PREFIX: &str = "response_status err = ";

/// One connected FIDO2 HID device, as enumeration reports it (for `--device`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fido2DeviceInfo {
    /// Platform HID path (`/dev/hidraw3` on Linux, `IOService:…` on macOS).
    pub path: String,
    /// USB product string (`YubiKey OTP+FIDO+CCID`), possibly empty.
    pub product: String,
    /// USB serial number string, when the device reports one (YubiKeys usually do not).
    pub serial: Option<String>,
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
}

impl Fido2DeviceInfo {
    /// One line naming the device (what `describe()` and error lists print).
    pub fn label(&self) -> String {
        let product = if self.product.trim().is_empty() {
            "FIDO2 key"
        } else {
            self.product.trim()
        };
        match &self.serial {
            Some(s) => format!("{product} (FIDO2, serial {s})"),
            None => format!("{product} (FIDO2, {})", self.path),
        }
    }

    /// True when `sel` (a `--device` value) names this device: exact HID path, exact serial,
    /// or product string (case-insensitive).
    pub fn matches(&self, sel: &str) -> bool {
        let sel = sel.trim();
        !sel.is_empty()
            && (self.path == sel
                || self.serial.as_deref() == Some(sel)
                || self.product.trim().eq_ignore_ascii_case(sel))
    }
}

fn no_device_hint() -> String {
    "Insert the security key (YubiKey 5 or another FIDO2 key) and run again. On Linux, your \
     user must be able to open /dev/hidraw* (udev rules from libfido2 or yubikey-manager). To \
     practise without a key, use --backend sim (simulated; never for real access)."
        .to_string()
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Reads the serial number out of the crate's `HidInfo::info` line
/// (`product=… usage_page=… usage=… serial_number=… path="…"`); `HidInfo` has no field for it.
pub fn serial_from_info(info: &str) -> Option<String> {
    let start = info.find(" serial_number=")? + " serial_number=".len();
    let rest = &info[start..];
    let end = rest.find(" path=").unwrap_or(rest.len());
    let s = rest[..end].trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn device_info(h: &HidInfo) -> Fido2DeviceInfo {
    let path = match &h.param {
        HidParam::Path(p) => p.clone(),
        HidParam::VidPid { vid, pid } => format!("{vid:04x}:{pid:04x}"),
    };
    Fido2DeviceInfo {
        path,
        product: h.product_string.clone(),
        serial: serial_from_info(&h.info),
        vid: h.vid,
        pid: h.pid,
    }
}

/// The FIDO2 HID devices connected now (usage page 0xF1D0), one per path. Empty when none.
pub fn list_devices() -> Result<Vec<Fido2DeviceInfo>, TokenError> {
    let found = {
        let _quiet = StdoutToStderr::new();
        catch_unwind(ctap_hid_fido2::get_fidokey_devices)
    };
    let found = found.map_err(|p| TokenError::NoDevice {
        backend: BACKEND.into(),
        hint: format!(
            "The USB HID subsystem could not be opened ({}). {}",
            panic_text(p.as_ref()),
            no_device_hint()
        ),
    })?;
    let mut out: Vec<Fido2DeviceInfo> = Vec::new();
    for h in &found {
        let d = device_info(h);
        if !out.iter().any(|o| o.path == d.path) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Picks the device for `device` (`--device`) among `devs`.
pub fn select_device(
    devs: &[Fido2DeviceInfo],
    device: Option<&str>,
) -> Result<Fido2DeviceInfo, TokenError> {
    let listing = |ds: &[&Fido2DeviceInfo]| {
        ds.iter()
            .map(|d| format!("{} [path {}]", d.label(), d.path))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if devs.is_empty() {
        return Err(TokenError::NoDevice {
            backend: BACKEND.into(),
            hint: no_device_hint(),
        });
    }
    let all: Vec<&Fido2DeviceInfo> = devs.iter().collect();
    let candidates: Vec<&Fido2DeviceInfo> = match device {
        Some(sel) => devs.iter().filter(|d| d.matches(sel)).collect(),
        None => all.clone(),
    };
    match (candidates.len(), device) {
        (1, _) => Ok(candidates[0].clone()),
        (0, Some(sel)) => Err(TokenError::NoDevice {
            backend: BACKEND.into(),
            hint: format!(
                "No connected FIDO2 key matches --device {sel:?}. Connected: {}. Give the path, \
                 the product name or the serial shown.",
                listing(&all)
            ),
        }),
        // `backend` reads into "no single FIDO2 key found"; see the report on a dedicated variant.
        (n, Some(sel)) => Err(TokenError::NoDevice {
            backend: format!("single {BACKEND}"),
            hint: format!(
                "{n} connected FIDO2 keys match --device {sel:?}: {}. Pass the HID path instead.",
                listing(&candidates)
            ),
        }),
        (n, None) => Err(TokenError::NoDevice {
            backend: format!("single {BACKEND}"),
            hint: format!(
                "{n} FIDO2 keys are connected: {}. Choose one with --device PATH (or product name \
                 or serial), or unplug the others.",
                listing(&candidates)
            ),
        }),
    }
}

/// Opens the FIDO2 key named by `device` (`--device`: HID path, product string or serial), or
/// the only one connected.
pub fn open(device: Option<&str>) -> Result<Fido2Key, TokenError> {
    let devs = list_devices()?;
    let info = select_device(&devs, device)?;
    Fido2Key::open_info(info)
}

/// What getInfo told us at open time.
#[derive(Debug, Clone, Default)]
struct KeyInfo {
    pin_set: bool,
    cred_protect: bool,
    versions: Vec<String>,
}

/// A FIDO2 security key on USB HID.
pub struct Fido2Key {
    dev: FidoKeyHid,
    info: Fido2DeviceInfo,
    key: KeyInfo,
}

impl std::fmt::Debug for Fido2Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fido2Key")
            .field("info", &self.info)
            .field("pin_set", &self.key.pin_set)
            .field("versions", &self.key.versions)
            .finish_non_exhaustive()
    }
}

/// The crate's configuration: no logging, no keep-alive message (and stderr if it ever prints).
pub fn quiet_cfg() -> LibCfg {
    let mut cfg = LibCfg::init()
        .with_enable_log(false)
        .with_keep_alive_msg_to_stderr(true);
    cfg.enable_keep_alive_msg = false;
    cfg.keep_alive_msg = String::new();
    cfg
}

/// A failed crate call, before classification.
enum CallError {
    /// The crate returned an error (its `{:#}` text) after `elapsed`.
    Crate { text: String, elapsed: Duration },
    /// The crate panicked (malformed answer, hidapi failure).
    Panic(String),
}

impl Fido2Key {
    fn open_info(info: Fido2DeviceInfo) -> Result<Self, TokenError> {
        let cfg = quiet_cfg();
        let param = [HidParam::Path(info.path.clone())];
        let opened = {
            let _quiet = StdoutToStderr::new();
            catch_unwind(|| FidoKeyHid::new(&param, &cfg))
        };
        let dev = match opened {
            Ok(Ok(dev)) => dev,
            Ok(Err(e)) => {
                return Err(TokenError::NoDevice {
                    backend: BACKEND.into(),
                    hint: format!(
                        "{} was found but could not be opened ({e}). On Linux, check the udev \
                         rules give your user access to {}; otherwise re-insert the key.",
                        info.label(),
                        info.path
                    ),
                })
            }
            Err(p) => {
                return Err(TokenError::NoDevice {
                    backend: BACKEND.into(),
                    hint: format!(
                        "The USB HID subsystem could not be opened ({}).",
                        panic_text(p.as_ref())
                    ),
                })
            }
        };
        let mut key = Fido2Key {
            dev,
            info,
            key: KeyInfo::default(),
        };
        let gi = key.call(|d| d.get_info())?;
        let opt = |name: &str| gi.options.iter().any(|(k, v)| k == name && *v);
        key.key = KeyInfo {
            pin_set: opt("clientPin"),
            cred_protect: gi.extensions.iter().any(|e| e == "credProtect"),
            versions: gi.versions.clone(),
        };
        // credentialManagement 0x0A with a cm-permission token on CTAP 2.1 keys, the 0x41
        // prototype with a plain PIN token on FIDO_2_1_PRE keys (YubiKey 5 before 5.7).
        key.dev.use_pre_credential_management = !gi.versions.iter().any(|v| v == "FIDO_2_1");
        if !gi.pin_uv_auth_protocols.is_empty()
            && !gi.pin_uv_auth_protocols.contains(&1)
            && gi.pin_uv_auth_protocols.contains(&2)
        {
            key.dev.pin_protocol_version = 2;
        }
        Ok(key)
    }

    /// The device this key was opened from.
    pub fn device_info(&self) -> &Fido2DeviceInfo {
        &self.info
    }

    /// CTAP versions from getInfo (`FIDO_2_0`, `FIDO_2_1_PRE`, `FIDO_2_1`, `U2F_V2`).
    pub fn versions(&self) -> &[String] {
        &self.key.versions
    }

    /// Runs one crate call: stdout pointed at stderr, panics caught, errors kept as text.
    fn raw_call<T>(
        &self,
        f: impl FnOnce(&FidoKeyHid) -> anyhow::Result<T>,
    ) -> Result<T, CallError> {
        let start = Instant::now();
        let r = {
            let _quiet = StdoutToStderr::new();
            catch_unwind(AssertUnwindSafe(|| f(&self.dev)))
        };
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CallError::Crate {
                text: format!("{e:#}"),
                elapsed: start.elapsed(),
            }),
            Err(p) => Err(CallError::Panic(panic_text(p.as_ref()))),
        }
    }

    /// [`Self::raw_call`] plus classification: PIN_INVALID asks getPINRetries for the count,
    /// a keep-alive exhaustion cancels the pending request.
    fn call<T>(&self, f: impl FnOnce(&FidoKeyHid) -> anyhow::Result<T>) -> Result<T, TokenError> {
        match self.raw_call(f) {
            Ok(v) => Ok(v),
            Err(CallError::Panic(p)) => Err(TokenError::BadAnswer(format!(
                "the FIDO2 library could not process the key's answer ({})",
                clean(&p)
            ))),
            Err(CallError::Crate { text, elapsed }) => {
                let tries = if status_in(&text) == Some(CtapStatus::PinInvalid) {
                    self.raw_call(|d| d.get_pin_retries())
                        .ok()
                        .map(|n| n.clamp(0, 255) as u8)
                } else {
                    None
                };
                let err = classify_after(&text, tries, elapsed);
                if err == TokenError::UserActionTimeout && is_keepalive_exhaustion(&text, elapsed) {
                    // The key is still blinking: tell it to stop (best effort, no answer read).
                    let _ = self.raw_call(|d| d.cancel_selection());
                }
                Err(err)
            }
        }
    }

    fn check_pin(pin: &Pin) -> Result<(), TokenError> {
        // CTAP: at least 4 code points, at most 63 bytes. Refusing here spares a retry.
        if pin.chars().count() < 4 || pin.len() > 63 {
            return Err(TokenError::PinPolicy);
        }
        Ok(())
    }

    fn check_attestation(
        att: &Attestation,
        cdh_sent: &[u8; 32],
        point: &[u8; 65],
    ) -> Result<(), TokenError> {
        let bad =
            |e: sk::FidoError| TokenError::BadAnswer(format!("makeCredential attestation: {e}"));
        match (att.fmt.as_str(), att.attstmt_x5c.first()) {
            ("packed", None) => {
                sk::verify_self_attestation(&att.auth_data, cdh_sent, &att.attstmt_sig, point)
                    .map_err(bad)
            }
            ("packed", Some(cert)) => match p256_point_in_cert(cert) {
                // Full attestation (YubiKeys): the batch key signed. The chain is not checked
                // (no trust anchors here); this only proves the answer is internally consistent.
                Some(att_key) => sk::verify_self_attestation(
                    &att.auth_data,
                    cdh_sent,
                    &att.attstmt_sig,
                    &att_key,
                )
                .map_err(bad),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// Finds the P-256 SubjectPublicKeyInfo in a DER certificate (the subject key: the issuer's key
/// is not in a certificate) and returns its point.
pub fn p256_point_in_cert(der: &[u8]) -> Option<[u8; 65]> {
    const SPKI_P256: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let mut hits = der
        .windows(SPKI_P256.len())
        .enumerate()
        .filter(|(_, w)| *w == SPKI_P256);
    let (at, _) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let p = der.get(at + SPKI_P256.len()..at + SPKI_P256.len() + 65)?;
    let mut point = [0u8; 65];
    point.copy_from_slice(p);
    (point[0] == 4).then_some(point)
}

fn cred_protect_policy(level: u8) -> Option<CredentialProtectionPolicy> {
    match level {
        1 => Some(CredentialProtectionPolicy::UserVerificationOptional),
        2 => Some(CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList),
        3 => Some(CredentialProtectionPolicy::UserVerificationRequired),
        _ => None,
    }
}

fn cred_protect_level(p: CredentialProtectionPolicy) -> u8 {
    match p {
        CredentialProtectionPolicy::UserVerificationOptional => 1,
        CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList => 2,
        CredentialProtectionPolicy::UserVerificationRequired => 3,
        // Not reported: the CTAP default policy.
        CredentialProtectionPolicy::Unknown => 1,
    }
}

/// The COSE_Key for a listed credential (the crate gives `04‖x‖y` for P-256, `x` for Ed25519).
fn cose_of(c: &Credential) -> Result<Vec<u8>, TokenError> {
    let raw = &c.public_key.der;
    match c.public_key.key_type {
        PublicKeyType::Ecdsa256 if raw.len() == 65 && raw[0] == 4 => {
            let mut p = [0u8; 65];
            p.copy_from_slice(raw);
            Ok(sk::point_to_cose(&p))
        }
        PublicKeyType::Ed25519 if raw.len() == 32 => {
            // {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}
            let mut out = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
            out.extend_from_slice(raw);
            Ok(out)
        }
        _ => Err(TokenError::BadAnswer(format!(
            "credentialManagement listed a credential with an unusable public key ({} bytes)",
            raw.len()
        ))),
    }
}

fn assertion_from(a: CrateAssertion, allow_list: &[Vec<u8>]) -> Result<Assertion, TokenError> {
    if a.auth_data.is_empty() || a.signature.is_empty() {
        return Err(TokenError::BadAnswer(
            "getAssertion answer lacks authenticatorData or signature".into(),
        ));
    }
    // CTAP: the credential may be omitted when the allow list held exactly one.
    let credential_id = match (a.credential_id.is_empty(), allow_list) {
        (false, _) => a.credential_id,
        (true, [only]) => only.clone(),
        (true, _) => {
            return Err(TokenError::BadAnswer(
                "getAssertion answer does not say which credential signed".into(),
            ))
        }
    };
    if !allow_list.is_empty() && !allow_list.contains(&credential_id) {
        return Err(TokenError::BadAnswer(
            "getAssertion answer is from a credential that was not asked for".into(),
        ));
    }
    Ok(Assertion {
        credential_id,
        auth_data: a.auth_data,
        signature: a.signature,
    })
}

impl Authenticator for Fido2Key {
    fn describe(&self) -> String {
        self.info.label()
    }

    fn is_simulated(&self) -> bool {
        false
    }

    fn pin_is_set(&self) -> bool {
        self.key.pin_set
    }

    fn pin_retries(&mut self) -> Result<Option<u8>, TokenError> {
        if !self.key.pin_set {
            return Ok(None);
        }
        let n = self.call(|d| d.get_pin_retries())?;
        Ok(Some(n.clamp(0, 255) as u8))
    }

    fn make_credential(
        &mut self,
        req: &MakeCredential,
        pin: Option<&Pin>,
    ) -> Result<MadeCredential, TokenError> {
        if let Some(p) = pin {
            Self::check_pin(p)?;
        }
        let protect = cred_protect_policy(req.cred_protect);
        if req.cred_protect >= 2 && !self.key.cred_protect {
            // Sending it anyway would make an unprotected credential (unknown extensions are
            // ignored), so refuse before anything is created.
            return Err(TokenError::Unsupported {
                status: CtapStatus::UnsupportedOption,
                what: "the credProtect extension (needed so the CA cannot be used without its key handle or PIN)",
            });
        }
        // The crate sends SHA-256(challenge). With the challenge itself the key sees exactly
        // `req.client_data_hash`; without it, SHA-256(client_data_hash).
        let challenge: Vec<u8> =
            if Sha256::digest(&req.challenge).as_slice() == req.client_data_hash {
                req.challenge.clone()
            } else {
                req.client_data_hash.to_vec()
            };
        let cdh_sent: [u8; 32] = Sha256::digest(&challenge).into();
        let user = PublicKeyCredentialUserEntity::new(
            Some(&req.user_id),
            Some(&req.user_name),
            Some(&req.user_name),
        );
        let exts: Vec<CredentialExtension> = protect
            .map(|p| vec![CredentialExtension::CredProtect(Some(p))])
            .unwrap_or_default();
        let pin_str: Option<&str> = pin.map(|p| p.as_str());
        let att = self.call(|d| {
            let mut b = MakeCredentialArgsBuilder::new(&req.rp_id, &challenge).user_entity(&user);
            if req.resident {
                b = b.resident_key();
            }
            if !exts.is_empty() {
                b = b.extensions(&exts);
            }
            b = match pin_str {
                Some(p) => b.pin(p),
                None => b.without_pin_and_uv(),
            };
            d.make_credential_with_args(&b.build())
        })?;

        let ad = sk::parse_auth_data(&att.auth_data)
            .map_err(|e| TokenError::BadAnswer(format!("makeCredential authData: {e}")))?;
        if ad.rp_id_hash.as_slice() != Sha256::digest(req.rp_id.as_bytes()).as_slice() {
            return Err(TokenError::BadAnswer(
                "makeCredential answer is for another application".into(),
            ));
        }
        let attested = ad.attested.as_ref().ok_or_else(|| {
            TokenError::BadAnswer("makeCredential answer has no attested credential".into())
        })?;
        if attested.credential_id != att.credential_descriptor.id {
            return Err(TokenError::BadAnswer(
                "makeCredential credential id disagrees with its authData".into(),
            ));
        }
        if req.cred_protect >= 3 {
            let applied = att.extensions.iter().find_map(|e| match *e {
                CredentialExtension::CredProtect(Some(p)) => Some(cred_protect_level(p)),
                _ => None,
            });
            if applied != Some(req.cred_protect) {
                return Err(TokenError::BadAnswer(format!(
                    "the key did not confirm credProtect={} (answered {:?}); the new credential \
                     may not require user verification",
                    req.cred_protect, applied
                )));
            }
        }
        Self::check_attestation(&att, &cdh_sent, &attested.public_point)?;
        // The caller re-checks a `packed` self-attestation against `req.client_data_hash`; that
        // only works for self attestation over exactly that hash. Anything else was checked
        // above and is handed back as `none`.
        let hand_back =
            att.fmt == "packed" && att.attstmt_x5c.is_empty() && cdh_sent == req.client_data_hash;
        Ok(if hand_back {
            MadeCredential {
                auth_data: att.auth_data,
                fmt: att.fmt,
                att_sig: att.attstmt_sig,
            }
        } else {
            MadeCredential {
                auth_data: att.auth_data,
                fmt: "none".into(),
                att_sig: Vec::new(),
            }
        })
    }

    fn get_assertion(
        &mut self,
        req: &GetAssertion,
        pin: Option<&Pin>,
    ) -> Result<Assertion, TokenError> {
        if let Some(p) = pin {
            Self::check_pin(p)?;
        }
        // The crate sends SHA-256 of what it is given (as OpenSSH does): give it the message.
        if Sha256::digest(&req.message).as_slice() != req.client_data_hash {
            return Err(TokenError::BadAnswer(
                "internal: getAssertion message and hash disagree".into(),
            ));
        }
        let message = req.message.clone();
        let pin_str: Option<&str> = pin.map(|p| p.as_str());
        let mut answers = self.call(|d| {
            let mut b = GetAssertionArgsBuilder::new(&req.rp_id, &message);
            for id in &req.allow_list {
                b = b.add_credential_id(id);
            }
            if !req.up {
                b = b.without_up();
            }
            b = match pin_str {
                Some(p) => b.pin(p),
                None => b.without_pin_and_uv(),
            };
            d.get_assertion_with_args(&b.build())
        })?;
        if answers.is_empty() {
            return Err(TokenError::BadAnswer(
                "getAssertion returned nothing".into(),
            ));
        }
        assertion_from(answers.swap_remove(0), &req.allow_list)
    }

    fn credentials(
        &mut self,
        rp_id: &str,
        pin: Option<&Pin>,
    ) -> Result<Vec<ResidentCredential>, TokenError> {
        let pin = match pin {
            Some(p) => p,
            // credentialManagement always needs a pinUvAuthToken: without a PIN on the key
            // there is no way to list resident credentials.
            None if !self.key.pin_set => return Err(TokenError::PinNotSet),
            None => return Err(TokenError::PinRequired),
        };
        Self::check_pin(pin)?;
        let hash: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
        let listed = self
            .call(|d| d.credential_management_enumerate_credentials(Some(pin.as_str()), &hash))?;
        let mut out = Vec::with_capacity(listed.len());
        for c in &listed {
            if c.public_key_credential_descriptor.id.is_empty() {
                return Err(TokenError::BadAnswer(
                    "credentialManagement listed a credential without an id".into(),
                ));
            }
            out.push(ResidentCredential {
                rp_id: rp_id.to_string(),
                credential_id: c.public_key_credential_descriptor.id.clone(),
                user_id: c.public_key_credential_user_entity.id.clone(),
                cose_public_key: cose_of(c)?,
                cred_protect: cred_protect_level(c.cred_protect),
            });
        }
        if out.is_empty() {
            return Err(TokenError::NoCredentials);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------------------------

/// Printable, bounded copy of crate/device text for error messages.
fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// Parses 1–2 hex digits after `0x` at the start of `s`; the next char must not be hex/alnum.
fn hex_byte_at(s: &str) -> Option<u8> {
    let rest = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    if rest[digits.len()..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    u8::from_str_radix(&digits, 16).ok()
}

/// The status for a CTAP error name as the crate (`ctapdef.rs`) or libfido2 spell it.
pub fn status_for_name(name: &str) -> Option<CtapStatus> {
    let n = name
        .trim_start_matches("CTAP2_ERR_")
        .trim_start_matches("CTAP1_ERR_")
        .trim_start_matches("FIDO_ERR_");
    let alias = match n {
        "SUCCESS" | "OK" => Some(0x00),
        "PIN_REQUIRED" | "PUAT_REQUIRED" => Some(0x36),
        "INVALID_COMMAND" => Some(0x01),
        "OTHER" => Some(0x7F),
        "SPEC_LAST" => Some(0xDF),
        "EXTENSION_FIRST" => Some(0xE0),
        "EXTENSION_LAST" => Some(0xEF),
        "VENDOR_FIRST" => Some(0xF0),
        "VENDOR_LAST" => Some(0xFF),
        _ => None,
    };
    if let Some(code) = alias {
        return Some(CtapStatus::from(code));
    }
    (0u8..0xE0).map(CtapStatus::from).find(|s| {
        !matches!(s, CtapStatus::Unknown(_))
            && s.name()
                .trim_start_matches("CTAP1_ERR_")
                .trim_start_matches("CTAP2_")
                == n
    })
}

/// The CTAP status in a crate error string, if it carries one.
///
/// Recognised, in order: `response_status err = 0xNN …` (the crate's only CTAP error shape;
/// codes it has no name for come as `0x{:X}`, e.g. `0x1A`, `0x7`), then `0xNN CTAP?_ERR_…`
/// anywhere, then a bare `CTAP?_ERR_NAME`.
pub fn status_in(err: &str) -> Option<CtapStatus> {
    if let Some(i) = err.find(STATUS_PREFIX) {
        if let Some(c) = hex_byte_at(&err[i + STATUS_PREFIX.len()..]) {
            return Some(c.into());
        }
    }
    for (i, _) in err.match_indices("0x") {
        if let Some(c) = hex_byte_at(&err[i..]) {
            let after = err[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
            if name_at(after).is_some() {
                return Some(c.into());
            }
        }
    }
    for (i, _) in err.match_indices("CTAP") {
        if let Some(s) = name_at(&err[i..]).and_then(status_for_name) {
            return Some(s);
        }
    }
    None
}

/// The `CTAP?_ERR_NAME` token at the start of `s` (after spaces).
fn name_at(s: &str) -> Option<&str> {
    let s = s.trim_start();
    (s.starts_with("CTAP1_ERR_") || s.starts_with("CTAP2_ERR_")).then(|| {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        &s[..end]
    })
}

/// True when `err` is the crate giving up on keep-alives: it then reports the keep-alive status
/// (1 processing, 2 up-needed) as a CTAP status, after at least 500 × 100 ms.
pub fn is_keepalive_exhaustion(err: &str, elapsed: Duration) -> bool {
    elapsed >= KEEPALIVE_EXHAUSTION
        && err.contains(STATUS_PREFIX)
        && matches!(
            status_in(err),
            Some(CtapStatus::InvalidCommand | CtapStatus::InvalidParameter)
        )
}

/// Maps a `ctap-hid-fido2` error string to a [`TokenError`]. `tries_left` fills PIN_INVALID
/// (the caller asks getPINRetries). Without timing information a keep-alive exhaustion cannot be
/// told from CTAP1 0x01/0x02; use [`classify_after`] where the elapsed time is known.
pub fn classify(err: &str, tries_left: Option<u8>) -> TokenError {
    let lower = err.to_ascii_lowercase();
    // Transport: the device went away or cannot be opened.
    if lower.contains("read err")
        || lower.contains("write error")
        || lower.contains("fido device not found")
        || lower.contains("failed to open device")
    {
        return TokenError::NoDevice {
            backend: BACKEND.into(),
            hint: format!(
                "The key stopped answering ({}). Re-insert it and run the command again.",
                clean(err)
            ),
        };
    }
    if lower.contains("multiple fido devices found") {
        return TokenError::NoDevice {
            backend: format!("single {BACKEND}"),
            hint: "Several FIDO2 keys are connected; choose one with --device.".into(),
        };
    }
    // The crate refuses an empty PIN itself.
    if lower.contains("pin not set") {
        return TokenError::PinPolicy;
    }
    match status_in(err) {
        Some(CtapStatus::Ok) | None => TokenError::BadAnswer(clean(err)),
        Some(status) => TokenError::from_ctap(status, tries_left),
    }
}

/// [`classify`], knowing how long the call took: a keep-alive exhaustion (≥ 45 s, status 1 or 2)
/// is [`TokenError::UserActionTimeout`].
pub fn classify_after(err: &str, tries_left: Option<u8>, elapsed: Duration) -> TokenError {
    if is_keepalive_exhaustion(err, elapsed) {
        return TokenError::UserActionTimeout;
    }
    classify(err, tries_left)
}

// ---------------------------------------------------------------------------------------------
// stdout guard
// ---------------------------------------------------------------------------------------------

/// While alive, file descriptor 1 points at stderr, so anything the crate `println!`s cannot
/// end up in breakglass's stdout (certificates, JSON). Restored on drop. Single-threaded use:
/// another thread printing to stdout meanwhile would land on stderr too.
pub struct StdoutToStderr {
    #[cfg(unix)]
    saved: Option<std::os::fd::OwnedFd>,
}

impl StdoutToStderr {
    /// Redirects fd 1 to fd 2 (no-op where that is impossible).
    pub fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        {
            use std::os::fd::{FromRawFd, OwnedFd};
            // SAFETY: dup/dup2 on the process's own standard descriptors; the duplicate is
            // owned by `saved` and closed exactly once.
            let saved = unsafe {
                let fd = libc::dup(1);
                if fd < 0 {
                    None
                } else if libc::dup2(2, 1) < 0 {
                    libc::close(fd);
                    None
                } else {
                    Some(OwnedFd::from_raw_fd(fd))
                }
            };
            StdoutToStderr { saved }
        }
        #[cfg(not(unix))]
        {
            StdoutToStderr {}
        }
    }
}

impl Default for StdoutToStderr {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        if let Some(fd) = self.saved.take() {
            use std::os::fd::AsRawFd;
            // SAFETY: `fd` is a valid descriptor we own; dup2 restores the original stdout.
            unsafe {
                libc::dup2(fd.as_raw_fd(), 1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
