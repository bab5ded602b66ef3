//! The read-back output: DefectDojo's verdicts as a secureCodeBox
//! findings.json, written to the fourth argument or
//! `DEFECTDOJO_FINDINGS_OUTPUT` (presigned URL, file or stdout), and the CI
//! reports ([`super::reports`]) from the same one read. Each is written
//! only once the whole result exists and was checked: a failed read-back
//! never overwrites the stored findings nor leaves a partial report.

use std::cell::RefCell;

use super::reports::{self, Reports};
use super::{Output, Run};
use crate::body::Opened;
use crate::body::{self, Mode};
use crate::convert::triage::History;
use crate::error::Error;
use crate::inputs::Inputs;
use crate::readback::{self, Observer};
use crate::storage;

pub(super) struct Findings;

impl Output for Findings {
    fn wanted(&self, inputs: &Inputs) -> bool {
        inputs.output.is_some() || reports::wanted(inputs)
    }

    fn write(&self, run: &mut Run<'_>) -> Result<(), Error> {
        let (inputs, test_id) = (run.inputs, run.imported.test_id);
        let what = format!("DefectDojo's findings of test {test_id}");
        if reports::wanted(inputs) {
            run.load_history()?;
        }
        // The history is lent to the reports while the summary is written.
        let history = run.history.take();
        let reports = match reports::wanted(inputs) {
            true => Some(Reports::start(
                inputs,
                run.imported,
                history.as_ref().map(|h| h as &dyn History),
            )?),
            false => None,
        };
        let observer = reports.map(RefCell::new);
        let watching = observer.as_ref().map(|r| r as &RefCell<dyn Observer>);
        let counts = RefCell::new(None);
        match &inputs.output {
            Some(output) => {
                let mut first = watching;
                let mut prepared = body::prepare(&what, &inputs.spool, Mode::Output, || {
                    readback::start(run.dojo, inputs, test_id, &counts, first.take())
                        .map(Opened::stream)
                })?;
                storage::store(
                    &inputs.agent,
                    output,
                    &mut prepared,
                    "writing DefectDojo's findings",
                )?;
            }
            None => {
                let mut stream = readback::start(run.dojo, inputs, test_id, &counts, watching)?;
                std::io::copy(&mut stream, &mut std::io::sink())
                    .map_err(|e| Error::from_io(format!("reading {what}"), e))?;
            }
        }
        let counts = counts
            .into_inner()
            .ok_or_else(|| Error::protocol(&what, "the read-back ended before its last page"))?;
        if let Some(output) = &inputs.output {
            log::info!(
                "wrote {} findings ({} duplicates) to {}",
                counts.total,
                counts.duplicates,
                output.display()
            );
            run.summary.synced = Some(counts.total);
        }
        run.summary.duplicates = counts.duplicates;
        run.read_back = Some(counts);
        if let Some(reports) = observer {
            reports.into_inner().finish(inputs, &mut run.summary)?;
        }
        run.history = history;
        Ok(())
    }
}
