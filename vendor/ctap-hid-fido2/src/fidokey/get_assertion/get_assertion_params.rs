use crate::auth_data::Flags;
use crate::crypto::digest;
use crate::public_key_credential_user_entity::PublicKeyCredentialUserEntity;
use crate::str_buf::StrBuf;
use std::convert::TryFrom;
use std::fmt;
use strum_macros::AsRefStr;

/// Assertion Object
#[derive(Debug, Default, Clone)]
pub struct Assertion {
    pub rpid_hash: Vec<u8>,
    pub flags: Flags,
    pub sign_count: u32,
    pub number_of_credentials: i32,
    pub signature: Vec<u8>,
    pub user: PublicKeyCredentialUserEntity,
    pub credential_id: Vec<u8>,
    pub extensions: Vec<Extension>,
    // row - audh_data
    pub auth_data: Vec<u8>,
    pub user_selected: bool,
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut strbuf = StrBuf::new(42);
        strbuf
            .appenh("- rpid_hash", &self.rpid_hash)
            .append("- sign_count", &self.sign_count)
            .add(&format!("{}", self.flags))
            .append("- number_of_credentials", &self.number_of_credentials)
            .appenh("- signature", &self.signature)
            .append("- user", &self.user)
            .appenh("- credential_id", &self.credential_id);

        for e in &self.extensions {
            if let Extension::HmacSecret(Some(output1_enc)) = e {
                let tmp = format!("- {}", Extension::HmacSecret(None));
                strbuf.appenh(&tmp, output1_enc.as_ref());
            }
        }

        write!(f, "{}", strbuf.build())
    }
}

#[derive(Debug, Clone, strum_macros::Display, AsRefStr)]
pub enum Extension {
    #[strum(serialize = "hmac-secret")]
    HmacSecret(Option<[u8; 32]>),
    #[strum(serialize = "hmac-secret")]
    HmacSecret2(Option<([u8; 32], [u8; 32])>),
    #[strum(serialize = "largeBlobKey")]
    LargeBlobKey((Option<bool>, Option<Vec<u8>>)),
    #[strum(serialize = "credBlob")]
    CredBlob((Option<bool>, Option<Vec<u8>>)),
}

impl Extension {
    pub fn create_hmac_secret_from_string(message: &str) -> Extension {
        let hasher = digest::digest(&digest::SHA256, message.as_bytes());
        Extension::HmacSecret(Some(<[u8; 32]>::try_from(hasher.as_ref()).unwrap()))
    }

    pub fn create_hmac_secret_2_from_string(message1: &str, message2: &str) -> Extension {
        let hasher1 = digest::digest(&digest::SHA256, message1.as_bytes());
        let salt1 = <[u8; 32]>::try_from(hasher1.as_ref()).unwrap();

        let hasher2 = digest::digest(&digest::SHA256, message2.as_bytes());
        let salt2 = <[u8; 32]>::try_from(hasher2.as_ref()).unwrap();

        Extension::HmacSecret2(Some((salt1, salt2)))
    }
}

#[derive(Debug)]
pub struct GetAssertionArgs<'a> {
    pub rpid: String,
    pub challenge: Vec<u8>,
    pub pin: Option<&'a str>,
    pub credential_ids: Vec<Vec<u8>>,
    pub up: bool,
    pub uv: Option<bool>,
    pub extensions: Option<Vec<Extension>>,
}
impl<'a> Default for GetAssertionArgs<'a> {
    fn default() -> Self {
        Self {
            rpid: String::new(),
            challenge: Vec::new(),
            pin: None,
            credential_ids: Vec::new(),
            up: true,
            uv: Some(true),
            extensions: None,
        }
    }
}
impl<'a> GetAssertionArgs<'a> {
    pub fn builder() -> GetAssertionArgsBuilder<'a> {
        GetAssertionArgsBuilder::new("", b"")
    }
}

#[derive(Default)]
pub struct GetAssertionArgsBuilder<'a> {
    inner: GetAssertionArgs<'a>,
}
impl<'a> GetAssertionArgsBuilder<'a> {
    pub fn new(rpid: &str, challenge: &[u8]) -> GetAssertionArgsBuilder<'a> {
        let inner = GetAssertionArgs {
            rpid: String::from(rpid),
            challenge: challenge.to_vec(),
            ..Default::default()
        };
        GetAssertionArgsBuilder { inner }
    }

    pub fn pin(mut self, pin: &'a str) -> GetAssertionArgsBuilder<'a> {
        self.inner.pin = Some(pin);
        //self.inner.uv = Some(false);
        self.inner.uv = None;
        self
    }

    pub fn without_pin_and_uv(mut self) -> GetAssertionArgsBuilder<'a> {
        self.inner.pin = None;
        self.inner.uv = None;
        self
    }

    pub fn without_up(mut self) -> GetAssertionArgsBuilder<'a> {
        self.inner.up = false;
        self
    }

    pub fn extensions(mut self, extensions: &[Extension]) -> GetAssertionArgsBuilder<'a> {
        self.inner.extensions = Some(extensions.to_vec());
        self
    }

    pub fn credential_id(mut self, credential_id: &[u8]) -> GetAssertionArgsBuilder<'a> {
        self.inner.credential_ids.clear();
        self.add_credential_id(credential_id)
    }

    pub fn add_credential_id(mut self, credential_id: &[u8]) -> GetAssertionArgsBuilder<'a> {
        self.inner.credential_ids.push(credential_id.to_vec());
        self
    }

    pub fn build(self) -> GetAssertionArgs<'a> {
        self.inner
    }
}
