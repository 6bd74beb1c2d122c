//! The `breakglass` binary: parse, run, map the outcome to an exit code and a message.

mod cli;
mod cmd;
mod error;
mod output;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    no_core_dumps();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if cli::verbose_version(&args) {
        return cmd::version_verbose();
    }
    let cli = cli::Cli::parse(); // clap exits 2 on usage errors by itself
    cmd::main(cli)
}

/// A crash must never leave a core file holding a private key or a PIN: no core dumps, and not
/// dumpable (which also keeps other processes of the same user from ptrace-attaching).
fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on this process with valid arguments; failure changes nothing.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
