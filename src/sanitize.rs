//! Text from outside (key comments, key ids, principals, file names) made safe for a terminal:
//! control characters (C0, DEL, C1), bidirectional controls, zero-width characters, the byte
//! order mark and Unicode tag characters are shown as `\u{…}` escapes, so nothing a certificate
//! or a peer sends can move the cursor, recolour, reorder or hide text on the screen. The binary
//! applies it once, where text is printed. Backslashes stay as they are, so a shell line we print
//! (`ssh -i emergency 'a\b'@HOST`) is still the right command to paste.

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
        || matches!(c,
            '\u{061c}'                       // Arabic letter mark (bidi)
            | '\u{200b}'..='\u{200f}'       // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'       // line and paragraph separators
            | '\u{202a}'..='\u{202e}'       // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'       // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'       // bidi isolates
            | '\u{feff}'                     // byte order mark / zero-width no-break space
            | '\u{fff9}'..='\u{fffb}'       // interlinear annotations
            | '\u{e0000}'..='\u{e007f}'     // tag characters
        )
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
        assert_eq!(sanitize("back\\slash"), "back\\slash");
        assert_eq!(
            sanitize("zero\u{200b}width\u{feff}"),
            "zero\\u{200b}width\\u{feff}"
        );
        assert_eq!(sanitize("tag\u{e0041}"), "tag\\u{e0041}");
        assert_eq!(sanitize("ls\u{2028}x"), "ls\\u{2028}x");
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
