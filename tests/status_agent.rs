//! `status` finds a certificate minted into a real ssh-agent, with its time left, beside the
//! files in the directory. Skips with one line when ssh-agent is not installed.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn status_shows_files_and_the_agent() {
    let d = tempfile::tempdir().unwrap();
    let sock = d.path().join("agent.sock");
    let Ok(mut agent) = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return common::skip::skip(&common::skip::OPENSSH_CLIENT, "ssh-agent is not installed");
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "ssh-agent made no socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_breakglass"))
            .args(args)
            .current_dir(d.path())
            .env("BREAKGLASS_BACKEND", "sim")
            .env("BREAKGLASS_SIM_DIR", d.path().join("sim"))
            .env("BREAKGLASS_AUDIT_LOG", d.path().join("audit.jsonl"))
            .env("SSH_AUTH_SOCK", &sock)
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("BREAKGLASS_PIN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for args in [
        &["init-ca"][..],
        &["mint", "-n", "ubuntu", "--agent", "-V", "+30m", "-z", "77"],
        &["mint", "-n", "root", "-f", "file", "-z", "78"],
    ] {
        let o = run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = run(&["status"]);
    let text = String::from_utf8_lossy(&o.stdout);
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(o.status.success(), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // Time passes between mint and status: "1h" may already read "59m 59s".
    assert!(
        lines[0].starts_with("file-cert.pub  ") && lines[0].contains("serial 78  root"),
        "{text}"
    );
    assert!(
        lines[0].contains(" 1h left") || lines[0].contains(" 59m "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("ssh-agent      ") && lines[1].contains("serial 77  ubuntu"),
        "{text}"
    );
    assert!(
        lines[1].contains(" 30m left") || lines[1].contains(" 29m "),
        "{text}"
    );
}
