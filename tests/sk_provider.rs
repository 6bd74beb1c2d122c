//! OpenSSH drives the simulated key through the SecurityKeyProvider library (`sk-provider/`):
//! OpenSSH's own code checks every byte breakglass writes, in both directions.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

/// An askpass script answering every prompt with `answer` (OpenSSH asks for PINs through it).
fn askpass(w: &World, answer: &str) -> PathBuf {
    let p = w.tmp.path().join(format!("askpass-{}", answer.len()));
    write_script(&p, &format!("#!/bin/sh\nprintf '%s\\n' '{answer}'\n"));
    p
}

/// Runs an OpenSSH tool with the world's simulated key visible to the provider.
fn openssh(w: &World, prog: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(prog);
    c.args(args)
        .current_dir(&w.work)
        .env("BREAKGLASS_SIM_DIR", &w.sim)
        .env("TZ", "UTC")
        .env_remove("BREAKGLASS_SIM_TOUCH")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn ssh_keygen_enrols_on_the_sim_and_breakglass_mints_with_that_ca() {
    let w = World::new();
    let lib = provider();
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-t",
            "ecdsa-sk",
            "-O",
            "resident",
            "-f",
            "osca",
            "-N",
            "",
            "-C",
            "made by ssh-keygen",
            "-w",
            lib.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let ca = std::fs::read_to_string(w.path("osca.pub")).unwrap();
    // breakglass finds the credential through the key-handle file ssh-keygen wrote.
    w.ok(&["mint", "--ca", "osca.pub", "-n", &user(), "-f", "e1"]);
    // And without it, on the token (credential management).
    std::fs::rename(w.path("osca"), w.path("osca.handle")).unwrap();
    w.ok(&["mint", "--ca", "osca.pub", "-n", &user(), "-f", "e2"]);
    let sshd = start_sshd(&w, &ca);
    for k in ["e1", "e2"] {
        let o = sshd.ssh(&w.path(k), &user(), "true").unwrap();
        assert!(o.status.success(), "{k}: {}", sshd.log());
    }
}

#[test]
fn ssh_keygen_signs_with_the_breakglass_ca_and_downloads_it_identically() {
    let w = World::new();
    let lib = provider();
    let lib = lib.to_str().unwrap();
    let ca = w.init_ca();
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "user"], &w.work);
    let u = user();
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-s",
            "sk-user-ca",
            "-w",
            lib,
            "-I",
            "x",
            "-n",
            &u,
            "-V",
            "-5m:+1h",
            "user.pub",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let i = w.run(&["inspect", "--ca", "sk-user-ca.pub", "user-cert.pub"]);
    assert!(i.status.success(), "{}", err(&i));
    assert!(
        out(&i).contains("CA signature: verified (touch: yes"),
        "{}",
        out(&i)
    );
    let sshd = start_sshd(&w, &ca);
    let o = sshd.ssh(&w.path("user"), &u, "true").unwrap();
    assert!(o.status.success(), "{}", sshd.log());

    // ssh-keygen -K recovers the same CA: public key equal, key-handle file equal but for
    // the check ints and the comment.
    let dl = w.work.join("dl");
    std::fs::create_dir(&dl).unwrap();
    let o = Command::new("ssh-keygen")
        .args(["-K", "-N", "", "-w", lib])
        .current_dir(&dl)
        .env("BREAKGLASS_SIM_DIR", &w.sim)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let theirs = std::fs::read_to_string(dl.join("id_ecdsa_sk_rk.pub")).unwrap();
    assert_eq!(
        theirs.split_whitespace().take(2).collect::<Vec<_>>(),
        ca.split_whitespace().take(2).collect::<Vec<_>>()
    );
    let a = key_handle_without_checkints_and_comment(&w.path("sk-user-ca"));
    let b = key_handle_without_checkints_and_comment(&dl.join("id_ecdsa_sk_rk"));
    assert_eq!(a, b);
}

/// The binary of an openssh-key-v1 file with the check ints zeroed and everything from the
/// comment on cut off.
fn key_handle_without_checkints_and_comment(p: &Path) -> Vec<u8> {
    use ssh_key::encoding::base64::{Base64, Encoding};
    let text = std::fs::read_to_string(p).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let bin = Base64::decode_vec(&b64).unwrap();
    // magic(15) + "none" + "none" + kdfoptions + nkeys + pubkey string + private section length
    let mut pos = 15;
    for _ in 0..3 {
        let n = u32::from_be_bytes(bin[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4 + n;
    }
    pos += 4; // number of keys
    let n = u32::from_be_bytes(bin[pos..pos + 4].try_into().unwrap()) as usize;
    pos += 4 + n; // public key
    pos += 4; // private section length (differs with the comment length)
    let mut out = bin[..pos - 4].to_vec();
    pos += 8; // check ints
              // keytype, curve, Q, application: strings; flags: byte; key handle, reserved: strings
    let start = pos;
    for _ in 0..4 {
        let n = u32::from_be_bytes(bin[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4 + n;
    }
    pos += 1;
    for _ in 0..2 {
        let n = u32::from_be_bytes(bin[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4 + n;
    }
    out.extend_from_slice(&bin[start..pos]);
    out
}

#[test]
fn ssh_add_loads_the_resident_ca_into_an_agent_that_then_signs_certificates() {
    let w = World::new();
    let lib = provider();
    let ca = w.init_ca();
    let libdir = lib.parent().unwrap().canonicalize().unwrap();
    let agent = TestAgent::start_with(
        &["-P", &format!("{}/*", libdir.display())],
        &[("BREAKGLASS_SIM_DIR", &w.sim)],
    );
    let sock_s = agent.sock.to_str().unwrap();
    let o = openssh(
        &w,
        "ssh-add",
        &["-K", "-S", lib.to_str().unwrap()],
        &[("SSH_AUTH_SOCK", sock_s)],
    );
    assert!(o.status.success(), "ssh-add -K: {}", err(&o));
    assert!(
        err(&o).contains("Resident identity added: ECDSA-SK SHA256:"),
        "{}",
        err(&o)
    );
    let l = openssh(&w, "ssh-add", &["-L"], &[("SSH_AUTH_SOCK", sock_s)]);
    assert!(
        out(&l).contains(ca.split_whitespace().nth(1).unwrap()),
        "{}",
        out(&l)
    );
    ssh_keygen_ok(&["-q", "-t", "ecdsa", "-N", "", "-f", "emergency"], &w.work);
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-Us",
            "sk-user-ca.pub",
            "-I",
            "test-key",
            "-n",
            "root",
            "-V",
            "-5m:+60m",
            "emergency",
        ],
        &[("SSH_AUTH_SOCK", sock_s)],
    );
    assert!(o.status.success(), "ssh-keygen -Us: {}", err(&o));
    let i = w.run(&["inspect", "--ca", "sk-user-ca.pub", "emergency-cert.pub"]);
    assert!(i.status.success(), "{}", out(&i));
}

#[test]
fn wrong_pin_and_denied_touch_are_seen_through_openssh() {
    let w = World::new();
    let lib = provider();
    let lib = lib.to_str().unwrap();
    let o = w.run_env(&["sim", "set-pin"], &[("BREAKGLASS_NEW_PIN", "246810")]);
    assert!(o.status.success());
    // `ssh-keygen` enrolling a resident CA, asking for the PIN through askpass.
    let enrol = |pin: &str| {
        let answer = askpass(&w, pin);
        openssh(
            &w,
            "ssh-keygen",
            &[
                "-t", "ecdsa-sk", "-O", "resident", "-f", "pinca", "-N", "", "-w", lib,
            ],
            &[
                ("SSH_ASKPASS", answer.to_str().unwrap()),
                ("SSH_ASKPASS_REQUIRE", "force"),
                ("DISPLAY", ":0"),
            ],
        )
    };
    let o = enrol("000000");
    assert!(!o.status.success());
    assert!(err(&o).contains("PIN incorrect"), "{}", err(&o));
    assert!(!w.path("pinca").exists());
    let s = w.ok(&["sim", "status"]);
    let tries: u8 = s
        .split("PIN: set, ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(tries < 8, "the sim's tries did not go down: {s}");
    w.ok(&["sim", "replug"]);
    // The right PIN enrols.
    let o = enrol("246810");
    assert!(o.status.success(), "{}", err(&o));
    assert!(w.ok(&["sim", "status"]).contains("PIN: set, 8 tries left"));
    // Touch denied: ssh-keygen -s fails and writes no certificate.
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "user"], &w.work);
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-s", "pinca", "-w", lib, "-I", "x", "-n", "root", "user.pub",
        ],
        &[("BREAKGLASS_SIM_TOUCH", "deny")],
    );
    assert!(!o.status.success(), "signed although the touch was denied");
    assert!(!w.path("user-cert.pub").exists());
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-s", "pinca", "-w", lib, "-I", "x", "-n", "root", "user.pub",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn sshsig_sign_and_verify_with_the_sim_ca() {
    let w = World::new();
    let lib = provider();
    let ca = w.init_ca();
    std::fs::write(w.path("msg"), "break glass").unwrap();
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-Y",
            "sign",
            "-f",
            "sk-user-ca",
            "-n",
            "breakglass-test",
            "-w",
            lib.to_str().unwrap(),
            "msg",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    std::fs::write(w.path("allowed"), format!("ca@x {}", ca)).unwrap();
    let v = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-f",
            "allowed",
            "-I",
            "ca@x",
            "-n",
            "breakglass-test",
            "-s",
            "msg.sig",
        ])
        .current_dir(&w.work)
        .stdin(std::fs::File::open(w.path("msg")).unwrap())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", err(&v));
    assert!(
        out(&v).contains("Good \"breakglass-test\" signature for ca@x with ECDSA-SK key SHA256:"),
        "{}",
        out(&v)
    );
}

#[test]
fn provider_path_points_at_the_library() {
    let w = World::new();
    let lib = provider();
    let p = w.ok(&["sim", "provider-path"]);
    assert_eq!(PathBuf::from(p.trim()), lib.canonicalize().unwrap());
}

#[test]
fn a_certificate_whose_ca_signature_lacks_the_touch_flag_fails_inspect() {
    let w = World::new();
    let lib = provider();
    // A CA enrolled with no-touch-required signs without user presence.
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-t",
            "ecdsa-sk",
            "-O",
            "resident",
            "-O",
            "no-touch-required",
            "-f",
            "notouch",
            "-N",
            "",
            "-w",
            lib.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = ssh_keygen(&["-t", "ed25519", "-f", "k", "-N", "", "-q"], &w.work);
    assert!(o.status.success());
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-s",
            "notouch",
            "-I",
            "x",
            "-n",
            "u",
            "-V",
            "-5m:+1h",
            "-w",
            lib.to_str().unwrap(),
            "k.pub",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = w.run(&["inspect", "k-cert.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        err(&o).contains("k-cert.pub: its CA signature was made without a touch (flags 0x00)"),
        "{}",
        err(&o)
    );
}

#[test]
fn ssh_keygen_writes_an_attestation_of_the_sim_that_ca_verify_accepts_only_with_its_root() {
    let w = World::new();
    let lib = provider();
    std::fs::write(w.path("challenge"), b"a challenge kept by the operator").unwrap();
    let o = openssh(
        &w,
        "ssh-keygen",
        &[
            "-t",
            "ecdsa-sk",
            "-O",
            "resident",
            "-O",
            "challenge=challenge",
            "-O",
            "write-attestation=osca.att",
            "-f",
            "osca",
            "-N",
            "",
            "-w",
            lib.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    // libfido2's shape: the attestation certificate, and authData as a CBOR byte string.
    let att = std::fs::read(w.path("osca.att")).unwrap();
    assert_eq!(&att[4..21], b"ssh-sk-attest-v01");
    let ssh = breakglass::attest::SshSkAttestation::decode(&att).unwrap();
    assert!(!ssh.certificate.is_empty(), "no attestation certificate");
    let root = w.sim.join("attestation-root.pem");
    let root = root.to_str().unwrap();
    let verify = |extra: &[&str]| {
        let mut a = vec![
            "ca",
            "verify",
            "osca.pub",
            "--attestation",
            "osca.att",
            "--challenge",
            "challenge",
        ];
        a.extend_from_slice(extra);
        w.run(&a)
    };
    let o = verify(&["--roots", root, "--min-firmware", "none"]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("VALID attestation of the CA osca.pub"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("breakglass simulated key (SIMULATED)"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("ssh-keygen attestation (ssh-sk-attest-v01)"),
        "{}",
        out(&o)
    );
    // Never under the default (Yubico) roots, and never with another challenge.
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("which is not a trusted root"),
        "{}",
        err(&o)
    );
    std::fs::write(w.path("challenge"), b"A challenge kept by the operator").unwrap();
    let o = verify(&["--roots", root, "--min-firmware", "none"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("does not verify with this challenge"),
        "{}",
        err(&o)
    );
}
