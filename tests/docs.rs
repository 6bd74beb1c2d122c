//! `completions` and `man` produce what their consumers accept: bash parses the completion
//! script and completes the subcommands (nested ones too: `ca verify`) from it; the man page is
//! roff that names every command.

mod common;

use std::process::Command;

use clap::CommandFactory;
use common::skip;

/// The binary's own command-line definition, compiled into this test, so the list of commands
/// checked is clap's, not one written here.
#[path = "../src/bin/breakglass/cli.rs"]
#[allow(dead_code)]
mod cli;

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
COMP_WORDS=(breakglass mint --al); COMP_CWORD=2; _breakglass breakglass --al mint; echo "${{COMPREPLY[@]}}"
COMP_WORDS=(breakglass ca ve); COMP_CWORD=2; _breakglass breakglass ve ca; echo "${{COMPREPLY[@]}}"
COMP_WORDS=(breakglass ca verify --min); COMP_CWORD=3; _breakglass breakglass --min verify; echo "${{COMPREPLY[@]}}""#,
        f = f.display()
    );
    let o = Command::new("bash").arg("-c").arg(&probe).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = text.lines().collect();
    // …and a nested command: `breakglass ca ve<TAB>`, `ca verify --min<TAB>`.
    assert_eq!(
        lines,
        ["mint", "--allow-long", "verify", "--min-firmware"],
        "{text}"
    );
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
    // Every visible command (and clap's `help`) has its entry in SUBCOMMANDS, a line of its
    // own (`breakglass\-init\-ca(1)`), and nothing else has one.
    let mut want: Vec<String> = cli::Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .chain(["help".to_string()])
        .collect();
    assert!(want.len() > 15, "{want:?}");
    let section = page
        .split("\n.SH SUBCOMMANDS\n")
        .nth(1)
        .and_then(|s| s.split("\n.SH ").next())
        .expect("a SUBCOMMANDS section");
    let mut named: Vec<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("breakglass\\-")?.strip_suffix("(1)"))
        .map(|n| n.replace("\\-", "-"))
        .collect();
    want.sort();
    named.sort();
    assert_eq!(named, want, "the man page's commands are not clap's");
    // man(1) renders it, when man is installed.
    let o = Command::new("sh")
        .arg("-c")
        .arg("command -v man >/dev/null || exit 77; breakglass_page=$(mktemp); cat > \"$breakglass_page\"; MANWIDTH=80 man -l \"$breakglass_page\"")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            // Without man, sh exits (77) before it reads: a broken pipe is not the failure.
            match c.stdin.take().unwrap().write_all(page.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
                _ => {}
            }
            c.wait_with_output()
        })
        .expect("sh runs and takes the page on stdin");
    if o.status.code() == Some(77) {
        return skip::skip(
            &skip::MAN,
            "man is not installed, so the page was not rendered",
        );
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("Emergency SSH access"));
}

#[test]
fn the_fuzz_readme_lists_every_fuzz_target() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
    // Every [[bin]] of the fuzz crate, by its name line.
    let mut targets: Vec<String> = cargo
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| {
            b.lines()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .map(|n| n.trim_matches('"').to_string())
        })
        .collect();
    // …which are the files in fuzz_targets/.
    let mut files: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
        .collect();
    targets.sort();
    files.sort();
    assert_eq!(
        targets, files,
        "fuzz/Cargo.toml's [[bin]]s and fuzz_targets/"
    );
    let readme = std::fs::read_to_string(root.join("fuzz/README.md")).unwrap();
    let mut rows: Vec<String> = readme
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| `")?
                .split_once('`')
                .map(|(n, _)| n.to_string())
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows, targets,
        "fuzz/README.md's table is not the fuzz targets"
    );
}

/// The README's fleet-drill table is the one `fleet-drill --report` prints for the pinned
/// fixture (tests/cmd/fleet-drill/report.toml), so the tour cannot drift from the program.
#[test]
fn the_readme_shows_the_pinned_fleet_drill_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let case = std::fs::read_to_string(root.join("tests/cmd/fleet-drill/report.toml")).unwrap();
    let table = case
        .split("stdout = \"\"\"\n")
        .nth(1)
        .and_then(|s| s.split("\"\"\"").next())
        .expect("the case pins stdout");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```text\n{table}```")),
        "README.md's fleet-drill table differs from tests/cmd/fleet-drill/report.toml:\n{table}"
    );
}
