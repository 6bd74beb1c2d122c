//! The CTAP2 operations an SSH CA needs (REFERENCE.md §5), as a trait. The simulated key answers
//! them in software; the hardware backend forwards them to a real authenticator.

use zeroize::Zeroizing;

use super::TokenError;

/// authenticatorMakeCredential, as OpenSSH's `sk_enroll` shapes it.
#[derive(Debug, Clone)]
pub struct MakeCredential {
    /// The random challenge; clientDataHash = SHA-256(challenge), as OpenSSH sends it.
    pub challenge: Vec<u8>,
    /// SHA-256 of `challenge`.
    pub client_data_hash: [u8; 32],
    /// rp id = the SSH application (`ssh:` or `ssh:NAME`).
    pub rp_id: String,
    /// user.id (OpenSSH: 32 zero bytes).
    pub user_id: Vec<u8>,
    /// user.name and user.displayName (OpenSSH: `openssh`).
    pub user_name: String,
    /// Resident (discoverable) credential.
    pub resident: bool,
    /// credProtect level: 2 for resident, 3 for verify-required.
    pub cred_protect: u8,
}

/// What makeCredential returns: the authenticator data and the attestation statement.
#[derive(Debug, Clone)]
pub struct MadeCredential {
    /// authenticatorData with attested credential data.
    pub auth_data: Vec<u8>,
    /// Attestation format, `packed` or `none`.
    pub fmt: String,
    /// attStmt.sig: the attestation signature (DER) over `authData ‖ clientDataHash`, empty for
    /// `none`.
    pub att_sig: Vec<u8>,
    /// attStmt.x5c: the attestation certificate first (DER); empty for self attestation
    /// (`sig` by the new credential's own key) and for `none`.
    pub x5c: Vec<Vec<u8>>,
}

/// authenticatorGetAssertion.
#[derive(Debug, Clone)]
pub struct GetAssertion {
    /// rp id = application.
    pub rp_id: String,
    /// The raw data to sign (hardware clients hash it themselves).
    pub message: Vec<u8>,
    /// SHA-256 of `message`.
    pub client_data_hash: [u8; 32],
    /// Credential ids to try (empty: discoverable credentials).
    pub allow_list: Vec<Vec<u8>>,
    /// Ask for user presence (touch).
    pub up: bool,
}

/// What getAssertion returns.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// The credential that signed.
    pub credential_id: Vec<u8>,
    /// authenticatorData (37 bytes when no extensions).
    pub auth_data: Vec<u8>,
    /// DER ECDSA over authData ‖ clientDataHash.
    pub signature: Vec<u8>,
}

/// A resident credential as credentialManagement lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentCredential {
    /// rp id.
    pub rp_id: String,
    /// Credential id (key handle).
    pub credential_id: Vec<u8>,
    /// user.id.
    pub user_id: Vec<u8>,
    /// COSE_Key of the credential.
    pub cose_public_key: Vec<u8>,
    /// credProtect level (1–3).
    pub cred_protect: u8,
}

/// PIN retries of a fresh FIDO2 key (CTAP 2.1 §6.5.2.1: 8).
pub const PIN_RETRIES_MAX: u8 = 8;

/// A PIN, held in a zeroizing buffer.
pub type Pin = Zeroizing<String>;

/// The subset of CTAP2 an SSH CA needs.
pub trait Authenticator {
    /// One line naming the device.
    fn describe(&self) -> String;
    /// True for the simulated key (its CAs are labelled SIMULATED).
    fn is_simulated(&self) -> bool;
    /// Whether a PIN is set (getInfo option `clientPin`).
    fn pin_is_set(&self) -> bool;
    /// PIN retries left (clientPIN getPINRetries), `None` when no PIN is set.
    fn pin_retries(&mut self) -> Result<Option<u8>, TokenError>;
    /// makeCredential; `pin` is sent as pinUvAuthParam when given.
    fn make_credential(
        &mut self,
        req: &MakeCredential,
        pin: Option<&Pin>,
    ) -> Result<MadeCredential, TokenError>;
    /// getAssertion; with `pin` the answer carries UV.
    fn get_assertion(
        &mut self,
        req: &GetAssertion,
        pin: Option<&Pin>,
    ) -> Result<Assertion, TokenError>;
    /// credentialManagement enumerateCredentials for one rp id.
    fn credentials(
        &mut self,
        rp_id: &str,
        pin: Option<&Pin>,
    ) -> Result<Vec<ResidentCredential>, TokenError>;
    /// credentialManagement enumerateRPs: the rp ids (applications) of the resident
    /// credentials, as `ssh-keygen -K` finds them all.
    fn resident_applications(&mut self, pin: Option<&Pin>) -> Result<Vec<String>, TokenError>;
    /// Makes every signature counter this authenticator has returned durable, before the caller
    /// records or shows one (not CTAP: the simulated key may defer the barrier of a silent
    /// assertion, see `SimToken::defer_silent_counter`; a real key keeps its own counter).
    fn persist(&mut self) -> Result<(), TokenError> {
        Ok(())
    }
}

impl<T: Authenticator + ?Sized> Authenticator for Box<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn is_simulated(&self) -> bool {
        (**self).is_simulated()
    }
    fn pin_is_set(&self) -> bool {
        (**self).pin_is_set()
    }
    fn pin_retries(&mut self) -> Result<Option<u8>, TokenError> {
        (**self).pin_retries()
    }
    fn make_credential(
        &mut self,
        req: &MakeCredential,
        pin: Option<&Pin>,
    ) -> Result<MadeCredential, TokenError> {
        (**self).make_credential(req, pin)
    }
    fn get_assertion(
        &mut self,
        req: &GetAssertion,
        pin: Option<&Pin>,
    ) -> Result<Assertion, TokenError> {
        (**self).get_assertion(req, pin)
    }
    fn credentials(
        &mut self,
        rp_id: &str,
        pin: Option<&Pin>,
    ) -> Result<Vec<ResidentCredential>, TokenError> {
        (**self).credentials(rp_id, pin)
    }
    fn resident_applications(&mut self, pin: Option<&Pin>) -> Result<Vec<String>, TokenError> {
        (**self).resident_applications(pin)
    }
    fn persist(&mut self) -> Result<(), TokenError> {
        (**self).persist()
    }
}
