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
    ("USER", "operator"),
];

/// Settings no case varies, through trycmd's `TestCases::env` (which wins over a case's own
/// `[env.add]` for the same key, so nothing that a case varies may be here).
const FIXED: &[(&str, &str)] = &[("BREAKGLASS_BACKEND", "sim"), ("NO_COLOR", "1")];

/// Inherited variables that would change what a case prints, besides every `BREAKGLASS_*`.
const CLEARED: &[&str] = &[
    "SSH_AUTH_SOCK",
    "COLUMNS",
    "LINES",
    "CLICOLOR_FORCE",
    "TERM",
];

#[test]
fn cli_cases() {
    // Safe although the tests of this file run in parallel threads: the others read no
    // environment variable, and trycmd starts its threads after this.
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

/// Rust tests that pin hints through real runs where a trycmd case cannot reach (a wormhole
/// peer, a terminal, a virtual card or HID guest, a 32 MiB file): they assert the binary's
/// stderr, or the hint of the error a real exchange produced.
const PINNED_ELSEWHERE: &[&str] = &[
    "tests/bad_inputs.rs",
    "tests/hid_vm.rs",
    "tests/host_config.rs",
    "tests/kit.rs",
    "tests/krl.rs",
    "tests/piv_vpcd.rs",
    "tests/pty_prompts.rs",
    "tests/request_approve.rs",
    "tests/sim_piv_card.rs",
    "tests/wormhole.rs",
];

/// Sources whose hints no run of the binary can reach, and why.
const UNREACHABLE_FILES: &[(&str, &str)] = &[];

/// Single hints no pinned run reaches (by their first words), and why.
const UNREACHABLE: &[(&str, &str)] = &[
    // Internal errors.
    ("This is a bug in breakglass", "encoding our own certificate or JSON, or an agent key that does not match its certificate: a bug"),
    ("Check the system (getrandom failed)", "the OS random number generator failing"),
    ("Only ECDSA P-256 and Ed25519 keys", "breakglass only makes those two key types"),
    ("Revoke that certificate by key id", "--serial and spec lines refuse serial 0 first (their own hints, pinned); the KRL builder's check guards library callers"),
    ("Write the range as A-B with B above A", "--serial and spec lines refuse an empty range first (pinned); the KRL builder's check guards library callers"),
    ("Install it (apt install {package})", "sshd/ssh missing: the drill checks for both first (DrillIncomplete, pinned); TestSshd is otherwise a test helper"),
    ("The lines above say why", "sshd failing to start: only inside the drill, which prints the step's error without its hint"),
    ("Insert the key that holds this CA, or check --ca", "signing maps it to CaNotOnToken (pinned); log --verify shows it as the reason the counter was not checked"),
    // Attestation chains no vendor issues.
    ("Check that this is a genuine vendor attestation", "a chain longer than 8 certificates or a signature algorithm other than RSA PKCS#1 v1.5 / ECDSA P-256/P-384: no real or test-PKI chain has one, and the case files have no forged one yet"),
    // A key, reader or agent that misbehaves: hardware or another program, not the simulator.
    ("Check that the key is genuine and touch it", "a key that signs without user presence or with a bad signature: only a faulty or hostile authenticator"),
    ("Unplug the key, insert it again", "a hardware key's PIN auth block (the simulated one's hint is pinned)"),
    ("Re-insert the key and run the command again; if it persists", "a CTAP error status from a hardware key"),
    ("Use a key with FIDO2 resident keys", "a hardware key without resident keys or credProtect"),
    ("Do not trust this key until you know why", "a hardware key's malformed CTAP answer"),
    ("Use --backend sim to practise, or a build with hardware", "a build without the fido2/piv features; the tests build the default features"),
    ("Run the drill as root (sudo)", "/dev/uhid present but not writable: a non-root user; the suite runs as root"),
    ("Some agents (e.g. desktop keyrings)", "an ssh-agent that refuses certificates or constraints (tests/agent.rs fakes one through the library)"),
    ("Check that SSH_AUTH_SOCK points to a working", "an ssh-agent that answers garbage (tests/agent.rs fakes one through the library)"),
    ("Nothing was written: try again, check that the other side", "a transit relay that stalls mid-transfer: no test peer does it deterministically"),
    ("Try again; if it keeps failing, check --mailbox-url", "a wormhole failure the other variants do not name"),
    ("Nothing was written: start a new transfer, and ask the other side", "the wormhole crate panicking on a peer's message"),
    // PC/SC: what the machine's pcscd, readers and YubiKeys do; tests/piv_vpcd.rs drives one
    // virtual card (its wrong PIN, blocked PIN and occupied slot hints are pinned there).
    ("Install it (`sudo apt install libpcsclite1 pcscd`)", "no libpcsclite on the machine"),
    ("Start pcscd", "pcscd not running"),
    ("Insert the YubiKey that holds the CA and run the command again.", "no card reader"),
    ("Insert the YubiKey that holds the CA (with PIV enabled)", "a reader without a YubiKey"),
    ("Pick one with --device SERIAL", "several YubiKeys connected"),
    ("Create the CA first with `breakglass init-ca --backend piv", "an empty PIV slot on a YubiKey"),
    ("Run the command again and touch the YubiKey", "a YubiKey's touch timeout"),
    ("Make the management key PIN-protected", "a YubiKey with a custom, unprotected management key"),
    ("Re-insert the YubiKey and run the command again;", "any other PC/SC or card error"),
];

/// Every hint a user can see after an error (the texts in each `fn hint(&self)` under src/)
/// appears in a pinned case (tests/cmd/) or in one of `PINNED_ELSEWHERE`, unless listed as
/// unreachable with a reason.
#[test]
fn every_hint_is_pinned() {
    let mut pinned = String::new();
    for case in case_files() {
        pinned += &std::fs::read_to_string(case).unwrap();
    }
    for file in PINNED_ELSEWHERE {
        let src = std::fs::read_to_string(file).unwrap();
        for lit in string_literals(&src) {
            pinned += &lit;
            pinned.push('\n');
        }
    }
    let mut unpinned = Vec::new();
    let mut exempt_used = vec![false; UNREACHABLE.len()];
    for file in rust_files(std::path::Path::new("src")) {
        let name = file.to_string_lossy().replace('\\', "/");
        let src = std::fs::read_to_string(&file).unwrap();
        let hints = hint_texts(&src);
        if let Some((_, why)) = UNREACHABLE_FILES.iter().find(|(f, _)| *f == name) {
            assert!(
                !hints.is_empty(),
                "{name} has no hints any more: drop it from UNREACHABLE_FILES ({why})"
            );
            continue;
        }
        for hint in hints {
            if let Some(i) = UNREACHABLE
                .iter()
                .position(|(start, _)| hint.starts_with(start))
            {
                exempt_used[i] = true;
                continue;
            }
            // A format string: each literal piece between its {placeholders} must be there.
            let missing = format_pieces(&hint)
                .into_iter()
                .any(|piece| piece.len() >= 8 && !pinned.contains(piece));
            if missing {
                unpinned.push(format!("{name}: {hint}"));
            }
        }
    }
    for (i, used) in exempt_used.iter().enumerate() {
        assert!(
            used,
            "UNREACHABLE names a hint that no longer exists: {:?}",
            UNREACHABLE[i].0
        );
    }
    assert!(
        unpinned.is_empty(),
        "{} hint(s) in no case under tests/cmd/ (add a case, or pin it in a file of PINNED_ELSEWHERE):\n{}",
        unpinned.len(),
        unpinned.join("\n")
    );
}

/// The literal pieces of a format string, between its `{…}` placeholders.
fn format_pieces(s: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        pieces.push(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => rest = &rest[open + close + 1..],
            None => break,
        }
    }
    pieces.push(rest);
    pieces
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The string literals in the bodies of `fn hint(&self)` in a Rust source.
fn hint_texts(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = src[from..].find("fn hint(&self)") {
        let start = from + at;
        // The trait's declaration (src/diagnostic.rs) has no body.
        let Some(open) = src[start..].find(['{', ';']).map(|i| start + i) else {
            break;
        };
        if src.as_bytes()[open] == b';' {
            from = open;
            continue;
        }
        let end = open + block_len(&src[open..]);
        out.extend(string_literals(&src[open..end]));
        from = end;
    }
    out
}

/// Length of the `{…}` block `s` starts with (strings, chars and comments skipped).
fn block_len(s: &str) -> usize {
    let b = s.as_bytes();
    let (mut i, mut depth) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'"' => i = string_end(b, i),
            b'\'' => i = char_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced block");
}

/// Index of the closing quote of the string literal opening at `b[open]`.
fn string_end(b: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// Index of the closing quote of the char literal opening at `b[open]`, or `open` when it
/// is a lifetime.
fn char_end(b: &[u8], open: usize) -> usize {
    if b.get(open + 1) == Some(&b'\\') {
        let mut i = open + 2;
        while b[i] != b'\'' {
            i += 1;
        }
        i
    } else if b.get(open + 2) == Some(&b'\'') {
        open + 2
    } else {
        open
    }
}

/// The (non-raw) string literals of a Rust source, unescaped as far as hints need: line
/// continuations, `\"`, `\\`, `\n`. Comments are skipped.
fn string_literals(src: &str) -> Vec<String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'\'' {
            i = char_end(b, i); // a char such as '"'
        } else if b[i] == b'"' {
            let end = string_end(b, i);
            out.push(unescape(&src[i + 1..end]));
            i = end;
        }
        i += 1;
    }
    out
}

fn unescape(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\n') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
