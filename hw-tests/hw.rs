//! Hardware test for the FIDO2 backend. Runs only with `BREAKGLASS_HW=1` and a key plugged in;
//! otherwise prints one `skipped: …` line. See hw-tests/README.md.
//!
//! It creates (or overwrites) ONE resident credential for application `ssh:breakglass-hwtest`
//! (never the default `ssh:`), signs with it, converts the answer with `sk::assertion_to_ssh`,
//! verifies the SSH signature, and finds it again through credentialManagement (and through
//! `fido2-token -L -k ssh:breakglass-hwtest` when libfido2's tools are installed).

use breakglass::Diagnostic;
use std::io::Write;
use std::process::{Command, Stdio};

use breakglass::ssh::sk;
use breakglass::token::ctap::{Authenticator, GetAssertion, MakeCredential, Pin};
use breakglass::token::fido2::{self, Fido2Key};
use breakglass::token::TokenError;
use sha2::{Digest, Sha256};
use signature::Verifier;
use zeroize::Zeroizing;

/// The application the test uses. Never `ssh:`: that is where real CAs and keys live.
const APP: &str = "ssh:breakglass-hwtest";

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn skip(why: &str) {
    println!("skipped: {why}");
}

fn main() {
    if std::env::var("BREAKGLASS_HW").as_deref() != Ok("1") {
        return skip("set BREAKGLASS_HW=1 and plug in a FIDO2 key to run the hardware test");
    }
    let devices = match fido2::list_devices() {
        Ok(d) => d,
        Err(e) => return skip(&format!("no FIDO2 key ({e})")),
    };
    if devices.is_empty() {
        return skip("BREAKGLASS_HW=1 but no FIDO2 key is plugged in");
    }
    let wanted = std::env::var("BREAKGLASS_HW_DEVICE").ok();
    let mut key = match fido2::open(wanted.as_deref()) {
        Ok(k) => k,
        Err(e) => panic!("{e}: {}", e.hint()),
    };
    run(&mut key);
}

fn pin_for(key: &Fido2Key) -> Option<Pin> {
    if !key.pin_is_set() {
        eprintln!("note: the key has no PIN; credentialManagement listing will be skipped");
        return None;
    }
    match std::env::var("BREAKGLASS_PIN") {
        Ok(p) => Some(Zeroizing::new(p)),
        Err(_) => panic!("the key has a PIN: set BREAKGLASS_PIN for the hardware test"),
    }
}

fn run(key: &mut Fido2Key) {
    let path = key.device_info().path.clone();
    eprintln!("device: {} [path {path}]", key.describe());
    eprintln!("versions: {:?}", key.versions());
    assert!(!key.is_simulated());
    let pin = pin_for(key);
    if let Some(n) = key.pin_retries().expect("getPINRetries") {
        eprintln!("PIN retries left: {n}");
        assert!(n >= 3, "only {n} PIN retries left; not risking the key");
    }

    // A hash that is not SHA-256 of the message (the crate can only hash what it is given) is
    // refused before the key is touched.
    let refused = key.get_assertion(
        &GetAssertion {
            rp_id: APP.into(),
            message: b"not the hashed message".to_vec(),
            client_data_hash: Sha256::digest(b"").into(),
            allow_list: vec![vec![0; 16]],
            up: true,
        },
        None,
    );
    assert!(
        matches!(refused, Err(TokenError::BadAnswer(_))),
        "{refused:?}"
    );

    // --- makeCredential, shaped like `ssh-keygen -t ecdsa-sk -O resident -O application=…`.
    let mut challenge = [0u8; 32];
    getrandom::fill(&mut challenge).unwrap();
    let req = MakeCredential {
        challenge: challenge.to_vec(),
        client_data_hash: Sha256::digest(challenge).into(),
        rp_id: APP.into(),
        user_id: vec![0; 32],
        user_name: "openssh".into(),
        resident: true,
        cred_protect: 2,
    };
    eprintln!(">>> touch the key to CREATE the {APP} test credential");
    let made = key
        .make_credential(&req, pin.as_ref())
        .expect("makeCredential");
    let ad = sk::parse_auth_data(&made.auth_data).expect("authData parses");
    assert_eq!(
        ad.rp_id_hash.as_slice(),
        Sha256::digest(APP.as_bytes()).as_slice()
    );
    assert!(ad.flags & sk::FLAG_UP != 0, "UP flag missing");
    let att = ad.attested.expect("attested credential data");
    if made.fmt == "packed" {
        // Basic attestation (a YubiKey): the batch key in x5c[0] signed; self attestation: the
        // new credential's own key.
        let signer = match made.x5c.first() {
            Some(cert) => fido2::p256_point_in_cert(cert)
                .expect("the attestation certificate holds a P-256 key"),
            None => att.public_point,
        };
        sk::verify_self_attestation(
            &made.auth_data,
            &req.client_data_hash,
            &made.att_sig,
            &signer,
        )
        .expect("the attestation signature verifies");
    }
    let cred_id = att.credential_id.clone();
    eprintln!(
        "created: fmt={} credential id (base64) {}",
        made.fmt,
        b64(&cred_id)
    );
    let public = sk::sk_public_key(&att.public_point, APP).expect("sk public key");

    // --- getAssertion over a message, converted to an OpenSSH signature and verified.
    let mut msg = b"breakglass hardware test ".to_vec();
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap();
    msg.extend_from_slice(&nonce);
    let greq = GetAssertion {
        rp_id: APP.into(),
        message: msg.to_vec(),
        client_data_hash: Sha256::digest(&msg).into(),
        allow_list: vec![cred_id.clone()],
        up: true,
    };
    eprintln!(">>> touch the key to SIGN");
    let answer = key
        .get_assertion(&greq, pin.as_ref())
        .expect("getAssertion");
    assert_eq!(answer.credential_id, cred_id);
    assert_eq!(answer.auth_data.len(), 37, "authData carries extensions");
    let sk = sk::assertion_to_ssh(&answer.auth_data, &answer.signature, APP)
        .expect("assertion converts");
    assert!(sk.flags & sk::FLAG_UP != 0);
    if pin.is_some() {
        assert!(sk.flags & sk::FLAG_UV != 0, "PIN given but UV flag not set");
    }
    public
        .verify(&msg, &sk.signature)
        .expect("the SSH signature verifies");
    let mut tampered = msg.clone();
    tampered[0] ^= 1;
    assert!(public.verify(&tampered, &sk.signature).is_err());
    eprintln!(
        "signed: flags {:#04x} counter {} — SSH signature verifies",
        sk.flags, sk.counter
    );

    // --- credentialManagement lists it.
    if let Some(p) = pin.as_ref() {
        let listed = key.credentials(APP, Some(p)).expect("credentialManagement");
        let mine = listed
            .iter()
            .find(|c| c.credential_id == cred_id)
            .expect("the new credential is listed");
        assert_eq!(mine.rp_id, APP);
        assert_eq!(mine.user_id, vec![0; 32]);
        assert_eq!(mine.cred_protect, 2);
        let (point, _) = sk::cose_es256_to_point(&mine.cose_public_key).expect("COSE key");
        assert_eq!(point, att.public_point);
        eprintln!("listed: {} credential(s) for {APP}", listed.len());
        // A wrong application has none.
        match key.credentials("ssh:breakglass-hwtest-nothing-here", Some(p)) {
            Err(TokenError::NoCredentials) => {}
            Ok(v) if v.is_empty() => {}
            other => panic!("unexpected listing for an unused application: {other:?}"),
        }
    }

    // --- libfido2 agrees (when installed).
    fido2_token_cross_check(&path, &cred_id, pin.as_ref());

    println!(
        "ok: hardware test passed on {}. Delete the test credential with:\n  \
         fido2-token -D -i {} {path}",
        key.describe(),
        b64(&cred_id)
    );
}

fn fido2_token_cross_check(path: &str, cred_id: &[u8], pin: Option<&Pin>) {
    let Some(pin) = pin else {
        return;
    };
    if std::env::var("BREAKGLASS_HW_FIDO2_TOKEN").as_deref() == Ok("0") {
        eprintln!("fido2-token cross-check disabled (BREAKGLASS_HW_FIDO2_TOKEN=0)");
        return;
    }
    let child = Command::new("fido2-token")
        .args(["-L", "-k", APP, path])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) => {
            eprintln!("fido2-token not installed: cross-check skipped");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // fido2-token reads the PIN from stdin when it is not a terminal.
        let _ = writeln!(stdin, "{}", pin.as_str());
    }
    let out = child.wait_with_output().expect("fido2-token runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fido2-token -L -k {APP} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = b64(cred_id);
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().any(|w| w == id)),
        "fido2-token does not list credential {id}:\n{stdout}"
    );
    eprintln!("fido2-token lists it too:\n{stdout}");
}
