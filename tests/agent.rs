//! Integration tests for the ssh-agent client against a real OpenSSH `ssh-agent`, with
//! certificates signed by a real `ssh-keygen`.

mod common;

use breakglass::Diagnostic;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use breakglass::delivery::agent::*;
use common::TestAgent;
use ssh_key::{Algorithm, Certificate, EcdsaCurve, LineEnding, PrivateKey};

/// A client of the test agent.
fn connect(agent: &TestAgent) -> AgentClient {
    AgentClient::connect(&agent.sock).expect("connect to test agent")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn new_key(alg: Algorithm) -> PrivateKey {
    let mut rng = ssh_key::rand_core::UnwrapErr(ssh_key::getrandom::SysRng);
    let mut key = PrivateKey::random(&mut rng, alg).expect("random key");
    key.set_comment("emergency");
    key
}

fn ecdsa() -> Algorithm {
    Algorithm::Ecdsa {
        curve: EcdsaCurve::NistP256,
    }
}

/// Writes `key` as `<dir>/<name>` and `<name>.pub`, makes a CA (once per dir) and signs the
/// public key with the real `ssh-keygen -s`. Returns the path of the `-cert.pub` file.
fn sign_with_ssh_keygen(dir: &Path, name: &str, key: &PrivateKey) -> PathBuf {
    let ca = dir.join("ca");
    if !ca.exists() {
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&ca));
    }
    let key_path = dir.join(name);
    key.write_openssh_file(&key_path, LineEnding::LF)
        .expect("write key");
    let pub_path = dir.join(format!("{name}.pub"));
    key.public_key()
        .write_openssh_file(&pub_path)
        .expect("write pub");
    run(Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(&ca)
        .args(["-I", "test", "-n", "root", "-V", "-1m:+1h"])
        .arg(&pub_path));
    dir.join(format!("{name}-cert.pub"))
}

fn add_and_check(alg: Algorithm, label: &str) {
    let agent = TestAgent::start();
    let key = new_key(alg);
    let cert_path = sign_with_ssh_keygen(agent.dir.path(), "emergency", &key);
    let cert = Certificate::read_file(&cert_path).expect("read cert");

    let mut client = connect(&agent);
    client
        .add_certificate(&key, &cert, "breakglass test", 30, false)
        .expect("add certificate");

    let listing = agent.list();
    assert!(
        listing.contains(&format!("({label}-CERT)")),
        "ssh-add -l: {listing}"
    );
    assert!(listing.contains("breakglass test"), "ssh-add -l: {listing}");

    let ids = client.identities().expect("identities");
    let blob = cert.to_bytes().expect("cert blob");
    assert_eq!(ids.len(), 1, "only the certificate identity was added");
    assert_eq!(ids[0].0, blob);
    assert_eq!(ids[0].1, "breakglass test");

    // The agent can sign with the certificate identity: ssh-add -T looks the cert blob up in
    // the agent, asks for a signature and verifies it.
    let out = agent.ssh_add(&["-T", cert_path.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "ssh-add -T failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // And remove() takes it out again.
    client.remove(&blob).expect("remove");
    assert!(client.identities().expect("identities").is_empty());
    assert!(matches!(client.remove(&blob), Err(AgentError::Refused)));
}

#[test]
fn adds_ecdsa_certificate() {
    add_and_check(ecdsa(), "ECDSA");
}

#[test]
fn adds_ed25519_certificate() {
    add_and_check(Algorithm::Ed25519, "ED25519");
}

#[test]
fn lifetime_expires_identity() {
    let agent = TestAgent::start();
    let key = new_key(Algorithm::Ed25519);
    let cert_path = sign_with_ssh_keygen(agent.dir.path(), "emergency", &key);
    let cert = Certificate::read_file(&cert_path).expect("read cert");

    let added = Instant::now();
    connect(&agent)
        .add_certificate(&key, &cert, "short", 2, false)
        .expect("add");
    assert!(
        agent.list().contains("ED25519-CERT"),
        "listed right after add"
    );

    std::thread::sleep(Duration::from_millis(3500));
    loop {
        let listing = agent.list();
        if listing.contains("The agent has no identities.") {
            break;
        }
        assert!(
            added.elapsed() < Duration::from_secs(8),
            "identity still present after 8 s: {listing}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn mismatched_certificate_is_rejected() {
    let agent = TestAgent::start();
    let key = new_key(ecdsa());
    let other = new_key(ecdsa());
    let cert_path = sign_with_ssh_keygen(agent.dir.path(), "other", &other);
    let cert = Certificate::read_file(&cert_path).expect("read cert");

    let err = connect(&agent)
        .add_certificate(&key, &cert, "x", 30, false)
        .expect_err("must not add");
    assert!(matches!(err, AgentError::Mismatch), "{err:?}");
    let listing = agent.list();
    assert!(
        listing.contains("The agent has no identities."),
        "ssh-add -l: {listing}"
    );
}

#[test]
fn zero_lifetime_is_refused_locally() {
    let agent = TestAgent::start();
    let key = new_key(Algorithm::Ed25519);
    let cert_path = sign_with_ssh_keygen(agent.dir.path(), "emergency", &key);
    let cert = Certificate::read_file(&cert_path).expect("read cert");
    let err = connect(&agent)
        .add_certificate(&key, &cert, "x", 0, false)
        .expect_err("lifetime 0 must be refused");
    assert!(matches!(err, AgentError::Protocol(_)), "{err:?}");
    assert!(agent.list().contains("The agent has no identities."));
}

#[test]
fn connect_to_missing_socket_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-agent.sock");
    let err = AgentClient::connect(&missing).expect_err("no agent there");
    match &err {
        AgentError::Connect { path, .. } => assert_eq!(path, &missing.display().to_string()),
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(err.to_string().contains("cannot reach the ssh-agent"));
    assert_eq!(
        err.hint(),
        "SSH_AUTH_SOCK points to an agent that is gone; start a new one with \
         `eval \"$(ssh-agent)\"`, or write the key to a file without --agent."
    );

    // A path that exists but is not a socket.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"").expect("write");
    assert!(matches!(
        AgentClient::connect(&file),
        Err(AgentError::Connect { .. })
    ));
}

#[test]
fn no_agent_error_message_and_hint() {
    let err = AgentError::NoAgent;
    assert_eq!(
        err.to_string(),
        "no ssh-agent is running (SSH_AUTH_SOCK is not set)"
    );
    assert_eq!(
        err.hint(),
        "Start one with `eval \"$(ssh-agent)\"` and run again, or write the key to a file \
         without --agent."
    );
}

#[test]
fn confirm_constraint_is_accepted() {
    let agent = TestAgent::start();
    let key = new_key(ecdsa());
    let cert_path = sign_with_ssh_keygen(agent.dir.path(), "emergency", &key);
    let cert = Certificate::read_file(&cert_path).expect("read cert");
    connect(&agent)
        .add_certificate(&key, &cert, "confirm me", 30, true)
        .expect("add with confirm");
    let listing = agent.list();
    assert!(listing.contains("ECDSA-CERT"), "ssh-add -l: {listing}");
    assert!(listing.contains("confirm me"), "ssh-add -l: {listing}");

    // The CONFIRM constraint really is set: the agent asks its askpass (/bin/false here, which
    // declines) before signing, so the signature test must fail.
    let out = agent.ssh_add(&["-T", cert_path.to_str().expect("utf-8 path")]);
    assert!(
        !out.status.success(),
        "signing with a confirm-constrained key succeeded without confirmation"
    );
}

#[test]
fn remaining_lifetime_of_real_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = new_key(Algorithm::Ed25519);
    let cert_path = sign_with_ssh_keygen(dir.path(), "emergency", &key);
    let cert = Certificate::read_file(&cert_path).expect("read cert");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let left = remaining_lifetime(&cert, now).expect("valid now");
    assert!((3500..=3600).contains(&left), "{left}");
    assert_eq!(remaining_lifetime(&cert, cert.valid_before()), None);
    assert_eq!(remaining_lifetime(&cert, cert.valid_after() - 1), None);
}
