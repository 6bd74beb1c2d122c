//! Security keys behind one door. [`open`] gives a [`Token`] that can create a CA or find one as
//! a [`CaSigner`], which is all the certificate code sees. FIDO2-style tokens (a real key, the
//! simulator) share the client logic of [`sk_ca`] over the CTAP2-shaped [`ctap::Authenticator`];
//! the PIV backend lives in [`piv_ca`].

pub mod ctap;
pub mod ctap_status;
pub mod error;
#[cfg(feature = "fido2")]
pub mod fido2;
mod open;
#[cfg(feature = "piv")]
pub mod piv;
#[cfg(feature = "piv")]
pub mod piv_ca;
pub mod select;
pub mod sim;
pub mod sim_counter;
pub mod sk_ca;

pub use ctap_status::CtapStatus;
pub use error::TokenError;
pub use open::{open, CaHandle, CaSource, EnrollRequest, NewCa, Token};
pub use select::{Backend, BackendChoice};

use ssh_key::{PublicKey, Signature};

use crate::ui::Ui;
use crate::Result;

/// A CA whose private key lives in a token: it can name its public key and sign.
pub trait CaSigner {
    /// The CA public key (what hosts put in `TrustedUserCAKeys`).
    fn public_key(&self) -> &PublicKey;
    /// Signs `msg` (a certificate's to-be-signed bytes). May prompt for touch/PIN through `ui`.
    fn sign(&mut self, msg: &[u8], ui: &mut dyn Ui) -> Result<Signature>;
    /// One line naming the token, e.g. `simulated key SIM-1A2B3C4D (SIMULATED)`.
    fn describe(&self) -> String;
}
