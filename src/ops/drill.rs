//! `drill`: the whole break-glass flow on a fresh simulated key in a temporary directory —
//! init-ca, mint, inspect, `ssh-keygen -L`, and a login to a throwaway sshd that trusts the CA,
//! plus a refused login for a wrong principal. Each step is timed; skipped steps say why, and
//! a drill with a skipped step is [`Outcome::Incomplete`], never a pass: it did not log in.
//! It runs the breakglass binary itself, as an operator would, with its own state and audit log.
//! With [`DrillBackend::Fido2Virtual`] the fresh simulated key is plugged in as a USB FIDO2 key
//! (`fido2_virtual.rs`) and every step goes through `--backend fido2` and the kernel's hidraw.

mod fido2_virtual;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde::Serialize;
use zeroize::Zeroizing;

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

/// How the drill as a whole ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// Every step ran and passed, down to a real login to the throwaway sshd.
    Pass,
    /// A step failed.
    Fail,
    /// No step failed, but some could not run here (each says why): not a pass.
    Incomplete,
}

/// The drill's result.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// How it ended.
    pub outcome: Outcome,
    /// True only when every step ran and passed (`outcome` is PASS).
    pub pass: bool,
    /// Total milliseconds.
    pub millis: u128,
    /// The kept directory, with `--keep`.
    pub kept: Option<PathBuf>,
}

/// Which key the drill runs on; either way a fresh simulated one, never a real key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillBackend {
    /// The simulated key, in-process (`--backend sim`).
    Sim,
    /// The simulated key plugged in through `uhid` as a USB FIDO2 key (`breakglass-sim-hid`),
    /// driven by `--backend fido2 --device /dev/hidrawN`.
    Fido2Virtual {
        /// The kernel's uhid device (`/dev/uhid`).
        uhid: PathBuf,
    },
}

/// A backend whose needs were checked ([`check`]), ready for [`run_on`].
#[derive(Debug)]
pub struct Ready {
    backend: DrillBackend,
    /// The virtual key's program (`breakglass-sim-hid`), for [`DrillBackend::Fido2Virtual`].
    program: Option<PathBuf>,
}

impl Ready {
    /// The backend it was checked for.
    pub fn backend(&self) -> &DrillBackend {
        &self.backend
    }
}

/// Checks what `backend` needs before anything starts: for the virtual key, that `uhid` can
/// be opened and that `breakglass-sim-hid` is installed beside breakglass.
pub fn check(backend: DrillBackend) -> Result<Ready> {
    let program = match &backend {
        DrillBackend::Sim => None,
        DrillBackend::Fido2Virtual { uhid } => {
            crate::ops::sim_hid::check_uhid(uhid)?;
            Some(crate::ops::sim_hid::program()?)
        }
    };
    Ok(Ready { backend, program })
}

struct Drill<'a> {
    exe: PathBuf,
    dir: PathBuf,
    steps: Vec<Step>,
    on_step: &'a mut dyn FnMut(&Step),
    /// What the steps call the key ("a fresh simulated key").
    key: String,
    /// `--backend` for the breakglass runs.
    backend: &'static str,
    /// `--device` for the commands that use the key (the virtual key's hidraw path).
    device: Option<String>,
    /// `BREAKGLASS_PIN` for the breakglass runs (the virtual key's fresh PIN).
    pin: Option<Zeroizing<String>>,
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

    fn breakglass<S: AsRef<OsStr>>(&self, args: &[S]) -> std::io::Result<Output> {
        Command::new(&self.exe)
            .args(args)
            .current_dir(&self.dir)
            .env("BREAKGLASS_BACKEND", self.backend)
            .env("BREAKGLASS_SIM_DIR", self.dir.join("sim"))
            .env("BREAKGLASS_AUDIT_LOG", self.dir.join("audit.jsonl"))
            .env_remove("BREAKGLASS_SIM_TOUCH")
            .env_remove("BREAKGLASS_PIN")
            .env_remove("BREAKGLASS_NOW")
            .envs(self.pin.as_ref().map(|p| ("BREAKGLASS_PIN", p.as_str())))
            .stdin(Stdio::null())
            .output()
    }

    /// `args` of a command that uses the key, with `--device` when the drill names one.
    fn with_device(&self, args: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if let Some(dev) = &self.device {
            v.extend(["--device".to_string(), dev.clone()]);
        }
        v
    }

    fn run_step<S: AsRef<OsStr>>(&mut self, name: &str, args: &[S]) -> bool {
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

/// Runs the drill on the simulated key. `on_step` sees each step as it finishes (for live
/// output).
pub fn run(keep: bool, on_step: &mut dyn FnMut(&Step)) -> Result<DrillReport> {
    run_on(check(DrillBackend::Sim)?, keep, on_step)
}

/// Runs the drill on the checked backend. An error means it could not start; a failed or
/// skipped step is a report with `pass: false` (its `outcome` says which).
pub fn run_on(ready: Ready, keep: bool, on_step: &mut dyn FnMut(&Step)) -> Result<DrillReport> {
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
        key: "a fresh simulated key".into(),
        backend: "sim",
        device: None,
        pin: None,
    };
    match (&ready.backend, &ready.program) {
        (DrillBackend::Fido2Virtual { uhid }, Some(program)) => {
            if let Some(key) = fido2_virtual::plug(&mut d, program, uhid) {
                steps(&mut d);
                fido2_virtual::unplug(&mut d, key);
            }
        }
        _ => steps(&mut d),
    }
    let outcome = outcome(&d.steps);
    let kept = if keep { Some(tmp.keep()) } else { None };
    Ok(DrillReport {
        steps: d.steps,
        outcome,
        pass: outcome == Outcome::Pass,
        millis: started.elapsed().as_millis(),
        kept,
    })
}

/// A failed step fails the drill; otherwise a skipped one leaves it incomplete.
fn outcome(steps: &[Step]) -> Outcome {
    if steps.iter().any(|s| s.status == StepStatus::Fail) {
        Outcome::Fail
    } else if steps.iter().any(|s| s.status == StepStatus::Skipped) {
        Outcome::Incomplete
    } else {
        Outcome::Pass
    }
}

fn steps(d: &mut Drill<'_>) {
    let user = sshd::current_user();
    let init_ca = d.with_device(&[
        "init-ca",
        "-f",
        "sk-user-ca",
        "-C",
        "breakglass drill SIMULATED",
    ]);
    if !d.run_step(&format!("init-ca on {}", d.key), &init_ca) {
        return;
    }
    let mint = d.with_device(&[
        "mint",
        "-n",
        &user,
        "-V",
        "-1m:+10m",
        "-f",
        "emergency",
        "--reason",
        "drill",
    ]);
    if !d.run_step(&format!("mint a 10-minute certificate for {user}"), &mint) {
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
    if !d.run_step_silent(&d.with_device(&[
        "mint",
        "-n",
        "breakglass-drill-nobody",
        "-V",
        "-1m:+10m",
        "-f",
        "wrong",
    ])) {
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
    fn run_step_silent<S: AsRef<OsStr>>(&self, args: &[S]) -> bool {
        matches!(self.breakglass(args), Ok(o) if o.status.success())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(status: StepStatus) -> Step {
        Step {
            name: "a step".into(),
            status,
            millis: 0,
            detail: String::new(),
        }
    }

    #[test]
    fn a_skipped_step_is_not_a_pass_and_a_failed_one_fails() {
        use StepStatus::*;
        assert_eq!(outcome(&[step(Pass), step(Pass)]), Outcome::Pass);
        assert_eq!(outcome(&[step(Pass), step(Skipped)]), Outcome::Incomplete);
        assert_eq!(outcome(&[step(Skipped), step(Fail)]), Outcome::Fail);
        assert_eq!(outcome(&[step(Fail), step(Pass)]), Outcome::Fail);
    }
}
