use std::process::ExitCode;

use breakglass::{cli::Cli, cmd};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse(); // clap exits 2 on usage errors by itself
    cmd::main(cli)
}
