//! `completions` and `man` produce what their consumers accept: bash parses the completion
//! script and completes the subcommands from it; the man page is roff that names every command.

use std::process::Command;

fn breakglass(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn bash_completes_the_subcommands_and_mint_flags() {
    let script = breakglass(&["completions", "bash"]);
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("breakglass.bash");
    std::fs::write(&f, &script).unwrap();
    // Source it and ask for completions as bash would on `breakglass mi<TAB>` and `mint --al<TAB>`.
    let probe = format!(
        r#"source {f}
COMP_WORDS=(breakglass mi); COMP_CWORD=1; _breakglass breakglass mi breakglass; echo "${{COMPREPLY[@]}}"
COMP_WORDS=(breakglass mint --al); COMP_CWORD=2; _breakglass breakglass --al mint; echo "${{COMPREPLY[@]}}""#,
        f = f.display()
    );
    let o = Command::new("bash").arg("-c").arg(&probe).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["mint", "--allow-long"], "{text}");
    for shell in ["zsh", "fish"] {
        assert!(breakglass(&["completions", shell]).contains("allow-long"));
    }
}

#[test]
fn the_man_page_is_roff_naming_every_command() {
    let page = breakglass(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH breakglass 1"),
        "{page}"
    );
    for c in [
        "init\\-ca",
        "mint",
        "inspect",
        "log",
        "list",
        "runbook",
        "completions",
    ] {
        assert!(page.contains(c), "{c} missing from the man page");
    }
    // man(1) renders it, when man is installed.
    let Ok(o) = Command::new("sh")
        .arg("-c")
        .arg("command -v man >/dev/null || exit 77; breakglass_page=$(mktemp); cat > \"$breakglass_page\"; MANWIDTH=80 man -l \"$breakglass_page\"")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(page.as_bytes())?;
            c.wait_with_output()
        })
    else {
        return;
    };
    if o.status.code() == Some(77) {
        eprintln!("skipped rendering: man is not installed");
        return;
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("Emergency SSH access"));
}
