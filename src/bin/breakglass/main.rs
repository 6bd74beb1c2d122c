//! The `breakglass` binary: parse, run, map the outcome to an exit code and a message.

mod cli;
mod cmd;
mod output;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse(); // clap exits 2 on usage errors by itself
    cmd::main(cli)
}
