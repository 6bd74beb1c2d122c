//! The attestation captured at a CA's birth, through the built binary on the simulated key:
//! `init-ca` writes `CA.attest` with `CA.pub` (and records it in the audit log), `ca verify`
//! accepts it only with the simulated key's own root and refuses it under the default roots,
//! `list` shows every `ssh:` CA on the key with the attestation at hand for it.

mod common;

use common::*;

fn audit_lines(w: &World) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&w.audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn init_ca_writes_ca_attest_beside_ca_pub_and_the_audit_log_says_what_it_attests() {
    let w = World::new();
    let said = w.ok(&["init-ca"]);
    let attest = w.path("sk-user-ca.attest");
    assert_eq!(mode_of(&attest), 0o644);
    assert_eq!(mode_of(&w.path("sk-user-ca")), 0o600);
    assert!(
        said.contains("  attestation: sk-user-ca.attest (FIDO2, breakglass SIMULATED (not a built-in vendor root): breakglass simulated key (SIMULATED), firmware unknown)"),
        "{said}"
    );
    // The simulated key's root is beside its state, public, and nowhere in the default store.
    let root = w.sim.join("attestation-root.pem");
    assert_eq!(mode_of(&root), 0o644);
    let pem = std::fs::read_to_string(&root).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");

    let entry = audit_lines(&w).pop().unwrap();
    assert_eq!(entry["action"], "init-ca");
    let detail = entry["detail"].as_str().unwrap();
    assert!(
        detail.ends_with("; attestation: sk-user-ca.attest (FIDO2, breakglass SIMULATED (not a built-in vendor root): breakglass simulated key (SIMULATED), firmware unknown)"),
        "{detail}"
    );

    let root = root.to_str().unwrap();
    let o = w.run_in(&["ca", "verify", "sk-user-ca.pub"], &w.work);
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(
        &o,
        "attestation root - NOT HARDWARE,O=breakglass SIMULATED\", which is not a trusted root",
    );
    let o = w.run_in(
        &[
            "ca",
            "verify",
            "sk-user-ca.pub",
            "--roots",
            root,
            "--min-firmware",
            "none",
        ],
        &w.work,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("sk-user-ca.attest: VALID attestation of the CA sk-user-ca.pub\n"));
    assert!(
        out(&o).contains("vendor          breakglass SIMULATED\n"),
        "{}",
        out(&o)
    );

    // Another simulated key's root proves nothing about this one.
    let other = w.other_sim("sim2");
    let o = w.run_env(
        &["init-ca", "-f", "other-ca"],
        &[("BREAKGLASS_SIM_DIR", other.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    let other_root = other.join("attestation-root.pem");
    let o = w.run_in(
        &[
            "ca",
            "verify",
            "sk-user-ca.pub",
            "--roots",
            other_root.to_str().unwrap(),
            "--min-firmware",
            "none",
        ],
        &w.work,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "which is not a trusted root");
}

#[test]
fn the_simulated_keys_attestation_root_survives_a_reset_as_a_real_keys_factory_key_does() {
    let w = World::new();
    w.ok(&["init-ca"]);
    let root = std::fs::read(w.sim.join("attestation-root.pem")).unwrap();
    w.ok(&["sim", "reset"]);
    w.ok(&["init-ca", "--force", "-f", "again"]);
    assert_eq!(
        std::fs::read(w.sim.join("attestation-root.pem")).unwrap(),
        root
    );
    let o = w.run_in(
        &[
            "ca",
            "verify",
            "again.pub",
            "--roots",
            w.sim.join("attestation-root.pem").to_str().unwrap(),
            "--min-firmware",
            "none",
        ],
        &w.work,
    );
    assert!(o.status.success(), "{}", err(&o));
    // A deleted root file is written again at the next enrolment, the same.
    std::fs::remove_file(w.sim.join("attestation-root.pem")).unwrap();
    w.ok(&["init-ca", "--application", "ssh:x", "-f", "x"]);
    assert_eq!(
        std::fs::read(w.sim.join("attestation-root.pem")).unwrap(),
        root
    );
}

#[test]
fn init_ca_refuses_an_existing_attestation_file_before_the_key_is_asked() {
    let w = World::new();
    std::fs::write(w.path("sk-user-ca.attest"), b"old").unwrap();
    let o = w.run_in(&["init-ca"], &w.work);
    assert_eq!(o.status.code(), Some(1));
    assert_stderr(&o, "sk-user-ca.attest already exists");
    assert!(!w.path("sk-user-ca.pub").exists());
    assert_eq!(std::fs::read(w.path("sk-user-ca.attest")).unwrap(), b"old");
    // Nothing was made on the key either.
    let status = w.ok(&["sim", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        v["credentials"].as_array().map(Vec::len),
        Some(0),
        "{status}"
    );
    // --force replaces all three together.
    let said = w.ok(&["init-ca", "--force"]);
    assert!(said.contains("attestation: sk-user-ca.attest"), "{said}");
    let fresh = std::fs::read(w.path("sk-user-ca.attest")).unwrap();
    assert!(fresh.starts_with(b"\0\0\0\x19breakglass-ca-attestation"));
}

#[test]
fn list_shows_every_ssh_ca_on_the_key_with_the_attestation_at_hand() {
    let w = World::new();
    w.ok(&["init-ca"]);
    w.ok(&["init-ca", "--application", "ssh:team", "-f", "team-ca"]);
    let team = w.dir("team");
    std::fs::rename(w.path("team-ca.pub"), team.join("team-ca.pub")).unwrap();
    std::fs::rename(w.path("team-ca.attest"), team.join("team-ca.attest")).unwrap();
    let listed = w.ok(&["list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[0].starts_with("sim: simulated key SIM-"), "{listed}");
    assert!(
        lines[1].starts_with("    ssh:  ECDSA-SK SHA256:")
            && lines[1].ends_with("  = ./sk-user-ca.pub  attestation ./sk-user-ca.attest"),
        "{listed}"
    );
    assert!(
        lines[2].starts_with("    ssh:team  ECDSA-SK SHA256:")
            && lines[2].ends_with("  (not ./sk-user-ca.pub)  no attestation at hand"),
        "{listed}"
    );
    // Its attestation is at hand where its files are.
    let there = w.ok(&["list", "--dir", team.to_str().unwrap()]);
    assert!(
        there.contains(&format!(
            "attestation {}",
            team.join("team-ca.attest").display()
        )),
        "{there}"
    );
    // One application only, when asked.
    let only = w.ok(&["list", "--application", "ssh:team"]);
    assert_eq!(only.lines().count(), 2, "{only}");
    assert!(only.contains("    ssh:team  "), "{only}");
    // An attestation of another key beside a .pub is not "at hand" for it.
    std::fs::copy(team.join("team-ca.attest"), w.path("sk-user-ca.attest")).unwrap();
    let listed = w.ok(&["list"]);
    assert!(
        listed
            .lines()
            .nth(1)
            .unwrap()
            .ends_with("no attestation at hand"),
        "{listed}"
    );
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["list", "--json"])).unwrap();
    let cas = v["keys"][0]["cas"].as_array().unwrap();
    assert_eq!(cas.len(), 2);
    assert_eq!(cas[0]["location"], "ssh:");
    assert_eq!(cas[1]["location"], "ssh:team");
    assert!(cas[0]["attestation"].is_null());
}
