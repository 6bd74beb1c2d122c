//! The rollout: `deploy/ansible` (role `breakglass_host`) installs what `host-config --out`
//! wrote onto a local target whose paths sit under a temp dir (connection local, no real /etc),
//! run by the real `ansible-playbook`. Twice (the second run changes nothing); then a real sshd
//! reloaded by the role accepts certificates from both break-glass CAs and still the host's
//! online CA; a signed KRL is installed only when `ssh-keygen -Y verify` accepts its signature
//! and its version is greater than the installed one's (identical bytes: no change; older:
//! refused, naming both versions; unsigned: never over an installed KRL).

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::fleet_host::{self, FleetHost};
use common::*;

/// Runs the example playbook against localhost with `vars` (JSON) and returns the output.
fn playbook(ansible: &Path, vars: &serde_json::Value, dir: &Path) -> Output {
    let vars_file = dir.join("vars.json");
    fs::write(&vars_file, vars.to_string()).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(ansible)
        .current_dir(repo.join("deploy/ansible"))
        .args(["-i", "localhost,", "-c", "local", "-e"])
        .arg(format!("@{}", vars_file.display()))
        .arg("playbook.yml")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", dir.join("ansible-remote"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `changed=N` from the PLAY RECAP line.
fn changed(o: &Output) -> usize {
    let text = out(o);
    let recap = text
        .lines()
        .rev()
        .find(|l| l.starts_with("localhost") && l.contains("changed="))
        .unwrap_or_else(|| panic!("no PLAY RECAP:\n{text}\n{}", err(o)));
    recap
        .split_whitespace()
        .find_map(|f| f.strip_prefix("changed="))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_ansible_role_installs_idempotently_and_sshd_accepts_break_glass_and_online_certificates() {
    if fleet_host::skip_without_tools() {
        return;
    }
    let ansible = fleet_host::ansible_playbook().expect("checked by missing_tools");
    let w = common::loopback_fleet::world_with_two_cas();
    let u = user();
    let sim2 = w.other_sim("sim2");

    // The target: a host under a temp dir with an online CA and a running sshd trusting it.
    let t = w.tmp.path();
    let host = FleetHost::start(&w);
    let etc = &host.etc;

    // Certificates: one per break-glass key, one from the online CA.
    w.ok(&["mint", "-n", &u, "-f", "primary"]);
    let o = w.run_env(
        &["mint", "--ca", "backup-ca.pub", "-n", &u, "-f", "backup"],
        &[("BREAKGLASS_SIM_DIR", sim2.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(host.online_login(&w.work, "online", &u), "{}", host.log());
    assert!(
        !host.login(&w.path("primary"), &u),
        "trusted before the rollout"
    );

    // host-config on the controller, for this target: both CAs proven by their attestations
    // under the test root, so the role's check passes without breakglass_allow_unattested.
    attest_beside(&w.path("sk-user-ca.pub"));
    attest_beside(&w.path("backup-ca.pub"));
    let build = t.join("build");
    fs::create_dir(&build).unwrap();
    w.ok(&[
        "host-config",
        "--roots",
        TEST_ROOTS,
        "--out",
        build.to_str().unwrap(),
        "--etc",
        etc.to_str().unwrap(),
        "--sshd-config",
        host.config.to_str().unwrap(),
        "--two-person",
        "sk-user-ca.pub",
        "backup-ca.pub",
        "--principals",
        &format!("{u}=bg-{u}"),
        "sk-user-ca.pub",
        "backup-ca.pub",
    ]);

    // The example playbook on localhost, with the host's variables as extra vars.
    let mut vars = host.role_vars();
    vars["breakglass_target"] = serde_json::json!("localhost");
    vars["breakglass_src"] = serde_json::json!(build);
    vars["breakglass_etc"] = serde_json::json!(etc);
    let first = playbook(&ansible, &vars, t);
    assert!(
        first.status.success(),
        "first run failed:\n{}\n{}",
        out(&first),
        err(&first)
    );
    assert!(changed(&first) >= 3, "{}", out(&first));
    let second = playbook(&ansible, &vars, t);
    assert!(
        second.status.success(),
        "second run failed:\n{}\n{}",
        out(&second),
        err(&second)
    );
    assert_eq!(
        changed(&second),
        0,
        "second run changed something:\n{}",
        out(&second)
    );
    // The role reloaded sshd once (SIGHUP: sshd re-executes itself and listens again).
    host.wait_for("Server listening on", 2);
    for f in [
        "breakglass_user_ca.pub",
        "sshd_config.d/00-breakglass.conf",
        "breakglass_revoked.krl",
        &format!("breakglass_principals/{u}"),
        "breakglass_custodian_ca.pub",
        "breakglass_two_person_gate.sh",
        "breakglass_principals/breakglass",
        // What host-config verified, kept on the host.
        "breakglass_attestation/verdict.json",
        "breakglass_attestation/break-glass-1.attest",
        "breakglass_attestation/break-glass-2.attest",
        "breakglass_attestation/custodian-1.attest",
        "breakglass_attestation/custodian-2.attest",
    ] {
        assert_eq!(
            fs::read(etc.join(f)).unwrap(),
            fs::read(build.join(f)).unwrap(),
            "{f}"
        );
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| fs::metadata(etc.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("breakglass_two_person_gate.sh"), 0o755);
        assert_eq!(mode("breakglass_custodian_ca.pub"), 0o644);
    }
    assert!(
        host.login(&w.path("primary"), &u),
        "primary refused:\n{}",
        host.log()
    );
    assert!(
        host.login(&w.path("backup"), &u),
        "backup refused:\n{}",
        host.log()
    );
    assert!(
        host.login(&w.path("online"), &u),
        "online CA refused:\n{}",
        host.log()
    );

    // A signed KRL revoking the primary certificate, version 2, replaces the installed one
    // (host-config's empty KRL, version 0)...
    let krl = t.join("new.krl");
    ssh_keygen_ok(
        &[
            "-q",
            "-k",
            "-z",
            "2",
            "-f",
            krl.to_str().unwrap(),
            "primary-cert.pub",
        ],
        &w.work,
    );
    ssh_keygen_ok(&["-q", "-t", "ed25519", "-N", "", "-f", "krl_signer"], t);
    let sign = |name: &str| {
        ssh_keygen_ok(
            &[
                "-q",
                "-Y",
                "sign",
                "-n",
                "breakglass-krl",
                "-f",
                "krl_signer",
                name,
            ],
            t,
        )
    };
    sign("new.krl");
    let signer = fs::read_to_string(t.join("krl_signer.pub")).unwrap();
    let allowed = t.join("allowed_signers");
    fs::write(
        &allowed,
        format!("breakglass-ca namespaces=\"breakglass-krl\" {signer}"),
    )
    .unwrap();
    vars["breakglass_krl_src"] = serde_json::json!(krl);
    vars["breakglass_krl_signature"] = serde_json::json!(t.join("new.krl.sig"));
    vars["breakglass_krl_allowed_signers"] = serde_json::json!(allowed);
    let signed = playbook(&ansible, &vars, t);
    assert!(
        signed.status.success(),
        "signed KRL run failed:\n{}\n{}",
        out(&signed),
        err(&signed)
    );
    assert_eq!(changed(&signed), 1, "{}", out(&signed));
    assert_eq!(
        fs::read(etc.join("breakglass_revoked.krl")).unwrap(),
        fs::read(&krl).unwrap()
    );
    assert!(
        !host.login(&w.path("primary"), &u),
        "revoked certificate accepted"
    );
    assert!(host.login(&w.path("backup"), &u), "{}", host.log());
    assert!(host.login(&w.path("online"), &u), "{}", host.log());
    assert!(host.log().contains("revoked by file"), "{}", host.log());

    // ...but one whose signature does not verify is refused and the installed KRL stays.
    let tampered = t.join("tampered.krl");
    let mut bytes = fs::read(&krl).unwrap();
    bytes.push(0);
    fs::write(&tampered, bytes).unwrap();
    vars["breakglass_krl_src"] = serde_json::json!(tampered);
    let bad = playbook(&ansible, &vars, t);
    assert!(
        !bad.status.success(),
        "a tampered KRL was accepted:\n{}",
        out(&bad)
    );
    assert!(
        out(&bad).contains("Signature verification failed"),
        "{}",
        out(&bad)
    );
    assert_eq!(
        fs::read(etc.join("breakglass_revoked.krl")).unwrap(),
        fs::read(&krl).unwrap()
    );

    // KRLs only move forward. The same signed KRL again: nothing changes.
    vars["breakglass_krl_src"] = serde_json::json!(krl);
    let again = playbook(&ansible, &vars, t);
    assert!(again.status.success(), "{}\n{}", out(&again), err(&again));
    assert_eq!(changed(&again), 0, "{}", out(&again));
    // An older, validly signed KRL (version 1, without the primary's revocation) is refused with
    // both versions named; the installed file stays byte for byte.
    let old = t.join("old.krl");
    ssh_keygen_ok(&["-q", "-k", "-z", "1", "-f", old.to_str().unwrap()], t);
    sign("old.krl");
    vars["breakglass_krl_src"] = serde_json::json!(old);
    vars["breakglass_krl_signature"] = serde_json::json!(t.join("old.krl.sig"));
    let older = playbook(&ansible, &vars, t);
    assert!(
        !older.status.success(),
        "an older KRL was installed:\n{}",
        out(&older)
    );
    let dest = etc.join("breakglass_revoked.krl");
    let refusal = format!(
        "The KRL {} has version 1, not greater than version 2 of the installed {}: it was not installed, and the installed KRL is unchanged. A KRL edited with plain `ssh-keygen -k -u` keeps its version: give it a greater one with `-z 3` (`breakglass revoke` bumps it itself). To install an older KRL on purpose, set breakglass_krl_allow_older=true.",
        old.display(),
        dest.display()
    );
    assert!(out(&older).contains(&refusal), "{}", out(&older));
    assert_eq!(fs::read(&dest).unwrap(), fs::read(&krl).unwrap());
    assert!(
        !host.login(&w.path("primary"), &u),
        "the revocation was undone"
    );
    // The same KRL without its signature: not installed over the signed one.
    vars["breakglass_krl_signature"] = serde_json::json!("");
    let unsigned = playbook(&ansible, &vars, t);
    assert!(
        unsigned.status.success(),
        "{}\n{}",
        out(&unsigned),
        err(&unsigned)
    );
    assert!(
        out(&unsigned).contains(&format!(
            "{} was not installed: it comes without a signature (breakglass_krl_signature) and {} exists; an unsigned KRL never replaces an installed one.",
            old.display(),
            dest.display()
        )),
        "{}",
        out(&unsigned)
    );
    assert_eq!(fs::read(&dest).unwrap(), fs::read(&krl).unwrap());
    // On purpose: breakglass_krl_allow_older installs it.
    vars["breakglass_krl_signature"] = serde_json::json!(t.join("old.krl.sig"));
    vars["breakglass_krl_allow_older"] = serde_json::json!(true);
    let back = playbook(&ansible, &vars, t);
    assert!(back.status.success(), "{}\n{}", out(&back), err(&back));
    assert_eq!(fs::read(&dest).unwrap(), fs::read(&old).unwrap());
    assert!(
        fs::read_dir(etc).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".breakglass-new")),
        "the verified copy was left behind"
    );
}

#[test]
fn the_role_refuses_an_unattested_output_on_the_controller_unless_told_to_allow_it() {
    if fleet_host::skip_without_tools() {
        return;
    }
    let ansible = fleet_host::ansible_playbook().expect("checked by missing_tools");
    let w = World::new();
    w.init_ca();
    // A simulated CA without an attestation (whatever init-ca wrote beside it).
    let _ = fs::remove_file(w.path("sk-user-ca.attest"));
    let fp = fingerprint(&w.path("sk-user-ca.pub"));
    let t = w.tmp.path();
    let host = FleetHost::start(&w);
    let etc = &host.etc;
    let build = t.join("build");
    fs::create_dir(&build).unwrap();
    w.ok(&[
        "host-config",
        "--out",
        build.to_str().unwrap(),
        "--etc",
        etc.to_str().unwrap(),
        "--sshd-config",
        host.config.to_str().unwrap(),
        // Practice: trusted without proof, and the verdict says so.
        "--allow-unattested",
        "sk-user-ca.pub",
    ]);
    let mut vars = host.role_vars();
    vars["breakglass_target"] = serde_json::json!("localhost");
    vars["breakglass_src"] = serde_json::json!(build);
    vars["breakglass_etc"] = serde_json::json!(etc);
    let before = snapshot(etc);
    // 1. Without breakglass_allow_unattested: refused on the controller, naming the CA; the
    // host is untouched.
    let o = playbook(&ansible, &vars, t);
    assert!(
        !o.status.success(),
        "the role installed an unproven CA:\n{}",
        out(&o)
    );
    let text = out(&o);
    let want = format!(
        "trusts CAs that are NOT proven to live in a hardware key: sk-user-ca.pub (break-glass CA {fp}: there is no attestation beside it: sk-user-ca.attest does not exist). host-config let them through only because of --allow-unattested."
    );
    assert!(text.contains(&want), "{want}\nnot in:\n{text}");
    assert_eq!(
        snapshot(etc),
        before,
        "the refused rollout changed the host"
    );
    assert_eq!(changed(&o), 0, "{text}");
    // 2. An output without a verdict (an older host-config's) is refused too.
    let verdict = build.join("breakglass_attestation/verdict.json");
    let saved = fs::read(&verdict).unwrap();
    fs::remove_file(&verdict).unwrap();
    let o = playbook(&ansible, &vars, t);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("records no attestation verdict"),
        "{}",
        out(&o)
    );
    assert_eq!(
        snapshot(etc),
        before,
        "the refused rollout changed the host"
    );
    fs::write(&verdict, saved).unwrap();
    // 3. With breakglass_allow_unattested=true: installed, with a warning naming the CA.
    vars["breakglass_allow_unattested"] = serde_json::json!(true);
    let o = playbook(&ansible, &vars, t);
    assert!(o.status.success(), "{}\n{}", out(&o), err(&o));
    assert!(
        out(&o).contains(&format!(
            "WARNING: rolling out 1 CA(s) NOT proven to live in a hardware key, because breakglass_allow_unattested is true: {fp}."
        )),
        "{}",
        out(&o)
    );
    assert_eq!(
        fs::read(etc.join("breakglass_user_ca.pub")).unwrap(),
        fs::read(build.join("breakglass_user_ca.pub")).unwrap()
    );
    assert_eq!(
        fs::read(etc.join("breakglass_attestation/verdict.json")).unwrap(),
        fs::read(&verdict).unwrap()
    );
}
