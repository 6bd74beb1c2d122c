//! `breakglass drill`.

use crate::cli::DrillArgs;
use crate::output::{self, say};
use breakglass::ops::drill::{self, StepStatus};
use breakglass::Error;

pub(super) fn run(a: DrillArgs, json: bool) -> Result<(), Error> {
    if !json {
        say!("breakglass drill: the whole flow on a fresh SIMULATED key (nothing to plug in)");
    }
    let mut show = |s: &drill::Step| {
        if !json {
            let tag = match s.status {
                StepStatus::Pass => "PASS",
                StepStatus::Fail => "FAIL",
                StepStatus::Skipped => "SKIP",
            };
            say!("  [{tag}] {:<46} {:>6} ms  {}", s.name, s.millis, s.detail);
        }
    };
    let report = drill::run(a.keep, &mut show)?;
    if json {
        output::json(&report)?;
    } else {
        if let Some(k) = &report.kept {
            say!("  kept: {}", k.display());
        }
        say!(
            "{} in {} ms",
            if report.pass { "PASS" } else { "FAIL" },
            report.millis
        );
    }
    if report.pass {
        Ok(())
    } else {
        Err(Error::DrillFailed)
    }
}
