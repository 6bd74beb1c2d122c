//! An isolated world for one test, and the only way the tests run the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The built binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_breakglass"))
}

/// A temporary directory with a working directory (`work/`), a simulated key (`sim/`) and an
/// audit log (`audit.jsonl`) of its own; the commands it runs see nothing of the user's.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub work: PathBuf,
    pub sim: PathBuf,
    pub audit: PathBuf,
    /// `BREAKGLASS_BACKEND` for every command: `sim` unless [`World::hardware`] made the world.
    pub backend: Option<&'static str>,
    /// More environment for every command (e.g. the wormhole servers' URLs).
    pub env: Vec<(String, String)>,
}

impl World {
    /// A world whose commands use the simulated key.
    pub fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let sim = tmp.path().join("sim");
        let audit = tmp.path().join("audit.jsonl");
        World {
            work,
            sim,
            audit,
            tmp,
            backend: Some("sim"),
            env: Vec::new(),
        }
    }

    /// A world whose commands choose no backend: they look for hardware (or the virtual card).
    pub fn hardware() -> World {
        World {
            backend: None,
            ..World::new()
        }
    }

    /// A second simulated key in the same world.
    pub fn other_sim(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A new directory `name` in the world (beside `work/`).
    pub fn dir(&self, name: &str) -> PathBuf {
        let d = self.tmp.path().join(name);
        std::fs::create_dir(&d).unwrap();
        d
    }

    /// The world's environment, for the binary or for a shell that runs it (a runbook).
    pub fn apply_env(&self, c: &mut Command) {
        match self.backend {
            Some(b) => c.env("BREAKGLASS_BACKEND", b),
            None => c.env_remove("BREAKGLASS_BACKEND"),
        };
        c.env("BREAKGLASS_SIM_DIR", &self.sim)
            .env("BREAKGLASS_AUDIT_LOG", &self.audit)
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("BREAKGLASS_PIN")
            .env_remove("BREAKGLASS_NEW_PIN")
            .env_remove("BREAKGLASS_NOW")
            .env_remove("SSH_AUTH_SOCK")
            .env("TZ", "UTC")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
    }

    /// `breakglass ARGS` in `work/`, not yet started.
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_in(args, &self.work)
    }

    /// `breakglass ARGS` in `cwd`, not yet started.
    pub fn cmd_in(&self, args: &[&str], cwd: &Path) -> Command {
        let mut c = Command::new(bin());
        c.args(args).current_dir(cwd);
        self.apply_env(&mut c);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    pub fn run_in(&self, args: &[&str], cwd: &Path) -> Output {
        self.cmd_in(args, cwd).output().unwrap()
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_in(args, &self.work)
    }

    /// Runs in `cwd` and asserts success, returning stdout.
    pub fn ok_in(&self, args: &[&str], cwd: &Path) -> String {
        let o = self.run_in(args, cwd);
        assert!(
            o.status.success(),
            "breakglass {args:?} failed:\nstdout: {}\nstderr: {}",
            out(&o),
            err(&o)
        );
        out(&o)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// `breakglass init-ca` in `work/`; returns the CA public key line.
    pub fn init_ca(&self) -> String {
        self.ok(&["init-ca"]);
        std::fs::read_to_string(self.path("sk-user-ca.pub")).unwrap()
    }
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that a command's stderr contains `want`, showing all of it when not.
pub fn assert_stderr(o: &Output, want: &str) {
    let e = err(o);
    assert!(e.contains(want), "expected {want:?} in stderr:\n{e}");
}

/// The login name of the user running the tests (whom the test sshd lets in).
pub fn user() -> String {
    breakglass::operator()
}
