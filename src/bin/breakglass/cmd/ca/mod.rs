//! `breakglass ca …`: one file per subcommand.

mod attest;
mod verify;

use crate::cli::CaCommand;
use crate::error::Error;

pub(super) fn run(c: CaCommand, json: bool) -> Result<(), Error> {
    match c {
        CaCommand::Verify(a) => verify::run(a, json),
        CaCommand::Attest(a) => attest::run(a, json),
    }
}
