//! `drill`: the whole break-glass flow on a fresh simulated key in a temporary directory —
//! init-ca, mint, inspect, `ssh-keygen -L`, and a login to a throwaway sshd that trusts the CA,
//! plus a refused login for a wrong principal. Each step is timed; skipped steps say why.
//! It runs the breakglass binary itself, as an operator would, with its own state and audit log.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde::Serialize;

use crate::ops::sshd::{self, TestSshd};
use crate::{Error, Result};

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StepStatus {
    /// Worked.
    Pass,
    /// Did not.
    Fail,
    /// Could not run here (the detail says why).
    Skipped,
}

/// One step of the drill.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// What it did.
    pub name: String,
    /// Outcome.
    pub status: StepStatus,
    /// Milliseconds taken.
    pub millis: u128,
    /// One line of detail.
    pub detail: String,
}

/// The drill's result.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// True when no step failed.
    pub pass: bool,
    /// Total milliseconds.
    pub millis: u128,
    /// The kept directory, with `--keep`.
    pub kept: Option<PathBuf>,
}

struct Drill<'a> {
    exe: PathBuf,
    dir: PathBuf,
    steps: Vec<Step>,
    on_step: &'a mut dyn FnMut(&Step),
}

impl Drill<'_> {
    fn record(&mut self, name: &str, start: Instant, status: StepStatus, detail: String) -> bool {
        let step = Step {
            name: name.into(),
            status,
            millis: start.elapsed().as_millis(),
            detail,
        };
        (self.on_step)(&step);
        self.steps.push(step);
        status != StepStatus::Fail
    }

    fn breakglass(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new(&self.exe)
            .args(args)
            .current_dir(&self.dir)
            .env("BREAKGLASS_BACKEND", "sim")
            .env("BREAKGLASS_SIM_DIR", self.dir.join("sim"))
            .env("BREAKGLASS_AUDIT_LOG", self.dir.join("audit.jsonl"))
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("BREAKGLASS_PIN")
            .env_remove("BREAKGLASS_NOW")
            .stdin(Stdio::null())
            .output()
    }

    fn run_step(&mut self, name: &str, args: &[&str]) -> bool {
        let start = Instant::now();
        match self.breakglass(args) {
            Ok(o) if o.status.success() => {
                self.record(name, start, StepStatus::Pass, summary_line(&o.stdout))
            }
            Ok(o) => self.record(name, start, StepStatus::Fail, first_line(&o.stderr)),
            Err(e) => self.record(
                name,
                start,
                StepStatus::Fail,
                format!("cannot run breakglass: {e}"),
            ),
        }
    }
}

/// The line worth showing for a passed step: `inspect`'s status line, else the first line.
fn summary_line(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b);
    match text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Status:"))
    {
        Some(l) => l.to_string(),
        None => first_line(b),
    }
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Runs the drill. `on_step` sees each step as it finishes (for live output).
pub fn run(keep: bool, on_step: &mut dyn FnMut(&Step)) -> Result<DrillReport> {
    let started = Instant::now();
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("find", std::path::Path::new("the breakglass binary"), e))?;
    let tmp = tempfile::Builder::new()
        .prefix("breakglass-drill-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary directory in", &std::env::temp_dir(), e))?;
    let mut d = Drill {
        exe,
        dir: tmp.path().to_path_buf(),
        steps: Vec::new(),
        on_step,
    };
    steps(&mut d);
    let pass = d.steps.iter().all(|s| s.status != StepStatus::Fail);
    let kept = if keep { Some(tmp.keep()) } else { None };
    Ok(DrillReport {
        steps: d.steps,
        pass,
        millis: started.elapsed().as_millis(),
        kept,
    })
}

fn steps(d: &mut Drill<'_>) {
    let user = sshd::current_user();
    if !d.run_step(
        "init-ca on a fresh simulated key",
        &[
            "init-ca",
            "-f",
            "sk-user-ca",
            "-C",
            "breakglass drill SIMULATED",
        ],
    ) {
        return;
    }
    if !d.run_step(
        &format!("mint a 10-minute certificate for {user}"),
        &[
            "mint",
            "-n",
            &user,
            "-V",
            "-1m:+10m",
            "-f",
            "emergency",
            "--reason",
            "drill",
        ],
    ) {
        return;
    }
    if !d.run_step(
        "inspect: CA signature verified",
        &["inspect", "--ca", "sk-user-ca.pub", "emergency-cert.pub"],
    ) {
        return;
    }
    let start = Instant::now();
    match Command::new("ssh-keygen")
        .arg("-L")
        .arg("-f")
        .arg(d.dir.join("emergency-cert.pub"))
        .output()
    {
        Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).contains("ECDSA-SK") => {
            d.record(
                "ssh-keygen -L parses it (sk CA)",
                start,
                StepStatus::Pass,
                "OpenSSH accepts the certificate".into(),
            );
        }
        Ok(o) => {
            d.record(
                "ssh-keygen -L parses it (sk CA)",
                start,
                StepStatus::Fail,
                first_line(&o.stderr),
            );
            return;
        }
        Err(_) => {
            d.record(
                "ssh-keygen -L parses it (sk CA)",
                start,
                StepStatus::Skipped,
                "ssh-keygen is not installed".into(),
            );
        }
    }
    let start = Instant::now();
    if sshd::sshd_path().is_none() || sshd::ssh_path().is_none() {
        d.record(
            "log in to a throwaway sshd",
            start,
            StepStatus::Skipped,
            "sshd or ssh is not installed (apt install openssh-server openssh-client)".into(),
        );
        return;
    }
    let ca = match std::fs::read_to_string(d.dir.join("sk-user-ca.pub")) {
        Ok(c) => c,
        Err(e) => {
            d.record(
                "start a throwaway sshd on 127.0.0.1",
                start,
                StepStatus::Fail,
                format!("cannot read the CA: {e}"),
            );
            return;
        }
    };
    let server = match TestSshd::start(&d.dir.join("sshd"), &ca, &[]) {
        Ok(s) => s,
        Err(e) => {
            d.record(
                "start a throwaway sshd on 127.0.0.1",
                start,
                StepStatus::Fail,
                e.to_string(),
            );
            return;
        }
    };
    d.record(
        "start a throwaway sshd on 127.0.0.1",
        start,
        StepStatus::Pass,
        format!("port {}, trusts only the drill CA", server.port),
    );
    login(d, &server, &user);
    let start = Instant::now();
    if !d.run_step_silent(&[
        "mint",
        "-n",
        "breakglass-drill-nobody",
        "-V",
        "-1m:+10m",
        "-f",
        "wrong",
    ]) {
        d.record(
            "a wrong principal is refused",
            start,
            StepStatus::Fail,
            "could not mint the second certificate".into(),
        );
        return;
    }
    match server.ssh(&d.dir.join("wrong"), &user, "true") {
        Ok(o) if !o.status.success() => {
            d.record(
                "a wrong principal is refused",
                start,
                StepStatus::Pass,
                format!("sshd refused {user} with a certificate for breakglass-drill-nobody"),
            );
        }
        Ok(_) => {
            d.record(
                "a wrong principal is refused",
                start,
                StepStatus::Fail,
                "sshd ACCEPTED a certificate for another principal".into(),
            );
        }
        Err(e) => {
            d.record(
                "a wrong principal is refused",
                start,
                StepStatus::Fail,
                e.to_string(),
            );
        }
    }
}

fn login(d: &mut Drill<'_>, server: &TestSshd, user: &str) {
    let start = Instant::now();
    let name = format!("ssh -i emergency {user}@127.0.0.1");
    match server.ssh(&d.dir.join("emergency"), user, "echo breakglass-drill-ok") {
        Ok(o)
            if o.status.success()
                && String::from_utf8_lossy(&o.stdout).contains("breakglass-drill-ok") =>
        {
            let accepted = server
                .log()
                .lines()
                .any(|l| l.contains("Accepted publickey") && l.contains("ECDSA-CERT"));
            let detail = if accepted {
                "sshd accepted the certificate"
            } else {
                "logged in"
            };
            d.record(&name, start, StepStatus::Pass, detail.into());
        }
        Ok(o) => {
            let why = server
                .log()
                .lines()
                .rev()
                .find(|l| {
                    l.contains("Certificate") || l.contains("Failed") || l.contains("not allowed")
                })
                .unwrap_or("")
                .to_string();
            let detail = if why.is_empty() {
                first_line(&o.stderr)
            } else {
                why
            };
            d.record(&name, start, StepStatus::Fail, detail);
        }
        Err(e) => {
            d.record(&name, start, StepStatus::Fail, e.to_string());
        }
    }
}

impl Drill<'_> {
    fn run_step_silent(&self, args: &[&str]) -> bool {
        matches!(self.breakglass(args), Ok(o) if o.status.success())
    }
}
