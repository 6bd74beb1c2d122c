//! The CLI as a user sees it: help, the drill, JSON output, the log, the simulated key's state.

mod common;

use common::*;

#[test]
fn help_lists_the_commands_and_no_command_is_a_usage_error() {
    let w = World::new();
    let h = w.ok(&["--help"]);
    for c in ["init-ca", "mint", "inspect", "drill", "log", "sim"] {
        assert!(h.contains(c), "{c} missing from --help:\n{h}");
    }
    assert!(h.contains("breakglass drill"), "{h}");
    let o = w.run(&[]);
    assert_eq!(o.status.code(), Some(2));
    let o = w.run(&["mint"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("-n PRINCIPALS is required"), "{}", err(&o));
}

#[test]
fn drill_passes_every_step_and_cleans_up() {
    let w = World::new();
    let o = w
        .cmd(&["drill"])
        .env_remove("BREAKGLASS_BACKEND")
        .output()
        .unwrap();
    let text = out(&o);
    assert!(o.status.success(), "{text}\n{}", err(&o));
    for step in [
        "init-ca",
        "mint",
        "inspect",
        "ssh-keygen -L",
        "throwaway sshd",
        "ssh -i emergency",
        "wrong principal is refused",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains("[PASS]") && l.contains(step)),
            "step {step}:\n{text}"
        );
    }
    assert!(
        text.lines().last().unwrap().starts_with("PASS in "),
        "{text}"
    );
    // The drill used its own simulated key and audit log, not the user's.
    assert!(!w.sim.exists());
    assert!(!w.audit.exists());
    let j = w.cmd(&["drill", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["pass"], true);
    assert_eq!(v["outcome"], "PASS");
    assert!(v["steps"].as_array().unwrap().len() >= 7);
}

#[test]
fn mint_and_inspect_json_carry_what_the_text_shows() {
    let w = World::new();
    w.init_ca();
    let o = w.run(&[
        "mint",
        "-n",
        "alice,bob",
        "-V",
        "-5m:+30m",
        "-z",
        "42",
        "-I",
        "my-id",
        "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let c = &v["certificate"];
    assert_eq!(c["serial"], "42");
    assert_eq!(c["key_id"], "my-id");
    assert_eq!(c["principals"], serde_json::json!(["alice", "bob"]));
    assert_eq!(c["status"], "valid");
    assert_eq!(c["signature_valid"], true);
    assert_eq!(c["ca_type"], "ECDSA-SK");
    assert_eq!(c["sk_flags"].as_u64().unwrap() & 1, 1);
    let left: u64 = c["seconds_left"].as_str().unwrap().parse().unwrap();
    assert!((1700..=1800).contains(&left), "{left}");
    assert_eq!(v["ssh_commands"][0], "ssh -i emergency alice@HOST");
    let i = w.run(&[
        "inspect",
        "--json",
        "--ca",
        "sk-user-ca.pub",
        "emergency-cert.pub",
    ]);
    assert!(i.status.success());
    let arr: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(arr[0]["serial"], "42");
    assert_eq!(arr[0]["ca_matches"], true);
    // JSON errors are JSON too.
    let e = w.run(&["mint", "-n", "u", "--json"]);
    assert_eq!(e.status.code(), Some(1));
    let ev: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
    assert_eq!(ev["error"]["kind"], "file-exists");
}

#[test]
fn inspect_matches_ssh_keygen_lines_and_reports_time() {
    let w = World::new();
    w.init_ca();
    w.ok(&[
        "mint",
        "-n",
        "ops",
        "-V",
        "20300101:20300102",
        "--allow-long",
        "-f",
        "future",
    ]);
    let ours = w.run(&["inspect", "future-cert.pub"]);
    assert_eq!(ours.status.code(), Some(1), "not yet valid exits 1");
    let theirs = out(&ssh_keygen(&["-L", "-f", "future-cert.pub"], &w.work));
    let ours = out(&ours);
    // Every line ssh-keygen prints, breakglass prints identically (TZ=UTC in both).
    for line in theirs.lines() {
        assert!(
            ours.lines().any(|l| l == line),
            "missing {line:?} in\n{ours}"
        );
    }
    assert!(ours.contains("Status: NOT YET VALID"), "{ours}");
    assert!(
        ours.contains("CA signature: verified (touch: yes, PIN: no, counter"),
        "{ours}"
    );
}

#[test]
fn log_shows_and_verifies_the_chain_without_secrets() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u", "--reason", "INC-1: db down"]);
    let log = w.ok(&["log"]);
    assert!(log.contains("init-ca"), "{log}");
    assert!(log.contains("mint"), "{log}");
    assert!(log.contains("reason: INC-1: db down"), "{log}");
    // The check reads the simulated key's counter and records it: a third entry.
    let verified = w.ok(&["log", "--verify"]);
    assert!(
        verified.contains("3 entries, hash chain intact"),
        "{verified}"
    );
    assert!(verified.contains("agrees with the log"), "{verified}");
    let raw = std::fs::read_to_string(&w.audit).unwrap();
    let key = std::fs::read_to_string(w.path("emergency")).unwrap();
    let body: String = key.lines().nth(2).unwrap().to_string();
    assert!(
        !raw.contains(&body),
        "private key material in the audit log"
    );
    assert!(!raw.contains("PRIVATE"));
    // Remove the first line: the chain breaks at the (new) first line.
    let rest: Vec<&str> = raw.lines().skip(1).collect();
    std::fs::write(&w.audit, rest.join("\n") + "\n").unwrap();
    let o = w.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("hash chain is broken"), "{}", err(&o));
}

#[test]
fn sim_status_shows_counter_pin_and_credentials() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u"]);
    let s = w.ok(&["sim", "status"]);
    assert!(s.contains("(SIMULATED)"), "{s}");
    assert!(s.contains("PIN: not set"), "{s}");
    assert!(s.contains("resident credential: ssh: SHA256:"), "{s}");
    let j: serde_json::Value = serde_json::from_str(&w.ok(&["sim", "status", "--json"])).unwrap();
    assert!(j["counter"].as_u64().unwrap() >= 2);
    w.ok(&["sim", "reset"]);
    assert!(w
        .ok(&["sim", "status"])
        .contains("resident credentials: none"));
}

#[test]
fn hostile_text_in_a_certificate_is_sanitised_on_the_terminal() {
    let w = World::new();
    // ssh-keygen will happily put escape sequences in a key id and a principal.
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "ca"], &w.work);
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "k"], &w.work);
    let o = ssh_keygen(
        &[
            "-q",
            "-s",
            "ca",
            "-I",
            "evil\x1b[2J\x07id",
            "-n",
            "root\x1b]0;pwned\x07",
            "k.pub",
        ],
        &w.work,
    );
    assert!(o.status.success(), "{}", err(&o));
    let i = w.run(&["inspect", "k-cert.pub"]);
    let text = out(&i);
    assert!(
        !text.contains('\x1b') && !text.contains('\x07'),
        "raw control characters reached stdout"
    );
    assert!(text.contains("evil\\u{1b}[2J\\u{7}id"), "{text}");
}

#[test]
fn text_from_outside_is_escaped_once_and_shell_lines_quote_the_raw_name() {
    let w = World::new();
    w.ok(&["init-ca"]);
    // A control character in -n: refused, and shown escaped exactly once.
    let o = w.run(&["mint", "-n", "a\x1bb"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "breakglass: principal 'a\\u{1b}b' contains blanks or control characters.\n\
         -n takes the login names on the host, separated by commas, e.g. -n ubuntu or -n ubuntu,root.\n"
    );
    // A backslash is a legal (if odd) login name: the printed ssh line must name it exactly.
    let text = w.ok(&["mint", "-n", "a\\b"]);
    assert!(
        text.lines().any(|l| l == "  ssh -i emergency 'a\\b'@HOST"),
        "{text}"
    );
}

#[test]
fn the_json_flag_works_before_and_after_the_command_and_errors_are_json_too() {
    let w = World::new();
    w.ok(&["init-ca"]);
    for args in [
        &["--json", "sim", "status"][..],
        &["sim", "status", "--json"][..],
    ] {
        let v: serde_json::Value = serde_json::from_str(&w.ok(args)).unwrap();
        assert!(v["serial"].is_string(), "{v}");
    }
    let o = w.run(&[
        "--json",
        "mint",
        "-n",
        "ubuntu",
        "-V",
        "+1d",
        "--max-lifetime",
        "1h",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "policy");
    assert!(!w.work.join("emergency").exists());
}

#[test]
fn backend_is_listed_only_where_a_token_is_used_but_works_before_any_command() {
    let w = World::new();
    for cmd in ["init-ca", "mint", "list"] {
        let h = w.ok(&[cmd, "--help"]);
        assert!(h.contains("--backend <BACKEND>"), "{cmd}: {h}");
    }
    let h = w.ok(&["inspect", "--help"]);
    assert!(!h.contains("--backend"), "inspect: {h}");
    // The drill's --backend picks one of its own simulated keys, never a token family.
    let h = w.ok(&["drill", "--help"]);
    assert!(
        h.contains("--backend <BACKEND>  sim (in-process, nothing to plug in) or fido2-virtual"),
        "drill: {h}"
    );
    let o = w.run(&["drill", "--backend", "fido2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("[possible values: sim, fido2-virtual]"),
        "{}",
        err(&o)
    );
    // Before the command, for every command (the env var does the same).
    w.ok(&["--backend", "sim", "init-ca"]);
    let o = w.run(&["--backend", "sim", "log"]);
    assert!(o.status.success(), "{}", err(&o));
    w.ok(&["mint", "--backend", "sim", "-n", "ubuntu"]);
}
