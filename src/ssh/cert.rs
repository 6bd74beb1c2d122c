//! A mint request's fields to an OpenSSH user certificate (`PROTOCOL.certkeys`), signed by a
//! [`CaSigner`]. ssh-key's builder does the encoding; the token signs the to-be-signed bytes.

use std::cell::RefCell;

use ssh_key::certificate::{Builder, CertType, Certificate};
use ssh_key::public::KeyData;
use ssh_key::Signature;

use crate::ssh::cert_options::CertOptions;
use crate::ssh::key_id::KeyId;
use crate::ssh::principals::Principals;
use crate::ssh::validity::Validity;
use crate::token::CaSigner;
use crate::ui::Ui;
use crate::{Error, Result};

/// Everything that goes into a user certificate besides the keys.
#[derive(Debug, Clone)]
pub struct CertFields {
    /// Serial (`-z`).
    pub serial: u64,
    /// Key id (`-I`), through the one key-id rule.
    pub key_id: KeyId,
    /// Principals (`-n`), in order.
    pub principals: Principals,
    /// Validity interval.
    pub validity: Validity,
    /// Critical options and extensions.
    pub options: CertOptions,
    /// Comment of the `-cert.pub` line (the certified key's comment).
    pub comment: String,
    /// A host certificate (`ssh-keygen -h`) instead of a user certificate.
    pub host: bool,
}

/// Bridges our `CaSigner` (mutable, prompts through `Ui`) to ssh-key's `Signer` (immutable).
struct TokenSigner<'a> {
    signer: RefCell<&'a mut dyn CaSigner>,
    ui: RefCell<&'a mut dyn Ui>,
    error: RefCell<Option<Error>>,
    public: KeyData,
}

impl signature::Signer<Signature> for TokenSigner<'_> {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Signature, signature::Error> {
        let mut signer = self.signer.borrow_mut();
        let mut ui = self.ui.borrow_mut();
        signer.sign(msg, &mut **ui).map_err(|e| {
            *self.error.borrow_mut() = Some(e);
            signature::Error::new()
        })
    }
}

impl From<&TokenSigner<'_>> for KeyData {
    fn from(s: &TokenSigner<'_>) -> KeyData {
        s.public.clone()
    }
}

/// Builds the user (or host) certificate for `subject` and has `signer` sign it (one touch).
pub fn issue(
    subject: &KeyData,
    fields: &CertFields,
    signer: &mut dyn CaSigner,
    ui: &mut dyn Ui,
) -> Result<Certificate> {
    let mut nonce = [0u8; 32]; // ssh-keygen uses 32 random bytes
    getrandom::fill(&mut nonce).map_err(crate::error::randomness)?;
    let mut b = Builder::new(
        nonce.to_vec(),
        subject.clone(),
        fields.validity.valid_after,
        fields.validity.valid_before,
    )?;
    b.serial(fields.serial)?;
    b.cert_type(if fields.host {
        CertType::Host
    } else {
        CertType::User
    })?;
    b.key_id(fields.key_id.as_str())?;
    for p in fields.principals.iter() {
        b.valid_principal(p.clone())?;
    }
    for (name, data) in &fields.options.critical {
        b.critical_option(name.clone(), data.clone())?;
    }
    for (name, data) in &fields.options.extensions {
        b.extension(name.clone(), data.clone())?;
    }
    b.comment(fields.comment.clone())?;
    let public = signer.public_key().key_data().clone();
    let adapter = TokenSigner {
        signer: RefCell::new(signer),
        ui: RefCell::new(ui),
        error: RefCell::new(None),
        public,
    };
    match b.sign(&adapter) {
        Ok(cert) => Ok(cert),
        Err(e) => match adapter.error.into_inner() {
            Some(token_error) => Err(token_error),
            None => Err(e.into()),
        },
    }
}
