//! `list`: every connected security key and the SSH CAs it holds (every resident credential of
//! an `ssh:` application, as `ssh-keygen -K` downloads them all), found through the token door
//! ([`token::inventory`]), each with the attestation at hand for it; the binary marks the CA
//! that is the kit's and prints.
//!
//! "At hand" means: in the directory `list` looks in (`--dir`, default the current one) a
//! `NAME.pub` holds the CA's key and `NAME.attest` beside it attests that key (its signatures
//! and the key checked, as at `init-ca`; whether its root is trusted is `ca verify`'s question).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ssh_key::HashAlg;

use crate::attest::{capture, Container, MAX_ATTESTATION_LEN};
use crate::ops::ca::verify::attestation_path_for;
use crate::ssh::keyfile;
use crate::token::{self, BackendChoice};
use crate::ui::Ui;
use crate::Result;

pub use crate::token::{Inventory as Listing, ListedCa, ListedKey};

/// The most directory entries looked at for attestations (a kit holds a handful).
const MAX_ENTRIES: usize = 4096;

/// Lists the keys of `choice` (all hardware backends when none is given) and their CAs of every
/// `ssh:` application (or of `only`), with the attestations at hand in `dir`.
/// [`Listing::no_key`] is the error to end with when it found none.
pub fn list(
    choice: BackendChoice,
    only: Option<&str>,
    dir: &Path,
    ui: &mut dyn Ui,
) -> Result<Listing> {
    let mut l = token::inventory(choice, only, ui)?;
    let at_hand = attestations_in(dir);
    for c in l.keys.iter_mut().flat_map(|k| k.cas.iter_mut()) {
        c.attestation = at_hand.get(&c.fingerprint).cloned();
    }
    Ok(l)
}

/// CA fingerprint → its attestation, for each `NAME.pub` in `dir` with a `NAME.attest` beside it
/// that attests the key in it. Unreadable files are passed over: `list` still lists.
pub fn attestations_in(dir: &Path) -> HashMap<String, PathBuf> {
    let mut found = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.take(MAX_ENTRIES).flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().ends_with(".pub") {
            continue;
        }
        let pub_file = dir.join(&name);
        let attest = attestation_path_for(&pub_file);
        if !attest.is_file() {
            continue;
        }
        let Ok(public) = keyfile::read_public_key(&pub_file) else {
            continue;
        };
        let Ok(bytes) = crate::input::read_bounded(&attest, MAX_ATTESTATION_LEN as u64) else {
            continue;
        };
        let attests = Container::decode(&bytes)
            .ok()
            .is_some_and(|c| capture::inspect(&public, &c).is_ok());
        if attests {
            found.insert(public.fingerprint(HashAlg::Sha256).to_string(), attest);
        }
    }
    found
}
