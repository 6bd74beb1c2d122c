//! `breakglass drill`.

use super::print_json;
use crate::cli::DrillArgs;
use crate::drill::{self, StepStatus};
use crate::Error;

pub(super) fn run(a: DrillArgs) -> Result<(), Error> {
    if !a.json {
        println!("breakglass drill: the whole flow on a fresh SIMULATED key (nothing to plug in)");
    }
    let json = a.json;
    let mut show = |s: &drill::Step| {
        if !json {
            let tag = match s.status {
                StepStatus::Pass => "PASS",
                StepStatus::Fail => "FAIL",
                StepStatus::Skipped => "SKIP",
            };
            println!("  [{tag}] {:<46} {:>6} ms  {}", s.name, s.millis, s.detail);
        }
    };
    let report = drill::run(a.keep, &mut show)?;
    if json {
        print_json(&report)?;
    } else {
        if let Some(k) = &report.kept {
            println!("  kept: {}", k.display());
        }
        println!(
            "{} in {} ms",
            if report.pass { "PASS" } else { "FAIL" },
            report.millis
        );
    }
    if report.pass {
        Ok(())
    } else {
        Err(Error::External(
            "the drill failed; the failing step above says why".into(),
        ))
    }
}
