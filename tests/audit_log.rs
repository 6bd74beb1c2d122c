//! The audit log notices a cut end (the key's signature counter), survives a full disk and
//! a crash fragment, and leaves its head in every default key id.

mod common;

use common::*;

fn lines(w: &World) -> Vec<String> {
    std::fs::read_to_string(&w.audit)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(w: &World, l: &[String]) {
    std::fs::write(&w.audit, l.join("\n") + "\n").unwrap();
}

#[test]
fn a_cut_end_is_caught_by_the_keys_signature_counter() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u"]);
    w.ok(&["log", "--verify"]);
    w.ok(&["mint", "-n", "u", "--force"]);
    // Delete the last line (the second mint): the chain alone cannot see it.
    let mut l = lines(&w);
    l.pop();
    write_lines(&w, &l);
    let o = w.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        err(&o).starts_with("breakglass: the key's signature counter is "),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("the log's end was cut, or the key signed outside breakglass"));
    // A key shared with other services: the same finding is a warning.
    let o = w.run(&["log", "--verify", "--shared-key"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("warning: the key's signature counter is"),
        "{}",
        err(&o)
    );
}

#[test]
fn each_key_is_compared_with_its_own_counter() {
    // Two keys in one log: the primary signs more often than the replacement (or the backup)
    // ever has, and neither key's check is judged by the other's counter.
    let w = World::new();
    w.init_ca();
    let second = w.other_sim("sim2");
    let o = w.run_env(
        &["init-ca", "-f", "second"],
        &[("BREAKGLASS_SIM_DIR", second.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    for _ in 0..3 {
        w.ok(&["mint", "-n", "u", "--force"]);
    }
    w.ok(&["log", "--verify"]);
    let o = w.run_env(
        &["log", "--verify", "--ca", "second.pub"],
        &[("BREAKGLASS_SIM_DIR", second.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    // A cut end is still caught for the key whose entry was cut.
    let mut l = lines(&w);
    let last_mint = l
        .iter()
        .rposition(|e| e.contains("\"action\":\"mint\""))
        .unwrap();
    l.truncate(last_mint);
    write_lines(&w, &l);
    let o = w.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("the log's end was cut"), "{}", err(&o));
}

#[test]
fn an_emptied_log_is_caught_too() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u"]);
    std::fs::write(&w.audit, "").unwrap();
    let o = w.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("records no counter"), "{}", err(&o));
}

#[test]
fn a_rewritten_tail_with_invented_counters_is_caught() {
    let w = World::new();
    w.init_ca();
    w.ok(&["mint", "-n", "u"]);
    // Rewrite the mint's counter far ahead (and re-chain nothing: the check runs first on the
    // counter only when the chain holds, so rewrite the last line, which nothing chains on).
    let mut l = lines(&w);
    let last = l.pop().unwrap();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    let c = v["counter"].as_str().unwrap().to_string();
    l.push(last.replace(&format!("\"counter\":\"{c}\""), "\"counter\":\"999\""));
    write_lines(&w, &l);
    let o = w.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        err(&o).contains("records signature counter 999"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_full_disk_during_the_audit_append_releases_nothing_and_leaves_the_log_intact() {
    let w = World::new();
    w.init_ca();
    let before = std::fs::read(&w.audit).unwrap();
    let o = w.run_env(
        &["mint", "-n", "u"],
        &[("BREAKGLASS_FAULT", "audit-append")],
    );
    assert_eq!(o.status.code(), Some(1));
    // The touch came first (a full disk cannot be foreseen); then nothing was released.
    assert!(
        err(&o).contains("\nbreakglass: could not write the audit log "),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("No space left on device"), "{}", err(&o));
    assert_eq!(std::fs::read(&w.audit).unwrap(), before);
    for f in ["emergency", "emergency.pub", "emergency-cert.pub"] {
        assert!(!w.path(f).exists(), "{f} was written");
    }
    let mut names: Vec<String> = std::fs::read_dir(&w.work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["sk-user-ca", "sk-user-ca.attest", "sk-user-ca.pub"],
        "debris left"
    );
    // The chain is whole; and the key did sign once without an entry, which the counter shows.
    let o = w.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("the key has signed more than the log shows"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_crash_fragment_is_reported_not_called_tampering() {
    let w = World::new();
    w.init_ca();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&w.audit)
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"time\":\"2026-11-2").unwrap();
    drop(f);
    w.ok(&["mint", "-n", "u"]);
    let o = w.run(&["log", "--verify"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("warning: line 2 is an unfinished entry left by a crash or a full disk"),
        "{}",
        err(&o)
    );
    assert!(w.ok(&["log"]).contains("mint"));
}

#[test]
fn the_default_key_id_carries_the_log_head_and_says_simulated() {
    let w = World::new();
    w.init_ca();
    let j: serde_json::Value = serde_json::from_str(&w.ok(&["mint", "-n", "u", "--json"])).unwrap();
    let id = j["certificate"]["key_id"].as_str().unwrap();
    let verified = w.ok(&["log", "--verify", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&verified).unwrap();
    // The head before the mint: the init-ca line, entry 1.
    let first = lines(&w)[0].clone();
    let hash = sha256_hex(first.as_bytes());
    assert!(id.contains(&format!(" log:{}#1 ", &hash[..12])), "{id}");
    assert!(id.contains(" SIMULATED"), "{id}");
    assert_eq!(v["entries"], "3");
    // A key id the user gives is left alone.
    let j: serde_json::Value =
        serde_json::from_str(&w.ok(&["mint", "-n", "u", "--force", "-I", "mine", "--json"]))
            .unwrap();
    assert_eq!(j["certificate"]["key_id"], "mine");
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}
