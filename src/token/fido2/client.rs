//! The CTAP client: a [`Fido2Key`] opened on one HID device, every crate call contained
//! (stdout, panics) and classified, and [`Authenticator`] over makeCredential, getAssertion and
//! credentialManagement, with the PIN checked against CTAP's limits before a try is spent.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use ctap_hid_fido2::fidokey::{
    CredentialExtension, GetAssertionArgsBuilder, MakeCredentialArgsBuilder,
};
use ctap_hid_fido2::public_key_credential_user_entity::PublicKeyCredentialUserEntity;
use ctap_hid_fido2::{FidoKeyHid, HidParam};
use sha2::{Digest, Sha256};

use super::answers::{
    assertion_from, check_attestation, cose_of, cred_protect_level, cred_protect_policy,
};
use super::classify::{classify_after, clean, is_keepalive_exhaustion, status_in};
use super::guard::{panic_text, StdoutToStderr};
use super::hid::{quiet_cfg, Fido2DeviceInfo};
use super::BACKEND;
use crate::ssh::sk;
use crate::token::ctap::{
    Assertion, Authenticator, GetAssertion, MadeCredential, MakeCredential, Pin, ResidentCredential,
};
use crate::token::{CtapStatus, TokenError};

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

/// A failed crate call, before classification.
enum CallError {
    /// The crate returned an error (its `{:#}` text) after `elapsed`.
    Crate { text: String, elapsed: Duration },
    /// The crate panicked (malformed answer, hidapi failure).
    Panic(String),
}

impl Fido2Key {
    /// Opens the device and reads its getInfo.
    pub(super) fn open_info(info: Fido2DeviceInfo) -> Result<Self, TokenError> {
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
        check_attestation(&att, &cdh_sent, &attested.public_point)?;
        // The statement is handed back whole (init-ca keeps it as CA.attest) when the key
        // signed over exactly `req.client_data_hash`, i.e. SHA-256 of the challenge the caller
        // keeps; a statement over another hash could not be checked later, so it is `none`.
        Ok(if att.fmt == "packed" && cdh_sent == req.client_data_hash {
            MadeCredential {
                auth_data: att.auth_data,
                fmt: att.fmt,
                att_sig: att.attstmt_sig,
                x5c: att.attstmt_x5c,
            }
        } else {
            MadeCredential {
                auth_data: att.auth_data,
                fmt: "none".into(),
                att_sig: Vec::new(),
                x5c: Vec::new(),
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

    fn resident_applications(&mut self, pin: Option<&Pin>) -> Result<Vec<String>, TokenError> {
        let pin = match pin {
            Some(p) => p,
            None if !self.key.pin_set => return Err(TokenError::PinNotSet),
            None => return Err(TokenError::PinRequired),
        };
        Self::check_pin(pin)?;
        let rps = match self.call(|d| d.credential_management_enumerate_rps(Some(pin.as_str()))) {
            Err(TokenError::NoCredentials) => return Ok(Vec::new()),
            other => other?,
        };
        let mut out: Vec<String> = rps
            .into_iter()
            .map(|rp| rp.public_key_credential_rp_entity.id)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
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
