//! The command line as a user sees it, pinned: every `--help` and each user-facing message, with
//! its exact stdout, stderr and exit code. One case per `tests/cmd/*/*.toml` (trycmd, as rage
//! does). Each case runs in its own sandbox: an empty directory, or a copy of the scene it names
//! with `fs.base = "../scenes/NAME.in"` (a simulated key and CA files, an audit log, …; see
//! `tests/cmd/scenes/refresh.sh`). The clock is fixed by `BREAKGLASS_NOW` (honoured by debug
//! builds only) and `BREAKGLASS_SIM_DIR`/`BREAKGLASS_AUDIT_LOG` point inside the sandbox.
//!
//! The environment every case starts from is set here, once; a case file names only what it
//! varies (`[env.add]`, or `[env] remove` for a default it must not have).
//!
//! After a deliberate change of a message: `TRYCMD=overwrite cargo test --test cmd`, then read
//! the diff.

/// Defaults that some case varies. They reach the cases through this process's environment,
/// which each case inherits and its own `[env.add]`/`[env] remove` overrides.
const DEFAULTS: &[(&str, &str)] = &[
    ("BREAKGLASS_NOW", "1795000000"), // 2026-11-18 11:06:40 UTC
    ("BREAKGLASS_SIM_DIR", "sim"),
    ("BREAKGLASS_AUDIT_LOG", "audit.jsonl"),
    ("TZ", "UTC"),
];

/// Settings no case varies, through trycmd's `TestCases::env` (which wins over a case's own
/// `[env.add]` for the same key, so nothing that a case varies may be here).
const FIXED: &[(&str, &str)] = &[
    ("BREAKGLASS_BACKEND", "sim"),
    ("USER", "operator"),
    ("NO_COLOR", "1"),
];

/// Inherited variables that would change what a case prints, besides every `BREAKGLASS_*`.
const CLEARED: &[&str] = &["SSH_AUTH_SOCK", "COLUMNS", "LINES", "CLICOLOR_FORCE", "TERM"];

#[test]
fn cli_cases() {
    // This binary's only test touching the environment; it runs before trycmd starts a thread.
    let inherited: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("BREAKGLASS_") || CLEARED.contains(&k.as_str()))
        .collect();
    for key in inherited {
        std::env::remove_var(key);
    }
    for (key, value) in DEFAULTS {
        std::env::set_var(key, value);
    }

    let t = trycmd::TestCases::new();
    t.default_bin_name("breakglass")
        .register_bin(
            "breakglass",
            std::path::Path::new(env!("CARGO_BIN_EXE_breakglass")),
        )
        .register_bin("breakglass-alone", alone());
    for (key, value) in FIXED {
        t.env(*key, *value);
    }
    t.case("tests/cmd/*/*.toml");
    // The provider is also looked for where a package installs it.
    if ["/usr/local/lib", "/usr/lib"]
        .iter()
        .any(|d| std::path::Path::new(d).join("libbreakglass_sk.so").exists())
    {
        println!("skip tests/cmd/sim/provider-missing.toml: libbreakglass_sk.so is installed here");
        t.skip("tests/cmd/sim/provider-missing.toml");
    }
    #[cfg(not(feature = "wormhole"))]
    t.skip("tests/cmd/handoff/*.toml");
}

/// The binary alone in a directory (`bin.name = "breakglass-alone"`): without the companion
/// programs that are built beside it (vfido-hid's breakglass-sim-hid, vpiv-card, the provider).
fn alone() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cmd-alone");
    let bin = dir.join("breakglass");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let built = std::path::Path::new(env!("CARGO_BIN_EXE_breakglass"));
    if std::fs::hard_link(built, &bin).is_err() {
        std::fs::copy(built, &bin).unwrap();
    }
    bin
}

/// A case that set a `FIXED` key would be silently overridden: say so instead.
#[test]
fn no_case_sets_a_fixed_variable() {
    for case in case_files() {
        let text = std::fs::read_to_string(&case).unwrap();
        for (key, _) in FIXED {
            assert!(
                !text.lines().any(|l| l.starts_with(&format!("{key} ="))),
                "{} sets {key}, which tests/cmd.rs fixes for every case (move it to DEFAULTS)",
                case.display()
            );
        }
    }
}

/// Every `tests/cmd/*/*.toml`.
fn case_files() -> Vec<std::path::PathBuf> {
    let mut cases = Vec::new();
    for dir in std::fs::read_dir("tests/cmd").unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "toml") {
                cases.push(f);
            }
        }
    }
    cases.sort();
    cases
}
