//! The skip rules (tests/common/skip.rs), seen from outside as in a real run: this test binary
//! runs one of its own tests again as a child that skips for `sshd`, without and with
//! `BREAKGLASS_REQUIRE_ALL=1` and `BREAKGLASS_ALLOW_SKIP`, and reads what a person would see.

mod common;

use std::process::{Command, Output};

use common::skip::{self, Verdict};

const NAME: &str = "a_skip_is_one_visible_line_and_a_failure_where_all_tests_are_required";

/// This test binary, running only the test [`NAME`] as the skipping child.
fn child(env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", NAME])
        .env("BREAKGLASS_SKIP_RULES_CHILD", "1")
        .env_remove("BREAKGLASS_REQUIRE_ALL")
        .env_remove("BREAKGLASS_ALLOW_SKIP");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn a_skip_is_one_visible_line_and_a_failure_where_all_tests_are_required() {
    if std::env::var_os("BREAKGLASS_SKIP_RULES_CHILD").is_some() {
        return skip::skip(&skip::SSHD, "the skip-rules probe always skips");
    }
    let text = |o: &Output| {
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // Plain `cargo test`: passes, and the one line reaches the terminal although the harness
    // captures what passing tests print.
    let o = child(&[]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(
        lines,
        [format!(
            "skipped [sshd] {NAME}: the skip-rules probe always skips (to run it: `apt-get install \
             openssh-server`)"
        )],
        "{stderr}"
    );

    // Everything required: the test fails, naming what is missing and what installs it.
    let o = child(&[("BREAKGLASS_REQUIRE_ALL", "1")]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(101), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "BREAKGLASS_REQUIRE_ALL=1 and this test cannot run here: the skip-rules probe always \
             skips.\nTo run it: `apt-get install openssh-server` (everything the tests need: \
             `sh scripts/install-debian.sh --tests`); or leave it out knowingly with \
             BREAKGLASS_ALLOW_SKIP=sshd."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: FAILED. 0 passed; 1 failed"),
        "{stdout}"
    );
    assert!(!stderr.contains("skipped ["), "{stderr}");

    // A person leaves it out knowingly: it passes and still says so; other names do not count.
    let o = child(&[
        ("BREAKGLASS_REQUIRE_ALL", "1"),
        ("BREAKGLASS_ALLOW_SKIP", "jq,sshd"),
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "skipped [sshd] (allowed by BREAKGLASS_ALLOW_SKIP) {NAME}: the skip-rules probe"
        )),
        "{stderr}"
    );
    let o = child(&[
        ("BREAKGLASS_REQUIRE_ALL", "1"),
        ("BREAKGLASS_ALLOW_SKIP", "sshd-other, jq"),
    ]);
    assert_eq!(o.status.code(), Some(101));
}

#[test]
fn only_require_all_1_makes_a_skip_fail_and_allow_skip_names_are_exact() {
    use Verdict::*;
    assert_eq!(skip::verdict("sshd", None, None), Skip);
    assert_eq!(skip::verdict("sshd", Some("0"), None), Skip);
    assert_eq!(skip::verdict("sshd", Some(""), Some("sshd")), Skip);
    assert_eq!(skip::verdict("sshd", Some("1"), None), Fail);
    assert_eq!(skip::verdict("sshd", Some("1"), Some("")), Fail);
    assert_eq!(skip::verdict("sshd", Some("1"), Some("ssh")), Fail);
    assert_eq!(skip::verdict("sshd", Some("1"), Some("man, sshd")), Allowed);
    assert_eq!(skip::verdict("man", Some("1"), Some("man")), Allowed);
}
