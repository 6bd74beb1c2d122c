//! Bad inputs through the built binary: each gives the exact error, the right exit code (2 for
//! usage, 1 for failures), and writes or changes no file in the working directory.

mod common;

use common::*;

struct Case {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    code: i32,
    message: &'static str,
    /// `None`: the audit log is left as it was (refused before the key was asked for anything).
    /// `Some(kind)`: exactly one entry is appended, `"result":"failed: KIND"`.
    records: Option<&'static str>,
}

fn case(name: &'static str, args: &[&str], code: i32, message: &'static str) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        code,
        message,
        records: None,
    }
}

impl Case {
    /// The failure reached the key, so the audit log records it as `failed: KIND`.
    fn records(mut self, kind: &'static str) -> Case {
        self.records = Some(kind);
        self
    }
}

fn check(w: &World, c: &Case) {
    let before = snapshot(&w.work);
    let audit_before = std::fs::read(&w.audit).unwrap_or_default();
    let args: Vec<&str> = c.args.iter().map(|s| s.as_str()).collect();
    let env: Vec<(&str, &str)> = c.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = w.run_env(&args, &env);
    let e = err(&o);
    assert_eq!(
        o.status.code(),
        Some(c.code),
        "{}: exit code; stderr: {e}",
        c.name
    );
    assert!(
        e.contains(c.message),
        "{}: expected {:?} in stderr:\n{e}",
        c.name,
        c.message
    );
    assert!(!e.contains("panicked"), "{}: panic: {e}", c.name);
    assert_eq!(snapshot(&w.work), before, "{}: files changed", c.name);
    // The log is only ever appended to: a refusal leaves it as it was, a failure at the key
    // adds one entry saying so, and never a key.
    let audit = std::fs::read(&w.audit).unwrap_or_default();
    let added = audit
        .strip_prefix(&audit_before[..])
        .unwrap_or_else(|| panic!("{}: earlier audit entries changed", c.name));
    let added = String::from_utf8_lossy(added);
    match c.records {
        None => assert_eq!(added, "", "{}: the audit log changed", c.name),
        Some(kind) => {
            assert_eq!(added.lines().count(), 1, "{}: {added}", c.name);
            assert!(
                added.contains(&format!("\"result\":\"failed: {kind}\"")),
                "{}: {added}",
                c.name
            );
            assert!(
                !added.contains("PRIVATE KEY"),
                "{}: key in audit log",
                c.name
            );
        }
    }
}

#[test]
fn mint_rejects_bad_arguments_before_touching_anything() {
    let w = World::new();
    w.init_ca();
    std::fs::write(w.path("garbage.pub"), "this is not a key\n").unwrap();
    std::fs::write(
        w.path("ed.pub"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x\n",
    )
    .unwrap();
    std::fs::create_dir(w.path("adir")).unwrap();
    let cases = vec![
        case(
            "empty -V",
            &["mint", "-n", "u", "-V", ""],
            2,
            "Invalid certificate life specification ",
        ),
        case(
            "lone -5m",
            &["mint", "-n", "u", "-V", "-5m"],
            2,
            "Invalid certificate life specification -5m",
        ),
        case(
            "bad unit",
            &["mint", "-n", "u", "-V", "+1x"],
            2,
            "Invalid relative certificate life +1x",
        ),
        case(
            "empty interval",
            &["mint", "-n", "u", "-V", "+1h:-1h"],
            2,
            "Empty certificate validity interval",
        ),
        case(
            "bad from",
            &["mint", "-n", "u", "-V", "forever:always"],
            2,
            "Invalid from time \"forever\"",
        ),
        case(
            "hex junk",
            &["mint", "-n", "u", "-V", "0x:0x10"],
            2,
            "Invalid certificate time: not a number",
        ),
        case(
            "already over",
            &["mint", "-n", "u", "-V", "20200101:20200102"],
            2,
            "which is already past",
        ),
        case(
            "empty principals",
            &["mint", "-n", ""],
            2,
            "-n needs at least one principal",
        ),
        case(
            "blank principals",
            &["mint", "-n", "   "],
            2,
            "-n needs at least one principal",
        ),
        case(
            "empty principal in list",
            &["mint", "-n", "a,,b"],
            2,
            "empty principal name",
        ),
        case(
            "principal with blank",
            &["mint", "-n", "a b"],
            2,
            "contains blanks or control characters",
        ),
        case(
            "missing --ca",
            &["mint", "-n", "u", "--ca", "nope.pub"],
            1,
            "nope.pub: no such file",
        ),
        case(
            "garbage --ca",
            &["mint", "-n", "u", "--ca", "garbage.pub"],
            1,
            "garbage.pub: is not an OpenSSH public key",
        ),
        case(
            "private --ca",
            &["mint", "-n", "u", "--ca", "sk-user-ca"],
            1,
            "sk-user-ca: is a private key file",
        ),
        case(
            "other type --ca",
            &["mint", "-n", "u", "--ca", "ed.pub"],
            1,
            "holds a ssh-ed25519 key",
        ),
        case(
            "directory --ca",
            &["mint", "-n", "u", "--ca", "adir"],
            1,
            "adir: is a directory",
        ),
        case(
            "missing directory",
            &["mint", "-n", "u", "-f", "no/such/dir/emergency"],
            1,
            "directory no/such/dir does not exist",
        ),
        case(
            "unknown -O",
            &["mint", "-n", "u", "-O", "frobnicate"],
            2,
            "unknown certificate option \"frobnicate\"",
        ),
        case(
            "bad source-address",
            &["mint", "-n", "u", "-O", "source-address=10.0.0.0/33"],
            2,
            "invalid source-address",
        ),
        case(
            "force-command twice",
            &[
                "mint",
                "-n",
                "u",
                "-O",
                "force-command=a",
                "-O",
                "force-command=b",
            ],
            2,
            "force-command given twice",
        ),
        case(
            "lifetime past policy",
            &["mint", "-n", "u", "-V", "-5m:+25h"],
            1,
            "above the --max-lifetime of 1d",
        ),
        case(
            "forever without --allow-long",
            &["mint", "-n", "u", "-V", "-5m:forever"],
            1,
            "no start or no end",
        ),
        case(
            "always without --allow-long",
            &["mint", "-n", "u", "-V", "always:+1h"],
            1,
            "no start or no end",
        ),
        case(
            "short but far in the future",
            &["mint", "-n", "u", "-V", "+300d:+301d"],
            1,
            "from now, beyond the --max-lifetime of 1d",
        ),
        case(
            "short max lifetime",
            &["mint", "-n", "u", "-V", "-5m:+60m", "--max-lifetime", "30m"],
            1,
            "above the --max-lifetime of 30m",
        ),
        case(
            "-t dsa",
            &["mint", "-n", "u", "-t", "dsa"],
            2,
            "key type \"dsa\" is not supported",
        ),
        case(
            "-z not a number",
            &["mint", "-n", "u", "-z", "twelve"],
            2,
            "invalid value 'twelve'",
        ),
        case(
            "bad --max-lifetime",
            &["mint", "-n", "u", "--max-lifetime", "soon"],
            2,
            "is not a duration",
        ),
        case(
            "control char in -I",
            &["mint", "-n", "u", "-I", "id\x1b[31m"],
            2,
            "-I must not contain control characters",
        ),
        case(
            "control char in --reason",
            &["mint", "-n", "u", "--reason", "a\nb"],
            2,
            "--reason must not contain control characters",
        ),
        case(
            "unknown backend",
            &["--backend", "usb", "mint", "-n", "u"],
            2,
            "unknown backend",
        ),
    ];
    for c in &cases {
        check(&w, c);
    }
}

#[test]
fn existing_outputs_are_never_overwritten_without_force() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u"]);
    for existing in ["emergency", "emergency.pub", "emergency-cert.pub"] {
        let w2 = World::new();
        w2.init_ca();
        std::fs::write(w2.path(existing), "precious").unwrap();
        check(
            &w2,
            &case("existing output", &["mint", "-n", "u"], 1, "already exists"),
        );
        assert_eq!(
            std::fs::read_to_string(w2.path(existing)).unwrap(),
            "precious"
        );
        // --force replaces it with a fresh set.
        w2.ok(&["mint", "-n", "u", "--force"]);
        assert_ne!(
            std::fs::read_to_string(w2.path(existing)).unwrap(),
            "precious"
        );
    }
    let o = w.run(&["mint", "-n", "u"]);
    assert!(err(&o).contains("emergency already exists"), "{}", err(&o));
    assert!(
        err(&o).contains("Use -f to pick another name, or --force to replace it."),
        "{}",
        err(&o)
    );
}

#[test]
fn touch_faults_leave_nothing_behind() {
    let w = World::new();
    w.init_ca();
    let mut c = case(
        "touch denied",
        &["mint", "-n", "u"],
        1,
        "the key refused the operation (touch declined)",
    )
    .records("touch-denied");
    c.env.push(("BREAKGLASS_SIM_TOUCH", "deny".into()));
    check(&w, &c);
    let mut c = case(
        "touch timeout",
        &["mint", "-n", "u"],
        1,
        "the key was not touched in time",
    )
    .records("touch-timeout");
    c.env.push(("BREAKGLASS_SIM_TOUCH", "timeout".into()));
    check(&w, &c);
    let mut c = case(
        "bad touch setting",
        &["mint", "-n", "u"],
        1,
        "BREAKGLASS_SIM_TOUCH=maybe is not one of approve, deny, timeout",
    )
    .records("bad-touch-setting");
    c.env.push(("BREAKGLASS_SIM_TOUCH", "maybe".into()));
    check(&w, &c);
    // Failures are in the audit log with their reason.
    let log = std::fs::read_to_string(&w.audit).unwrap();
    assert!(log.contains("\"result\":\"failed: touch-denied\""), "{log}");
    assert!(
        log.contains("\"result\":\"failed: touch-timeout\""),
        "{log}"
    );
}

#[test]
fn pin_faults_count_down_block_and_need_a_replug() {
    let w = World::new();
    let o = w.run_env(&["sim", "set-pin"], &[("BREAKGLASS_NEW_PIN", "123456")]);
    assert!(o.status.success(), "{}", err(&o));
    let o = w.run_env(
        &["init-ca", "--verify-required"],
        &[("BREAKGLASS_PIN", "123456")],
    );
    assert!(o.status.success(), "{}", err(&o));
    ssh_keygen_ok(&["-y", "-f", "sk-user-ca"], &w.work);

    // No PIN available and no terminal.
    check(
        &w,
        &case(
            "no pin",
            &["mint", "-n", "u"],
            1,
            "the key needs its PIN, and there is no terminal to ask for it",
        )
        .records("pin-required"),
    );
    let wrong = |message: &'static str, kind: &'static str| {
        let mut c = case("wrong pin", &["mint", "-n", "u"], 1, message).records(kind);
        c.env.push(("BREAKGLASS_PIN", "000000".into()));
        c
    };
    check(
        &w,
        &wrong(
            "wrong PIN; 7 tries left before the key locks its PIN",
            "pin-invalid",
        ),
    );
    check(
        &w,
        &wrong(
            "wrong PIN; 6 tries left before the key locks its PIN",
            "pin-invalid",
        ),
    );
    check(&w, &wrong("three wrong PINs in a row", "pin-auth-blocked"));
    let o = w.run_env(&["mint", "-n", "u"], &[("BREAKGLASS_PIN", "000000")]);
    assert!(err(&o).contains("breakglass sim replug"), "{}", err(&o));
    // Even the right PIN is refused until re-plugged.
    let mut c = case(
        "blocked until replug",
        &["mint", "-n", "u"],
        1,
        "three wrong PINs in a row",
    )
    .records("pin-auth-blocked");
    c.env.push(("BREAKGLASS_PIN", "123456".into()));
    check(&w, &c);
    w.ok(&["sim", "replug"]);
    // The right PIN works again and resets the counter.
    let o = w.run_env(&["mint", "-n", "u"], &[("BREAKGLASS_PIN", "123456")]);
    assert!(o.status.success(), "{}", err(&o));
    let status = w.ok(&["sim", "status"]);
    assert!(status.contains("PIN: set, 8 tries left"), "{status}");
    // Eight wrong PINs (with re-plugs) block the PIN for good.
    for i in 0..8 {
        if i % 3 == 0 {
            w.ok(&["sim", "replug"]);
        }
        let o = w.run_env(
            &["mint", "-n", "u", "-f", "x"],
            &[("BREAKGLASS_PIN", "000000")],
        );
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    }
    w.ok(&["sim", "replug"]);
    let mut c = case(
        "blocked pin",
        &["mint", "-n", "u", "-f", "y"],
        1,
        "the key's PIN is blocked",
    )
    .records("pin-blocked");
    c.env.push(("BREAKGLASS_PIN", "123456".into()));
    check(&w, &c);
    let o = w.run_env(
        &["mint", "-n", "u", "-f", "y"],
        &[("BREAKGLASS_PIN", "123456")],
    );
    assert!(err(&o).contains("use the backup key"), "{}", err(&o));
}

#[test]
fn token_without_ca_and_several_cas_are_clear_errors() {
    let w = World::new();
    check(
        &w,
        &case(
            "no CA",
            &["mint", "-n", "u"],
            1,
            "the simulated key holds no SSH CA for application ssh:",
        )
        .records("no-ca"),
    );
    w.init_ca();
    std::fs::remove_file(w.path("sk-user-ca.pub")).unwrap();
    // A second resident credential for ssh: under another user id (as `ssh-keygen -O user=x` makes).
    {
        use breakglass::token::ctap::{Authenticator, MakeCredential};
        let mut t = breakglass::token::sim::SimToken::open(&w.sim).unwrap();
        t.make_credential(
            &MakeCredential {
                challenge: Vec::new(),
                client_data_hash: [7; 32],
                rp_id: "ssh:".into(),
                user_id: b"other".to_vec(),
                user_name: "openssh".into(),
                resident: true,
                cred_protect: 2,
            },
            None,
        )
        .unwrap();
    }
    check(
        &w,
        &case(
            "several CAs",
            &["mint", "-n", "u"],
            1,
            "the key holds 2 SSH CAs for application ssh:",
        )
        .records("several-cas"),
    );
    let o = w.run(&["mint", "-n", "u"]);
    assert!(
        err(&o).contains("Choose one with --ca CA.pub."),
        "{}",
        err(&o)
    );
}

#[test]
fn init_ca_never_destroys_a_ca_or_a_file_without_force() {
    let w = World::new();
    let first = w.init_ca();
    let key_before = std::fs::read(w.path("sk-user-ca")).unwrap();
    check(
        &w,
        &case("files exist", &["init-ca"], 1, "sk-user-ca already exists"),
    );
    check(
        &w,
        &case(
            "CA exists on token",
            &["init-ca", "-f", "second"],
            1,
            "the key already holds an SSH CA for application ssh:",
        )
        .records("ca-exists"),
    );
    let o = w.run(&["init-ca", "-f", "second"]);
    assert!(
        err(&o).contains("hosts trusting the old CA will then refuse new certificates"),
        "{}",
        err(&o)
    );
    check(
        &w,
        &case(
            "bad application",
            &["init-ca", "-f", "third", "--application", "web:x"],
            2,
            "the application must start with \"ssh:\"",
        )
        // init-ca records every attempt, even one refused for its command line.
        .records("application"),
    );
    assert_eq!(std::fs::read(w.path("sk-user-ca")).unwrap(), key_before);
    // The old CA still signs.
    w.ok(&["mint", "-n", "u"]);
    // With --force the token's CA is replaced; the old CA file no longer matches the token.
    let o = w.run(&["init-ca", "-f", "second", "--force"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("Replaced the key's previous CA"),
        "{}",
        err(&o)
    );
    assert_ne!(
        std::fs::read_to_string(w.path("second.pub")).unwrap(),
        first
    );
    let mut c = case(
        "stale CA file",
        &["mint", "-n", "u", "-f", "x"],
        1,
        "is not on this key",
    )
    .records("ca-not-on-token");
    c.env.clear();
    std::fs::remove_file(w.path("sk-user-ca")).unwrap(); // only the .pub: the token is searched
    check(&w, &c);
}

#[test]
fn no_backend_means_hardware_and_never_the_simulator() {
    let w = World::new();
    w.init_ca();
    let before = snapshot(&w.work);
    let o = w
        .cmd(&["mint", "-n", "u"])
        .env_remove("BREAKGLASS_BACKEND")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("breakglass: no FIDO2 key found."), "{e}");
    assert!(
        e.contains("Insert the YubiKey that holds the CA (SHA256:"),
        "{e}"
    );
    assert_eq!(snapshot(&w.work), before);
}

#[test]
fn an_unwritable_audit_log_stops_the_mint_before_anything_is_released() {
    let w = World::new();
    w.init_ca();
    let mut c = case(
        "audit log dir missing",
        &["mint", "-n", "u"],
        1,
        "could not write the audit log",
    );
    c.env.push((
        "BREAKGLASS_AUDIT_LOG",
        w.tmp
            .path()
            .join("missing/dir/audit.jsonl")
            .display()
            .to_string(),
    ));
    check(&w, &c);
    // A log that exists but cannot be appended to (a directory in its place).
    let d = w.tmp.path().join("logdir");
    std::fs::create_dir(&d).unwrap();
    let mut c = case(
        "audit log is a directory",
        &["mint", "-n", "u"],
        1,
        "could not write the audit log",
    );
    c.env
        .push(("BREAKGLASS_AUDIT_LOG", d.display().to_string()));
    check(&w, &c);
}

#[test]
fn a_read_only_directory_stops_the_mint_before_the_touch() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    w.init_ca();
    let ro = w.path("ro");
    std::fs::create_dir(&ro).unwrap();
    // Root writes into a 0555 directory anyway: as root, mint runs as nobody (common::unprivileged).
    let user = Unprivileged::new(&w);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = snapshot(&w.work);
    let audit_before = std::fs::read(&w.audit).unwrap_or_default();
    // The simulated finger would decline: a mint that got as far as the touch fails otherwise.
    let o = user
        .cmd(&w, &["mint", "-n", "u", "-f", "ro/emergency"])
        .env("BREAKGLASS_SIM_TOUCH", "deny")
        .output()
        .unwrap();
    let after = snapshot(&w.work);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(out(&o), "");
    assert_eq!(
        err(&o),
        "breakglass: cannot write in directory ro: Permission denied (os error 13).\nPick a \
         directory you can write to (-f DIR/emergency, or cd there), or fix its permissions; \
         nothing was signed.\n"
    );
    assert!(after == before, "nothing written");
    assert_eq!(
        std::fs::read(&w.audit).unwrap_or_default(),
        audit_before,
        "refused before the key was asked: no audit entry"
    );
}

#[test]
fn inspect_fails_on_non_certificates_and_bad_signatures() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u"]);
    let o = w.run(&["inspect", "emergency.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("emergency.pub is a public key, not a certificate"),
        "{}",
        err(&o)
    );
    let o = w.run(&["inspect", "emergency"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("is a private key, not a certificate"),
        "{}",
        err(&o)
    );
    // Change one principal byte: the signature no longer verifies.
    let line = std::fs::read_to_string(w.path("emergency-cert.pub")).unwrap();
    use ssh_key::encoding::base64::{Base64, Encoding};
    let mut parts: Vec<String> = line.split_whitespace().map(String::from).collect();
    let mut blob = Base64::decode_vec(&parts[1]).unwrap();
    let pos = blob
        .windows(5)
        .position(|w| w == b"\x00\x00\x00\x01u")
        .unwrap()
        + 4;
    blob[pos] = b'v';
    parts[1] = Base64::encode_string(&blob);
    std::fs::write(w.path("tampered-cert.pub"), parts.join(" ") + "\n").unwrap();
    let o = w.run(&["inspect", "tampered-cert.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("CA signature: DOES NOT VERIFY"),
        "{}",
        out(&o)
    );
    assert!(
        err(&o).contains("the CA signature does not verify"),
        "{}",
        err(&o)
    );
    // And OpenSSH agrees.
    let l = ssh_keygen(&["-L", "-f", "tampered-cert.pub"], &w.work);
    assert!(!l.status.success());
}
