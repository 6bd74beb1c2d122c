//! The CLI layer: turns parsed arguments into library calls and prints the results. The only
//! code (with `main.rs`) that writes to stdout/stderr.

mod drill;
#[cfg(feature = "wormhole")]
mod handoff;
mod init_ca;
mod inspect;
mod list;
mod log;
mod mint;
mod revoke;
mod sim;
mod terminal;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::sanitize::sanitize_lines;
use crate::token::BackendChoice;
use crate::Error;

pub use terminal::TerminalUi;

/// Runs the parsed command line and maps the outcome to an exit code and a message.
pub fn main(cli: Cli) -> ExitCode {
    let json = wants_json(&cli.command);
    let mut ui = TerminalUi::new();
    match run(cli, &mut ui) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, json);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Dispatches one command.
pub fn run(cli: Cli, ui: &mut TerminalUi) -> Result<(), Error> {
    let backend = BackendChoice(cli.backend);
    match cli.command {
        Command::InitCa(a) => init_ca::run(a, backend, ui),
        Command::Mint(a) => mint::run(a, backend, ui),
        Command::Inspect(a) => inspect::run(a),
        Command::Drill(a) => drill::run(a),
        Command::Log(a) => log::run(a),
        Command::List(a) => list::run(a, backend, ui),
        #[cfg(feature = "wormhole")]
        Command::Send(a) => handoff::send(a),
        #[cfg(feature = "wormhole")]
        Command::Receive(a) => handoff::receive(a),
        Command::Revoke(a) => revoke::run(a, backend, ui),
        Command::Sim(c) => sim::run(c, ui),
    }
}

fn wants_json(c: &Command) -> bool {
    match c {
        Command::InitCa(a) => a.json,
        Command::Mint(a) => a.json,
        Command::Inspect(a) => a.json,
        Command::Drill(a) => a.json,
        Command::Log(a) => a.json,
        Command::List(a) => a.json,
        #[cfg(feature = "wormhole")]
        Command::Send(a) => a.json,
        #[cfg(feature = "wormhole")]
        Command::Receive(a) => a.json,
        Command::Revoke(a) => a.json,
        Command::Sim(crate::cli::SimCommand::Status { json }) => *json,
        Command::Sim(_) => false,
    }
}

/// Prints an error: one sentence, then what to do; as JSON under `--json`.
fn report(e: &Error, json: bool) {
    let message = sanitize_lines(&e.to_string());
    let hint = e.hint().map(|h| sanitize_lines(&h));
    if json {
        let v =
            serde_json::json!({ "error": { "kind": e.kind(), "message": message, "hint": hint } });
        println!("{v}");
    }
    eprintln!("breakglass: {message}.");
    if let Some(h) = hint {
        eprintln!("{h}");
    }
}

/// Prints a value as one JSON object on stdout.
fn print_json<T: serde::Serialize>(v: &T) -> Result<(), Error> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::External(format!("cannot encode JSON: {e}")))?;
    println!("{s}");
    Ok(())
}
