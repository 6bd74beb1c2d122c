//! The principals of a certificate (`ssh-keygen -n`): the login names (or, for a host
//! certificate, the host names) it is valid for. One type, one rule for a name, so that `mint -n`,
//! `request -n`, `approve -n` and the list a requester sends over the wire are held to the same
//! thing: at least one name, none empty, none with a comma, a blank or a control character, at
//! most [`MAX`] (`SSHKEY_CERT_MAX_PRINCIPALS` in OpenSSH's `sshkey.h`). A certificate without
//! principals is valid for every login, so an empty list never parses.

use std::fmt;
use std::ops::Deref;

use crate::sanitize::is_dangerous;

/// The most principals a certificate may carry (`SSHKEY_CERT_MAX_PRINCIPALS`).
pub const MAX: usize = 256;

/// A checked, non-empty list of principal names, in the order given (duplicates are kept, as
/// ssh-keygen keeps them). Read it as a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principals(Vec<String>);

/// Why a list of principals was refused. `Display` is worded for `-n`, as typed on a command
/// line; a caller checking a peer's list words its own refusal from the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalsError {
    /// No names at all (or only blanks).
    #[error("-n needs at least one principal (the login name on the host)")]
    None,
    /// An empty name: `a,,b`, `a,`; carries the whole list as typed.
    #[error("empty principal name in -n '{0}'")]
    EmptyName(String),
    /// A name with a comma, a blank or a control character; carries the name.
    #[error("principal '{0}' contains blanks or control characters")]
    BadName(String),
    /// More than [`MAX`] names; carries how many.
    #[error("-n lists {0} principals; a certificate holds at most {MAX}")]
    TooMany(usize),
}

/// What is wrong with one name.
enum NameFault {
    Empty,
    Bad,
}

/// The one rule for a single name: not empty, and no comma (the list separator), blank or
/// control character (a blank would split it in `AuthorizedPrincipalsFile`, a control
/// character would reach sshd's log and a terminal).
fn fault(name: &str) -> Option<NameFault> {
    if name.is_empty() {
        Some(NameFault::Empty)
    } else if name
        .chars()
        .any(|c| c == ',' || c.is_whitespace() || is_dangerous(c))
    {
        Some(NameFault::Bad)
    } else {
        None
    }
}

/// Every name meets the rule (the first fault found, in order), then the count.
fn checked(
    names: Vec<String>,
    as_typed: impl Fn() -> String,
) -> Result<Principals, PrincipalsError> {
    for n in &names {
        match fault(n) {
            Some(NameFault::Empty) => return Err(PrincipalsError::EmptyName(as_typed())),
            Some(NameFault::Bad) => return Err(PrincipalsError::BadName(n.clone())),
            None => {}
        }
    }
    if names.len() > MAX {
        return Err(PrincipalsError::TooMany(names.len()));
    }
    Ok(Principals(names))
}

impl Principals {
    /// Parses `-n` as typed: names separated by commas.
    pub fn parse(spec: &str) -> Result<Self, PrincipalsError> {
        if spec.trim().is_empty() {
            return Err(PrincipalsError::None);
        }
        checked(spec.split(',').map(str::to_string).collect(), || {
            spec.to_string()
        })
    }

    /// Checks a list that arrived as a list (a request message): the same rule for each name.
    pub fn from_list(names: Vec<String>) -> Result<Self, PrincipalsError> {
        if names.is_empty() {
            return Err(PrincipalsError::None);
        }
        let joined = names.join(",");
        checked(names, || joined.clone())
    }

    /// The first of these names that `wider` does not hold, if any: an approver may only narrow.
    pub fn first_not_in<'a>(&'a self, wider: &Principals) -> Option<&'a str> {
        self.0
            .iter()
            .find(|p| !wider.0.contains(p))
            .map(String::as_str)
    }

    /// The first name given twice, if any (a request may not ask for one twice).
    pub fn first_repeated(&self) -> Option<&str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, p)| self.0[..*i].contains(p))
            .map(|(_, p)| p.as_str())
    }
}

impl Deref for Principals {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for Principals {
    /// As `-n` takes them: comma separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn principals_are_checked() {
        assert_eq!(
            &*Principals::parse("ubuntu,root").unwrap(),
            ["ubuntu", "root"]
        );
        assert_eq!(&*Principals::parse("a,a").unwrap(), ["a", "a"]);
        assert_eq!(Principals::parse(""), Err(PrincipalsError::None));
        assert_eq!(Principals::parse("  "), Err(PrincipalsError::None));
        assert_eq!(
            Principals::parse("a,,b"),
            Err(PrincipalsError::EmptyName("a,,b".into()))
        );
        assert_eq!(
            Principals::parse("a,"),
            Err(PrincipalsError::EmptyName("a,".into()))
        );
        assert_eq!(
            Principals::parse("a b"),
            Err(PrincipalsError::BadName("a b".into()))
        );
        assert_eq!(
            Principals::parse("a\x1b"),
            Err(PrincipalsError::BadName("a\x1b".into()))
        );
        assert_eq!(
            Principals::parse("ok,\u{202e}toor"),
            Err(PrincipalsError::BadName("\u{202e}toor".into()))
        );
        let many = vec!["u"; MAX + 1].join(",");
        assert_eq!(
            Principals::parse(&many),
            Err(PrincipalsError::TooMany(MAX + 1))
        );
        assert!(Principals::parse(&vec!["u"; MAX].join(",")).is_ok());
    }

    #[test]
    fn messages_are_the_ones_mint_has_always_printed() {
        let e = |s: &str| Principals::parse(s).unwrap_err().to_string();
        assert_eq!(
            e(""),
            "-n needs at least one principal (the login name on the host)"
        );
        assert_eq!(e("a,,b"), "empty principal name in -n 'a,,b'");
        assert_eq!(
            e("a b"),
            "principal 'a b' contains blanks or control characters"
        );
        assert_eq!(
            e(&vec!["u"; 300].join(",")),
            "-n lists 300 principals; a certificate holds at most 256"
        );
    }

    #[test]
    fn a_list_from_a_peer_meets_the_same_rule() {
        let list = |v: &[&str]| Principals::from_list(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(&*list(&["alice", "root"]).unwrap(), ["alice", "root"]);
        assert_eq!(list(&[]), Err(PrincipalsError::None));
        assert!(matches!(list(&[""]), Err(PrincipalsError::EmptyName(_))));
        assert_eq!(list(&["a,b"]), Err(PrincipalsError::BadName("a,b".into())));
        assert_eq!(list(&["a b"]), Err(PrincipalsError::BadName("a b".into())));
        assert_eq!(list(&["a\n"]), Err(PrincipalsError::BadName("a\n".into())));
        assert_eq!(
            list(&vec!["u"; MAX + 1]),
            Err(PrincipalsError::TooMany(MAX + 1))
        );
    }

    #[test]
    fn narrowing_and_repeats() {
        let asked = Principals::parse("alice,bob").unwrap();
        assert_eq!(Principals::parse("bob").unwrap().first_not_in(&asked), None);
        assert_eq!(
            Principals::parse("bob,root").unwrap().first_not_in(&asked),
            Some("root")
        );
        assert_eq!(asked.first_repeated(), None);
        assert_eq!(
            Principals::parse("a,b,a").unwrap().first_repeated(),
            Some("a")
        );
        assert_eq!(asked.to_string(), "alice,bob");
    }

    /// A name the rule accepts: printable, no comma, no blank (non-ASCII included).
    fn name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9._@\\-éß😀]{1,12}"
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_what_it_accepts_is_well_formed(
            s in "[a-z, \\t\\x1b\\u{202e}]{0,40}|.{0,40}"
        ) {
            if let Ok(p) = Principals::parse(&s) {
                prop_assert!(!p.is_empty() && p.len() <= MAX);
                for n in p.iter() {
                    prop_assert!(fault(n).is_none());
                }
                // What -n accepts, a peer's list of the same names passes too.
                prop_assert_eq!(Principals::from_list(p.to_vec()), Ok(p.clone()));
            }
        }

        #[test]
        fn good_names_round_trip_through_the_command_line_form(
            names in proptest::collection::vec(name(), 1..20)
        ) {
            let p = Principals::parse(&names.join(",")).unwrap();
            prop_assert_eq!(&*p, &names[..]);
            prop_assert_eq!(Principals::parse(&p.to_string()), Ok(p.clone()));
        }

        #[test]
        fn one_bad_character_anywhere_refuses_the_list(
            names in proptest::collection::vec(name(), 1..6),
            at in 0usize..6,
            bad in prop_oneof![Just(' '), Just('\t'), Just('\n'), Just('\x1b'), Just('\u{202e}'), Just('\u{200b}')],
        ) {
            let mut names = names;
            let i = at % names.len();
            names[i].push(bad);
            prop_assert!(Principals::parse(&names.join(",")).is_err());
            prop_assert!(Principals::from_list(names).is_err());
        }
    }
}
