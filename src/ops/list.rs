//! `list`: every connected security key and the SSH CAs it holds, found through the token door
//! ([`token::inventory`]); the binary marks the CA that is the kit's and prints.

use crate::token::{self, BackendChoice};
use crate::ui::Ui;
use crate::Result;

pub use crate::token::{Inventory as Listing, ListedCa, ListedKey};

/// Lists the keys of `choice` (all hardware backends when none is given) and their CAs for
/// `application`. [`Listing::no_key`] is the error to end with when it found none.
pub fn list(choice: BackendChoice, application: &str, ui: &mut dyn Ui) -> Result<Listing> {
    token::inventory(choice, application, ui)
}
