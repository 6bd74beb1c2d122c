//! Quoting for the command lines we print (`ssh -i emergency ubuntu@HOST`), so a person can
//! paste them into a POSIX shell. The raw string is quoted; making it safe for a terminal is the
//! printer's job ([`crate::sanitize`]), done once where the line is printed.

/// Quotes `s` for a POSIX shell when it needs it.
pub fn word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@:+=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::word;

    #[test]
    fn plain_words_stay_bare_and_others_are_single_quoted() {
        assert_eq!(word("ubuntu"), "ubuntu");
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word("a\\b"), "'a\\b'");
        assert_eq!(word("it's"), "'it'\\''s'");
        assert_eq!(word(""), "''");
    }
}
