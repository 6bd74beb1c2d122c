//! Every `sh` block of every runbook runs, in order, in one shell, on the simulated key, against
//! a real sshd — so the runbooks cannot rot. `ssh` is wrapped only to point it at the test sshd.

mod common;

use std::path::Path;
use std::process::Command;

use breakglass::ops::sshd::TestSshd;
use common::*;

/// The `sh` fenced blocks of a Markdown file, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```sh") => current = Some(String::new()),
            Some(_) if line.trim_start().starts_with("```") => {
                blocks.push(current.take().unwrap_or_default())
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "unterminated code block");
    blocks
}

fn run_runbook(path: &Path, w: &World, sshd: &TestSshd) -> (String, String) {
    let blocks = sh_blocks(&std::fs::read_to_string(path).unwrap());
    assert!(!blocks.is_empty(), "{} has no sh blocks", path.display());
    let script = format!("set -euo pipefail\n{}", blocks.join("\n"));
    // A wrapper that points ssh at the test sshd (port, no known_hosts), nothing else.
    let wrap = w.tmp.path().join("bin");
    std::fs::create_dir_all(&wrap).unwrap();
    let cfg = w.tmp.path().join("ssh_config");
    std::fs::write(&cfg, format!(
        "Host *\n  Port {}\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  IdentitiesOnly yes\n  IdentityAgent none\n  BatchMode yes\n  LogLevel ERROR\n  HostName 127.0.0.1\n",
        sshd.port
    )).unwrap();
    let ssh = wrap.join("ssh");
    std::fs::write(
        &ssh,
        format!("#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n", cfg.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin_dir = bin().parent().unwrap().to_path_buf();
    let path_var = format!(
        "{}:{}:{}",
        wrap.display(),
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&w.work)
        .env("PATH", path_var)
        .env("BREAKGLASS_BACKEND", "sim")
        .env("BREAKGLASS_SIM_DIR", &w.sim)
        .env("BREAKGLASS_AUDIT_LOG", &w.audit)
        .env("BREAKGLASS_KIT", &w.work)
        .env("TARGET_USER", breakglass::operator())
        .env("TARGET_HOST", "breakglass-test-host")
        .env("INCIDENT", "INC-4242")
        .env_remove("BREAKGLASS_PIN")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{} failed:\nstdout:\n{}\nstderr:\n{}\nsshd:\n{}",
        path.display(),
        out(&o),
        err(&o),
        sshd.log()
    );
    (out(&o), err(&o))
}

#[test]
fn incident_runbook_runs_end_to_end() {
    let w = World::new();
    let ca = w.init_ca();
    let sshd = TestSshd::start(&w.tmp.path().join("sshd"), &ca, &[]).unwrap();
    let (stdout, _) = run_runbook(Path::new("runbooks/incident.md"), &w, &sshd);
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
    // The provider library must exist beside the binary (tests/sk_provider.rs builds it too).
    let st = Command::new(env!("CARGO"))
        .args(["build", "-p", "breakglass-sk"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(st.success());
    let w = World::new();
    // The host trusts whatever CA the runbook creates in the kit directory.
    let sshd =
        TestSshd::start_with_ca_file(&w.tmp.path().join("sshd"), &w.path("sk-user-ca.pub"), &[])
            .unwrap();
    let (stdout, _) = run_runbook(Path::new("runbooks/practice-with-openssh.md"), &w, &sshd);
    assert!(stdout.contains("manual procedure works on"), "{stdout}");
    assert!(stdout.contains("(SIMULATED key)"), "{stdout}");
    assert!(
        sshd.log().contains("signed by ECDSA-SK CA"),
        "{}",
        sshd.log()
    );
}

#[test]
fn sh_blocks_are_extracted_in_order() {
    let md = "text\n```sh\na\nb\n```\n```\nnot sh\n```\n```sh\nc\n```\n";
    assert_eq!(sh_blocks(md), vec!["a\nb\n".to_string(), "c\n".to_string()]);
}
