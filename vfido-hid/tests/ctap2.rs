//! The CTAP2 authenticator on the host, driven the way a platform (libfido2, ctap-hid-fido2)
//! drives it: CBOR requests, ECDH key agreement, encrypted PINs, pinUvAuthParam. No /dev/uhid.

use std::path::Path;

use breakglass::attest::container::{Container, FidoEvidence};
use breakglass::attest::testing;
use breakglass::attest::{
    AttestError, Expect, FirmwareSource, FirmwareVersion, Policy, TrustStore,
};
use breakglass::ssh::sk;
use breakglass::token::sim::{SimToken, Touch};
use sha2::{Digest, Sha256};
use vfido_hid::cbor::{
    self, as_array, as_bytes, as_int, bytes, int, text, CtapStatus, Params, Value,
};
use vfido_hid::ctap2::{Authenticator, Timing};
use vfido_hid::ctaphid::{Ctap2, Step, TouchOutcome};
use vfido_hid::pin_protocol::{authenticate, KeyAgreement, Protocol, SharedSecret};

const PIN: &str = "4711-pin";

fn key(dir: &Path) -> Authenticator {
    Authenticator::new(
        SimToken::open(dir).unwrap(),
        Touch::Approve,
        Timing::default(),
    )
    .unwrap()
}

fn request(command: u8, params: Option<Value>) -> Vec<u8> {
    let mut r = vec![command];
    if let Some(p) = params {
        r.extend_from_slice(&cbor::encode(p));
    }
    r
}

/// Sends a request; a touch, when asked for, is given.
fn call(k: &mut Authenticator, command: u8, params: Option<Value>) -> (CtapStatus, Option<Params>) {
    let resp = match k.begin(&request(command, params)) {
        Step::Done(r) => r,
        Step::NeedsTouch(d) => k.finish(d, TouchOutcome::Touched),
    };
    let body = (resp.len() > 1).then(|| Params::parse(&resp[1..]).unwrap());
    (CtapStatus::from(resp[0]), body)
}

fn map(entries: Vec<(Value, Value)>) -> Value {
    Value::Map(entries)
}

fn protocol_number(p: Protocol) -> i64 {
    match p {
        Protocol::One => 1,
        Protocol::Two => 2,
    }
}

/// getKeyAgreement, then the platform's half of the ECDH.
fn agree(k: &mut Authenticator, p: Protocol) -> (KeyAgreement, SharedSecret) {
    let (st, body) = call(
        k,
        0x06,
        Some(map(vec![
            (int(1), int(protocol_number(p))),
            (int(2), int(2)),
        ])),
    );
    assert_eq!(st, CtapStatus::Ok);
    let platform = KeyAgreement::generate();
    let shared = platform
        .shared_secret(p, body.unwrap().get(1).unwrap())
        .unwrap();
    (platform, shared)
}

fn set_pin(k: &mut Authenticator, p: Protocol, pin: &str) -> CtapStatus {
    let (platform, shared) = agree(k, p);
    let mut padded = pin.as_bytes().to_vec();
    padded.resize(64, 0);
    let enc = shared.encrypt(&padded);
    let param = shared.authenticate(&enc);
    call(
        k,
        0x06,
        Some(map(vec![
            (int(1), int(protocol_number(p))),
            (int(2), int(3)),
            (int(3), platform.cose()),
            (int(4), bytes(&param)),
            (int(5), bytes(&enc)),
        ])),
    )
    .0
}

/// getPinToken (permissions None) or getPinUvAuthTokenUsingPinWithPermissions.
fn pin_token(
    k: &mut Authenticator,
    p: Protocol,
    pin: &str,
    permissions: Option<u8>,
    rp_id: Option<&str>,
) -> Result<Vec<u8>, CtapStatus> {
    let (platform, shared) = agree(k, p);
    let hash_enc = shared.encrypt(&Sha256::digest(pin.as_bytes())[..16]);
    let mut m = vec![
        (int(1), int(protocol_number(p))),
        (int(2), int(if permissions.is_some() { 9 } else { 5 })),
        (int(3), platform.cose()),
        (int(6), bytes(&hash_enc)),
    ];
    if let Some(perm) = permissions {
        m.push((int(9), int(perm.into())));
    }
    if let Some(rp) = rp_id {
        m.push((int(10), text(rp)));
    }
    let (st, body) = call(k, 0x06, Some(map(m)));
    if st != CtapStatus::Ok {
        return Err(st);
    }
    let enc = body.unwrap().get(2).cloned().unwrap();
    Ok(shared.decrypt(as_bytes(&enc).unwrap()).unwrap().to_vec())
}

fn retries(k: &mut Authenticator) -> i128 {
    let (st, body) = call(k, 0x06, Some(map(vec![(int(1), int(1)), (int(2), int(1))])));
    assert_eq!(st, CtapStatus::Ok);
    as_int(body.unwrap().get(3).unwrap()).unwrap()
}

fn make_credential_params(cdh: &[u8; 32], rp: &str, auth: Option<(Protocol, &[u8])>) -> Value {
    let mut m = vec![
        (int(1), bytes(cdh)),
        (int(2), map(vec![(text("id"), text(rp))])),
        (
            int(3),
            map(vec![
                (text("id"), bytes(&[0; 32])),
                (text("name"), text("openssh")),
            ]),
        ),
        (
            int(4),
            Value::Array(vec![map(vec![
                (text("alg"), int(-7)),
                (text("type"), text("public-key")),
            ])]),
        ),
        (int(6), map(vec![(text("credProtect"), int(2))])),
        (int(7), map(vec![(text("rk"), Value::Bool(true))])),
    ];
    if let Some((p, token)) = auth {
        m.push((int(8), bytes(&authenticate(p, token, cdh))));
        m.push((int(9), int(protocol_number(p))));
    }
    map(m)
}

/// The one P-256 SubjectPublicKeyInfo in a DER certificate (the subject's key), as a point.
fn p256_point_in_cert(der: &[u8]) -> Option<[u8; 65]> {
    const SPKI_P256: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let at = der.windows(SPKI_P256.len()).position(|w| w == SPKI_P256)? + SPKI_P256.len();
    der.get(at..at + 65)?.try_into().ok()
}

fn info_option(k: &mut Authenticator, name: &str) -> Option<bool> {
    let (st, body) = call(k, 0x04, None);
    assert_eq!(st, CtapStatus::Ok);
    let body = body.unwrap();
    let opts = Params::from_map(body.get(4).unwrap()).unwrap();
    opts.get_text(name).map(|v| cbor::as_bool(v).unwrap())
}

#[test]
fn get_info_names_ctap_2_1_both_pin_protocols_and_whether_a_pin_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    let (st, body) = call(&mut k, 0x04, None);
    assert_eq!(st, CtapStatus::Ok);
    let body = body.unwrap();
    assert_eq!(
        body.get(1).unwrap(),
        &Value::Array(vec![text("FIDO_2_0"), text("FIDO_2_1")])
    );
    assert_eq!(body.get(6).unwrap(), &Value::Array(vec![int(2), int(1)]));
    assert_eq!(info_option(&mut k, "clientPin"), Some(false));
    assert_eq!(info_option(&mut k, "credMgmt"), Some(true));
    assert_eq!(info_option(&mut k, "rk"), Some(true));
    assert_eq!(set_pin(&mut k, Protocol::Two, PIN), CtapStatus::Ok);
    assert_eq!(info_option(&mut k, "clientPin"), Some(true));
    assert_eq!(
        set_pin(&mut k, Protocol::One, "other-pin"),
        CtapStatus::NotAllowed,
        "a PIN is already set"
    );
}

#[test]
fn a_pin_token_from_either_protocol_makes_a_resident_credential_that_verifies() {
    for p in [Protocol::One, Protocol::Two] {
        let dir = tempfile::tempdir().unwrap();
        let mut k = key(dir.path());
        assert_eq!(set_pin(&mut k, p, PIN), CtapStatus::Ok);
        let cdh: [u8; 32] = Sha256::digest(b"challenge").into();
        let (st, _) = call(
            &mut k,
            0x01,
            Some(make_credential_params(&cdh, "ssh:", None)),
        );
        assert_eq!(
            st,
            CtapStatus::PinRequired,
            "with a PIN set, makeCredential needs pinUvAuthParam"
        );
        let token = pin_token(&mut k, p, PIN, None, None).unwrap();
        let (st, body) = call(
            &mut k,
            0x01,
            Some(make_credential_params(&cdh, "ssh:", Some((p, &token)))),
        );
        assert_eq!(st, CtapStatus::Ok);
        let body = body.unwrap();
        assert_eq!(body.get(1).unwrap(), &text("packed"));
        let auth_data = as_bytes(body.get(2).unwrap()).unwrap().to_vec();
        let ad = sk::parse_auth_data(&auth_data).unwrap();
        assert_eq!(ad.rp_id_hash, <[u8; 32]>::from(Sha256::digest(b"ssh:")));
        assert_eq!(ad.flags & 0x05, 0x05, "UP and UV");
        // Basic attestation: the batch key signed, its certificate is x5c[0].
        let att = Params::from_map(body.get(3).unwrap()).unwrap();
        let sig = as_bytes(att.get_text("sig").unwrap()).unwrap();
        let x5c = as_array(att.get_text("x5c").unwrap()).unwrap();
        let batch = p256_point_in_cert(as_bytes(&x5c[0]).unwrap()).unwrap();
        sk::verify_self_attestation(&auth_data, &cdh, sig, &batch).unwrap();
        // With UV, a discoverable assertion finds it and names the user.
        let ga_token = pin_token(&mut k, p, PIN, None, None).unwrap();
        let (st, body) = call(
            &mut k,
            0x02,
            Some(map(vec![
                (int(1), text("ssh:")),
                (int(2), bytes(&cdh)),
                (int(6), bytes(&authenticate(p, &ga_token, &cdh))),
                (int(7), int(protocol_number(p))),
            ])),
        );
        assert_eq!(st, CtapStatus::Ok);
        let body = body.unwrap();
        let user = Params::from_map(body.get(4).unwrap()).unwrap();
        assert_eq!(user.get_text("id").unwrap(), &bytes(&[0; 32]));
        assert_eq!(as_bytes(body.get(2).unwrap()).unwrap()[32] & 0x05, 0x05);
        // A wrong pinUvAuthParam is refused and writes nothing.
        let before = std::fs::read(dir.path().join("token.json")).unwrap();
        let (st, _) = call(
            &mut k,
            0x01,
            Some(make_credential_params(&cdh, "ssh:", Some((p, &[7; 32])))),
        );
        assert_eq!(st, CtapStatus::PinAuthInvalid);
        assert_eq!(
            std::fs::read(dir.path().join("token.json")).unwrap(),
            before
        );
    }
}

#[test]
fn wrong_pins_count_down_and_three_in_a_row_block_until_the_key_is_replugged() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    assert_eq!(set_pin(&mut k, Protocol::Two, PIN), CtapStatus::Ok);
    assert_eq!(retries(&mut k), 8);
    assert_eq!(
        pin_token(&mut k, Protocol::Two, "wrong-1", None, None),
        Err(CtapStatus::PinInvalid)
    );
    assert_eq!(retries(&mut k), 7);
    assert_eq!(
        pin_token(&mut k, Protocol::One, "wrong-2", None, None),
        Err(CtapStatus::PinInvalid)
    );
    assert_eq!(
        pin_token(&mut k, Protocol::Two, "wrong-3", None, None),
        Err(CtapStatus::PinAuthBlocked)
    );
    assert_eq!(retries(&mut k), 5);
    assert_eq!(
        pin_token(&mut k, Protocol::Two, PIN, None, None),
        Err(CtapStatus::PinAuthBlocked),
        "blocked even for the right PIN"
    );
    drop(k);
    let mut k = key(dir.path()); // re-plugged
    assert!(pin_token(&mut k, Protocol::Two, PIN, None, None).is_ok());
    assert_eq!(retries(&mut k), 8);
}

#[test]
fn change_pin_needs_the_current_pin_and_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    assert_eq!(set_pin(&mut k, Protocol::One, PIN), CtapStatus::Ok);
    let change = |k: &mut Authenticator, current: &str| {
        let (platform, shared) = agree(k, Protocol::Two);
        let mut padded = b"new-pin-1".to_vec();
        padded.resize(64, 0);
        let new_enc = shared.encrypt(&padded);
        let hash_enc = shared.encrypt(&Sha256::digest(current.as_bytes())[..16]);
        let param = shared.authenticate(&[new_enc.clone(), hash_enc.clone()].concat());
        call(
            k,
            0x06,
            Some(map(vec![
                (int(1), int(2)),
                (int(2), int(4)),
                (int(3), platform.cose()),
                (int(4), bytes(&param)),
                (int(5), bytes(&new_enc)),
                (int(6), bytes(&hash_enc)),
            ])),
        )
        .0
    };
    assert_eq!(change(&mut k, "not-the-pin"), CtapStatus::PinInvalid);
    assert_eq!(change(&mut k, PIN), CtapStatus::Ok);
    assert_eq!(
        pin_token(&mut k, Protocol::One, PIN, None, None),
        Err(CtapStatus::PinInvalid)
    );
    assert!(pin_token(&mut k, Protocol::One, "new-pin-1", None, None).is_ok());
}

fn cred_mgmt(
    k: &mut Authenticator,
    command: u8,
    sub: u8,
    sub_params: Option<Value>,
    auth: Option<(Protocol, &[u8])>,
) -> (CtapStatus, Option<Params>) {
    let mut m = vec![(int(1), int(sub.into()))];
    let mut msg = vec![sub];
    if let Some(sp) = sub_params {
        msg.extend_from_slice(&cbor::encode(sp.clone()));
        m.push((int(2), sp));
    }
    if let Some((p, token)) = auth {
        m.push((int(3), int(protocol_number(p))));
        m.push((int(4), bytes(&authenticate(p, token, &msg))));
    }
    call(k, command, Some(map(m)))
}

#[test]
fn credential_management_needs_a_pin_token_with_the_cm_permission() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    let p = Protocol::Two;
    assert_eq!(set_pin(&mut k, p, PIN), CtapStatus::Ok);
    let cdh = [1u8; 32];
    for rp in ["ssh:", "ssh:second"] {
        let token = pin_token(&mut k, p, PIN, None, None).unwrap();
        let (st, _) = call(
            &mut k,
            0x01,
            Some(make_credential_params(&cdh, rp, Some((p, &token)))),
        );
        assert_eq!(st, CtapStatus::Ok);
    }
    assert_eq!(
        cred_mgmt(&mut k, 0x0a, 0x02, None, None).0,
        CtapStatus::PinRequired
    );
    let mc_ga = pin_token(&mut k, p, PIN, None, None).unwrap();
    assert_eq!(
        cred_mgmt(&mut k, 0x0a, 0x02, None, Some((p, &mc_ga))).0,
        CtapStatus::PinAuthInvalid,
        "a getPinToken token has no cm permission"
    );
    assert_eq!(
        cred_mgmt(&mut k, 0x41, 0x02, None, Some((p, &mc_ga))).0,
        CtapStatus::Ok,
        "the FIDO_2_1_PRE prototype predates permissions"
    );
    let cm = pin_token(&mut k, p, PIN, Some(0x04), None).unwrap();
    let (st, meta) = cred_mgmt(&mut k, 0x0a, 0x01, None, Some((p, &cm)));
    assert_eq!(st, CtapStatus::Ok);
    let meta = meta.unwrap();
    assert_eq!(as_int(meta.get(1).unwrap()).unwrap(), 2);
    assert_eq!(as_int(meta.get(2).unwrap()).unwrap(), 23);
    let (st, first) = cred_mgmt(&mut k, 0x0a, 0x02, None, Some((p, &cm)));
    assert_eq!(st, CtapStatus::Ok);
    let first = first.unwrap();
    assert_eq!(as_int(first.get(5).unwrap()).unwrap(), 2);
    let (st, second) = cred_mgmt(&mut k, 0x0a, 0x03, None, None);
    assert_eq!(st, CtapStatus::Ok);
    let ids: Vec<Value> = [first, second.unwrap()]
        .iter()
        .map(|e| {
            Params::from_map(e.get(3).unwrap())
                .unwrap()
                .get_text("id")
                .cloned()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, vec![text("ssh:"), text("ssh:second")]);
    assert_eq!(
        cred_mgmt(&mut k, 0x0a, 0x03, None, None).0,
        CtapStatus::NotAllowed
    );
    let hash = bytes(&Sha256::digest(b"ssh:"));
    let (st, cred) = cred_mgmt(
        &mut k,
        0x0a,
        0x04,
        Some(map(vec![(int(1), hash)])),
        Some((p, &cm)),
    );
    assert_eq!(st, CtapStatus::Ok);
    let cred = cred.unwrap();
    assert_eq!(as_int(cred.get(9).unwrap()).unwrap(), 1);
    assert_eq!(as_int(cred.get(10).unwrap()).unwrap(), 2);
    let cose = cbor::encode(cred.get(8).cloned().unwrap());
    assert_eq!(cose.len(), 77, "an ES256 COSE_Key");
    let unknown = bytes(&[0u8; 32]);
    let (st, _) = cred_mgmt(
        &mut k,
        0x0a,
        0x04,
        Some(map(vec![(int(1), unknown)])),
        Some((p, &cm)),
    );
    assert_eq!(st, CtapStatus::NoCredentials);
}

#[test]
fn assertions_verify_and_denied_or_cancelled_touches_sign_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    let cdh = [9u8; 32];
    let (st, body) = call(
        &mut k,
        0x01,
        Some(make_credential_params(&cdh, "ssh:", None)),
    );
    assert_eq!(st, CtapStatus::Ok, "no PIN set: no pinUvAuthParam needed");
    let ad = sk::parse_auth_data(as_bytes(body.unwrap().get(2).unwrap()).unwrap()).unwrap();
    let att = ad.attested.unwrap();
    let ga = |up: bool, allow: bool| {
        let mut m = vec![(int(1), text("ssh:")), (int(2), bytes(&cdh))];
        if allow {
            m.push((
                int(3),
                Value::Array(vec![map(vec![
                    (text("id"), bytes(&att.credential_id)),
                    (text("type"), text("public-key")),
                ])]),
            ));
        }
        m.push((int(5), map(vec![(text("up"), Value::Bool(up))])));
        request(0x02, Some(map(m)))
    };
    let resp = match k.begin(&ga(true, true)) {
        Step::NeedsTouch(d) => k.finish(d, TouchOutcome::Touched),
        Step::Done(_) => panic!("up=true must wait for a touch"),
    };
    assert_eq!(CtapStatus::from(resp[0]), CtapStatus::Ok);
    let body = Params::parse(&resp[1..]).unwrap();
    let auth_data = as_bytes(body.get(2).unwrap()).unwrap();
    assert_eq!(auth_data[32] & 1, 1, "UP");
    let sig = as_bytes(body.get(3).unwrap()).unwrap();
    sk::verify_self_attestation(auth_data, &cdh, sig, &att.public_point).unwrap();
    // up=false answers at once, without UP.
    let Step::Done(resp) = k.begin(&ga(false, true)) else {
        panic!("up=false needs no touch");
    };
    assert_eq!(CtapStatus::from(resp[0]), CtapStatus::Ok);
    // credProtect 2 hides the credential from a discoverable request without UV.
    let Step::Done(resp) = k.begin(&ga(false, false)) else {
        panic!("up=false needs no touch");
    };
    assert_eq!(resp, vec![CtapStatus::NoCredentials.code()]);
    let before = std::fs::read(dir.path().join("token.json")).unwrap();
    for (outcome, status) in [
        (TouchOutcome::Denied, CtapStatus::OperationDenied),
        (TouchOutcome::TimedOut, CtapStatus::UserActionTimeout),
        (TouchOutcome::Cancelled, CtapStatus::KeepaliveCancel),
    ] {
        let Step::NeedsTouch(d) = k.begin(&ga(true, true)) else {
            panic!("needs touch");
        };
        assert_eq!(k.finish(d, outcome), vec![status.code()]);
        let Step::NeedsTouch(d) = k.begin(&request(
            0x01,
            Some(make_credential_params(&cdh, "ssh:other", None)),
        )) else {
            panic!("needs touch");
        };
        assert_eq!(k.finish(d, outcome), vec![status.code()]);
    }
    assert_eq!(
        std::fs::read(dir.path().join("token.json")).unwrap(),
        before,
        "no counter bump, no credential"
    );
}

#[test]
fn a_token_bound_to_one_application_is_refused_for_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    let p = Protocol::One;
    assert_eq!(set_pin(&mut k, p, PIN), CtapStatus::Ok);
    let token = pin_token(&mut k, p, PIN, Some(0x01), Some("ssh:a")).unwrap();
    let cdh = [3u8; 32];
    let (st, _) = call(
        &mut k,
        0x01,
        Some(make_credential_params(&cdh, "ssh:b", Some((p, &token)))),
    );
    assert_eq!(st, CtapStatus::PinAuthInvalid);
    let (st, _) = call(
        &mut k,
        0x01,
        Some(make_credential_params(&cdh, "ssh:a", Some((p, &token)))),
    );
    assert_eq!(st, CtapStatus::Ok);
    assert_eq!(
        pin_token(&mut k, p, PIN, Some(0x20), None),
        Err(CtapStatus::UnauthorizedPermission),
        "authenticator config is not granted"
    );
}

#[test]
fn malformed_requests_get_ctap_errors_and_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = key(dir.path());
    let status = |k: &mut Authenticator, r: &[u8]| match k.begin(r) {
        Step::Done(r) => CtapStatus::from(r[0]),
        Step::NeedsTouch(d) => CtapStatus::from(k.finish(d, TouchOutcome::Denied)[0]),
    };
    assert_eq!(status(&mut k, &[0x01, 0xff]), CtapStatus::InvalidCbor);
    assert_eq!(status(&mut k, &[0x01, 0xa0]), CtapStatus::MissingParameter);
    assert_eq!(
        status(&mut k, &[0x01, 0x80]),
        CtapStatus::CborUnexpectedType
    );
    assert_eq!(status(&mut k, &[0x55]), CtapStatus::InvalidCommand);
    assert_eq!(status(&mut k, &[]), CtapStatus::InvalidCommand);
    assert_eq!(
        status(&mut k, &request(0x06, Some(map(vec![(int(2), int(42))])))),
        CtapStatus::InvalidSubcommand
    );
    let no_es256 = map(vec![
        (int(1), bytes(&[0; 32])),
        (int(2), map(vec![(text("id"), text("ssh:"))])),
        (int(3), map(vec![(text("id"), bytes(&[1]))])),
        (
            int(4),
            Value::Array(vec![map(vec![
                (text("alg"), int(-8)),
                (text("type"), text("public-key")),
            ])]),
        ),
    ]);
    assert_eq!(
        status(&mut k, &request(0x01, Some(no_es256))),
        CtapStatus::UnsupportedAlgorithm
    );
    // Deterministic junk: CBOR-ish bytes behind every command byte.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 40) as usize;
        let mut r = vec![[0x01, 0x02, 0x04, 0x06, 0x0a, 0x41][(x >> 8) as usize % 6]];
        let mut y = x;
        for _ in 0..len {
            y = y
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            r.push((y >> 56) as u8);
        }
        if r.len() > 1 {
            r[1] = 0xa0 | (r[1] & 0x07);
        }
        let _ = status(&mut k, &r);
    }
}

/// makeCredential as OpenSSH sends it (clientDataHash = SHA-256 of the challenge), the answer
/// as the `CA.attest` breakglass keeps: (the container's bytes, the CA public key).
fn enrol(k: &mut Authenticator, challenge: &[u8]) -> (Vec<u8>, ssh_key::PublicKey) {
    let cdh: [u8; 32] = Sha256::digest(challenge).into();
    let (st, body) = call(k, 0x01, Some(make_credential_params(&cdh, "ssh:", None)));
    assert_eq!(st, CtapStatus::Ok);
    let body = body.unwrap();
    assert_eq!(body.get(1).unwrap(), &text("packed"));
    let auth_data = as_bytes(body.get(2).unwrap()).unwrap().to_vec();
    let att = Params::from_map(body.get(3).unwrap()).unwrap();
    assert_eq!(att.get_text("alg").unwrap(), &int(-7));
    let x5c = as_array(att.get_text("x5c").unwrap())
        .unwrap()
        .iter()
        .map(|c| as_bytes(c).unwrap().to_vec())
        .collect::<Vec<_>>();
    assert_eq!(
        x5c.len(),
        1,
        "the batch certificate only, as a YubiKey sends it"
    );
    let point = sk::parse_auth_data(&auth_data)
        .unwrap()
        .attested
        .unwrap()
        .public_point;
    let ca = ssh_key::PublicKey::from(sk::sk_public_key(&point, "ssh:").unwrap());
    let file = Container::Fido(FidoEvidence {
        application: "ssh:".into(),
        challenge: challenge.to_vec(),
        signature: as_bytes(att.get_text("sig").unwrap()).unwrap().to_vec(),
        auth_data,
        x5c,
    })
    .encode();
    (file, ca)
}

#[test]
fn make_credential_attests_with_the_test_batch_certificate_and_a_settable_firmware() {
    let dir = tempfile::tempdir().unwrap();
    let roots = testing::trust_store().unwrap();
    let (file, ca) = enrol(&mut key(dir.path()), b"enrolment challenge");
    let expect = Expect {
        ca: Some(&ca),
        challenge: Some(b"enrolment challenge"),
        piv_slot: None,
    };
    let report = breakglass::attest::verify(&expect, &file, &roots, &Policy::default()).unwrap();
    assert!(report.key.matches_ca);
    assert_eq!(report.vendor, "breakglass test");
    let fw = report.firmware.unwrap();
    assert_eq!(
        (fw.version.as_str(), fw.source),
        ("5.7.4", FirmwareSource::FidoCertificate)
    );
    // The test root is never trusted by default.
    assert!(matches!(
        breakglass::attest::verify(&expect, &file, &TrustStore::yubico(), &Policy::default()),
        Err(AttestError::UnknownRoot { .. })
    ));
    // Another challenge: the batch signature does not cover it.
    let other = Expect {
        challenge: Some(b"another challenge"),
        ..expect
    };
    assert_eq!(
        breakglass::attest::verify(&other, &file, &roots, &Policy::default()).unwrap_err(),
        AttestError::WrongChallenge
    );

    // The firmware is settable, so the EUCLEAK floor is tested both ways.
    let old = key(dir.path()).with_firmware(Some(FirmwareVersion::new(5, 4, 3)));
    let (file, ca) = enrol(&mut { old }, b"c");
    let e = Expect {
        ca: Some(&ca),
        challenge: None,
        piv_slot: None,
    };
    assert!(matches!(
        breakglass::attest::verify(&e, &file, &roots, &Policy::default()),
        Err(AttestError::FirmwareBelowFloor { firmware, .. }) if firmware == "5.4.3"
    ));
    breakglass::attest::verify(&e, &file, &roots, &Policy::with_floor("none").unwrap()).unwrap();
    let (file, ca) = enrol(&mut key(dir.path()).with_firmware(None), b"c");
    let e = Expect {
        ca: Some(&ca),
        challenge: None,
        piv_slot: None,
    };
    assert!(matches!(
        breakglass::attest::verify(&e, &file, &roots, &Policy::default()),
        Err(AttestError::FirmwareUnknown { .. })
    ));
}
