//! `mint --pubkey` signs a key that already exists (no private key touched), and
//! `mint --host --pubkey` makes a host certificate that real ssh trusts through an
//! `@cert-authority` line alone.

mod common;

use breakglass::ops::sshd::TestSshd;
use common::*;

#[test]
fn mint_pubkey_signs_an_existing_key_and_sshd_accepts_it() {
    let w = World::new();
    w.init_ca();
    let o = ssh_keygen(
        &[
            "-t",
            "ed25519",
            "-f",
            "mine",
            "-N",
            "",
            "-q",
            "-C",
            "colleague",
        ],
        &w.work,
    );
    assert!(o.status.success());
    let before = std::fs::read(w.path("mine")).unwrap();
    let user = breakglass::operator();
    let text = w.ok(&["mint", "--pubkey", "mine.pub", "-n", &user]);
    assert!(
        text.starts_with("Signed mine.pub: wrote mine-cert.pub"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  ssh -i mine {user}@HOST")),
        "{text}"
    );
    assert_eq!(
        std::fs::read(w.path("mine")).unwrap(),
        before,
        "private key touched"
    );
    assert!(!w.path("emergency").exists());
    let o = ssh_keygen(&["-L", "-f", "mine-cert.pub"], &w.work);
    let l = String::from_utf8_lossy(&o.stdout);
    assert!(l.contains("user certificate"), "{l}");
    let ca = std::fs::read_to_string(w.path("sk-user-ca.pub")).unwrap();
    let sshd = TestSshd::start(&w.tmp.path().join("sshd"), &ca, &[]).unwrap();
    let o = sshd.ssh(&w.path("mine"), &user, "true").unwrap();
    assert!(o.status.success(), "{}", sshd.log());
    // Never over an existing certificate without --force; nothing changes.
    let cert = std::fs::read(w.path("mine-cert.pub")).unwrap();
    let o = w.run(&["mint", "--pubkey", "mine.pub", "-n", &user]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("mine-cert.pub already exists."),
        "{}",
        err(&o)
    );
    assert_eq!(std::fs::read(w.path("mine-cert.pub")).unwrap(), cert);
    // A private key or a certificate is not a public key.
    let o = w.run(&["mint", "--pubkey", "mine", "-n", "u"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("mine: is a private key; pass its public half (the .pub file)."),
        "{}",
        err(&o)
    );
    let o = w.run(&["mint", "--pubkey", "mine-cert.pub", "-n", "u", "--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("is a certificate"), "{}", err(&o));
}

#[test]
fn a_host_certificate_is_trusted_by_its_name_only() {
    let w = World::new();
    w.init_ca();
    let dir = w.tmp.path().join("sshd");
    std::fs::create_dir_all(&dir).unwrap();
    let o = ssh_keygen(
        &[
            "-t",
            "ed25519",
            "-f",
            dir.join("ssh_host_ed25519_key").to_str().unwrap(),
            "-N",
            "",
            "-q",
        ],
        &w.work,
    );
    assert!(o.status.success());
    let host_pub = dir.join("ssh_host_ed25519_key.pub");
    let text = w.ok(&[
        "mint",
        "--host",
        "--pubkey",
        host_pub.to_str().unwrap(),
        "-n",
        "host.example.com",
    ]);
    assert!(text.contains("HostCertificate"), "{text}");
    let cert = dir.join("ssh_host_ed25519_key-cert.pub");
    let l =
        String::from_utf8_lossy(&ssh_keygen(&["-L", "-f", cert.to_str().unwrap()], &w.work).stdout)
            .into_owned();
    assert!(l.contains("host certificate"), "{l}");
    assert!(l.contains("Extensions: (none)"), "{l}");
    // -O makes no sense for a host certificate.
    let o = w.run(&[
        "mint",
        "--host",
        "--pubkey",
        host_pub.to_str().unwrap(),
        "-n",
        "h",
        "-O",
        "no-pty",
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));

    // A user certificate to log in with, from the same CA.
    let user = breakglass::operator();
    w.ok(&["mint", "-n", &user]);
    let ca = std::fs::read_to_string(w.path("sk-user-ca.pub")).unwrap();
    let sshd =
        TestSshd::start(&dir, &ca, &[&format!("HostCertificate {}", cert.display())]).unwrap();
    let kh = w.path("known_hosts");
    std::fs::write(&kh, format!("@cert-authority host.example.com {ca}")).unwrap();
    let ssh = |alias: &str| {
        std::process::Command::new("ssh")
            .args([
                "-F",
                "none",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .args([
                "-o",
                "IdentityAgent=none",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", kh.display()))
            .args([
                "-o",
                &format!("HostKeyAlias={alias}"),
                "-o",
                "LogLevel=ERROR",
            ])
            .args(["-o", "HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com"])
            .args(["-p", &sshd.port.to_string(), "-i"])
            .arg(w.path("emergency"))
            .arg(format!("{user}@127.0.0.1"))
            .arg("true")
            .stdin(std::process::Stdio::null())
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap()
    };
    let o = ssh("host.example.com");
    assert!(o.status.success(), "{}\n{}", err(&o), sshd.log());
    // The same host under a name the certificate does not carry: refused.
    std::fs::write(&kh, format!("@cert-authority other.example.com {ca}")).unwrap();
    let o = ssh("other.example.com");
    assert!(
        !o.status.success(),
        "connected to a host whose certificate names another host"
    );
    assert!(
        err(&o).contains("Host key verification failed"),
        "{}",
        err(&o)
    );
}
