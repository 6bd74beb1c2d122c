//! The one place text reaches the terminal. Every line is sanitised here, once (control, bidi,
//! zero-width and tag characters become visible escapes), whatever its source; JSON is escaped so
//! that it stays valid JSON and safe for a terminal. A closed stdout (`breakglass log | head -1`)
//! ends the output quietly: the command still finishes and keeps its exit code.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use breakglass::sanitize::{is_dangerous, sanitize_lines};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once a JSON document is on stdout: `--json` prints exactly one, so an error after it is
/// not printed as a second document.
static JSON_PRINTED: AtomicBool = AtomicBool::new(false);

/// Whether a JSON document was printed already.
pub fn json_printed() -> bool {
    JSON_PRINTED.load(Ordering::Relaxed)
}

/// Prints one (possibly multi-line) text to stdout, sanitised.
pub fn out(text: &str) {
    raw_out(&sanitize_lines(text));
}

/// Prints one (possibly multi-line) text to stderr, sanitised.
pub fn err(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{}", sanitize_lines(text));
    let _ = e.flush();
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
pub fn json<T: serde::Serialize>(v: &T) -> Result<(), breakglass::Error> {
    JSON_PRINTED.store(true, Ordering::Relaxed);
    raw_out(&escape_json(&serde_json::to_string_pretty(v)?));
    Ok(())
}

/// Prints a value as one compact JSON line on stdout.
pub fn json_line<T: serde::Serialize>(v: &T) -> Result<(), breakglass::Error> {
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
    use super::escape_json;

    #[test]
    fn json_stays_json_and_loses_terminal_controls() {
        let v = serde_json::json!({ "id": "a\u{202e}b\u{9b}c\u{e0041}" });
        let s = escape_json(&serde_json::to_string(&v).unwrap());
        assert_eq!(s, r#"{"id":"a\u202eb\u009bc\udb40\udc41"}"#);
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
