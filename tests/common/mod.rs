//! The one test harness: every integration test runs the built binary, real OpenSSH, the
//! wormhole servers and the runbooks through these modules, so a change to how the binary is
//! started (an environment variable, a flag) is made in one place.
//!
//! - [`attest`]: attestations under the test root for simulated CAs, and its `--roots` directory.
//! - [`world`]: an isolated environment (own simulated key, audit log, working directory) and
//!   the only way the tests run `breakglass`.
//! - [`built`]: the workspace's other programs (the provider library, `breakglass-sim-hid`),
//!   built on demand beside the binary.
//! - [`files`]: snapshots and listings that prove a failed command wrote nothing.
//! - [`openssh`]: `ssh-keygen`, a private `ssh-agent`, a throwaway `sshd` and an `ssh` that points
//!   at it, and the provider library `ssh-keygen` loads.
//! - [`wormhole`]: the Python mailbox server and transit relay, the Python `wormhole` CLI, and
//!   senders that print a code.
//! - [`host_sshd`]: a Debian-shaped `etc/` and the host's own sshd run from it, for the
//!   host-side tests (host-config, the Ansible role, two-person).
//! - [`runbook`]: the `sh` blocks of a runbook, run in one shell against the test sshd.
//! - [`rsyslog`]: a real `rsyslogd` on its own socket, for the `--alert` rule.
//! - [`system`]: root or not, installed programs, a free port.
//! - [`skip`]: the one way a test skips (one line; a failure under `BREAKGLASS_REQUIRE_ALL=1`).
//! - [`unprivileged`]: commands run as an account mode bits apply to, also when the tests run as
//!   root.
//! - [`loopback_fleet`]: many sshds on 127.0.0.1 configured by host-config, some broken on
//!   purpose, for the fleet drill.
//! - [`fleet_host`]: an sshd configured like a fleet host under a temp `etc/`, for the runbooks
//!   that roll out with Ansible.
// Each test file compiles this harness as its own module and uses a part of it.
#![allow(dead_code, unused_imports)]

pub mod attest;
pub mod built;
pub mod files;
pub mod fleet_host;
pub mod host_sshd;
pub mod loopback_fleet;
pub mod openssh;
pub mod rsyslog;
pub mod runbook;
pub mod skip;
pub mod system;
pub mod unprivileged;
pub mod world;
pub mod wormhole;

pub use attest::*;
pub use files::*;
pub use host_sshd::*;
pub use openssh::*;
pub use system::*;
pub use unprivileged::Unprivileged;
pub use world::*;
