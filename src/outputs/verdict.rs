//! The build gate (`DEFECTDOJO_FAIL_ON`): exit 3 with the failing findings
//! and their links on stderr when this run created new findings at or above
//! the threshold ([`super::new_findings`] counts them).

use super::new_findings::NewFindings;
use super::{Output, Run};
use crate::error::{EXIT_GATE, Error};
use crate::inputs::Inputs;
use crate::outputs::summary::GateLine;

pub(super) struct Verdict;

impl Output for Verdict {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.cfg.fail_on.is_some()
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        let Some(fail_on) = run.inputs.cfg.fail_on.clone() else {
            return Ok(());
        };
        let reactivated = run.inputs.cfg.fail_on_reactivated;
        let new = run.new_findings()?;
        let failed = new.failing_count > 0;
        let findings = new.failing_count;
        if failed {
            // Finding titles come from the scanner and DefectDojo.
            let reason = crate::http::redact::terminal(&reason(&fail_on, new));
            eprintln!("dojo-hook: {reason}");
            run.code = EXIT_GATE;
        } else {
            log::info!("build gate passed: no new finding at or above {fail_on}");
        }
        run.summary.gate = Some(GateLine {
            fail_on,
            reactivated,
            findings,
            failed,
        });
        Ok(())
    }
}

/// The gate's verdict line and the findings behind it.
pub fn reason(fail_on: &str, new: &NewFindings) -> String {
    let mut text = format!(
        "build gate: {} new finding(s) at or above {fail_on} (DEFECTDOJO_FAIL_ON)",
        new.failing_count
    );
    for f in &new.failing {
        // One line per finding, whatever its title holds.
        let title = crate::util::text::one_line(&f.title);
        text.push_str(&format!("\n  [{}] {title} {}", f.severity, f.url));
    }
    if new.failing_count as usize > new.failing.len() {
        text.push_str(&format!(
            "\n  … and {} more",
            new.failing_count as usize - new.failing.len()
        ));
    }
    text
}
