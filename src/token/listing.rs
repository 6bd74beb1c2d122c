//! What is connected, as [`super::inventory()`] finds it: every key of the chosen backends, its
//! PIN tries and the SSH CAs on it (`breakglass list`), and, per backend, why it could not be
//! looked at. Each backend fills it with its own keys (`sk_token` the simulated and the FIDO2
//! keys, `piv_ca` the YubiKeys' PIV slots).

use serde::Serialize;

use super::select::{self, Backend, BackendChoice};
use super::TokenError;

/// One CA found on a key.
#[derive(Debug, Clone, Serialize)]
pub struct ListedCa {
    /// Where on the key: the FIDO2 application or the PIV slot.
    pub location: String,
    /// Key type.
    pub key_type: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// The attestation at hand for it (`CA.attest` beside a `CA.pub` holding this key in the
    /// directory `list` looked in), filled in by `ops::list`.
    pub attestation: Option<std::path::PathBuf>,
}

/// One key.
#[derive(Debug, Clone, Serialize)]
pub struct ListedKey {
    /// `fido2`, `piv` or `sim`.
    pub backend: Backend,
    /// What the key is.
    pub device: String,
    /// PIN tries left, if known.
    pub pin_tries_left: Option<u8>,
    /// CAs found.
    pub cas: Vec<ListedCa>,
}

/// What the search found, and what it could not look at.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Inventory {
    /// Keys found.
    pub keys: Vec<ListedKey>,
    /// Per backend, why it could not be searched (e.g. pcscd not running).
    pub problems: Vec<String>,
    /// The backends searched (for [`Inventory::no_key`]).
    #[serde(skip)]
    searched: BackendChoice,
}

impl Inventory {
    /// An empty inventory of a search of `searched`.
    pub fn new(searched: BackendChoice) -> Self {
        Inventory {
            searched,
            ..Inventory::default()
        }
    }

    /// The error a search that found no key ends with, naming what was searched: with
    /// `--backend piv` a missing YubiKey, otherwise a missing FIDO2 key (the simulator is never
    /// searched unless chosen, and then it is always there). `None` when a key was found.
    pub fn no_key(&self) -> Option<TokenError> {
        if !self.keys.is_empty() {
            return None;
        }
        Some(match self.searched.0 {
            Some(Backend::Piv) => select::no_key("PIV", None),
            _ => select::no_hardware(None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;

    fn empty(backend: Option<Backend>) -> Inventory {
        Inventory::new(BackendChoice(backend))
    }

    #[test]
    fn an_empty_search_ends_with_the_backend_it_searched() {
        let piv = empty(Some(Backend::Piv)).no_key().unwrap();
        assert_eq!(piv.to_string(), "no PIV key found");
        for other in [None, Some(Backend::Fido2)] {
            assert_eq!(
                empty(other).no_key().unwrap().to_string(),
                "no FIDO2 key found"
            );
        }
        assert_eq!(
            piv.hint(),
            "Insert the YubiKey that holds the CA and run again. To practise without a key, use \
             --backend sim (simulated; never for real access)."
        );
    }

    #[test]
    fn a_search_that_found_a_key_ends_without_an_error() {
        let mut inv = empty(Some(Backend::Piv));
        inv.keys.push(ListedKey {
            backend: Backend::Piv,
            device: "YubiKey 1".into(),
            pin_tries_left: Some(3),
            cas: Vec::new(),
        });
        assert!(inv.no_key().is_none());
        // The choice searched is not part of the JSON `list --json` prints.
        assert_eq!(
            serde_json::to_value(&inv).unwrap()["problems"],
            serde_json::json!([])
        );
        assert!(serde_json::to_value(&inv)
            .unwrap()
            .get("searched")
            .is_none());
    }
}
