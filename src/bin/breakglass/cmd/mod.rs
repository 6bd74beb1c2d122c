//! The CLI layer: turns parsed arguments into library calls and prints the results. With
//! `main.rs` and `output.rs`, the only code that writes to stdout/stderr.

#[cfg(feature = "wormhole")]
mod approve;
mod ca;
mod docs;
mod doctor;
mod drill;
mod fleet_drill;
#[cfg(feature = "wormhole")]
mod handoff;
mod host_config;
mod init_ca;
mod inspect;
mod kit;
mod list;
mod log;
mod mint;
#[cfg(feature = "wormhole")]
mod request;
mod revoke;
mod runbook;
mod sim;
mod sim_hid;
mod status;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::output::{self, tell};
use crate::terminal::TerminalUi;
use breakglass::ui::Tone;
use breakglass::Diagnostic;

/// Runs the parsed command line and maps the outcome to an exit code and a message.
pub fn main(cli: Cli) -> ExitCode {
    let json = cli.json;
    let mut ui = TerminalUi::new();
    ui.set_quiet(json);
    match run(cli, &mut ui) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, json);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--version --verbose`: the version, this program's path and its SHA-256.
pub fn version_verbose() -> ExitCode {
    match kit::version_verbose() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, false);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Dispatches one command.
fn run(cli: Cli, ui: &mut TerminalUi) -> Result<(), Error> {
    let outer = cli.backend;
    let json = cli.json;
    match cli.command {
        Command::InitCa(a) => init_ca::run(a, outer, json, ui),
        Command::Ca(c) => ca::run(c, json),
        Command::Mint(a) => mint::run(a, outer, json, ui),
        Command::Inspect(a) => inspect::run(a, json),
        Command::Drill(a) => drill::run(a, json),
        Command::FleetDrill(a) => fleet_drill::run(a, outer, json, ui),
        Command::Log(a) => log::run(a, outer, json, ui),
        Command::List(a) => list::run(a, outer, json, ui),
        #[cfg(feature = "wormhole")]
        Command::Send(a) => handoff::send(a, json),
        #[cfg(feature = "wormhole")]
        Command::Receive(a) => handoff::receive(a, json),
        #[cfg(feature = "wormhole")]
        Command::Request(a) => request::run(a, json),
        #[cfg(feature = "wormhole")]
        Command::Approve(a) => approve::run(a, outer, json, ui),
        Command::Sim(c) => sim::run(c, json, ui),
        Command::HostConfig(a) => host_config::run(a, json),
        Command::Revoke(a) => revoke::run(a, outer, json, ui),
        Command::Runbook(a) => runbook::run(a),
        Command::Completions(a) => docs::completions(a),
        Command::Man => docs::man(),
        Command::Status(a) => status::run(a, json),
        Command::Doctor(a) => doctor::run(a, outer, json, ui),
        Command::Kit(a) => kit::run(a, outer, json, ui),
    }
}

/// Prints an error: one sentence, then what to do; under `--json` also one JSON document on
/// stdout.
fn report(e: &Error, json: bool) {
    if json && !output::json_printed() {
        let _ = output::json(&error_json(e));
    }
    output::err_marked("", Tone::Refusal, "breakglass:", &format!(" {e}."));
    tell!("{}", e.hint());
}

/// An error as the `--json` document: `{"error": {"kind", "message", "hint"}}`.
pub(crate) fn error_json(e: &dyn Diagnostic) -> serde_json::Value {
    serde_json::json!({ "error": { "kind": e.kind(), "message": e.to_string(), "hint": e.hint() } })
}
