//! Shared test fixtures: an isolated environment (own simulated key, audit log, working
//! directory) for running the built binary, and a snapshot of a directory to prove that a failed
//! command wrote nothing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_breakglass"))
}

/// An isolated world for one test.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub work: PathBuf,
    pub sim: PathBuf,
    pub audit: PathBuf,
    pub env: Vec<(String, String)>,
}

impl World {
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
            env: Vec::new(),
        }
    }

    /// A second simulated key in the same world.
    pub fn other_sim(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(&self.work)
            .env("BREAKGLASS_BACKEND", "sim")
            .env("BREAKGLASS_SIM_DIR", &self.sim)
            .env("BREAKGLASS_AUDIT_LOG", &self.audit)
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("BREAKGLASS_PIN")
            .env_remove("BREAKGLASS_NEW_PIN")
            .env_remove("BREAKGLASS_NOW")
            .env("TZ", "UTC")
            .stdin(std::process::Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
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
        let o = self.run(args);
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

/// Every file under `dir` with its bytes and mode (recursively).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut m = BTreeMap::new();
    if !dir.exists() {
        return m;
    }
    for e in walk(dir) {
        let meta = std::fs::symlink_metadata(&e).unwrap();
        let bytes = if meta.is_file() {
            std::fs::read(&e).unwrap()
        } else {
            Vec::new()
        };
        m.insert(
            e.strip_prefix(dir).unwrap().to_path_buf(),
            (bytes, meta.permissions().mode()),
        );
    }
    m
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        }
        v.push(p);
    }
    v
}

/// Runs `ssh-keygen` with args, returning output.
pub fn ssh_keygen(args: &[&str], cwd: &Path) -> Output {
    Command::new("ssh-keygen")
        .args(args)
        .current_dir(cwd)
        .env("TZ", "UTC")
        .output()
        .expect("ssh-keygen is installed")
}
