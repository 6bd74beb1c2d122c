//! An `sk-ecdsa-sha2-nistp256@openssh.com` CA on any CTAP2 authenticator: enrolment shaped like
//! `ssh-keygen -t ecdsa-sk -O resident` (OpenSSH 9.2 `sk-usbhid.c`), finding the resident CA, and
//! signing with the PIN/touch dance OpenSSH does. Shared by the simulated and the real key.

use sha2::{Digest, Sha256};
use ssh_key::public::KeyData;
use ssh_key::{PublicKey, Signature};

use super::ctap::{Authenticator, GetAssertion, MakeCredential, Pin, ResidentCredential};
use super::{CaSigner, TokenError};
use crate::attest::{Container, FidoEvidence};
use crate::ssh::sk::{self, FidoError};
use crate::ui::{PinPrompt, Ui};
use crate::{Error, Result};

/// Key-file flag: user presence required (`sk-api.h` SSH_SK_USER_PRESENCE_REQD).
pub const SK_USER_PRESENCE_REQD: u8 = 0x01;
/// Key-file flag: user verification required.
pub const SK_USER_VERIFICATION_REQD: u8 = 0x04;
/// Key-file flag: force (overwrite an existing resident credential).
pub const SK_FORCE_OPERATION: u8 = 0x10;
/// Key-file flag: resident key.
pub const SK_RESIDENT_KEY: u8 = 0x20;
/// OpenSSH's user id for resident keys without `-O user=`: 32 zero bytes.
pub const OPENSSH_USER_ID: [u8; 32] = [0; 32];

fn bad(e: FidoError) -> Error {
    TokenError::BadAnswer(e.to_string()).into()
}

/// Runs `op` without a PIN first when the key may not need one, and with the PIN when it asks
/// (or when `need_pin`), as OpenSSH does. The PIN is cached in `pin`.
fn with_pin<T>(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    need_pin: bool,
    touch: Option<&str>,
    mut op: impl FnMut(&mut dyn Authenticator, Option<&Pin>) -> std::result::Result<T, TokenError>,
) -> Result<T> {
    if pin.is_none() && !need_pin {
        if let Some(t) = touch {
            ui.touch_prompt(t);
        }
        let answer = op(auth, None);
        if touch.is_some() {
            ui.touch_done();
        }
        match answer {
            Err(TokenError::PinRequired) => {}
            other => return other.map_err(Error::from),
        }
    }
    if pin.is_none() {
        *pin = Some(ask_pin(auth, ui)?);
    }
    loop {
        if let Some(t) = touch {
            ui.touch_prompt(t);
        }
        let answer = op(auth, pin.as_ref());
        if touch.is_some() {
            ui.touch_done();
        }
        match answer {
            // A wrong PIN is asked for again while the key still takes tries; its own count
            // (three in a row, then a re-plug; eight in all) ends the loop with its error.
            Err(TokenError::PinInvalid { tries_left }) if ui.can_ask_again() && tries_left > 0 => {
                ui.note(&crate::ui::wrong_pin_note(tries_left));
                *pin = Some(ask_pin(auth, ui)?);
            }
            other => return other.map_err(Error::from),
        }
    }
}

/// The shortest PIN a FIDO2 key can have (CTAP2: 4 code points).
pub const FIDO2_PIN_MIN: usize = 4;

/// Asks for the PIN, with the tries left; a PIN shorter than [`FIDO2_PIN_MIN`] never reaches
/// the key (it could only be wrong, and would cost a try).
fn ask_pin(auth: &mut dyn Authenticator, ui: &mut dyn Ui) -> Result<Pin> {
    let tries = auth.pin_retries().ok().flatten();
    let prompt = PinPrompt {
        device: auth.describe(),
        tries_left: tries.filter(|t| *t < super::ctap::PIN_RETRIES_MAX),
    };
    match crate::ui::ask_pin(ui, &prompt, FIDO2_PIN_MIN) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(TokenError::PinNeeded.into()),
        Err(min) => Err(TokenError::PinTooShort { min }.into()),
    }
}

/// A resident CA found on (or just made on) a key.
#[derive(Debug, Clone)]
pub struct ResidentCa {
    /// Application (rp id).
    pub application: String,
    /// Credential id = key handle.
    pub credential_id: Vec<u8>,
    /// SEC1 point.
    pub point: [u8; 65],
    /// credProtect level.
    pub cred_protect: u8,
    /// The user id it was enrolled with.
    pub user_id: Vec<u8>,
}

impl ResidentCa {
    /// The OpenSSH public key data.
    pub fn key_data(&self) -> Result<KeyData> {
        sk::sk_public_key(&self.point, &self.application).map_err(bad)
    }
    /// True when signing needs user verification (credProtect 3 = `-O verify-required`).
    pub fn verify_required(&self) -> bool {
        self.cred_protect >= 3
    }
}

/// Lists the resident `ssh:` CAs on the key for `application` (credentialManagement).
pub fn resident_cas(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    application: &str,
) -> Result<Vec<ResidentCa>> {
    let need_pin = auth.pin_is_set();
    let creds = match with_pin(auth, ui, pin, need_pin, None, |a, p| {
        a.credentials(application, p)
    }) {
        Err(Error::Token(TokenError::NoCredentials)) => Vec::new(),
        other => other?,
    };
    creds
        .into_iter()
        .map(|c| resident_from(c, application))
        .collect()
}

/// The applications (rp ids) of every resident `ssh:*` credential on the key
/// (credentialManagement enumerateRPs), as `ssh-keygen -K` downloads them all.
pub fn ssh_applications(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
) -> Result<Vec<String>> {
    let need_pin = auth.pin_is_set();
    let apps = match with_pin(auth, ui, pin, need_pin, None, |a, p| {
        a.resident_applications(p)
    }) {
        Err(Error::Token(TokenError::NoCredentials)) => Vec::new(),
        other => other?,
    };
    Ok(apps.into_iter().filter(|a| a.starts_with("ssh:")).collect())
}

fn resident_from(c: ResidentCredential, application: &str) -> Result<ResidentCa> {
    let (point, _) = sk::cose_es256_to_point(&c.cose_public_key).map_err(bad)?;
    Ok(ResidentCa {
        application: application.to_string(),
        credential_id: c.credential_id,
        point,
        cred_protect: c.cred_protect,
        user_id: c.user_id,
    })
}

/// Asks the key, without a touch (an assertion with user presence off; the PIN only when the
/// CA requires it), whether it holds `ca`: its signature counter when it does, `None` when it
/// does not. Like any assertion it advances the counter, as a real key's does: the caller records
/// the value (`log --verify`) or lets the signature that follows record its own.
pub fn holds(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    ca: &ResidentCa,
    require_uv: bool,
) -> Result<Option<u32>> {
    let mut challenge = [0u8; 32];
    getrandom::fill(&mut challenge).map_err(crate::error::randomness)?;
    let req = GetAssertion {
        rp_id: ca.application.clone(),
        message: challenge.to_vec(),
        client_data_hash: Sha256::digest(challenge).into(),
        allow_list: vec![ca.credential_id.clone()],
        up: false,
    };
    match with_pin(auth, ui, pin, require_uv, None, |a, p| {
        a.get_assertion(&req, p)
    }) {
        Ok(a) => Ok(Some(
            sk::parse_auth_data(&a.auth_data).map_err(bad)?.counter,
        )),
        Err(Error::Token(TokenError::NoCredentials)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What enrolment produced: the CA and the flags byte for the key-handle file.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The new resident CA.
    pub ca: ResidentCa,
    /// Flags for the key-handle file (0x21, 0x25, or with 0x10 when it replaced a CA).
    pub key_file_flags: u8,
    /// Fingerprint of the CA it replaced, if any.
    pub replaced: Option<String>,
    /// The key's signature counter in the attestation.
    pub counter: u32,
    /// The makeCredential attestation statement, with the challenge it was made over.
    pub attestation: super::Birth,
}

/// Creates the resident CA like `ssh-keygen -t ecdsa-sk -O resident [-O verify-required]`.
/// Refuses to replace an existing CA for the same application and user id unless `force`.
pub fn enroll(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    application: &str,
    verify_required: bool,
    force: bool,
) -> Result<Enrolled> {
    if !application.starts_with("ssh:") {
        return Err(Error::Application(application.to_string()));
    }
    let mut pin: Option<Pin> = None;
    let existing = resident_cas(auth, ui, &mut pin, application)?
        .into_iter()
        .find(|c| c.user_id == OPENSSH_USER_ID);
    let replaced = match existing {
        Some(old) => {
            let fp = old.key_data()?.fingerprint(Default::default()).to_string();
            if !force {
                return Err(Error::CaExists {
                    application: application.to_string(),
                    fingerprint: fp,
                });
            }
            Some(fp)
        }
        None => None,
    };
    let challenge: [u8; 32] = {
        let mut c = [0u8; 32];
        getrandom::fill(&mut c).map_err(crate::error::randomness)?;
        c
    };
    let req = MakeCredential {
        challenge: challenge.to_vec(),
        client_data_hash: Sha256::digest(challenge).into(),
        rp_id: application.to_string(),
        user_id: OPENSSH_USER_ID.to_vec(),
        user_name: "openssh".into(),
        resident: true,
        cred_protect: if verify_required { 3 } else { 2 },
    };
    let touch = format!(
        "Touch your security key ({}) to create the CA.",
        auth.describe()
    );
    let need_pin = auth.pin_is_set();
    let made = with_pin(auth, ui, &mut pin, need_pin, Some(&touch), |a, p| {
        a.make_credential(&req, p)
    })?;
    let ad = sk::parse_auth_data(&made.auth_data).map_err(bad)?;
    if ad.rp_id_hash.as_slice() != Sha256::digest(application.as_bytes()).as_slice() {
        return Err(bad(FidoError::WrongRp));
    }
    if ad.flags & sk::FLAG_UP == 0 {
        return Err(Error::NoUserPresence { flags: ad.flags });
    }
    let att = ad.attested.ok_or_else(|| bad(FidoError::Truncated))?;
    let attestation = match (made.fmt.as_str(), made.x5c.is_empty()) {
        // Basic attestation: kept whole, with the challenge, for CA.attest (init-ca checks it).
        ("packed", false) => super::Birth::Attested(Container::Fido(FidoEvidence {
            application: application.to_string(),
            challenge: challenge.to_vec(),
            auth_data: made.auth_data.clone(),
            signature: made.att_sig.clone(),
            x5c: made.x5c.clone(),
        })),
        ("packed", true) => {
            sk::verify_self_attestation(
                &made.auth_data,
                &req.client_data_hash,
                &made.att_sig,
                &att.public_point,
            )
            .map_err(bad)?;
            super::Birth::Unattested(
                "the key gave only self attestation (signed by the new key itself), which proves nothing about hardware".into(),
            )
        }
        (fmt, _) => {
            super::Birth::Unattested(format!("the key gave no attestation (format {fmt:?})"))
        }
    };
    let mut key_file_flags = SK_USER_PRESENCE_REQD | SK_RESIDENT_KEY;
    if verify_required {
        key_file_flags |= SK_USER_VERIFICATION_REQD;
    }
    if replaced.is_some() {
        key_file_flags |= SK_FORCE_OPERATION; // what ssh-keygen stores after "Overwrite key in token? y"
    }
    Ok(Enrolled {
        ca: ResidentCa {
            application: application.to_string(),
            credential_id: att.credential_id,
            point: att.public_point,
            cred_protect: req.cred_protect,
            user_id: req.user_id,
        },
        key_file_flags,
        replaced,
        counter: ad.counter,
        attestation,
    })
}

/// The key's signature counter, read by [`holds`].
pub fn probe_counter(
    auth: &mut dyn Authenticator,
    ui: &mut dyn Ui,
    pin: &mut Option<Pin>,
    ca: &ResidentCa,
    require_uv: bool,
) -> Result<u32> {
    holds(auth, ui, pin, ca, require_uv)?.ok_or_else(|| TokenError::NoCredentials.into())
}

/// A CA signer over an authenticator holding the resident credential.
pub struct SkCaSigner<A: Authenticator> {
    auth: A,
    ca: ResidentCa,
    public: PublicKey,
    require_uv: bool,
    pin: Option<Pin>,
    /// Flags and counter of the last signature, for display.
    pub last: Option<(u8, u32)>,
    /// Where the CA public key came from, for error messages.
    pub ca_label: std::path::PathBuf,
}

impl<A: Authenticator> SkCaSigner<A> {
    /// Binds `ca` on `auth`. `require_uv` comes from the key-handle flags or credProtect 3.
    pub fn new(auth: A, ca: ResidentCa, require_uv: bool, pin: Option<Pin>) -> Result<Self> {
        let comment = if auth.is_simulated() { "SIMULATED" } else { "" };
        let public = PublicKey::new(ca.key_data()?, comment);
        Ok(SkCaSigner {
            auth,
            ca,
            public,
            require_uv,
            pin,
            last: None,
            ca_label: std::path::PathBuf::from("(the key's resident CA)"),
        })
    }
}

impl<A: Authenticator> CaSigner for SkCaSigner<A> {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        self.auth.describe()
    }

    fn sign(&mut self, msg: &[u8], ui: &mut dyn Ui) -> Result<Signature> {
        let req = GetAssertion {
            rp_id: self.ca.application.clone(),
            message: msg.to_vec(),
            client_data_hash: Sha256::digest(msg).into(),
            allow_list: vec![self.ca.credential_id.clone()],
            up: true,
        };
        let fp = self.public.fingerprint(Default::default());
        let prompt = format!(
            "Touch your security key ({}) to sign with CA {fp}.",
            self.auth.describe()
        );
        let need_pin = self.require_uv;
        let mut pin = self.pin.take();
        let answer = with_pin(
            &mut self.auth,
            ui,
            &mut pin,
            need_pin,
            Some(&prompt),
            |a, p| a.get_assertion(&req, p),
        );
        self.pin = pin;
        let answer = answer.map_err(|e| match e {
            Error::Token(TokenError::NoCredentials) => Error::CaNotOnToken {
                path: self.ca_label.clone(),
                expected: fp.to_string(),
            },
            other => other,
        })?;
        let sk = sk::assertion_to_ssh(&answer.auth_data, &answer.signature, &self.ca.application)
            .map_err(bad)?;
        self.last = Some((sk.flags, sk.counter));
        if sk.flags & sk::FLAG_UP == 0 {
            return Err(Error::NoUserPresence { flags: sk.flags });
        }
        if self.require_uv && sk.flags & sk::FLAG_UV == 0 {
            return Err(Error::NoUserVerification { flags: sk.flags });
        }
        // A signature that does not verify would make a certificate sshd refuses: catch it here.
        use signature::Verifier;
        self.public
            .key_data()
            .verify(msg, &sk.signature)
            .map_err(|_| bad(FidoError::BadSignature))?;
        Ok(sk.signature)
    }
}
