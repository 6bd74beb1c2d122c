//! Wormhole codes as people type them: `NAMEPLATE-WORD-WORD…`, checked before anything is sent
//! to a server, so a typo or a pasted command line never reaches the mailbox.

use magic_wormhole::Code;

use super::{Result, TransferError};

/// A code as the Python CLI and ours print it: a number without leading zero, then two or more
/// lowercase words (letters and digits), joined by dashes; surrounding blanks are ignored.
pub(super) fn check_code(code: &str) -> Result<Code> {
    let code = code.trim();
    let mut parts = code.split('-');
    let nameplate = parts.next().unwrap_or("");
    let words: Vec<&str> = parts.collect();
    let ok = !nameplate.is_empty()
        && nameplate.len() <= 9
        && nameplate.bytes().all(|b| b.is_ascii_digit())
        && !nameplate.starts_with('0')
        && words.len() >= 2
        && words.iter().all(|w| {
            !w.is_empty()
                && w.len() <= 32
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !ok {
        return Err(TransferError::BadCode);
    }
    code.parse::<Code>().map_err(|_| TransferError::BadCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for bad in [
            "",
            "7",
            "7-",
            "x-foo-bar",
            "07-foo-bar",
            "7-foo",
            "7-foo--bar",
            "7 foo bar",
            "-foo-bar",
            "7-Foo-Bar",
            "7-foo-bar/",
        ] {
            assert!(
                matches!(check_code(bad), Err(TransferError::BadCode)),
                "{bad:?}"
            );
        }
        for good in [
            "7-guitarist-revenge",
            "123-aardvark-zulu",
            " 4-crumpled-python ",
        ] {
            check_code(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    }
}
