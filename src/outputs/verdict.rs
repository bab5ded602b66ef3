//! The build gate (`DEFECTDOJO_FAIL_ON`): exit 3 with the failing findings
//! and their links on stderr when this run created new findings at or above
//! the threshold ([`crate::gate`] reads them).

use super::{Output, Run};
use crate::error::{EXIT_GATE, Error};
use crate::gate;
use crate::inputs::Inputs;
use crate::summary::Gate;

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
            let reason = crate::http::redact::terminal(&gate::reason(&fail_on, new));
            eprintln!("dojo-hook: {reason}");
            run.code = EXIT_GATE;
        } else {
            log::info!("build gate passed: no new finding at or above {fail_on}");
        }
        run.summary.gate = Some(Gate {
            fail_on,
            reactivated,
            findings,
            failed,
        });
        Ok(())
    }
}
