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
    shell_at(w, sshd.port, &[], body, cwd, vars)
}

/// [`shell`] against the sshd on `port`, with the directories `path` (e.g. the Ansible venv's
/// `bin`) on PATH after the `ssh` wrapper and the binary.
pub fn shell_at(
    w: &World,
    port: u16,
    path: &[&Path],
    body: &str,
    cwd: &Path,
    vars: &[(&str, &str)],
) -> Command {
    let wrap = ssh_wrapper(w.tmp.path(), port);
    let mut dirs = vec![wrap, bin().parent().unwrap().to_path_buf()];
    dirs.extend(path.iter().map(|p| p.to_path_buf()));
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).unwrap();
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
    assert_ran(path, &o, &sshd.log());
    o
}

/// Asserts that the runbook at `path` succeeded, showing its output and `sshd_log` when not.
pub fn assert_ran(path: &str, o: &Output, sshd_log: &str) {
    assert!(
        o.status.success(),
        "{path} failed:\nstdout:\n{}\nstderr:\n{}\nsshd:\n{sshd_log}",
        out(o),
        err(o),
    );
}
