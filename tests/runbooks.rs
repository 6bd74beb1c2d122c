//! Every runbook runs, in order, in one shell, on the simulated key, against a real sshd — so the
//! runbooks cannot rot. `ssh` is wrapped only to point it at the test sshd (tests/common/runbook.rs).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::fleet_host::{self, FleetHost};
use common::runbook;
use common::*;

#[test]
fn incident_runbook_runs_end_to_end() {
    let w = World::new();
    let ca = w.init_ca();
    let sshd = start_sshd(&w, &ca);
    let o = runbook::run(
        &w,
        &sshd,
        "runbooks/incident.md",
        &[
            ("TARGET_USER", &user()),
            ("TARGET_HOST", "breakglass-test-host"),
            ("INCIDENT", "INC-4242"),
        ],
    );
    let stdout = out(&o);
    assert!(stdout.contains("breakglass access works on"), "{stdout}");
    assert!(stdout.contains("hash chain intact"), "{stdout}");
    assert!(
        sshd.log().contains("Accepted certificate ID"),
        "{}",
        sshd.log()
    );
    // The clean-up step removed the key material.
    assert!(!w.path("emergency").exists());
    assert!(!w.path("twoperson-1-cert.pub").exists());
    let log = std::fs::read_to_string(&w.audit).unwrap();
    assert!(log.contains("INC-4242: SSO down"), "{log}");
    // The two-person section: each custodian's mint --pubkey is in the audit log.
    assert!(
        log.contains("INC-4242: two-person, custodian A")
            && log.contains("INC-4242: two-person, custodian B"),
        "{log}"
    );
    for n in [1, 2] {
        assert!(
            stdout.contains(&format!(
                "Signed twoperson-{n}.pub: wrote twoperson-{n}-cert.pub"
            )),
            "{stdout}"
        );
    }
}

#[test]
fn practice_runbook_runs_the_manual_openssh_procedure_on_the_sim() {
    // The provider library must exist beside the binary.
    provider();
    let w = World::new();
    // The host trusts whatever CA the runbook creates in the kit directory.
    let sshd = start_sshd_with_ca_file(&w, &w.path("sk-user-ca.pub"));
    let o = runbook::run(
        &w,
        &sshd,
        "runbooks/practice-with-openssh.md",
        &[
            ("TARGET_USER", &user()),
            ("TARGET_HOST", "breakglass-test-host"),
        ],
    );
    let stdout = out(&o);
    assert!(stdout.contains("manual procedure works on"), "{stdout}");
    assert!(stdout.contains("(SIMULATED key)"), "{stdout}");
    assert!(
        sshd.log().contains("signed by ECDSA-SK CA"),
        "{}",
        sshd.log()
    );
}

/// The sender's blocks mint and send; the receiver's, run by a colleague in another directory
/// with the code read to them, receive and log in.
#[cfg(feature = "wormhole")]
#[test]
fn handoff_runbook_runs_sender_and_receiver() {
    use common::wormhole::{Sender, Servers};
    let s = Servers::start();
    let mut w = World::new();
    w.env.extend(s.env());
    let ca = w.init_ca();
    let sshd = start_sshd(&w, &ca);
    let sender = runbook::script("runbooks/handoff.md", "sh sender");
    let receiver = runbook::script("runbooks/handoff.md", "sh receiver");
    assert!(sender.contains("breakglass") && receiver.contains("breakglass receive"));
    let user = user();
    let vars = [
        ("TARGET_USER", user.as_str()),
        ("TARGET_HOST", "handoff-test-host"),
        ("INCIDENT", "INC-77"),
    ];
    let sent = Sender::breakglass(runbook::shell(&w, &sshd, &sender, &w.work, &vars));
    let colleague = w.dir("colleague");
    std::fs::write(colleague.join("sk-user-ca.pub"), &ca).unwrap();
    let o = runbook::shell(&w, &sshd, &receiver, &colleague, &vars)
        .env("CODE", &sent.code)
        .output()
        .unwrap();
    sent.finish();
    assert!(o.status.success(), "receiver: {}\n{}", err(&o), sshd.log());
    assert!(
        out(&o).contains("handed-over access works on"),
        "{}",
        out(&o)
    );
    assert_eq!(mode_of(&colleague.join("emergency")), 0o600);
    let log = std::fs::read_to_string(&w.audit).unwrap();
    assert!(log.contains("INC-77: access for a colleague"), "{log}");
}

#[test]
fn runbook_blocks_are_extracted_in_order_by_their_exact_tag() {
    let md = "text\n```sh\na\nb\n```\n```\nnot sh\n```\n```sh sender\ns\n```\n```sh\nc\n```\n";
    assert_eq!(
        runbook::blocks(md, "sh"),
        vec!["a\nb\n".to_string(), "c\n".to_string()]
    );
    assert_eq!(runbook::blocks(md, "sh sender"), vec!["s\n".to_string()]);
    assert!(runbook::blocks(md, "sh receiver").is_empty());
}

// ---- The fleet runbooks: setup, drill, rotation and revocation, against a host configured by
// host-config and rolled out with the Ansible role (tests/common/fleet_host.rs).

/// Runs the `sh` blocks of the runbook at `path` against the fleet host `h`, with the variables
/// the runbook declares at its top pointed at the host (`ETC`, `INVENTORY`, …) plus `vars`.
fn fleet_runbook(w: &World, h: &FleetHost, path: &str, vars: &[(&str, &str)]) -> Output {
    let ansible = fleet_host::ansible_playbook().expect("checked by missing_tools");
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ansible/playbook.yml");
    let (etc, inventory, log) = (
        h.etc.display().to_string(),
        h.inventory.display().to_string(),
        h.log.display().to_string(),
    );
    let user = user();
    let mut all = vec![
        ("ETC", etc.as_str()),
        ("INVENTORY", inventory.as_str()),
        ("PLAYBOOK", playbook.to_str().unwrap()),
        ("TARGET_USER", user.as_str()),
        ("TARGET_HOST", "fleet-test-host"),
        ("SSHD_LOG", log.as_str()),
        ("ANSIBLE_NOCOLOR", "1"),
        ("ANSIBLE_RETRY_FILES_ENABLED", "0"),
    ];
    let (local, remote) = (
        w.tmp.path().join("ansible-local"),
        w.tmp.path().join("ansible-remote"),
    );
    all.push(("ANSIBLE_LOCAL_TEMP", local.to_str().unwrap()));
    all.push(("ANSIBLE_REMOTE_TEMP", remote.to_str().unwrap()));
    all.extend_from_slice(vars);
    let o = runbook::shell_at(
        w,
        h.port,
        &[ansible.parent().unwrap()],
        &runbook::script(path, "sh"),
        &w.work,
        &all,
    )
    .output()
    .unwrap();
    runbook::assert_ran(path, &o, &h.log());
    o
}

/// `changed=N` of every PLAY RECAP line, in order.
fn recaps(stdout: &str) -> Vec<usize> {
    stdout
        .lines()
        .filter(|l| l.starts_with("fleet-test-host ") && l.contains(" changed="))
        .map(|l| {
            l.split_whitespace()
                .find_map(|f| f.strip_prefix("changed="))
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// The SHA256 fingerprint of the public key file `name` in the kit.
fn fingerprint(w: &World, name: &str) -> String {
    let o = ssh_keygen(&["-l", "-f", name], &w.work);
    assert!(o.status.success(), "{}", err(&o));
    out(&o).split_whitespace().nth(1).unwrap().to_string()
}

/// The base64 key blob of the public key file `path` (what a CA file line carries).
fn blob(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_whitespace().nth(1).unwrap().to_string()
}

/// sshd's `Accepted publickey` line for the certificate whose key id contains `key_id_part`.
fn accepted_line(h: &FleetHost, key_id_part: &str) -> String {
    h.log()
        .lines()
        .find(|l| l.starts_with("Accepted publickey for ") && l.contains(key_id_part))
        .unwrap_or_else(|| panic!("no login with {key_id_part:?}:\n{}", h.log()))
        .to_string()
}

/// A fleet host with its online CA, and setup.md run against it (asserted in full by
/// `setup_runbook_...`); None (after one line) when a tool is missing.
fn set_up_fleet() -> Option<(World, FleetHost, Output)> {
    if fleet_host::skip_without_tools() {
        return None;
    }
    let w = World::new();
    let h = FleetHost::start(&w);
    let o = fleet_runbook(&w, &h, "runbooks/setup.md", &[]);
    Some((w, h, o))
}

#[test]
fn setup_runbook_rolls_out_two_cas_keeps_the_online_ca_and_logs_in_with_each_key() {
    let Some((w, h, o)) = set_up_fleet() else {
        return;
    };
    let u = user();
    let stdout = out(&o);
    // host-config said what it merged: the host's online CA.
    assert!(
        stdout.contains("1 CA key already trusted, kept in breakglass_user_ca.pub"),
        "{stdout}"
    );
    // The role ran twice: the first installed and reloaded, the second changed nothing.
    let r = recaps(&stdout);
    assert_eq!(r.len(), 2, "{stdout}");
    assert!(r[0] >= 3, "first run: {r:?}\n{stdout}");
    assert_eq!(r[1], 0, "second run changed something:\n{stdout}");
    h.wait_for("Received SIGHUP", 1);
    // The installed CA file: both break-glass CAs and the online CA, nothing else.
    let installed = std::fs::read_to_string(h.etc.join("breakglass_user_ca.pub")).unwrap();
    let want = [
        blob(&w.path("sk-user-ca.pub")),
        blob(&w.path("backup-ca.pub")),
        blob(&h.etc.join("online_ca.pub")),
    ];
    let keys = installed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    assert_eq!(keys.count(), 3, "{installed}");
    for b in &want {
        assert!(installed.contains(b.as_str()), "{b} missing:\n{installed}");
    }
    // The first drill: sshd accepted a certificate from each CA for the user.
    for (which, ca) in [("primary", "sk-user-ca.pub"), ("backup", "backup-ca.pub")] {
        assert!(
            stdout.contains(&format!("{which} key: break-glass login works on")),
            "{stdout}"
        );
        let line = accepted_line(&h, &format!("setup: first drill, {which} key (serial "));
        assert!(
            line.starts_with(&format!("Accepted publickey for {u} from 127.0.0.1 ")),
            "{line}"
        );
        assert!(
            line.ends_with(&format!(" CA ECDSA-SK {}", fingerprint(&w, ca))),
            "{line}"
        );
    }
    // The setup record: each CA's fingerprint with what its attestation proves (on the
    // simulated keys, only under each key's own root, never a vendor's).
    let record = std::fs::read_to_string(w.path("setup-record.txt")).unwrap();
    for ca in ["sk-user-ca", "backup-ca"] {
        assert!(
            record.contains(&format!(
                "{ca}.attest: VALID attestation of the CA {ca}.pub\n"
            )),
            "{record}"
        );
        assert!(
            record.contains(&format!(
                "fingerprint     {} (the CA's key)",
                fingerprint(&w, &format!("{ca}.pub"))
            )),
            "{record}"
        );
    }
    assert_eq!(
        record
            .matches("model           breakglass simulated key (SIMULATED)")
            .count(),
        2,
        "{record}"
    );
    // The host's normal access still works.
    assert!(
        h.online_login(&w.work, "online", &u),
        "the online CA stopped working:\n{}",
        h.log()
    );
    assert!(stdout.contains("hash chain intact"), "{stdout}");
    // The emergency kit: made, then checked against the primary CA's fingerprint.
    assert!(
        stdout.contains(&format!(
            "Kit breakglass-kit: OK, 16 files match SHA256SUMS, signed by CA {} (the --ca-fingerprint given).",
            fingerprint(&w, "sk-user-ca.pub")
        )),
        "{stdout}"
    );
    // The kit holds no break-glass private key after the drill.
    assert!(!w.path("drill-primary").exists() && !w.path("drill-backup").exists());
}

#[test]
fn drill_runbook_logs_in_with_each_key_and_finds_sshds_line_on_the_host() {
    let Some((w, h, _)) = set_up_fleet() else {
        return;
    };
    let o = fleet_runbook(&w, &h, "runbooks/drill.md", &[("DRILL", "drill 2026-Q4")]);
    let stdout = out(&o);
    assert!(stdout.contains("PASS in"), "breakglass drill:\n{stdout}");
    let audit = std::fs::read_to_string(&w.audit).unwrap();
    for (which, ca) in [("primary", "sk-user-ca.pub"), ("backup", "backup-ca.pub")] {
        assert!(
            stdout.contains(&format!("{which} key: logged in to")),
            "{stdout}"
        );
        // The line sshd wrote, as the runbook's grep on the host printed it.
        let line = accepted_line(&h, &format!("drill 2026-Q4: {which} key (serial "));
        assert!(
            stdout.lines().any(|l| l == line),
            "{line}\nnot in\n{stdout}"
        );
        assert!(
            line.ends_with(&format!(" CA ECDSA-SK {}", fingerprint(&w, ca))),
            "{line}"
        );
        // Its serial is the one the audit log recorded for that certificate.
        let serial = line
            .rsplit_once("(serial ")
            .and_then(|(_, s)| s.split_once(')'))
            .unwrap()
            .0;
        let entry = audit
            .lines()
            .find(|l| l.contains(&format!("\"reason\":\"drill 2026-Q4: {which} key\"")))
            .unwrap_or_else(|| panic!("no audit entry for the {which} key:\n{audit}"));
        assert!(
            entry.contains(&format!("\"serial\":\"{serial}\"")),
            "{entry}\n{line}"
        );
    }
    assert!(stdout.contains("hash chain intact"), "{stdout}");
    assert!(!w.path("drill-primary").exists() && !w.path("drill-backup").exists());
}

#[test]
fn rotation_runbook_revokes_a_lost_key_and_a_leaked_certificate_on_the_fleet() {
    let Some((w, h, _)) = set_up_fleet() else {
        return;
    };
    let u = user();
    let mint = |sim: &str, audit: &Path, args: &[&str]| {
        let sim = w.path(sim);
        let o = w.run_env(
            args,
            &[
                ("BREAKGLASS_SIM_DIR", sim.to_str().unwrap()),
                ("BREAKGLASS_AUDIT_LOG", audit.to_str().unwrap()),
            ],
        );
        assert!(o.status.success(), "{args:?}: {}", err(&o));
    };
    // Before: a certificate from the backup key that will leak, one from the primary key still
    // valid when the key is lost, and one the thief mints with the lost key (not in our log).
    let n = ["-n", &u];
    mint(
        "sim-backup",
        &w.audit,
        &[&["mint", "--ca", "backup-ca.pub", "-f", "leaked"][..], &n].concat(),
    );
    mint(
        "sim-primary",
        &w.audit,
        &[&["mint", "-f", "outstanding"][..], &n].concat(),
    );
    let thief_log = w.tmp.path().join("thief-audit.jsonl");
    mint(
        "sim-primary",
        &thief_log,
        &[&["mint", "-f", "thief"][..], &n].concat(),
    );
    for k in ["leaked", "outstanding", "thief"] {
        assert!(h.login(&w.path(k), &u), "{k} refused before:\n{}", h.log());
    }
    let lost_blob = blob(&w.path("sk-user-ca.pub"));

    let o = fleet_runbook(
        &w,
        &h,
        "runbooks/rotation-and-revocation.md",
        &[("LEAKED_CERT", "leaked-cert.pub"), ("INCIDENT", "INC-31")],
    );
    let stdout = out(&o);
    // The spec from the audit log named the outstanding certificate.
    let outstanding = std::fs::read_to_string(w.path("retired/lost-primary.spec")).unwrap();
    let serial = |cert: &str| {
        let o = ssh_keygen(&["-L", "-f", cert], &w.work);
        out(&o)
            .lines()
            .find_map(|l| l.trim().strip_prefix("Serial: ").map(str::to_string))
            .unwrap()
    };
    assert!(
        outstanding.contains(&format!("serial: {}", serial("outstanding-cert.pub"))),
        "{outstanding}"
    );
    // ssh-keygen -Y verify accepted the signature, by hand and in the role (not skipped).
    assert!(
        stdout.contains("Good \"breakglass-krl\" signature for breakglass-ca with ECDSA-SK key"),
        "{stdout}"
    );
    let verify_tasks: Vec<&str> = stdout
        .split("TASK [breakglass_host : KRL - verify the signature of that copy")
        .skip(1)
        .collect();
    assert_eq!(verify_tasks.len(), 2, "{stdout}");
    for t in &verify_tasks {
        let result = t.lines().nth(1).unwrap_or_default();
        assert!(
            result.starts_with("ok: ["),
            "signature check: {result}\n{stdout}"
        );
    }
    // The hosts hold the signed KRL; the lost CA is gone from their CA file, the replacement,
    // the backup and the online CA are there.
    assert_eq!(
        std::fs::read(h.etc.join("breakglass_revoked.krl")).unwrap(),
        std::fs::read(w.path("hosts-build/breakglass_revoked.krl")).unwrap()
    );
    let installed = std::fs::read_to_string(h.etc.join("breakglass_user_ca.pub")).unwrap();
    assert!(!installed.contains(lost_blob.as_str()), "{installed}");
    for f in [
        w.path("sk-user-ca.pub"),
        w.path("backup-ca.pub"),
        h.etc.join("online_ca.pub"),
    ] {
        assert!(
            installed.contains(blob(&f).as_str()),
            "{}:\n{installed}",
            f.display()
        );
    }
    // sshd refuses the leaked, the outstanding and the thief's certificates...
    for k in ["leaked", "outstanding", "thief"] {
        assert!(!h.login(&w.path(k), &u), "{k} still accepted:\n{}", h.log());
    }
    assert!(
        stdout.contains("The leaked certificate is refused."),
        "{stdout}"
    );
    assert!(h.log().contains("revoked by file"), "{}", h.log());
    // ...and still accepts fresh ones, and the host's normal access.
    assert!(
        stdout.contains("replacement key: break-glass login works on")
            && stdout.contains("a fresh certificate still works on"),
        "{stdout}"
    );
    let line = accepted_line(
        &h,
        "INC-31: check after revoking a leaked certificate (serial ",
    );
    assert!(
        line.ends_with(&format!(
            " CA ECDSA-SK {}",
            fingerprint(&w, "sk-user-ca.pub")
        )),
        "{line}"
    );
    assert!(h.online_login(&w.work, "online", &u), "{}", h.log());
    assert!(stdout.contains("hash chain intact"), "{stdout}");
}

#[test]
fn every_runbook_ships_inside_the_binary() {
    let w = World::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut names = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                w.ok(&["runbook", &name]),
                format!("{}\n", text.trim_end()),
                "breakglass runbook {name} is not runbooks/{name}.md"
            );
            names.push(name);
        }
    }
    assert!(names.len() >= 6, "{names:?}");
    let list = w.ok(&["runbook"]);
    for n in &names {
        assert!(list.contains(&format!("  {n} ")), "{n} not listed:\n{list}");
    }
}

#[test]
fn drill_runbook_fleet_section_drills_a_loopback_fleet_with_one_touch() {
    use common::loopback_fleet::{self, Breakage};
    if loopback_fleet::skip_without_sshd() {
        return;
    }
    let w = loopback_fleet::world_with_two_cas();
    let u = user();
    let fleet = loopback_fleet::start(&w, &[Breakage::None; 4], &u);
    let path = std::env::join_paths(
        std::iter::once(bin().parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(format!(
            "set -euo pipefail\n{}",
            runbook::script("runbooks/drill.md", "sh fleet")
        ))
        .current_dir(&w.work);
    w.apply_env(&mut c);
    let o = c
        .env("PATH", path)
        .env("BREAKGLASS_KIT", &w.work)
        .env("HOSTS", &fleet.hosts_file)
        .env("KNOWN_HOSTS", &fleet.known_hosts)
        .env("KRL", &fleet.krl)
        .output()
        .unwrap();
    runbook::assert_ran("runbooks/drill.md (fleet)", &o, "");
    let table = out(&o);
    assert!(table.contains("4 of 4 hosts ready"), "{table}");
    for h in &fleet.hosts {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(&h.destination(&u)) && l.ends_with("ready")),
            "{table}"
        );
    }
    // The record it keeps, and the drill certificate in the audit log with the reason given.
    let record = std::fs::read_dir(&w.work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("fleet-drill-"))
        .expect("the JSON record");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    assert_eq!(report["ready"], 4);
    let audit = std::fs::read_to_string(&w.audit).unwrap();
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"key_id\":\"drill ") && l.contains("\"reason\":\"fleet drill\"")),
        "{audit}"
    );
}
