//! End to end through the built binary on the simulated key, checked by real OpenSSH 9.2:
//! `ssh-keygen -L/-y` parse what breakglass writes, and a real sshd on 127.0.0.1 accepts the
//! certificate for its principal and refuses everything it should.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn openssh_parses_every_file_and_sshd_accepts_the_principal_only() {
    let w = World::new();
    let ca = w.init_ca();
    let u = user();
    let minted = w.ok(&["mint", "-n", &u, "-V", "-5m:+60m", "--reason", "e2e"]);
    assert!(minted.contains("ssh -i emergency"), "{minted}");

    // ssh-keygen -L parses the certificate and shows the sk CA.
    let l = ssh_keygen(&["-L", "-f", "emergency-cert.pub"], &w.work);
    assert!(l.status.success(), "{}", err(&l));
    let text = out(&l);
    assert!(text.contains("Signing CA: ECDSA-SK SHA256:"), "{text}");
    assert!(
        text.contains("(using sk-ecdsa-sha2-nistp256@openssh.com)"),
        "{text}"
    );
    assert!(text.contains(&format!("                {u}\n")), "{text}");

    // ssh-keygen -y on the key-handle file prints the CA public key; on the private key, its .pub.
    let y = ssh_keygen(&["-y", "-f", "sk-user-ca"], &w.work);
    assert!(y.status.success(), "{}", err(&y));
    assert_eq!(
        out(&y).split_whitespace().take(2).collect::<Vec<_>>(),
        ca.split_whitespace().take(2).collect::<Vec<_>>()
    );
    let y = ssh_keygen(&["-y", "-f", "emergency"], &w.work);
    assert!(y.status.success(), "{}", err(&y));
    let pubkey = std::fs::read_to_string(w.path("emergency.pub")).unwrap();
    assert_eq!(
        out(&y).split_whitespace().take(2).collect::<Vec<_>>(),
        pubkey.split_whitespace().take(2).collect::<Vec<_>>()
    );
    // The same fingerprint for the key and its certificate.
    let f1 = out(&ssh_keygen(&["-l", "-f", "emergency.pub"], &w.work));
    let f2 = out(&ssh_keygen(&["-l", "-f", "emergency-cert.pub"], &w.work));
    assert_eq!(f1.split_whitespace().nth(1), f2.split_whitespace().nth(1));

    let sshd = start_sshd(&w, &ca);
    let ok = sshd
        .ssh(&w.path("emergency"), &u, "echo logged-in")
        .unwrap();
    assert!(
        ok.status.success(),
        "login refused: {}\n{}",
        err(&ok),
        sshd.log()
    );
    assert_eq!(out(&ok).trim(), "logged-in");
    let log = sshd.log();
    assert!(
        log.contains("Accepted certificate ID \"breakglass "),
        "{log}"
    );
    assert!(log.contains("signed by ECDSA-SK CA SHA256:"), "{log}");

    // Another user: refused, and sshd says why.
    let other = if u == "root" { "nobody" } else { "root" };
    let no = sshd.ssh(&w.path("emergency"), other, "true").unwrap();
    assert!(!no.status.success(), "sshd accepted {other}");
    assert!(
        sshd.log()
            .contains("Certificate invalid: name is not a listed principal"),
        "{}",
        sshd.log()
    );
}

#[test]
fn sshd_refuses_a_certificate_from_another_simulated_key() {
    let w = World::new();
    let ca = w.init_ca();
    let u = user();
    // A second simulated token with its own CA mints a certificate for the same user.
    let other = w.other_sim("sim2");
    let o = w.run_env(
        &["init-ca", "-f", "other-ca"],
        &[("BREAKGLASS_SIM_DIR", other.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = w.run_env(
        &["mint", "--ca", "other-ca.pub", "-n", &u, "-f", "rogue"],
        &[("BREAKGLASS_SIM_DIR", other.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    // And our own token cannot sign for the other CA: nothing is written.
    let before = snapshot(&w.work);
    let o = w.run(&["mint", "--ca", "other-ca.pub", "-n", &u, "-f", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("is not on this key"), "{}", err(&o));
    assert_eq!(snapshot(&w.work), before);

    let sshd = start_sshd(&w, &ca);
    let no = sshd.ssh(&w.path("rogue"), &u, "true").unwrap();
    assert!(
        !no.status.success(),
        "sshd accepted a certificate from an untrusted CA"
    );
    assert!(sshd.log().contains("Failed publickey"), "{}", sshd.log());
}

#[test]
fn a_four_second_certificate_logs_in_then_is_refused_as_expired() {
    let w = World::new();
    let ca = w.init_ca();
    let u = user();
    let sshd = start_sshd(&w, &ca);
    let minted_at = Instant::now();
    w.ok(&["mint", "-n", &u, "-V", "-0:+4s", "-f", "short"]);
    let first = sshd.ssh(&w.path("short"), &u, "true").unwrap();
    if minted_at.elapsed() < Duration::from_secs(3) {
        assert!(
            first.status.success(),
            "fresh 4-second cert refused: {}",
            sshd.log()
        );
    }
    while minted_at.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let late = sshd.ssh(&w.path("short"), &u, "true").unwrap();
    assert!(
        !late.status.success(),
        "an expired certificate was accepted"
    );
    assert!(
        sshd.log().contains("Certificate invalid: expired"),
        "{}",
        sshd.log()
    );
    // inspect agrees.
    let o = w.run(&["inspect", "short-cert.pub"]);
    assert!(out(&o).contains("Status: EXPIRED"), "{}", out(&o));
    assert_eq!(o.status.code(), Some(1), "expired exits 1");
}

#[test]
fn ed25519_emergency_keys_and_options_work_with_sshd() {
    let w = World::new();
    let ca = w.init_ca();
    let u = user();
    w.ok(&[
        "mint",
        "-n",
        &u,
        "-t",
        "ed25519",
        "-O",
        "force-command=echo forced",
        "-O",
        "source-address=127.0.0.1/32",
        "-f",
        "ed",
    ]);
    let sshd = start_sshd(&w, &ca);
    let o = sshd.ssh(&w.path("ed"), &u, "echo not-this").unwrap();
    assert!(o.status.success(), "{}", sshd.log());
    assert_eq!(out(&o).trim(), "forced");
    // A source-address that excludes us is refused.
    w.ok(&[
        "mint",
        "-n",
        &u,
        "-O",
        "source-address=10.0.0.0/8",
        "-f",
        "far",
    ]);
    let o = sshd.ssh(&w.path("far"), &u, "true").unwrap();
    assert!(!o.status.success(), "source-address was not enforced");
    // Refused for that reason (auth-options.c, auth_authorise_keyopts), not another.
    let log = sshd.log();
    let last = &log[log.rfind("Connection from ").unwrap()..];
    let lines: Vec<&str> = last.lines().map(str::trim_end).collect();
    let refused = format!(
        "cert: Authentication tried for {u} with valid certificate but not from a permitted source address (127.0.0.1)."
    );
    assert!(
        lines
            .windows(2)
            .any(|w| w == [refused.as_str(), "Refused by certificate options"]),
        "{last}"
    );
    assert!(!last.contains("Accepted publickey"), "{last}");
}

/// The decoded critical-options and extensions sections of a certificate line.
fn sections(cert_line: &str) -> (Vec<u8>, Vec<u8>) {
    use ssh_key::encoding::Decode;
    let b64 = cert_line.split_whitespace().nth(1).unwrap();
    use ssh_key::encoding::base64::{Base64, Encoding};
    let blob = Base64::decode_vec(b64).unwrap();
    let mut r: &[u8] = &blob;
    let ty = String::decode(&mut r).unwrap();
    let _nonce = Vec::<u8>::decode(&mut r).unwrap();
    if ty.starts_with("ecdsa") {
        let _curve = String::decode(&mut r).unwrap();
        let _q = Vec::<u8>::decode(&mut r).unwrap();
    } else {
        let _pk = Vec::<u8>::decode(&mut r).unwrap();
    }
    let _serial = u64::decode(&mut r).unwrap();
    let _ty = u32::decode(&mut r).unwrap();
    let _id = Vec::<u8>::decode(&mut r).unwrap();
    let _pr = Vec::<u8>::decode(&mut r).unwrap();
    let _a = u64::decode(&mut r).unwrap();
    let _b = u64::decode(&mut r).unwrap();
    let crit = Vec::<u8>::decode(&mut r).unwrap();
    let ext = Vec::<u8>::decode(&mut r).unwrap();
    (crit, ext)
}

#[test]
fn option_sections_are_byte_identical_to_ssh_keygen() {
    let w = World::new();
    w.init_ca();
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "refca"], &w.work);
    let cases: &[&[&str]] = &[
        &[],
        &["clear"],
        &["no-pty", "no-x11-forwarding"],
        &[
            "force-command=/bin/true",
            "source-address=10.0.0.0/8,192.168.1.0/24",
        ],
        &["verify-required", "no-touch-required"],
        &[
            "clear",
            "permit-pty",
            "extension:zz@example.com=v",
            "extension:aa@example.com",
        ],
        &[
            "critical:foo@example.com=bar",
            "NO-AGENT-FORWARDING",
            "no-user-rc",
        ],
    ];
    for (i, opts) in cases.iter().enumerate() {
        let out_name = format!("k{i}");
        let mut args = vec!["mint", "-n", "u", "-f", &out_name];
        let mut flat = Vec::new();
        for o in opts.iter() {
            flat.push("-O".to_string());
            flat.push(o.to_string());
        }
        args.extend(flat.iter().map(|s| s.as_str()));
        w.ok(&args);
        let ours = std::fs::read_to_string(w.path(&format!("{out_name}-cert.pub"))).unwrap();
        // ssh-keygen signs the same public key with the same options.
        std::fs::copy(
            w.path(&format!("{out_name}.pub")),
            w.path(&format!("ref{i}.pub")),
        )
        .unwrap();
        let mut kargs = vec!["-q", "-s", "refca", "-I", "x", "-n", "u"];
        kargs.extend(flat.iter().map(|s| s.as_str()));
        let pubname = format!("ref{i}.pub");
        kargs.push(&pubname);
        let o = ssh_keygen(&kargs, &w.work);
        assert!(o.status.success(), "ssh-keygen {kargs:?}: {}", err(&o));
        let theirs = std::fs::read_to_string(w.path(&format!("ref{i}-cert.pub"))).unwrap();
        assert_eq!(sections(&ours), sections(&theirs), "-O {opts:?}");
    }
}
