//! The one way a test skips. A test that cannot have its environment here (a program that is not
//! installed, not root, ...) calls [`skip`] with what it needs ([`Need`], a short stable name and
//! what to do to have it) and one line of why, then returns early. The line goes straight to the
//! terminal, past the test harness's captured output, so a plain `cargo test` shows every skip:
//!
//! ```text
//! skipped [rsyslog] alert_fires_once_for_…: rsyslogd is not installed (to run it: `apt-get install rsyslog bsdutils`)
//! ```
//!
//! With `BREAKGLASS_REQUIRE_ALL=1` (the README's test command, and CI) a skip is a test failure
//! that names what is missing and the command that installs it. `BREAKGLASS_ALLOW_SKIP=name,name`
//! lets a person knowingly leave named parts out under `REQUIRE_ALL`: those still print their
//! line (marked allowed) and pass. `.ci/fuzz-smoke` follows the same rules for `fuzz`, and
//! `.ci/run` fails on any `skipped [` line. The hardware tests in `hw-tests/` are not covered:
//! without a key they print their own `skipped:` line.
//!
//! The names (README "Run the tests" lists them too):
//!
//! | name | what is missing |
//! | --- | --- |
//! | `sshd` | `/usr/sbin/sshd` (openssh-server) |
//! | `openssh-client` | `ssh-agent`, `sftp` |
//! | `rsyslog` | `rsyslogd`, `logger` |
//! | `cloud-init` | `cloud-init`, for its schema check |
//! | `man` | `man`, to render the man page |
//! | `jq` | `jq`, which the fleet runbooks use |
//! | `wormhole-venv` | the Python venv with the wormhole mailbox, relay and CLI |
//! | `ansible` | `ansible-playbook` (ansible-core in that venv) |
//! | `root` | root, for sshd logins into an account the test makes with `useradd`, for an sshd that logs to the test's syslog socket (its own mount namespace), and for the bare root (`unshare --root`) where the kernel gives no user namespace |
//! | `pcscd` | `/run/pcscd` to itself (root, no other pcscd running) for the PIV test |
//! | `hid-guest` | qemu, a kernel with the uhid module and a static busybox, for the FIDO2-over-HID guest |
//! | `fuzz` | a nightly toolchain with cargo-fuzz (`.ci/fuzz-smoke`) |

use std::io::Write;

/// What a test needs, by a short stable name, and the command that provides it.
pub struct Need {
    /// The name `BREAKGLASS_ALLOW_SKIP` takes.
    pub name: &'static str,
    /// What to do to have it: a command in backticks, or what else to do (besides
    /// `sh scripts/install-debian.sh --tests`, which installs everything).
    pub install: &'static str,
}

pub const SSHD: Need = Need {
    name: "sshd",
    install: "`apt-get install openssh-server`",
};
pub const OPENSSH_CLIENT: Need = Need {
    name: "openssh-client",
    install: "`apt-get install openssh-client`",
};
pub const RSYSLOG: Need = Need {
    name: "rsyslog",
    install: "`apt-get install rsyslog bsdutils`",
};
pub const CLOUD_INIT: Need = Need {
    name: "cloud-init",
    install: "`apt-get install cloud-init`",
};
pub const MAN: Need = Need {
    name: "man",
    install: "`apt-get install man-db`",
};
pub const JQ: Need = Need {
    name: "jq",
    install: "`apt-get install jq`",
};
pub const WORMHOLE_VENV: Need = Need {
    name: "wormhole-venv",
    install: "`sh scripts/install-debian.sh --tests` (it makes target/wormhole-venv)",
};
pub const ANSIBLE: Need = Need {
    name: "ansible",
    install: "`sh scripts/install-debian.sh --tests` (ansible-core into target/wormhole-venv)",
};
pub const ROOT: Need = Need {
    name: "root",
    install: "run the tests as root (CI and containers do)",
};
pub const PCSCD: Need = Need {
    name: "pcscd",
    install:
        "run the tests as root with no other pcscd running (`systemctl stop pcscd.socket pcscd`)",
};
pub const HID_GUEST: Need = Need {
    name: "hid-guest",
    install: "`apt-get install qemu-system-x86 linux-image-amd64 busybox-static`",
};

/// The command that installs everything the tests need.
pub const INSTALL_ALL: &str = "sh scripts/install-debian.sh --tests";

/// How a skip of `name` is treated in this run.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No `BREAKGLASS_REQUIRE_ALL=1`: print the line and pass.
    Skip,
    /// `BREAKGLASS_REQUIRE_ALL=1` but `BREAKGLASS_ALLOW_SKIP` names it: print the line and pass.
    Allowed,
    /// `BREAKGLASS_REQUIRE_ALL=1`: the test fails.
    Fail,
}

/// The verdict for a skip of `name` under these two variables' values.
pub fn verdict(name: &str, require_all: Option<&str>, allow: Option<&str>) -> Verdict {
    if require_all != Some("1") {
        return Verdict::Skip;
    }
    let allowed = allow.unwrap_or("").split(',').any(|n| n.trim() == name);
    if allowed {
        Verdict::Allowed
    } else {
        Verdict::Fail
    }
}

/// Skips the calling test (the caller returns right after) because of `why`, one line without a
/// full stop at the end; under `BREAKGLASS_REQUIRE_ALL=1` fails it instead (at the caller's line).
#[track_caller]
pub fn skip(need: &Need, why: &str) {
    let v = verdict(
        need.name,
        std::env::var("BREAKGLASS_REQUIRE_ALL").ok().as_deref(),
        std::env::var("BREAKGLASS_ALLOW_SKIP").ok().as_deref(),
    );
    // libtest names each test's thread after the test (the main thread with --test-threads=1).
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let name = need.name;
    let install = need.install;
    match v {
        Verdict::Fail => {
            let all = if install.contains(INSTALL_ALL) {
                String::new()
            } else {
                format!(" (everything the tests need: `{INSTALL_ALL}`)")
            };
            panic!(
                "BREAKGLASS_REQUIRE_ALL=1 and this test cannot run here: {why}.\nTo run it: \
                 {install}{all}; or leave it out knowingly with BREAKGLASS_ALLOW_SKIP={name}."
            )
        }
        Verdict::Skip | Verdict::Allowed => {
            let allowed = if v == Verdict::Allowed {
                " (allowed by BREAKGLASS_ALLOW_SKIP)"
            } else {
                ""
            };
            // Straight to fd 2: eprintln! would be captured by the harness and never shown.
            let line = format!("skipped [{name}]{allowed}{test}: {why} (to run it: {install})\n");
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

/// Skips (see [`skip`]) and returns true when `missing` says what is missing.
#[track_caller]
pub fn unless(need: &Need, missing: Option<String>) -> bool {
    match missing {
        Some(why) => {
            skip(need, &why);
            true
        }
        None => false,
    }
}
