//! The one place text reaches the terminal. Every line is sanitised here, once (control, bidi,
//! zero-width and tag characters become visible escapes), whatever its source; JSON is escaped so
//! that it stays valid JSON and safe for a terminal. A closed stdout (`breakglass log | head -1`)
//! ends the output quietly: the command still finishes and keeps its exit code.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use breakglass::sanitize::{is_dangerous, sanitize, sanitize_lines};
use breakglass::ui::Tone;

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
    print_clean(sanitize_lines(text));
}

/// Prints lines to stdout, each sanitised as one line: a newline inside one (in a path, say) is
/// shown as `\n` and cannot start a line of its own.
pub fn out_lines<S: AsRef<str>>(lines: &[S]) {
    let clean: Vec<String> = lines.iter().map(|l| sanitize(l.as_ref())).collect();
    print_clean(clean.join("\n"));
}

fn print_clean(clean: String) {
    raw_out(&clean);
}

/// Prints one (possibly multi-line) text to stderr, sanitised.
pub fn err(text: &str) {
    raw_err(&sanitize_lines(text));
}

/// Prints `before`, the `word` a person scans for, and `after` to stdout, each sanitised; on a
/// terminal the word is coloured by its `tone`.
pub fn out_marked(before: &str, tone: Tone, word: &str, after: &str) {
    raw_out(&marked(
        before,
        tone,
        word,
        after,
        std::io::stdout().is_terminal(),
    ));
}

/// [`out_marked`] to stderr.
pub fn err_marked(before: &str, tone: Tone, word: &str, after: &str) {
    raw_err(&marked(
        before,
        tone,
        word,
        after,
        std::io::stderr().is_terminal(),
    ));
}

/// `warning: TEXT` on stderr, the mark coloured on a terminal.
pub fn warning(text: &str) {
    err_marked("", Tone::Warning, "warning:", &format!(" {text}"));
}

fn raw_err(text: &str) {
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

/// The colour of a tone; `None` for plain text.
fn paint(tone: Tone) -> Option<&'static str> {
    match tone {
        Tone::Success => Some(GREEN),
        Tone::Warning => Some(YELLOW),
        Tone::Refusal => Some(RED),
        Tone::Note => None,
    }
}

/// The three parts, sanitised; the word coloured by its tone when `is_terminal` asks for
/// colour. Sanitising first means the colour codes are the only escapes in the output.
fn marked(before: &str, tone: Tone, word: &str, after: &str, is_terminal: bool) -> String {
    let (before, word, after) = (
        sanitize_lines(before),
        sanitize(word),
        sanitize_lines(after),
    );
    match paint(tone).filter(|_| colour(is_terminal)) {
        Some(c) => format!("{before}{c}{word}{RESET}{after}"),
        None => format!("{before}{word}{after}"),
    }
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

/// Prints lines to stdout as they are produced, each sanitised as [`out`] does, through one
/// buffer: a listing of millions of lines is never held whole.
pub fn out_stream(lines: impl Iterator<Item = String>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut o = std::io::BufWriter::new(std::io::stdout().lock());
    for line in lines {
        if writeln!(o, "{}", sanitize_lines(&line)).is_err() {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            return;
        }
    }
    if o.flush().is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// [`json`] written as it is serialised (the same bytes), for documents too large to hold.
pub fn json_stream<T: serde::Serialize>(v: &T) -> Result<(), crate::error::Error> {
    JSON_PRINTED.store(true, Ordering::Relaxed);
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut w = EscapeJson {
        inner: std::io::BufWriter::new(std::io::stdout().lock()),
        carry: Vec::new(),
    };
    let written = match serde_json::to_writer_pretty(&mut w, v) {
        Ok(()) => writeln!(w).and_then(|()| w.inner.flush()),
        Err(e) if e.is_io() => Err(std::io::Error::other(e)),
        Err(e) => return Err(e.into()),
    };
    if written.is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// A writer applying [`escape_json`] to what passes through (a character split across two
/// writes is held until it is whole).
struct EscapeJson<W: Write> {
    inner: W,
    carry: Vec<u8>,
}

impl<W: Write> Write for EscapeJson<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Most of a document is printable ASCII, which passes as it is.
        if self.carry.is_empty() && buf.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\n') {
            return self.inner.write_all(buf).map(|()| buf.len());
        }
        self.carry.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.carry) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return Err(std::io::Error::other("JSON output is not UTF-8")),
        };
        let text = std::str::from_utf8(&self.carry[..valid]).unwrap_or("");
        self.inner.write_all(escape_json(text).as_bytes())?;
        self.carry.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
    use super::{escape_json, marked, Tone};

    #[test]
    fn only_the_marked_word_is_coloured_and_only_on_a_terminal() {
        std::env::remove_var("NO_COLOR");
        assert_eq!(
            marked("  ", Tone::Success, "[PASS]", " mint", true),
            "  \x1b[32m[PASS]\x1b[0m mint"
        );
        assert_eq!(
            marked("        Status: ", Tone::Refusal, "EXPIRED", "", true),
            "        Status: \x1b[1;31mEXPIRED\x1b[0m"
        );
        assert_eq!(
            marked("", Tone::Warning, "warning:", " x", true),
            "\x1b[33mwarning:\x1b[0m x"
        );
        assert_eq!(marked("a ", Tone::Note, "b", " c", true), "a b c");
        assert_eq!(
            marked("  ", Tone::Success, "[PASS]", " mint", false),
            "  [PASS] mint"
        );
        // Text from outside that merely looks like a mark is left alone, and sanitised.
        assert_eq!(
            marked("    key id \"[PASS]\u{1b}\"", Tone::Note, "", "", true),
            "    key id \"[PASS]\\u{1b}\""
        );
    }

    #[test]
    fn streamed_json_is_escaped_as_the_whole_document_is_even_split_mid_character() {
        use std::io::Write;
        let doc = "{\"id\": \"a\u{202e}b\u{9b}c\u{e0041} é\u{7f}\", \"n\": [1, 2]}\n";
        for chunk in [1, 2, 3, 64] {
            let mut w = super::EscapeJson {
                inner: Vec::new(),
                carry: Vec::new(),
            };
            for piece in doc.as_bytes().chunks(chunk) {
                w.write_all(piece).unwrap();
            }
            assert!(w.carry.is_empty());
            assert_eq!(
                String::from_utf8(w.inner).unwrap(),
                escape_json(doc),
                "{chunk}"
            );
        }
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
