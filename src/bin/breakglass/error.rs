//! The binary's own errors: what only the command line and the commands' printing can get
//! wrong (a login name without `-n`, an unknown runbook, a drill or doctor that found
//! problems, …), beside the library's [`breakglass::Error`], which it wraps unchanged. The
//! library never builds these, so they live here, as in other thin binaries over a library.

use breakglass::diagnostic::{FAILURE, USAGE};
use breakglass::Diagnostic;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The library's error, with its own message, hint, exit code and kind.
    #[error(transparent)]
    Lib(#[from] breakglass::Error),

    /// `mint NAME`: a login name given without `-n`.
    #[error("unexpected argument '{}' (mint takes the login name with -n)", .0.join(" "))]
    StrayPrincipal(Vec<String>),

    /// `log --since` is neither a duration nor a date.
    #[error("--since {0} is neither a duration (2h, 1d) nor a date (20261118, 202611181200)")]
    LogSince(String),

    /// `runbook NAME` with a name that does not ship.
    #[error("there is no runbook called {name}; the runbooks are {}", .known.join(", "))]
    UnknownRunbook {
        /// What was asked for.
        name: String,
        /// What ships.
        known: Vec<&'static str>,
    },

    /// `doctor` found something that would fail (the lines above say what).
    #[error("doctor found {0} problem(s) that would fail a drill or an incident")]
    DoctorFailed(usize),

    /// A drill step failed (the step said why).
    #[error("the drill failed; the failing step above says why")]
    DrillFailed,

    /// `fleet-drill`: hosts that are not ready (the table says why).
    #[error("{not_ready} of {total} hosts are not ready")]
    FleetNotReady {
        /// Hosts not ready.
        not_ready: usize,
        /// Hosts drilled.
        total: usize,
    },

    /// A drill step could not run here (the SKIP line said why), so the drill is not a pass.
    #[error("the drill is not a pass: it skipped {0}")]
    DrillIncomplete(String),
}

/// `?` on a library call that returns one of the library's module errors.
macro_rules! from_lib {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Lib(e.into())
            }
        }
    )*};
}

from_lib!(
    breakglass::token::TokenError,
    breakglass::ops::host_config::HostConfigError,
    breakglass::delivery::atomic::AtomicError,
    breakglass::delivery::agent::AgentError,
    serde_json::Error,
    ssh_key::Error,
);

impl Diagnostic for Error {
    fn hint(&self) -> String {
        match self {
            Error::Lib(e) => e.hint(),
            Error::StrayPrincipal(p) => format!("To sign for {}, run `breakglass mint -n {}`.", p.join(" and "), breakglass::shell::word(&p.join(","))),
            Error::UnknownRunbook { .. } => "Run `breakglass runbook` to list them.".into(),
            Error::LogSince(_) => "Give --since a duration such as 2h or a date such as 20261118 (add Z for UTC).".into(),
            Error::DoctorFailed(_) => "Fix each FAIL line as it says, then run `breakglass doctor` again.".into(),
            Error::DrillFailed => "Fix what the failing step names, then run the drill again.".into(),
            Error::FleetNotReady { .. } => "Fix each host as its reason says (host-config, the Ansible role), then run the fleet drill again.".into(),
            Error::DrillIncomplete(_) => "Install what the SKIP line names (sshd and ssh only as programs: apt install openssh-server openssh-client; the drill starts its own sshd), then run the drill again.".into(),
        }
    }

    /// [`USAGE`] for a command line typed wrong; the library's error decides for itself.
    fn exit_code(&self) -> u8 {
        match self {
            Error::Lib(e) => e.exit_code(),
            Error::StrayPrincipal(_) | Error::LogSince(_) | Error::UnknownRunbook { .. } => USAGE,
            Error::DoctorFailed(_)
            | Error::DrillFailed
            | Error::DrillIncomplete(_)
            | Error::FleetNotReady { .. } => FAILURE,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Error::Lib(e) => e.kind(),
            Error::StrayPrincipal(_) => "stray-principal",
            Error::UnknownRunbook { .. } => "unknown-runbook",
            Error::LogSince(_) => "log-since",
            Error::DoctorFailed(_) => "doctor-failed",
            Error::DrillFailed => "drill-failed",
            Error::FleetNotReady { .. } => "fleet-not-ready",
            Error::DrillIncomplete(_) => "drill-incomplete",
        }
    }
}
