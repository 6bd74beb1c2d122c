//! Every runbook runs, in order, in one shell, on the simulated key, against a real sshd — so the
//! runbooks cannot rot. `ssh` is wrapped only to point it at the test sshd (tests/common/runbook.rs).

mod common;

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
