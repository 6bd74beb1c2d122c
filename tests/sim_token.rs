//! The simulated key behaves like a CTAP2 authenticator (REFERENCE.md §5), and the CA signer
//! above it refuses answers a genuine key would never give.

use breakglass::token::ctap::*;
use breakglass::token::sim::SimToken;
use breakglass::token::sk_ca::{self, SkCaSigner};
use breakglass::token::{CaSigner, TokenError};
use breakglass::ui::ScriptedUi;
use breakglass::{ssh::sk, Error};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

fn mc(user: &[u8], protect: u8) -> MakeCredential {
    MakeCredential {
        challenge: b"challenge".to_vec(),
        client_data_hash: Sha256::digest(b"challenge").into(),
        rp_id: "ssh:".into(),
        user_id: user.to_vec(),
        user_name: "openssh".into(),
        resident: true,
        cred_protect: protect,
    }
}

fn ga(id: &[u8], up: bool) -> GetAssertion {
    GetAssertion {
        rp_id: "ssh:".into(),
        message: b"msg".to_vec(),
        client_data_hash: Sha256::digest(b"msg").into(),
        allow_list: vec![id.to_vec()],
        up,
    }
}

#[test]
fn counter_persists_and_credentials_replace_per_rp_and_user() {
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    let a = t.make_credential(&mc(&[0; 32], 2), None).unwrap();
    let ad = sk::parse_auth_data(&a.auth_data).unwrap();
    assert_eq!(ad.flags, sk::FLAG_UP | sk::FLAG_AT | sk::FLAG_ED);
    let id1 = ad.attested.unwrap().credential_id;
    let s1 = t.get_assertion(&ga(&id1, true), None).unwrap();
    let c1 = sk::parse_auth_data(&s1.auth_data).unwrap().counter;
    // A new process sees the same key and a higher counter.
    let mut t2 = SimToken::open(d.path()).unwrap();
    let s2 = t2.get_assertion(&ga(&id1, true), None).unwrap();
    assert!(sk::parse_auth_data(&s2.auth_data).unwrap().counter > c1);
    // Same rp and user id: the old credential is gone.
    let b = t2.make_credential(&mc(&[0; 32], 2), None).unwrap();
    let id2 = sk::parse_auth_data(&b.auth_data)
        .unwrap()
        .attested
        .unwrap()
        .credential_id;
    assert_eq!(
        t2.get_assertion(&ga(&id1, true), None).unwrap_err(),
        TokenError::NoCredentials
    );
    assert!(t2.get_assertion(&ga(&id2, true), None).is_ok());
    // Another user id: both stay.
    t2.make_credential(&mc(b"other", 2), None).unwrap();
    assert_eq!(t2.credentials("ssh:", None).unwrap().len(), 2);
    // state file is 0600
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(breakglass::token::sim::state_file(d.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn up_flag_only_when_touched_and_cred_protect_hides_credentials() {
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    t.set_pin(None, &Zeroizing::new("123456".to_string()))
        .unwrap();
    let pin = Zeroizing::new("123456".to_string());
    let a = t.make_credential(&mc(&[0; 32], 3), Some(&pin)).unwrap();
    let ad = sk::parse_auth_data(&a.auth_data).unwrap();
    assert_eq!(ad.flags & sk::FLAG_UV, sk::FLAG_UV);
    let id = ad.attested.unwrap().credential_id;
    // credProtect 3 without UV: as if absent.
    assert_eq!(
        t.get_assertion(&ga(&id, true), None).unwrap_err(),
        TokenError::NoCredentials
    );
    let s = t.get_assertion(&ga(&id, false), Some(&pin)).unwrap();
    let f = sk::parse_auth_data(&s.auth_data).unwrap().flags;
    assert_eq!(f & sk::FLAG_UP, 0, "up=false must not set UP");
    assert_eq!(f & sk::FLAG_UV, sk::FLAG_UV);
    // makeCredential on a key with a PIN needs the PIN.
    assert_eq!(
        t.make_credential(&mc(b"x", 2), None).unwrap_err(),
        TokenError::PinRequired
    );
}

#[test]
fn pin_retry_rules_follow_ctap() {
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    let good = Zeroizing::new("correct horse".to_string());
    let bad = Zeroizing::new("wrong".to_string());
    assert_eq!(
        t.set_pin(None, &Zeroizing::new("123".into())).unwrap_err(),
        TokenError::PinPolicy
    );
    t.set_pin(None, &good).unwrap();
    assert_eq!(
        t.credentials("ssh:", Some(&bad)).unwrap_err(),
        TokenError::PinInvalid { tries_left: 7 }
    );
    assert_eq!(
        t.credentials("ssh:", Some(&bad)).unwrap_err(),
        TokenError::PinInvalid { tries_left: 6 }
    );
    assert_eq!(
        t.credentials("ssh:", Some(&bad)).unwrap_err(),
        TokenError::PinAuthBlocked { simulated: true }
    );
    assert_eq!(
        t.credentials("ssh:", Some(&good)).unwrap_err(),
        TokenError::PinAuthBlocked { simulated: true }
    );
    assert_eq!(t.pin_retries().unwrap(), Some(5));
    t.replug().unwrap();
    // Right PIN: counter back to 8 (no credentials yet, so NO_CREDENTIALS after the PIN check).
    assert_eq!(
        t.credentials("ssh:", Some(&good)).unwrap_err(),
        TokenError::NoCredentials
    );
    assert_eq!(t.pin_retries().unwrap(), Some(8));
    for i in 0..8u8 {
        if i % 3 == 0 {
            t.replug().unwrap();
        }
        let e = t.credentials("ssh:", Some(&bad)).unwrap_err();
        if i == 7 {
            assert_eq!(e, TokenError::PinBlocked);
        }
    }
    t.replug().unwrap();
    assert_eq!(
        t.credentials("ssh:", Some(&good)).unwrap_err(),
        TokenError::PinBlocked
    );
    assert_eq!(t.pin_retries().unwrap(), Some(0));
    // Changing the PIN needs the current one.
    let d2 = tempfile::tempdir().unwrap();
    let mut t2 = SimToken::open(d2.path()).unwrap();
    t2.set_pin(None, &good).unwrap();
    assert_eq!(t2.set_pin(None, &bad).unwrap_err(), TokenError::PinRequired);
    t2.set_pin(Some(&good), &Zeroizing::new("new pin 1".into()))
        .unwrap();
}

/// An authenticator that drops user presence from its answers (a broken or hostile key).
struct NoTouch(SimToken);

impl Authenticator for NoTouch {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn is_simulated(&self) -> bool {
        true
    }
    fn pin_is_set(&self) -> bool {
        self.0.pin_is_set()
    }
    fn pin_retries(&mut self) -> Result<Option<u8>, TokenError> {
        self.0.pin_retries()
    }
    fn make_credential(
        &mut self,
        r: &MakeCredential,
        p: Option<&Pin>,
    ) -> Result<MadeCredential, TokenError> {
        self.0.make_credential(r, p)
    }
    fn get_assertion(
        &mut self,
        r: &GetAssertion,
        p: Option<&Pin>,
    ) -> Result<Assertion, TokenError> {
        let mut r = r.clone();
        r.up = false;
        self.0.get_assertion(&r, p)
    }
    fn credentials(
        &mut self,
        rp: &str,
        p: Option<&Pin>,
    ) -> Result<Vec<ResidentCredential>, TokenError> {
        self.0.credentials(rp, p)
    }
    fn resident_applications(&mut self, p: Option<&Pin>) -> Result<Vec<String>, TokenError> {
        self.0.resident_applications(p)
    }
}

#[test]
fn a_ca_signature_without_user_presence_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    let mut ui = ScriptedUi::default();
    let enrolled = sk_ca::enroll(&mut t, &mut ui, "ssh:", false, false).unwrap();
    // The genuine path signs and the signature verifies with UP set.
    let mut good = SkCaSigner::new(
        SimToken::open(d.path()).unwrap(),
        enrolled.ca.clone(),
        false,
        None,
    )
    .unwrap();
    let sig = good.sign(b"to be signed", &mut ui).unwrap();
    assert_eq!(
        sk::sk_flags_counter(&sig).unwrap().0 & sk::FLAG_UP,
        sk::FLAG_UP
    );
    assert!(ui
        .shown
        .iter()
        .any(|s| s.starts_with("touch: Touch your security key")));
    let mut rogue = SkCaSigner::new(
        NoTouch(SimToken::open(d.path()).unwrap()),
        enrolled.ca,
        false,
        None,
    )
    .unwrap();
    match rogue.sign(b"to be signed", &mut ui) {
        Err(Error::NoUserPresence { flags: 0 }) => {}
        other => panic!("expected NoUserPresence, got {other:?}"),
    }
}

#[test]
fn a_corrupt_state_file_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(breakglass::token::sim::state_file(d.path()), "{not json").unwrap();
    match SimToken::open(d.path()) {
        Err(TokenError::SimState { reason, .. }) => {
            assert!(reason.contains("does not parse"), "{reason}")
        }
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => panic!("opened a corrupt state"),
    }
}

#[test]
fn an_assertion_writes_only_the_counter_and_the_counter_never_goes_back() {
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    let a = t.make_credential(&mc(&[0; 32], 2), None).unwrap();
    let id = sk::parse_auth_data(&a.auth_data)
        .unwrap()
        .attested
        .unwrap()
        .credential_id;
    let state = breakglass::token::sim::state_file(d.path());
    let json_before = std::fs::read(&state).unwrap();
    let counter = |t: &mut SimToken| {
        let s = t.get_assertion(&ga(&id, false), None).unwrap();
        sk::parse_auth_data(&s.auth_data).unwrap().counter
    };
    let c1 = counter(&mut t);
    let c2 = counter(&mut SimToken::open(d.path()).unwrap());
    assert_eq!(c2, c1 + 1);
    // token.json was not rewritten: the counter went to its own file, in place.
    assert_eq!(std::fs::read(&state).unwrap(), json_before);
    let file = d.path().join(breakglass::token::sim_counter::FILE);
    assert_eq!(breakglass::token::sim_counter::read(d.path()), Some(c2));
    assert_eq!(t.status().unwrap().counter, c2);
    // A change beyond the counter (a PIN) rewrites token.json, counter included.
    t.set_pin(None, &Zeroizing::new("4321".to_string()))
        .unwrap();
    assert_ne!(std::fs::read(&state).unwrap(), json_before);
    // Even without the counter file, the key never signs with a counter it used before.
    std::fs::remove_file(&file).unwrap();
    let pin = Zeroizing::new("4321".to_string());
    let s = t.get_assertion(&ga(&id, false), Some(&pin)).unwrap();
    assert!(sk::parse_auth_data(&s.auth_data).unwrap().counter > c2);
}

#[test]
fn a_silent_assertion_without_its_own_barrier_still_moves_the_counter_for_everyone() {
    // The CLI's key defers the barrier of a silent assertion to the signature that follows (one
    // counter barrier per mint); the value is written at once all the same: another process
    // sees it, and neither the signature nor a later opener ever repeats it.
    let d = tempfile::tempdir().unwrap();
    let mut t = SimToken::open(d.path()).unwrap();
    let a = t.make_credential(&mc(&[0; 32], 2), None).unwrap();
    let id = sk::parse_auth_data(&a.auth_data)
        .unwrap()
        .attested
        .unwrap()
        .credential_id;
    let counter_of = |s: Assertion| sk::parse_auth_data(&s.auth_data).unwrap().counter;
    // A first silent assertion creates the counter file (atomically); the next ones write in place.
    t.get_assertion(&ga(&id, false), None).unwrap();
    t.defer_silent_counter();
    let silent = counter_of(t.get_assertion(&ga(&id, false), None).unwrap());
    assert_eq!(breakglass::token::sim_counter::read(d.path()), Some(silent));
    let other = counter_of(
        SimToken::open(d.path())
            .unwrap()
            .get_assertion(&ga(&id, false), None)
            .unwrap(),
    );
    assert_eq!(other, silent + 1);
    t.persist().unwrap();
    let signed = counter_of(t.get_assertion(&ga(&id, true), None).unwrap());
    assert_eq!(signed, other + 1);
    assert_eq!(breakglass::token::sim_counter::read(d.path()), Some(signed));
}

/// An authenticator that answers makeCredential with format "none" (no attestation statement),
/// as a key with enterprise attestation off or a privacy-minded one may.
struct NoAttestation(SimToken);

impl Authenticator for NoAttestation {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn is_simulated(&self) -> bool {
        true
    }
    fn pin_is_set(&self) -> bool {
        self.0.pin_is_set()
    }
    fn pin_retries(&mut self) -> Result<Option<u8>, TokenError> {
        self.0.pin_retries()
    }
    fn make_credential(
        &mut self,
        r: &MakeCredential,
        p: Option<&Pin>,
    ) -> Result<MadeCredential, TokenError> {
        let mut m = self.0.make_credential(r, p)?;
        m.fmt = "none".into();
        m.att_sig.clear();
        m.x5c.clear();
        Ok(m)
    }
    fn get_assertion(
        &mut self,
        r: &GetAssertion,
        p: Option<&Pin>,
    ) -> Result<Assertion, TokenError> {
        self.0.get_assertion(r, p)
    }
    fn credentials(
        &mut self,
        rp: &str,
        p: Option<&Pin>,
    ) -> Result<Vec<ResidentCredential>, TokenError> {
        self.0.credentials(rp, p)
    }
    fn resident_applications(&mut self, p: Option<&Pin>) -> Result<Vec<String>, TokenError> {
        self.0.resident_applications(p)
    }
}

#[test]
fn enrolment_keeps_the_attestation_with_its_challenge_or_says_why_there_is_none() {
    use breakglass::attest::{capture, Container};
    use breakglass::token::Birth;
    let d = tempfile::tempdir().unwrap();
    let mut ui = ScriptedUi::default();
    let mut t = SimToken::open(d.path()).unwrap();
    let e = sk_ca::enroll(&mut t, &mut ui, "ssh:", false, false).unwrap();
    let Birth::Attested(Container::Fido(f)) = &e.attestation else {
        panic!("the simulated key attests: {:?}", e.attestation)
    };
    assert_eq!(f.application, "ssh:");
    assert_eq!(f.challenge.len(), 32);
    assert_eq!(f.x5c.len(), 1);
    let ca = ssh_key::PublicKey::from(e.ca.key_data().unwrap());
    let c = capture::inspect(&ca, &Container::Fido(f.clone())).unwrap();
    assert_eq!(c.vendor, "breakglass SIMULATED");
    assert!(!c.vendor_root);
    // The same evidence does not hold for another key, nor with another challenge.
    let mut other = f.clone();
    other.challenge[0] ^= 1;
    assert!(capture::inspect(&ca, &Container::Fido(other)).is_err());

    let d = tempfile::tempdir().unwrap();
    let mut t = NoAttestation(SimToken::open(d.path()).unwrap());
    let e = sk_ca::enroll(&mut t, &mut ui, "ssh:", false, false).unwrap();
    match e.attestation {
        Birth::Unattested(why) => assert_eq!(why, "the key gave no attestation (format \"none\")"),
        other => panic!("{other:?}"),
    }
}
