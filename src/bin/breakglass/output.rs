//! The one place text reaches the terminal. Every line is sanitised here, once (control, bidi,
//! zero-width and tag characters become visible escapes), whatever its source; JSON is escaped so
//! that it stays valid JSON and safe for a terminal. A closed stdout (`breakglass log | head -1`)
//! ends the output quietly: the command still finishes and keeps its exit code.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use breakglass::sanitize::{is_dangerous, sanitize, sanitize_lines};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once a JSON document is on stdout: `--json` prints exactly one, so an error after it is
/// not printed as a second document.
static JSON_PRINTED: AtomicBool = AtomicBool::new(false);

/// Whether a JSON document was printed already.
pub fn json_printed() -> bool {
    JSON_PRINTED.load(Ordering::Relaxed)
}

/// Prints one (possibly multi-line) text to stdout, sanitised (then coloured on a terminal).
pub fn out(text: &str) {
    print_clean(sanitize_lines(text));
}

/// Prints lines to stdout, each sanitised as one line: a newline inside one (in a path, say) is
/// shown as `\n` and cannot start a line of its own.
pub fn out_lines<S: AsRef<str>>(lines: &[S]) {
    let clean: Vec<String> = lines.iter().map(|l| sanitize(l.as_ref())).collect();
    print_clean(clean.join("\n"));
}

fn print_clean(clean: String) {
    if colour(std::io::stdout().is_terminal()) {
        raw_out(&paint(&clean));
    } else {
        raw_out(&clean);
    }
}

/// Prints one (possibly multi-line) text to stderr, sanitised (then coloured on a terminal).
pub fn err(text: &str) {
    let clean = sanitize_lines(text);
    let text = if colour(std::io::stderr().is_terminal()) {
        paint(&clean)
    } else {
        clean
    };
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{text}");
    let _ = e.flush();
}

/// Colour only for a person: the stream is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>).
fn colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Colours the few words a person scans for, where breakglass itself put them (line starts and
/// fixed labels, never inside text from outside): PASS/FAIL/SKIP, EXPIRED, NOT YET VALID,
/// warnings and errors. Runs after sanitising, so these are the only escapes in the output.
fn paint(text: &str) -> String {
    const MARKS: [(&str, &str); 12] = [
        ("  [PASS]", GREEN),
        ("  [OK]", GREEN),
        ("  [WARN]", YELLOW),
        ("  [FAIL]", RED),
        ("  [SKIP]", YELLOW),
        ("PASS in ", GREEN),
        ("FAIL in ", RED),
        ("warning:", YELLOW),
        ("breakglass:", RED),
        ("        Status: EXPIRED", RED),
        ("        Status: NOT YET VALID", RED),
        ("        Status: valid", GREEN),
    ];
    text.split('\n')
        .map(|line| {
            for (mark, c) in MARKS {
                if let Some(rest) = line.strip_prefix(mark) {
                    // Colour the word itself (after any indentation and label).
                    let word_at = mark.len() - mark.trim_start().len();
                    let (indent, word) = mark.split_at(word_at);
                    let (label, word) = match word.rsplit_once(": ") {
                        Some((l, w)) => (format!("{l}: "), w),
                        None => (String::new(), word),
                    };
                    return format!("{indent}{label}{c}{word}{RESET}{rest}");
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn raw_out(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut o = std::io::stdout().lock();
    if writeln!(o, "{text}").and_then(|()| o.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// Prints a value as one pretty JSON document on stdout.
pub fn json<T: serde::Serialize>(v: &T) -> Result<(), crate::error::Error> {
    JSON_PRINTED.store(true, Ordering::Relaxed);
    raw_out(&escape_json(&serde_json::to_string_pretty(v)?));
    Ok(())
}

/// Prints a value as one compact JSON line on stdout.
pub fn json_line<T: serde::Serialize>(v: &T) -> Result<(), crate::error::Error> {
    JSON_PRINTED.store(true, Ordering::Relaxed);
    raw_out(&escape_json(&serde_json::to_string(v)?));
    Ok(())
}

/// serde_json escapes C0 controls but not C1, bidi, zero-width or tag characters; those can only
/// stand inside JSON strings, where `\uXXXX` (a surrogate pair above U+FFFF) means the same.
fn escape_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_dangerous(c) && c != '\n' {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `println!` through [`out`].
macro_rules! say {
    () => { $crate::output::out("") };
    ($($t:tt)*) => { $crate::output::out(&format!($($t)*)) };
}

/// `eprintln!` through [`err`].
macro_rules! tell {
    ($($t:tt)*) => { $crate::output::err(&format!($($t)*)) };
}

pub(crate) use {say, tell};

#[cfg(test)]
mod tests {
    use super::{escape_json, paint};

    #[test]
    fn only_the_marks_are_painted() {
        assert_eq!(paint("  [PASS] mint"), "  \x1b[32m[PASS]\x1b[0m mint");
        assert_eq!(
            paint("        Status: EXPIRED"),
            "        Status: \x1b[1;31mEXPIRED\x1b[0m"
        );
        assert_eq!(
            paint("        Status: valid, 4m left"),
            "        Status: \x1b[32mvalid\x1b[0m, 4m left"
        );
        assert_eq!(paint("warning: x"), "\x1b[33mwarning:\x1b[0m x");
        // Text from outside that merely contains a mark is left alone.
        assert_eq!(
            paint("    key id \"[PASS] EXPIRED\""),
            "    key id \"[PASS] EXPIRED\""
        );
    }

    #[test]
    fn json_stays_json_and_loses_terminal_controls() {
        let v = serde_json::json!({ "id": "a\u{202e}b\u{9b}c\u{e0041}" });
        let s = escape_json(&serde_json::to_string(&v).unwrap());
        assert_eq!(s, r#"{"id":"a\u202eb\u009bc\udb40\udc41"}"#);
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
