//! The CTAP2 authenticator (CTAP 2.1 §6) over breakglass's simulated key: getInfo,
//! makeCredential, getAssertion, clientPIN (PIN/UV auth protocols 1 and 2, permissions) and
//! credentialManagement (0x0A, and the 0x41 prototype of FIDO_2_1_PRE keys).
//!
//! Credentials, the signature counter and the PIN with its retry counters are the simulated
//! key's (`breakglass::token::sim`, the state directory `--backend sim` uses); what a real key
//! keeps in RAM — the key agreement key, the pinUvAuthToken with its permissions, enumeration
//! cursors — lives here and dies with the process, as it dies with a key's power. Unlike the
//! simulator's own CLI paths, everything behaves as a real key does: credential management needs
//! a pinUvAuthToken with the `cm` permission, makeCredential needs one whenever a PIN is set, and
//! the PIN travels encrypted.
//!
//! makeCredential answers with `packed` basic attestation as a YubiKey does: `sig` made by a
//! batch attestation key over `authData ‖ clientDataHash`, `x5c` its certificate. Both are the
//! test PKI's (`breakglass::attest::testing`, ATTESTATION.md §6): the certificate states the
//! simulated AAGUID, CA:FALSE, OU=Authenticator Attestation and, in Yubico's extension
//! 1.3.6.1.4.1.41482.13.1, a firmware version that is settable ([`Authenticator::with_firmware`]),
//! so the EUCLEAK floor is testable both ways. It chains to the breakglass TEST root only, which
//! no verifier trusts by default.
//!
//! Known differences from a YubiKey 5 (documented, not needed by OpenSSH or breakglass):
//! no excludeList check, no getNextAssertion (one assertion per request), no deleteCredential,
//! no hmac-secret, reset allowed at any time, NO_CREDENTIALS reported after the touch rather
//! than before it.

use std::time::Duration;

use breakglass::attest::testing::FidoBatch;
use breakglass::attest::FirmwareVersion;
use breakglass::token::ctap::{
    Authenticator as _, GetAssertion, MakeCredential, ResidentCredential,
};
use breakglass::token::sim::{SimToken, Touch, Verification, MAX_RESIDENT, SIM_AAGUID};
use breakglass::token::TokenError;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cbor::{
    self, as_array, as_bool, as_bytes, as_int, as_text, bytes, int, text, CtapStatus, Params, Value,
};
use crate::ctaphid::{Ctap2, Step, TouchOutcome};
use crate::pin_protocol::{self, KeyAgreement, Protocol};

/// CTAP2 command bytes.
pub mod command {
    /// authenticatorMakeCredential.
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    /// authenticatorGetAssertion.
    pub const GET_ASSERTION: u8 = 0x02;
    /// authenticatorGetInfo.
    pub const GET_INFO: u8 = 0x04;
    /// authenticatorClientPIN.
    pub const CLIENT_PIN: u8 = 0x06;
    /// authenticatorReset.
    pub const RESET: u8 = 0x07;
    /// authenticatorGetNextAssertion.
    pub const GET_NEXT_ASSERTION: u8 = 0x08;
    /// authenticatorCredentialManagement.
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x0a;
    /// authenticatorSelection.
    pub const SELECTION: u8 = 0x0b;
    /// The FIDO_2_1_PRE prototype of credentialManagement.
    pub const CREDENTIAL_MANAGEMENT_PRE: u8 = 0x41;
}

/// pinUvAuthToken permissions (CTAP 2.1 §6.5.5.7).
pub mod permission {
    /// makeCredential.
    pub const MC: u8 = 0x01;
    /// getAssertion.
    pub const GA: u8 = 0x02;
    /// credentialManagement.
    pub const CM: u8 = 0x04;
}

/// When the scripted user answers a request for presence.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Delay before a touch (or a refusal) with `BREAKGLASS_SIM_TOUCH=approve|deny`.
    pub touch_after: Duration,
    /// How long the key waits with `BREAKGLASS_SIM_TOUCH=timeout` before USER_ACTION_TIMEOUT
    /// (a YubiKey gives up after about 30 s).
    pub give_up_after: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            touch_after: Duration::from_millis(300),
            give_up_after: Duration::from_secs(30),
        }
    }
}

/// A request waiting for the user's touch.
pub enum Deferred {
    /// makeCredential, checked and ready; `uv` when a pinUvAuthToken verified it.
    MakeCredential {
        /// The request.
        req: MakeCredential,
        /// User verified.
        uv: bool,
    },
    /// getAssertion, checked and ready.
    GetAssertion {
        /// The request.
        req: GetAssertion,
        /// User verified.
        uv: bool,
    },
    /// authenticatorReset.
    Reset,
    /// authenticatorSelection.
    Selection,
}

struct PinUvAuthToken {
    token: Zeroizing<[u8; 32]>,
    permissions: u8,
    rp_id: Option<String>,
}

/// The virtual key's CTAP2 side.
pub struct Authenticator {
    token: SimToken,
    touch: Touch,
    timing: Timing,
    key_agreement: KeyAgreement,
    puat: Option<PinUvAuthToken>,
    rp_cursor: Vec<String>,
    cred_cursor: Vec<ResidentCredential>,
    notes: Vec<String>,
    /// The batch attestation key and its certificate (`None`: the test PKI did not load, and
    /// makeCredential answers with the simulated key's own attestation, token::sim).
    attestation: Option<(FidoBatch, Vec<u8>)>,
}

/// The firmware the attestation certificate states unless told otherwise: a YubiKey 5 after
/// EUCLEAK's fix (5.7.0), so the virtual key passes the default floor.
pub const DEFAULT_FIRMWARE: FirmwareVersion = FirmwareVersion::new(5, 7, 4);

/// The batch attestation key and certificate for `firmware` (`None`: no firmware extension).
fn batch(firmware: Option<FirmwareVersion>) -> Option<(FidoBatch, Vec<u8>)> {
    let b = FidoBatch::fixture().ok()?;
    let cert = b.certificate(&SIM_AAGUID, firmware).ok()?;
    Some((b, cert))
}

fn status_of(e: &TokenError) -> CtapStatus {
    e.ctap_status().unwrap_or(CtapStatus::Other)
}

fn array32(v: &Value) -> Result<[u8; 32], CtapStatus> {
    as_bytes(v)?
        .try_into()
        .map_err(|_| CtapStatus::InvalidParameter)
}

fn descriptor(id: &[u8]) -> Value {
    Value::Map(vec![
        (text("id"), bytes(id)),
        (text("type"), text("public-key")),
    ])
}

/// The PIN inside a decrypted newPinEnc (64 bytes, zero padded).
fn unpad_pin(padded: &[u8]) -> Result<Zeroizing<String>, CtapStatus> {
    if padded.len() != 64 {
        return Err(CtapStatus::InvalidParameter);
    }
    let end = padded.iter().position(|&b| b == 0).unwrap_or(64);
    let pin = std::str::from_utf8(&padded[..end]).map_err(|_| CtapStatus::PinPolicyViolation)?;
    if pin.chars().count() < 4 {
        return Err(CtapStatus::PinPolicyViolation);
    }
    Ok(Zeroizing::new(pin.to_string()))
}

impl Authenticator {
    /// "Plugs in" the simulated key: clears the three-wrong-PINs block (as re-inserting a real
    /// key does) and makes a fresh key agreement key.
    pub fn new(mut token: SimToken, touch: Touch, timing: Timing) -> Result<Self, TokenError> {
        token.replug()?;
        Ok(Authenticator {
            token,
            touch,
            timing,
            key_agreement: KeyAgreement::generate(),
            puat: None,
            rp_cursor: Vec::new(),
            cred_cursor: Vec::new(),
            notes: Vec::new(),
            attestation: batch(Some(DEFAULT_FIRMWARE)),
        })
    }

    /// The firmware version the attestation certificate states (Yubico's extension
    /// 1.3.6.1.4.1.41482.13.1); `None` leaves the extension out (firmware unknown).
    pub fn with_firmware(mut self, firmware: Option<FirmwareVersion>) -> Self {
        self.attestation = batch(firmware);
        self
    }

    /// Messages for the operator (a state file that cannot be read, …), taken once.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    fn fail(&mut self, e: TokenError) -> CtapStatus {
        let s = status_of(&e);
        if s == CtapStatus::Other {
            self.notes.push(e.to_string());
        }
        s
    }

    fn pin_set(&mut self) -> Result<bool, CtapStatus> {
        match self.token.pin_retries() {
            Ok(r) => Ok(r.is_some()),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn get_info(&mut self) -> Result<Vec<u8>, CtapStatus> {
        let pin_set = self.pin_set()?;
        let opt = |k: &str, v: bool| (text(k), Value::Bool(v));
        Ok(cbor::ok(Value::Map(vec![
            (
                int(1),
                Value::Array(vec![text("FIDO_2_0"), text("FIDO_2_1")]),
            ),
            (int(2), Value::Array(vec![text("credProtect")])),
            (int(3), bytes(&SIM_AAGUID)),
            (
                int(4),
                Value::Map(vec![
                    opt("rk", true),
                    opt("up", true),
                    opt("plat", false),
                    opt("clientPin", pin_set),
                    opt("credMgmt", true),
                    opt("credentialMgmtPreview", true),
                    opt("pinUvAuthToken", true),
                ]),
            ),
            (int(5), int(1200)),
            (int(6), Value::Array(vec![int(2), int(1)])),
            (int(7), int(8)),
            (int(8), int(128)),
            (int(9), Value::Array(vec![text("usb")])),
            (
                int(10),
                Value::Array(vec![Value::Map(vec![
                    (text("alg"), int(-7)),
                    (text("type"), text("public-key")),
                ])]),
            ),
            (int(13), int(4)),
        ])))
    }

    /// Checks a pinUvAuthParam against the current pinUvAuthToken; binds the token to `rp_id`
    /// on first use, as CTAP 2.1 §6.1.2 step 11 says.
    fn check_token(
        &mut self,
        protocol: Protocol,
        param: &[u8],
        msg: &[u8],
        needs: u8,
        rp_id: Option<&str>,
    ) -> Result<(), CtapStatus> {
        let Some(t) = self.puat.as_mut() else {
            return Err(CtapStatus::PinAuthInvalid);
        };
        if !pin_protocol::verify(protocol, &t.token[..], msg, param) {
            return Err(CtapStatus::PinAuthInvalid);
        }
        if t.permissions & needs != needs {
            return Err(CtapStatus::PinAuthInvalid);
        }
        if let Some(rp) = rp_id {
            match &t.rp_id {
                Some(bound) if bound != rp => return Err(CtapStatus::PinAuthInvalid),
                Some(_) => {}
                None => t.rp_id = Some(rp.to_string()),
            }
        }
        Ok(())
    }

    /// The user verification a request's pinUvAuthParam (key `param_key`, protocol
    /// `protocol_key`) proves; `Ok(false)` when it carries none.
    fn request_uv(
        &mut self,
        p: &Params,
        param_key: i64,
        protocol_key: i64,
        cdh: &[u8],
        needs: u8,
        rp_id: &str,
    ) -> Result<bool, CtapStatus> {
        let Some(param) = p.get(param_key) else {
            return Ok(false);
        };
        let param = as_bytes(param)?;
        if param.is_empty() {
            // A zero-length pinUvAuthParam asks "is a PIN set?" (CTAP 2.1 §6.1.2 step 1).
            return Err(if self.pin_set()? {
                CtapStatus::PinInvalid
            } else {
                CtapStatus::PinNotSet
            });
        }
        let protocol = Protocol::from_value(p.need(protocol_key)?)?;
        self.check_token(protocol, param, cdh, needs, Some(rp_id))?;
        Ok(true)
    }

    fn make_credential(&mut self, rest: &[u8]) -> Result<Step<Deferred>, CtapStatus> {
        let p = Params::parse(rest)?;
        let cdh = array32(p.need(1)?)?;
        let rp = Params::from_map(p.need(2)?)?;
        let rp_id = as_text(rp.get_text("id").ok_or(CtapStatus::MissingParameter)?)?.to_string();
        let user = Params::from_map(p.need(3)?)?;
        let user_id = as_bytes(user.get_text("id").ok_or(CtapStatus::MissingParameter)?)?.to_vec();
        let user_name = match user.get_text("name") {
            Some(v) => as_text(v)?.to_string(),
            None => String::new(),
        };
        let mut es256 = false;
        for alg in as_array(p.need(4)?)? {
            let a = Params::from_map(alg)?;
            let is_pk = match a.get_text("type") {
                Some(t) => as_text(t)? == "public-key",
                None => false,
            };
            if is_pk && a.get_text("alg").map(as_int).transpose()? == Some(-7) {
                es256 = true;
            }
        }
        if !es256 {
            return Err(CtapStatus::UnsupportedAlgorithm);
        }
        let mut cred_protect = 0u8;
        if let Some(ext) = p.get(6) {
            if let Some(cp) = Params::from_map(ext)?.get_text("credProtect") {
                cred_protect = match as_int(cp)? {
                    n @ 1..=3 => n as u8,
                    _ => return Err(CtapStatus::InvalidParameter),
                };
            }
        }
        let mut resident = false;
        if let Some(o) = p.get(7) {
            let o = Params::from_map(o)?;
            if let Some(v) = o.get_text("rk") {
                resident = as_bool(v)?;
            }
            if o.get_text("up").map(as_bool).transpose()? == Some(false) {
                return Err(CtapStatus::InvalidOption);
            }
            if o.get_text("uv").map(as_bool).transpose()? == Some(true) {
                // No built-in user verification: the PIN comes as pinUvAuthParam.
                return Err(CtapStatus::UnsupportedOption);
            }
        }
        let uv = self.request_uv(&p, 8, 9, &cdh, permission::MC, &rp_id)?;
        if !uv && self.pin_set()? {
            // makeCredUvNotRqd is absent: with a PIN set every credential needs it.
            return Err(CtapStatus::PinRequired);
        }
        let req = MakeCredential {
            challenge: Vec::new(),
            client_data_hash: cdh,
            rp_id,
            user_id,
            user_name,
            resident,
            cred_protect,
        };
        Ok(Step::NeedsTouch(Deferred::MakeCredential { req, uv }))
    }

    fn finish_make_credential(&mut self, req: &MakeCredential, uv: bool) -> Vec<u8> {
        let v = if uv {
            Verification::Token
        } else {
            Verification::None
        };
        match self.token.make_credential_with(req, v) {
            Err(e) => vec![self.fail(e).code()],
            Ok(m) => {
                // Basic attestation: the batch key signs instead of the new credential.
                let statement = match &self.attestation {
                    Some((batch, cert)) => vec![
                        (text("alg"), int(-7)),
                        (
                            text("sig"),
                            bytes(&batch.sign(&m.auth_data, &req.client_data_hash)),
                        ),
                        (text("x5c"), Value::Array(vec![bytes(cert)])),
                    ],
                    // The simulated key's own statement (its batch key and certificate).
                    None => {
                        let mut st = vec![(text("alg"), int(-7)), (text("sig"), bytes(&m.att_sig))];
                        if !m.x5c.is_empty() {
                            st.push((
                                text("x5c"),
                                Value::Array(m.x5c.iter().map(|c| bytes(c)).collect()),
                            ));
                        }
                        st
                    }
                };
                cbor::ok(Value::Map(vec![
                    (int(1), text(&m.fmt)),
                    (int(2), bytes(&m.auth_data)),
                    (int(3), Value::Map(statement)),
                ]))
            }
        }
    }

    fn get_assertion(&mut self, rest: &[u8]) -> Result<Step<Deferred>, CtapStatus> {
        let p = Params::parse(rest)?;
        let rp_id = as_text(p.need(1)?)?.to_string();
        let cdh = array32(p.need(2)?)?;
        let mut allow_list = Vec::new();
        if let Some(list) = p.get(3) {
            for d in as_array(list)? {
                let d = Params::from_map(d)?;
                allow_list.push(
                    as_bytes(d.get_text("id").ok_or(CtapStatus::MissingParameter)?)?.to_vec(),
                );
            }
        }
        let mut up = true;
        if let Some(o) = p.get(5) {
            let o = Params::from_map(o)?;
            if let Some(v) = o.get_text("up") {
                up = as_bool(v)?;
            }
            if o.get_text("uv").map(as_bool).transpose()? == Some(true) {
                return Err(CtapStatus::UnsupportedOption);
            }
        }
        let uv = self.request_uv(&p, 6, 7, &cdh, permission::GA, &rp_id)?;
        let req = GetAssertion {
            rp_id,
            message: Vec::new(),
            client_data_hash: cdh,
            allow_list,
            up,
        };
        if up {
            Ok(Step::NeedsTouch(Deferred::GetAssertion { req, uv }))
        } else {
            Ok(Step::Done(self.finish_get_assertion(&req, uv)))
        }
    }

    fn finish_get_assertion(&mut self, req: &GetAssertion, uv: bool) -> Vec<u8> {
        let v = if uv {
            Verification::Token
        } else {
            Verification::None
        };
        let a = match self.token.get_assertion_with(req, v) {
            Ok(a) => a,
            Err(e) => return vec![self.fail(e).code()],
        };
        let mut m = vec![
            (int(1), descriptor(&a.credential_id)),
            (int(2), bytes(&a.auth_data)),
            (int(3), bytes(&a.signature)),
        ];
        if req.allow_list.is_empty() {
            // A discoverable credential: say whose it is (the key's own lookup, no PIN use).
            let user = self
                .token
                .credentials_with(&req.rp_id, Verification::Token)
                .ok()
                .and_then(|cs| cs.into_iter().find(|c| c.credential_id == a.credential_id))
                .map(|c| c.user_id);
            if let Some(u) = user {
                m.push((int(4), Value::Map(vec![(text("id"), bytes(&u))])));
            }
        }
        cbor::ok(Value::Map(m))
    }

    fn client_pin(&mut self, rest: &[u8]) -> Result<Vec<u8>, CtapStatus> {
        let p = Params::parse(rest)?;
        let sub = as_int(p.need(2)?)?;
        match sub {
            // getPINRetries: a key without a PIN reports the full count.
            0x01 => {
                let r = match self.token.pin_retries() {
                    Ok(r) => r,
                    Err(e) => return Err(self.fail(e)),
                };
                let n = r.unwrap_or(breakglass::token::ctap::PIN_RETRIES_MAX);
                Ok(cbor::ok(Value::Map(vec![(int(3), int(n.into()))])))
            }
            // getKeyAgreement
            0x02 => {
                Protocol::from_value(p.need(1)?)?;
                Ok(cbor::ok(Value::Map(vec![(
                    int(1),
                    self.key_agreement.cose(),
                )])))
            }
            0x03 => self.set_pin(&p),
            0x04 => self.change_pin(&p),
            0x05 => self.pin_token(&p, permission::MC | permission::GA, None),
            0x09 => {
                let perms = as_int(p.need(9)?)?;
                if perms == 0 {
                    return Err(CtapStatus::InvalidParameter);
                }
                let allowed = (permission::MC | permission::GA | permission::CM) as i128;
                if perms & !allowed != 0 {
                    return Err(CtapStatus::UnauthorizedPermission);
                }
                let rp = p.get(10).map(as_text).transpose()?.map(str::to_string);
                self.pin_token(&p, perms as u8, rp)
            }
            _ => Err(CtapStatus::InvalidSubcommand),
        }
    }

    /// A wrong PIN also changes the key agreement key (CTAP 2.1 §6.5.5.5), so the platform
    /// must start over.
    fn pin_failure(&mut self, e: TokenError) -> CtapStatus {
        if matches!(
            e,
            TokenError::PinInvalid { .. }
                | TokenError::PinAuthBlocked { .. }
                | TokenError::PinBlocked
        ) {
            self.key_agreement = KeyAgreement::generate();
        }
        self.fail(e)
    }

    fn set_pin(&mut self, p: &Params) -> Result<Vec<u8>, CtapStatus> {
        let protocol = Protocol::from_value(p.need(1)?)?;
        let shared = self.key_agreement.shared_secret(protocol, p.need(3)?)?;
        let param = as_bytes(p.need(4)?)?;
        let new_enc = as_bytes(p.need(5)?)?;
        if self.pin_set()? {
            return Err(CtapStatus::NotAllowed);
        }
        if !shared.verify(new_enc, param) {
            return Err(CtapStatus::PinAuthInvalid);
        }
        let padded = shared
            .decrypt(new_enc)
            .ok_or(CtapStatus::InvalidParameter)?;
        let pin = unpad_pin(&padded)?;
        if let Err(e) = self.token.set_pin(None, &pin) {
            return Err(self.fail(e));
        }
        self.puat = None;
        Ok(vec![CtapStatus::Ok.code()])
    }

    fn change_pin(&mut self, p: &Params) -> Result<Vec<u8>, CtapStatus> {
        let protocol = Protocol::from_value(p.need(1)?)?;
        let shared = self.key_agreement.shared_secret(protocol, p.need(3)?)?;
        let param = as_bytes(p.need(4)?)?;
        let new_enc = as_bytes(p.need(5)?)?;
        let hash_enc = as_bytes(p.need(6)?)?;
        if !self.pin_set()? {
            return Err(CtapStatus::PinNotSet);
        }
        if !shared.verify(&[new_enc, hash_enc].concat(), param) {
            return Err(CtapStatus::PinAuthInvalid);
        }
        let hash = shared
            .decrypt(hash_enc)
            .filter(|h| h.len() == 16)
            .ok_or(CtapStatus::InvalidParameter)?;
        let padded = shared
            .decrypt(new_enc)
            .ok_or(CtapStatus::InvalidParameter)?;
        let pin = unpad_pin(&padded)?;
        if let Err(e) = self.token.change_pin_with_hash(&hash, &pin) {
            return Err(self.pin_failure(e));
        }
        self.puat = None;
        Ok(vec![CtapStatus::Ok.code()])
    }

    fn pin_token(
        &mut self,
        p: &Params,
        permissions: u8,
        rp_id: Option<String>,
    ) -> Result<Vec<u8>, CtapStatus> {
        let protocol = Protocol::from_value(p.need(1)?)?;
        let shared = self.key_agreement.shared_secret(protocol, p.need(3)?)?;
        let hash = shared
            .decrypt(as_bytes(p.need(6)?)?)
            .filter(|h| h.len() == 16)
            .ok_or(CtapStatus::InvalidParameter)?;
        if let Err(e) = self.token.verify_pin_hash(&hash) {
            return Err(self.pin_failure(e));
        }
        let token = pin_protocol::new_token();
        let enc = shared.encrypt(&token[..]);
        self.puat = Some(PinUvAuthToken {
            token,
            permissions,
            rp_id,
        });
        Ok(cbor::ok(Value::Map(vec![(int(2), bytes(&enc))])))
    }

    fn resident_rp_ids(&mut self) -> Result<Vec<String>, CtapStatus> {
        match self.token.resident_rp_ids_with(Verification::Token) {
            Ok(ids) => Ok(ids),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn credentials_of(&mut self, rp_id: &str) -> Result<Vec<ResidentCredential>, CtapStatus> {
        match self.token.credentials_with(rp_id, Verification::Token) {
            Ok(c) => Ok(c),
            Err(TokenError::NoCredentials) => Ok(Vec::new()),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn rp_entry(rp_id: &str) -> Vec<(Value, Value)> {
        vec![
            (int(3), Value::Map(vec![(text("id"), text(rp_id))])),
            (int(4), bytes(&Sha256::digest(rp_id.as_bytes()))),
        ]
    }

    fn credential_entry(c: &ResidentCredential) -> Result<Vec<(Value, Value)>, CtapStatus> {
        let cose = cbor::decode(&c.cose_public_key).map_err(|_| CtapStatus::Other)?;
        Ok(vec![
            (int(6), Value::Map(vec![(text("id"), bytes(&c.user_id))])),
            (int(7), descriptor(&c.credential_id)),
            (int(8), cose),
            (int(10), int(c.cred_protect.max(1).into())),
        ])
    }

    fn credential_management(&mut self, rest: &[u8], preview: bool) -> Result<Vec<u8>, CtapStatus> {
        let p = Params::parse(rest)?;
        let sub = as_int(p.need(1)?)?;
        if matches!(sub, 0x01 | 0x02 | 0x04 | 0x06 | 0x07) {
            let Some(param) = p.get(4) else {
                return Err(CtapStatus::PinRequired);
            };
            let param = as_bytes(param)?;
            let protocol = Protocol::from_value(p.need(3)?)?;
            let mut msg = vec![sub as u8];
            if let Some(sp) = p.get(2) {
                msg.extend_from_slice(&cbor::encode(sp.clone()));
            }
            // The prototype command predates permissions: any PIN token will do.
            let needs = if preview { 0 } else { permission::CM };
            self.check_token(protocol, param, &msg, needs, None)?;
        }
        match sub {
            // getCredsMetadata
            0x01 => {
                let mut n = 0usize;
                for rp in self.resident_rp_ids()? {
                    n += self.credentials_of(&rp)?.len();
                }
                Ok(cbor::ok(Value::Map(vec![
                    (int(1), int(n as i64)),
                    (int(2), int(MAX_RESIDENT.saturating_sub(n) as i64)),
                ])))
            }
            // enumerateRPsBegin
            0x02 => {
                let mut rps = self.resident_rp_ids()?;
                if rps.is_empty() {
                    return Err(CtapStatus::NoCredentials);
                }
                let total = rps.len();
                let first = rps.remove(0);
                rps.reverse();
                self.rp_cursor = rps;
                let mut m = Self::rp_entry(&first);
                m.push((int(5), int(total as i64)));
                Ok(cbor::ok(Value::Map(m)))
            }
            // enumerateRPsGetNextRP
            0x03 => {
                let rp = self.rp_cursor.pop().ok_or(CtapStatus::NotAllowed)?;
                Ok(cbor::ok(Value::Map(Self::rp_entry(&rp))))
            }
            // enumerateCredentialsBegin
            0x04 => {
                let sp = Params::from_map(p.need(2)?)?;
                let hash = as_bytes(sp.need(1)?)?.to_vec();
                let rp = self
                    .resident_rp_ids()?
                    .into_iter()
                    .find(|rp| Sha256::digest(rp.as_bytes()).as_slice() == hash.as_slice())
                    .ok_or(CtapStatus::NoCredentials)?;
                let mut creds = self.credentials_of(&rp)?;
                if creds.is_empty() {
                    return Err(CtapStatus::NoCredentials);
                }
                let total = creds.len();
                let first = creds.remove(0);
                creds.reverse();
                self.cred_cursor = creds;
                let mut m = Self::credential_entry(&first)?;
                m.push((int(9), int(total as i64)));
                Ok(cbor::ok(Value::Map(m)))
            }
            // enumerateCredentialsGetNextCredential
            0x05 => {
                let c = self.cred_cursor.pop().ok_or(CtapStatus::NotAllowed)?;
                Ok(cbor::ok(Value::Map(Self::credential_entry(&c)?)))
            }
            _ => Err(CtapStatus::InvalidSubcommand),
        }
    }

    fn dispatch(&mut self, request: &[u8]) -> Result<Step<Deferred>, CtapStatus> {
        let (&command, rest) = request.split_first().ok_or(CtapStatus::InvalidCommand)?;
        let done = |r: Result<Vec<u8>, CtapStatus>| r.map(Step::Done);
        match command {
            command::GET_INFO => done(self.get_info()),
            command::MAKE_CREDENTIAL => self.make_credential(rest),
            command::GET_ASSERTION => self.get_assertion(rest),
            command::CLIENT_PIN => done(self.client_pin(rest)),
            command::CREDENTIAL_MANAGEMENT => done(self.credential_management(rest, false)),
            command::CREDENTIAL_MANAGEMENT_PRE => done(self.credential_management(rest, true)),
            command::RESET => Ok(Step::NeedsTouch(Deferred::Reset)),
            command::SELECTION => Ok(Step::NeedsTouch(Deferred::Selection)),
            command::GET_NEXT_ASSERTION => Err(CtapStatus::NotAllowed),
            _ => Err(CtapStatus::InvalidCommand),
        }
    }
}

impl Ctap2 for Authenticator {
    type Deferred = Deferred;

    fn begin(&mut self, request: &[u8]) -> Step<Deferred> {
        match self.dispatch(request) {
            Ok(step) => step,
            Err(status) => Step::Done(vec![status.code()]),
        }
    }

    fn finish(&mut self, deferred: Deferred, outcome: TouchOutcome) -> Vec<u8> {
        match outcome {
            TouchOutcome::Touched => {}
            TouchOutcome::Denied => return vec![CtapStatus::OperationDenied.code()],
            TouchOutcome::TimedOut => return vec![CtapStatus::UserActionTimeout.code()],
            TouchOutcome::Cancelled => return vec![CtapStatus::KeepaliveCancel.code()],
        }
        match deferred {
            Deferred::MakeCredential { req, uv } => self.finish_make_credential(&req, uv),
            Deferred::GetAssertion { req, uv } => self.finish_get_assertion(&req, uv),
            Deferred::Selection => vec![CtapStatus::Ok.code()],
            Deferred::Reset => match self.token.reset() {
                Ok(()) => {
                    self.puat = None;
                    self.key_agreement = KeyAgreement::generate();
                    vec![CtapStatus::Ok.code()]
                }
                Err(e) => vec![self.fail(e).code()],
            },
        }
    }

    fn user_answer(&self) -> (TouchOutcome, Duration) {
        match self.touch {
            Touch::Approve => (TouchOutcome::Touched, self.timing.touch_after),
            Touch::Deny => (TouchOutcome::Denied, self.timing.touch_after),
            Touch::Timeout => (TouchOutcome::TimedOut, self.timing.give_up_after),
        }
    }
}
