//! Runbooks as tests: the fenced shell blocks of a Markdown runbook run, in order, in one bash
//! (`set -euo pipefail`) with the world's environment, the built `breakglass` first on PATH and an
//! `ssh` that points at the test sshd, so the runbooks cannot rot.

use std::path::Path;
use std::process::{Command, Output};

use super::openssh::{ssh_wrapper, TestSshd};
use super::world::{bin, err, out, World};

/// The fenced blocks whose info string is exactly `info` (`sh`, or `sh sender` for the tagged
/// blocks of a two-sided runbook), in order.
pub fn blocks(markdown: &str, info: &str) -> Vec<String> {
    let open = format!("```{info}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let t = line.trim();
        match &mut current {
            None if t == open => current = Some(String::new()),
            Some(_) if t.starts_with("```") => blocks.push(current.take().unwrap_or_default()),
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

/// The blocks `info` of the runbook at `path` (relative to the repository), joined; at least one.
pub fn script(path: &str, info: &str) -> String {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let b = blocks(&md, info);
    assert!(!b.is_empty(), "{path} has no ```{info} blocks");
    b.join("\n")
}

/// A bash running `body` in `cwd` for the world `w` against `sshd`, with the runbook's variables
/// `vars` (TARGET_USER, INCIDENT, …); `BREAKGLASS_KIT` is the world's working directory.
pub fn shell(w: &World, sshd: &TestSshd, body: &str, cwd: &Path, vars: &[(&str, &str)]) -> Command {
    let wrap = ssh_wrapper(w.tmp.path(), sshd.port);
    let path = format!(
        "{}:{}:{}",
        wrap.display(),
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(format!("set -euo pipefail\n{body}"))
        .current_dir(cwd);
    w.apply_env(&mut c);
    c.env("PATH", path).env("BREAKGLASS_KIT", &w.work);
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

/// Runs the `sh` blocks of the runbook at `path` in the world's working directory and asserts
/// that they succeeded (showing the script's output and sshd's log when not).
pub fn run(w: &World, sshd: &TestSshd, path: &str, vars: &[(&str, &str)]) -> Output {
    let o = shell(w, sshd, &script(path, "sh"), &w.work, vars)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{path} failed:\nstdout:\n{}\nstderr:\n{}\nsshd:\n{}",
        out(&o),
        err(&o),
        sshd.log()
    );
    o
}
