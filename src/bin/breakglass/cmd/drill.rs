//! `breakglass drill`.

use crate::cli::{DrillArgs, DrillBackend};
use crate::error::Error;
use crate::output::{self, say};
use breakglass::ops::drill::{self, StepStatus};
use breakglass::ui::Tone;

pub(super) fn run(a: DrillArgs, json: bool) -> Result<(), Error> {
    let backend = match a.backend {
        DrillBackend::Sim => drill::DrillBackend::Sim,
        DrillBackend::Fido2Virtual => drill::DrillBackend::Fido2Virtual { uhid: a.uhid },
    };
    // Before the heading: a machine without /dev/uhid gets only the error.
    let ready = drill::check(backend)?;
    if !json {
        match ready.backend() {
            drill::DrillBackend::Sim => say!(
                "breakglass drill: the whole flow on a fresh SIMULATED key (nothing to plug in)"
            ),
            drill::DrillBackend::Fido2Virtual { .. } => say!(
                "breakglass drill: the whole flow through --backend fido2 and the kernel's HID \
                 stack, on a fresh SIMULATED key plugged in as a virtual FIDO2 key"
            ),
        }
    }
    let mut show = |s: &drill::Step| {
        if !json {
            let (tone, tag) = match s.status {
                StepStatus::Pass => (Tone::Success, "[PASS]"),
                StepStatus::Fail => (Tone::Refusal, "[FAIL]"),
                StepStatus::Skipped => (Tone::Warning, "[SKIP]"),
            };
            let rest = format!(" {:<46} {:>6} ms  {}", s.name, s.millis, s.detail);
            output::out_marked("  ", tone, tag, &rest);
        }
    };
    let report = drill::run_on(ready, a.keep, &mut show)?;
    if json {
        output::json(&report)?;
    } else {
        if let Some(k) = &report.kept {
            say!("  kept: {}", k.display());
        }
        match report.outcome {
            drill::Outcome::Pass => output::out_marked(
                "",
                Tone::Success,
                "PASS in ",
                &format!("{} ms", report.millis),
            ),
            drill::Outcome::Fail => output::out_marked(
                "",
                Tone::Refusal,
                "FAIL in ",
                &format!("{} ms", report.millis),
            ),
            drill::Outcome::Incomplete => say!(
                "INCOMPLETE in {} ms: not a pass, a step was skipped",
                report.millis
            ),
        }
    }
    match report.outcome {
        drill::Outcome::Pass => Ok(()),
        drill::Outcome::Fail => Err(Error::DrillFailed),
        drill::Outcome::Incomplete => Err(Error::DrillIncomplete(
            report
                .steps
                .iter()
                .filter(|s| s.status == StepStatus::Skipped)
                .map(|s| format!("'{}'", s.name))
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}
