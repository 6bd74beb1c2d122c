//! `breakglass completions SHELL` and `breakglass man`: generated from the same clap definition
//! the parser uses (clap_complete, clap_mangen), so they never drift from `--help`. Written to
//! stdout unsanitised: they are scripts and roff for a shell or `man`, not text for a terminal.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Error;

pub(super) fn completions(a: CompletionsArgs) -> Result<(), Error> {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "breakglass", &mut out);
    write_stdout(&out)
}

pub(super) fn man() -> Result<(), Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| breakglass::Error::io("write", std::path::Path::new("(stdout)"), e))?;
    write_stdout(&out)
}

/// A closed stdout ends quietly, like every other output.
fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes).and_then(|()| o.flush());
    Ok(())
}
