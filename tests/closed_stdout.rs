//! A closed stdout (`breakglass log | head -1`) ends the output quietly: no panic (exit 101), no
//! "Broken pipe" message, and the command keeps its own exit code. Self-contained on purpose
//! (its own temporary world), so it does not depend on the shared test harness.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(dir: &Path, args: &[&str], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .args(args)
        .current_dir(dir)
        .env("BREAKGLASS_BACKEND", "sim")
        .env("BREAKGLASS_SIM_DIR", dir.join("sim"))
        .env("BREAKGLASS_AUDIT_LOG", dir.join("audit.jsonl"))
        .env_remove("BREAKGLASS_SIM_TOUCH")
        .env_remove("BREAKGLASS_PIN")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

#[test]
fn every_command_ends_quietly_on_a_closed_stdout() {
    let d = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let o = run(d.path(), args, Stdio::piped());
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ok(&["init-ca"]);
    ok(&["mint", "-n", "ubuntu", "-f", "first"]);
    // A KRL whose listing is streamed (a few thousand lines, past any pipe buffer).
    let serials: Vec<String> = (1..=4000).map(|n| (2 * n).to_string()).collect();
    let mut revoke = vec!["revoke", "--krl", "r.krl", "--ca", "sk-user-ca.pub"];
    for s in &serials {
        revoke.extend(["--serial", s.as_str()]);
    }
    ok(&revoke);
    let cases: &[(&[&str], i32)] = &[
        (&["--help"], 0),
        (&["mint", "--help"], 0),
        (&["--version"], 0),
        (&["log"], 0),
        (&["--json", "log"], 0),
        (&["log", "--verify"], 0),
        (&["inspect", "first-cert.pub"], 0),
        (&["--json", "inspect", "first-cert.pub"], 0),
        (&["list"], 0),
        (&["sim", "status"], 0),
        (&["mint", "-n", "ubuntu", "-f", "second"], 0),
        (&["--json", "mint", "-n", "ubuntu", "-f", "third"], 0),
        (&["revoke", "--list", "r.krl"], 0),
        (&["--json", "revoke", "--list", "r.krl"], 0),
        // A failing command keeps its exit code; its error still reaches stderr.
        (&["inspect", "nope-cert.pub"], 1),
        (&["--json", "inspect", "nope-cert.pub"], 1),
    ];
    for (args, code) in cases {
        let o = run(d.path(), args, closed_pipe());
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {e}");
        assert!(
            !e.contains("panicked") && !e.contains("Broken pipe"),
            "{args:?}: {e}"
        );
        if *code == 1 {
            assert!(e.contains("nope-cert.pub: no such file"), "{args:?}: {e}");
        }
    }
    // The mint under a closed stdout still released its files: the command finished.
    assert!(d.path().join("second-cert.pub").is_file());
    assert!(d.path().join("third-cert.pub").is_file());
}
