//! Text from outside (key comments, key ids, principals, file names) made safe for a terminal:
//! control characters (C0, DEL, C1) and bidirectional overrides are shown as `\u{…}` escapes, so
//! nothing a certificate or a peer sends can move the cursor, recolour or reorder the screen.

use std::fmt;

/// Returns `s` with every character a terminal would interpret replaced by a visible escape.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_dangerous(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// Like [`sanitize`] but keeps newlines (for multi-line messages we compose ourselves).
pub fn sanitize_lines(s: &str) -> String {
    s.split('\n').map(sanitize).collect::<Vec<_>>().join("\n")
}

/// Bytes that may not be UTF-8 (key ids are `string`s on the wire): lossy, then sanitised.
pub fn sanitize_bytes(b: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(b))
}

/// True for characters that must never reach a terminal raw.
pub fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A string that has been sanitised for display.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sanitized(String);

impl Sanitized {
    /// Sanitises `s`.
    pub fn new(s: &str) -> Self {
        Sanitized(sanitize(s))
    }
    /// The display form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sanitized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(sanitize("x\ny"), "x\\ny");
        assert_eq!(sanitize("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(sanitize("abc\u{202e}txt"), "abc\\u{202e}txt");
        assert_eq!(sanitize("back\\slash"), "back\\\\slash");
        assert_eq!(sanitize("plain ascii ok"), "plain ascii ok");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_lossily() {
        assert_eq!(sanitize_bytes(b"ok\xff\x07"), "ok\u{fffd}\\u{7}");
    }

    proptest::proptest! {
        #[test]
        fn output_never_contains_control_characters(s in ".*") {
            let out = sanitize(&s);
            proptest::prop_assert!(!out.chars().any(is_dangerous));
        }
    }
}
